"""Fault hooks for crash and race tests: break the process, or pause it, at a named step.

Enabled only by the environment variables AUTOMATIONS_FAULT and AUTOMATIONS_HANDOFF,
read here and nowhere else. AUTOMATIONS_FAULT="<step>:<n>[:<action>]" acts the n-th
time the step is reached, e.g. AUTOMATIONS_FAULT="after-send:3" kills the process right
after the third message was handed to the mailer. Steps: after-intent, after-send,
after-outcome, before-write-back, before-replace (a workbook's new copy is written and
flushed, not yet renamed over the file). Actions:

- kill (the default): SIGKILL, no cleanup, as a power cut or the OOM killer would;
- raise: raise an unexpected RuntimeError, as a bug would (the CLI's last-resort guard
  must turn it into one line, errors.log and an admin alert);
- disk-full: from then on no file this process writes can grow (RLIMIT_FSIZE 0), as
  when the disk fills up (the next ledger write fails as it would then).

AUTOMATIONS_HANDOFF="before-replace:DIR" pauses at every such step until a test says
go, so a test can act at that exact moment (e.g. save the workbook as staff would):
the n-th pause writes DIR/before-replace.<n>.waiting (holding what is being written)
and waits for DIR/before-replace.<n>.go.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from pathlib import Path

ACTIONS = ("kill", "raise", "disk-full")
_SPEC = os.environ.get("AUTOMATIONS_FAULT", "")
_STEP, _, _REST = _SPEC.partition(":")
_NTH, _, _ACTION = _REST.partition(":")
_counts: dict[str, int] = {}
_HANDOFF_STEP, _, _HANDOFF_DIR = os.environ.get("AUTOMATIONS_HANDOFF", "").partition(":")
_handoffs: dict[str, int] = {}
HANDOFF_TIMEOUT = 300.0


class InjectedFault(RuntimeError):
    """The unexpected error AUTOMATIONS_FAULT="<step>:<n>:raise" stands in for."""


def fault_point(step: str) -> None:
    """Break this process as AUTOMATIONS_FAULT says when it names this step."""
    if not _STEP or step != _STEP:
        return
    _counts[step] = _counts.get(step, 0) + 1
    if _counts[step] != int(_NTH or 1):
        return
    action = _ACTION or "kill"
    if action == "raise":
        raise InjectedFault(f"fault injected by AUTOMATIONS_FAULT at {step} #{_counts[step]}")
    if action == "disk-full":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
        return
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
