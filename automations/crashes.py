"""Unexpected errors (bugs): one line for the person, the traceback in errors.log.

The log is `state_dir/errors.log` (0600: a traceback can hold row data); when the
state folder cannot be written, a private file in the system's temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from pathlib import Path

from automations.private import append_private

ERRORS_LOG = "errors.log"


def record_crash(state_dir: Path | None, error: BaseException, context: str) -> Path | None:
    """Append `error`'s full traceback to errors.log; the file written, or None if none could be."""
    stamp = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    entry = f"--- {stamp} {context}\n{''.join(traceback.format_exception(error))}\n"
    candidates = [state_dir / ERRORS_LOG] if state_dir is not None else []
    candidates.append(Path(tempfile.gettempdir()) / f"mou-automations-{os.getuid()}-{ERRORS_LOG}")
    for path in candidates:
        try:
            append_private(path, entry)
        except OSError:
            continue
        return path
    return None


def crash_line(error: BaseException, log: Path | None) -> str:
    """One line saying what broke and where the details are."""
    text = " ".join(str(error).split())[:300]
    what = f"unexpected {type(error).__name__}" + (f": {text}" if text else "")
    if log is None:
        return f"{what} (no errors.log could be written; the traceback follows)"
    return f"{what}; this is a bug: the full traceback is in {log}, please report it"
