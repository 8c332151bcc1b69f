"""Private files: 0600 in 0700 folders, whatever the umask.

The ledger holds every family address, the token cache an access token, errors.log
tracebacks with row data, preview output whole Bcc lists: each is created through
these helpers. A file that already exists keeps its mode unless it is rewritten whole
(`write_private`); `check` warns about loose ones.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create folder `path` as 0700 when missing (parents as usual); return it.

    An existing folder is left as it is: it may be shared on purpose (`check` warns
    about a loose state folder). Raises OSError (NotADirectoryError for a file).
    """
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(DIR_MODE)
            os.chmod(path, DIR_MODE)  # mkdir's mode is cut by the umask
        except FileExistsError:
            if not path.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "a file is in the way", str(path)) from None
    return path


def open_private(path: Path, flags: int = os.O_RDWR) -> int:
    """os.open `path` with `flags`, creating it 0600 (in a 0700 folder) when missing."""
    private_dir(path.parent)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return os.open(path, flags)
    try:
        os.fchmod(fd, FILE_MODE)  # O_CREAT's mode is cut by the umask too
    except OSError:
        os.close(fd)
        raise
    return fd


def touch_private(path: Path) -> Path:
    """Make sure `path` exists, created empty and 0600 when missing (e.g. before SQLite
    opens it: its -wal and -shm files then get the same mode)."""
    os.close(open_private(path, os.O_RDONLY))
    return path


def write_private(path: Path, data: bytes, *, sync: bool = True) -> Path:
    """Replace `path` whole and atomically with `data`, as a 0600 file (fsynced unless
    `sync` is False: previews, thousands of files nothing depends on)."""
    private_dir(path.parent)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), FILE_MODE)
            stream.write(data)
            if sync:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def append_private(path: Path, text: str) -> Path:
    """Append `text` to `path`, creating it 0600 when missing."""
    fd = open_private(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "a", encoding="utf-8") as stream:
        stream.write(text)
    return path


def loose(path: Path) -> int:
    """The group/other permission bits of `path` (0 when private or missing)."""
    try:
        return path.stat().st_mode & 0o077
    except OSError:
        return 0


_PLAIN = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file cannot grow (the disk is full or a size limit is reached)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a file is in the way where a folder should be",
    errno.EISDIR: "it is a folder, not a file",
    errno.EEXIST: "something else already has that name",
    errno.EIO: "the disk reported an input/output error",
}


def explain(err: OSError) -> str:
    """An OSError in plain words: "the disk is full", "permission denied", ..."""
    if err.errno in _PLAIN:
        return _PLAIN[err.errno]
    return err.strerror or str(err)
