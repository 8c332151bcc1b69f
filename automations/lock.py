"""One run at a time per configuration: an advisory file lock the kernel frees on exit."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from pathlib import Path
from types import TracebackType

from automations.errors import ConfigError, LockHeld
from automations.private import explain, open_private


class RunLock:
    """Hold `path` exclusively; a second holder gets LockHeld naming the first.

    flock is released by the kernel when the holder dies, so a lock file left by a
    killed process is never stale: the next run simply takes it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            fd = open_private(self.path)
        except OSError as err:
            raise ConfigError(
                f"cannot create the lock file {self.path} ({explain(err)}); make the folder "
                "writable by this user, or set state_dir in the configuration to one that is"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(
                f"another run holds the lock {self.path} ({holder}); try again when it finishes"
            ) from None
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with contextlib.suppress(OSError):  # the holder's name is a courtesy; flock counts
            os.ftruncate(fd, 0)
            import socket  # only when the lock is taken (not for `--help`)

            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
