"""Fault hook for crash tests: break the process at a named step of a send.

Enabled only by the environment variable AUTOMATIONS_FAULT, read here and nowhere
else: "<step>:<n>[:<action>]" acts the n-th time the step is reached, e.g.
AUTOMATIONS_FAULT="after-send:3" kills the process right after the third message was
handed to the mailer. Steps: after-intent, after-send, after-outcome,
before-write-back. Actions:

- kill (the default): SIGKILL, no cleanup, as a power cut or the OOM killer would;
- raise: raise an unexpected RuntimeError, as a bug would (the CLI's last-resort guard
  must turn it into one line, errors.log and an admin alert);
- disk-full: from then on no file this process writes can grow (RLIMIT_FSIZE 0), as
  when the disk fills up (the next ledger write fails as it would then).
"""

from __future__ import annotations

import os
import resource
import signal

ACTIONS = ("kill", "raise", "disk-full")
_SPEC = os.environ.get("AUTOMATIONS_FAULT", "")
_STEP, _, _REST = _SPEC.partition(":")
_NTH, _, _ACTION = _REST.partition(":")
_counts: dict[str, int] = {}


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
