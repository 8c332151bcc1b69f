"""Fault hooks for crash and race tests: kill the process, or pause it, at a named step.

Enabled only by the environment variables AUTOMATIONS_FAULT and AUTOMATIONS_HANDOFF,
read here and nowhere else. AUTOMATIONS_FAULT="after-send:3" kills the process right
after the third message was handed to the mailer. Steps: after-intent, after-send,
after-outcome, before-write-back, before-replace (a workbook's new copy is written and
flushed, not yet renamed over the file).

AUTOMATIONS_HANDOFF="before-replace:DIR" pauses at every such step until a test says
go, so a test can act at that exact moment (e.g. save the workbook as staff would):
the n-th pause writes DIR/before-replace.<n>.waiting (holding what is being written)
and waits for DIR/before-replace.<n>.go.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

_SPEC = os.environ.get("AUTOMATIONS_FAULT", "")
_STEP, _, _NTH = _SPEC.partition(":")
_counts: dict[str, int] = {}
_HANDOFF_STEP, _, _HANDOFF_DIR = os.environ.get("AUTOMATIONS_HANDOFF", "").partition(":")
_handoffs: dict[str, int] = {}
HANDOFF_TIMEOUT = 300.0


def fault_point(step: str) -> None:
    """Kill this process (SIGKILL, no cleanup) when AUTOMATIONS_FAULT names this step."""
    if not _STEP or step != _STEP:
        return
    _counts[step] = _counts.get(step, 0) + 1
    if _counts[step] >= int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def handoff(step: str, detail: str = "") -> None:
    """Pause at `step` until the test's go file appears, when AUTOMATIONS_HANDOFF names it."""
    if not _HANDOFF_STEP or step != _HANDOFF_STEP:
        return
    _handoffs[step] = _handoffs.get(step, 0) + 1
    folder = Path(_HANDOFF_DIR)
    waiting = folder / f"{step}.{_handoffs[step]}.waiting"
    go = folder / f"{step}.{_handoffs[step]}.go"
    partial = waiting.with_suffix(".partial")
    partial.write_text(detail, encoding="utf-8")
    partial.replace(waiting)  # the test never sees a half-written file
    deadline = time.monotonic() + HANDOFF_TIMEOUT
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody said go at {waiting}")
        time.sleep(0.005)
