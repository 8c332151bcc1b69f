"""Make a rename or a new file survive a power cut before it is reported done."""

from __future__ import annotations

import errno
import os
from pathlib import Path

# File systems that cannot sync a folder say so with these; anything else (EIO) is real.
_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EACCES}


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to the disk.

    A file's own fsync does not cover its name: after a crash the folder could still
    show the old file, or none. Platforms that cannot open a folder skip this.
    """
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError as err:
        if err.errno not in _UNSUPPORTED:
            raise
    finally:
        os.close(handle)
