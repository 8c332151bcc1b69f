"""One run at a time per configuration: an advisory file lock the kernel frees on exit."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType

from automations.errors import LockHeld


class RunLock:
    """Hold `path` exclusively; a second holder gets LockHeld naming the first.

    flock is released by the kernel when the holder dies, so a lock file left by a
    killed process is never stale: the next run simply takes it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(
                f"another run holds the lock {self.path} ({holder}); try again when it finishes"
            ) from None
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
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
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
