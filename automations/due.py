"""`run due`: the jobs whose scheduled time has passed since they last ran.

A job is due when its latest scheduled time (in the configured time zone) is after its
last real run (the ledger's `runs` table): it then runs once, however many scheduled
times were missed. A job that has never run is not started by `run due` at once: the
first `run due` notes when it first saw the job and says so, and the job runs at its next
scheduled time after that (a fresh install never mails everyone at the first cron tick).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from automations.config import Settings
from automations.jobs import Job
from automations.ledger import Ledger
from automations.schedules import due, next_occurrence

# The ledger "job" under which `run due` keeps when it first saw each never-run job.
FIRST_SEEN = "run-due"


@dataclass(frozen=True)
class Decision:
    """Whether one job is due now, and a line for the admin when there is one to say."""

    job: Job
    due_at: dt.datetime | None
    note: str = ""


def _when(moment: dt.datetime) -> str:
    return f"{moment:%a %b} {moment.day} at {moment:%H:%M}"


def decide(
    settings: Settings, jobs: Sequence[Job], ledger: Ledger, now: dt.datetime, *, record: bool
) -> list[Decision]:
    """Which of `jobs` are due at `now`; with `record`, remember never-run jobs first seen."""
    decisions = []
    seen = ledger.history(FIRST_SEEN)
    for job in jobs:
        schedules = settings.job(job.name).schedules
        if not schedules:
            decisions.append(Decision(job, None))
            continue
        last = ledger.last_run(job.name)
        if last is not None:
            since = dt.datetime.fromisoformat(last.finished_at)
        elif (first := seen.state(job.name)) is not None:
            since = dt.datetime.fromisoformat(str(first["at"]))
        else:
            if record:
                ledger.complete(FIRST_SEEN, [], (job.name, {"at": now.isoformat()}), now)
            upcoming = min(next_occurrence(s, now) for s in schedules)
            note = (
                f"{job.name}: has never run; `run due` starts it at its next scheduled time "
                f"({_when(upcoming)}); `python jobs.py run {job.name}` runs it now"
            )
            decisions.append(Decision(job, None, note))
            continue
        decisions.append(Decision(job, due(schedules, now, since)))
    return decisions
