"""The jobs, one module each, and the registry the CLI and runner use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.config import Settings
from automations.plan import JobInput, Message, Plan
from automations.sheets.contract import TabSpec


def no_problems(settings: Settings, options: Any) -> list[str]:
    """The default Job.config_problems: options that are valid alone are valid together."""
    return []


@dataclass(frozen=True)
class Job:
    """A job: which tabs it reads, how it plans, its options and sample messages."""

    name: str
    summary: str
    default_schedule: str
    tabs: Callable[[Settings], Mapping[str, Sequence[TabSpec]]]
    options: Callable[[Settings], Any]
    plan: Callable[[JobInput], Plan]
    # Messages with made-up data, one per template, for `check` and tests.
    samples: Callable[[Settings, Any], list[Message]]
    # Other jobs whose ledger history the planner reads (JobInput.others), e.g. the tracker.
    histories: tuple[str, ...] = ()
    # Options each valid alone but unusable together with the rest of the config (`check`).
    config_problems: Callable[[Settings, Any], list[str]] = no_problems
    # Reads the job's sent marks in its rows into a ledger being rebuilt (automations.rebuild):
    # (input with an empty history, the Run Log reader, the records to add to).
    rebuild: Callable[[JobInput[Any], Callable[[str], Any], Any], None] | None = None


def registry() -> dict[str, Job]:
    """Every job by name, in the order `run all` runs them."""
    from automations.jobs import committee_invites, mou_tracker, pd_reminders, webinar_agendas

    jobs = [committee_invites.JOB, pd_reminders.JOB, webinar_agendas.JOB, mou_tracker.JOB]
    return {job.name: job for job in jobs}
