"""The jobs, one module each, and the registry the CLI and runner use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automations.config import Settings
    from automations.plan import JobInput, Message, Plan
    from automations.sheets.contract import TabSpec

# Every job's module and one-line summary, in the order `run all` runs them. Asking for
# names and summaries (`--help`, the config's "did you mean") must not import the jobs and
# the libraries they use; tests check this table against each module's JOB.
CATALOG: dict[str, tuple[str, str]] = {
    "committee-invites": (
        "committee_invites",
        "Joint committee (MOU 2.0): meeting invitations, updates, cancellations, "
        "reminders, roster and quarter checks",
    ),
    "pd-reminders": (
        "pd_reminders",
        "Staff PD (MOU 5.0 a–d): a digest of the topics each person still owes, "
        "session reminders with calendar invites",
    ),
    "webinar-agendas": (
        "webinar_agendas",
        "Family webinars (MOU 7.0): coverage check, agendas in families' languages "
        "(Bcc batches), reminders, cancellation notices",
    ),
    "mou-tracker": (
        "mou_tracker",
        "MOU tracker (all sections): the MOU Tracker tab, a monthly summary email with "
        "bars, and `jobs.py report`",
    ),
}


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


def job_names() -> list[str]:
    """Every job's name, in the order `run all` runs them (imports no job)."""
    return list(CATALOG)


def summaries() -> dict[str, str]:
    """Every job's one-line summary by name (imports no job)."""
    return {name: summary for name, (_, summary) in CATALOG.items()}


def registry() -> dict[str, Job]:
    """Every job by name, in the order `run all` runs them."""
    modules = [importlib.import_module(f"automations.jobs.{m}") for m, _ in CATALOG.values()]
    return {module.JOB.name: module.JOB for module in modules}
