"""Rebuild a new or empty ledger from the sheets' sent marks, before anything is sent.

The ledger is what stops a message going out twice. When it is deleted, emptied or
replaced by a new file, the sheets still say what the tool did: `Invite Sent` and
`Invite Version` on a meeting, `Agenda Sent` on a webinar, a session's `Reminder sent to
...` status, the `Run Log` rows of the tracker. For a job the ledger knows nothing of,
those marks are turned back into sent keys and entity snapshots (with their version, so
the next change is an update with a higher SEQUENCE, not a new invitation), and the
admin gets one email saying what was rebuilt.

Where a mark cannot say exactly who got a message (which families got an agenda, who
was on the roster then), everyone who would get it now is taken as having got it: a
lost message can be sent by hand, a duplicate cannot be unsent. The report says so.
PD digests need nothing: their keys come from the sheet's Reminders Sent and Last
Reminded already.

Each job reads its own marks (`Job.rebuild`); the occasion engine reads the stamps of
its occasions (`Invitations.rebuild`, `Announcements.rebuild`). This module holds what
they share and the step of the run that records a rebuild.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automations.cells import wall_time
from automations.jobs.rows import plural
from automations.plan import Action, History, JobInput
from automations.sheets.contract import RUN_LOG_HEADERS, RUN_LOG_TAB, Column, Table, TabSpec

if TYPE_CHECKING:
    from automations.ledger import Ledger

log = logging.getLogger("automations")
RUN_LOG_SPEC = TabSpec(
    RUN_LOG_TAB,
    tuple(Column(name, required=name in {"When", "Job"}) for name in RUN_LOG_HEADERS),
    optional=True,
)
# Statuses the runner writes when only some messages of an action went (or may have).
_PARTIAL = re.compile(r"^(?:Error|Check): (\d+) of (\d+) messages")
# The fingerprint part of rebuilt tracker summary keys (the figures sent are not known).
REBUILT_FIGURES = "rebuilt"

RunLog = Callable[[str], Table | None]


@dataclass
class Rebuilt:
    """What the sheets show a job already sent: keys, entity snapshots, and the report."""

    job: str
    sent: set[str] = field(default_factory=set)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Lines for the admin: per tab what was found, then what was assumed (fail closed).
    report: list[str] = field(default_factory=list)

    def merged(self, history: History) -> History:
        """`history` with these records added (what a planner sees once they are recorded)."""
        return dataclasses.replace(
            history,
            sent=history.sent | frozenset(self.sent),
            states={**self.states, **history.states},
        )

    def take(self, actions: Sequence[Action]) -> None:
        """Record the keys and snapshots of actions a planner would make (e.g. Bcc batches)."""
        for action in actions:
            if action.state is not None:
                self.states[action.state[0]] = dict(action.state[1])
            self.sent.update(m.key for m in action.messages)


def rebuild_job(name: str, job: JobInput[Any], run_log: RunLog) -> Rebuilt:
    """What job `name`'s rows (`job`, with an empty history) show it already sent: the
    job's own `rebuild` reads its sent marks (a job without marks needs none)."""
    from automations.jobs import registry

    rebuilt = Rebuilt(name)
    builder = registry()[name].rebuild
    if builder is not None:
        builder(job, run_log, rebuilt)
    return rebuilt


def whole(value: str) -> int:
    """A count or version written by the tool ('' or unreadable: 0)."""
    try:
        number = float(value)
    except ValueError:
        return 0
    return int(number) if number.is_integer() and number > 0 else 0


def partly_sent(status: str) -> bool:
    """A status saying some, not all, messages of the last action went (or may have)."""
    found = _PARTIAL.match(status)
    return bool(found) and (status.startswith("Check:") or int(found[1]) < int(found[2]))


def ran_since(log: Table | None, job: str, since: dt.date, *, sending: bool = False) -> bool:
    """Whether the Run Log shows a real run of `job` on or after `since` (that sent mail)."""
    for row in log or ():
        if row.text("Job") != job or row.text("Dry Run").casefold() == "yes":
            continue
        when_read = wall_time(row["When"])  # a date cell now; ISO text in older rows
        if when_read is None:
            continue
        when = when_read.date()
        if when >= since and (whole(row.text("Sent")) or not sending):
            return True
    return False


def record_rebuilt(
    ledger: Ledger,
    job: str,
    rebuilt: Rebuilt,
    now: dt.datetime,
    out: Callable[[str], None],
    *,
    dry_run: bool = False,
) -> None:
    """Record what the sheets show as sent for a job the ledger knew nothing of (a step
    of the run, before anything is sent); a dry run only says what it would record."""
    if not rebuilt.sent and not rebuilt.states:
        if not dry_run:
            ledger.record_rebuild(job, (), {}, (), now)
        return
    what = f"{plural(len(rebuilt.sent), 'message')} the sheets mark as sent"
    if dry_run:
        out(
            f"[dry run] {job}: the ledger knows nothing of this job; a real run first "
            f"records the {what}, and sends none of them again"
        )
        return
    ledger.record_rebuild(job, rebuilt.sent, rebuilt.states, rebuilt.report, now)
    out(f"{job}: ledger rebuilt from the sheets: {what} recorded, none resent; the admin is told")
    for line in rebuilt.report:
        log.warning("%s: ledger rebuilt: %s", job, line)
