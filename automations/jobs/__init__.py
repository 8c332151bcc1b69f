"""The jobs, one module each, and the registry the CLI and runner use.

A job is a module of this package that defines `JOB = Job(...)`: adding a job is adding
its module (and its templates, config section and demo rows); nothing else lists the
jobs. The other modules here are what jobs are made of: readers (`rows`, `people`,
`events`, the spreadsheets' tabs `committee`, `family`, `pd`), the occasion engine
(`occasions`, `engine`, `invitations`, `announcements`, `reminders`) and `declare`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.config import Settings
from automations.plan import JobInput, Message, Plan
from automations.sheets.contract import Table, TabSpec


def no_problems(settings: Settings, options: Any) -> list[str]:
    """The default Job.config_problems: options that are valid alone are valid together."""
    return []


@dataclass(frozen=True)
class Job:
    """A job: which tabs it reads, how it plans, its options and sample messages.

    :param name: the job's name on the command line and in the config (`[jobs.<name>]`);
        the first part of its message keys, so never renamed once it has sent mail
    :param summary: one line for `list` and `--help`
    :param default_schedule: when it runs unless the config says otherwise
    :param tabs: the tabs it reads, by spreadsheet config name
    :param options: reads and checks its `[jobs.<name>]` section
    :param plan: the planner: rows, the day and the ledger's history in, a Plan out (pure)
    :param samples: one message per template with made-up data, for `check` and tests
    :param order: where it runs in `run all` (lower first)
    :param histories: other jobs whose ledger history the planner reads (JobInput.others)
    :param config_problems: options each valid alone but unusable together (`check`)
    :param rebuild: reads the job's sent marks into a ledger being rebuilt (see
        automations.rebuild); None for a job whose keys need no rebuild
    """

    name: str
    summary: str
    default_schedule: str
    tabs: Callable[[Settings], Mapping[str, Sequence[TabSpec]]]
    options: Callable[[Settings], Any]
    plan: Callable[[JobInput[Any]], Plan]
    samples: Callable[[Settings, Any], list[Message]]
    order: int = 50
    histories: tuple[str, ...] = ()
    config_problems: Callable[[Settings, Any], list[str]] = no_problems
    rebuild: Callable[[JobInput[Any], Callable[[str], Table | None], Any], None] | None = None


def discover() -> list[Job]:
    """Every `JOB` defined by a module of this package, in run order (then by name).

    Modules are imported only here, when the registry is first asked for: naming the
    jobs costs nothing until then.
    """
    jobs = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        job = getattr(module, "JOB", None)
        if isinstance(job, Job):
            jobs.append(job)
    return sorted(jobs, key=lambda job: (job.order, job.name))


@functools.cache
def registry() -> dict[str, Job]:
    """Every job by name, in the order `run all` runs them."""
    return {job.name: job for job in discover()}
