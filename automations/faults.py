"""Fault hook for crash tests: kill the process at a named step of a send.

Enabled only by the environment variable AUTOMATIONS_FAULT, read here and nowhere
else, e.g. AUTOMATIONS_FAULT="after-send:3" kills the process right after the third
message was handed to the mailer. Steps: after-intent, after-send, after-outcome,
before-write-back.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("AUTOMATIONS_FAULT", "")
_STEP, _, _NTH = _SPEC.partition(":")
_counts: dict[str, int] = {}


def fault_point(step: str) -> None:
    """Kill this process (SIGKILL, no cleanup) when AUTOMATIONS_FAULT names this step."""
    if not _STEP or step != _STEP:
        return
    _counts[step] = _counts.get(step, 0) + 1
    if _counts[step] >= int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGKILL)
