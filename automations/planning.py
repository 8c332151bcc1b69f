"""Read a job's tabs and plan it: the steps of a run before anything is sent.

read (one read per spreadsheet, earlier pending write-backs applied in memory) →
history (the ledger's, the calendar's answers synced first) → rebuild (a ledger that
knows nothing of the job, rebuilt in memory from the sheets' sent marks) → plan (the
job's planner, a pure function of its input) → holds (uncalculated formulas, the end of
the agreement). Nothing here sends, and only the response sync writes to the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from automations import translations
from automations.calendar_events import sync_responses
from automations.config import Settings
from automations.holds import after_agreement, hold_uncalculated
from automations.jobs import Job
from automations.ledger import Ledger
from automations.mail.backend import CalendarMailer
from automations.plan import History, JobInput, Plan
from automations.rebuild import RUN_LOG_SPEC, Rebuilt, rebuild_job
from automations.render import Renderer
from automations.sheets.backend import Spreadsheet
from automations.sheets.contract import RUN_LOG_TAB, Table, TabSpec, find_tab
from automations.writeback import apply

Tables = dict[str, dict[str, Table]]


@dataclass
class Planned:
    """A plan with the tables it was made from, the history it saw, and any rebuild."""

    plan: Plan
    tables: Tables
    history: History
    rebuilt: Rebuilt | None = None


@dataclass(frozen=True)
class Request:
    """What a run of one job was asked for: the job, its moment, and how it was started.

    `on_demand`: the admin asked for this job by name (`run JOB`); `resend`: they asked
    for this period's messages again (`--resend`).
    """

    job: Job
    now: dt.datetime
    on_demand: bool = False
    resend: bool = False


class Planning:
    """Reads and plans jobs against the configured spreadsheets and ledger.

    :param settings: the configuration
    :param spreadsheet: opens a spreadsheet by its config name (once per run)
    :param ledger: the ledger (history, pending write-backs, rebuild state)
    :param renderer: the renderer (the languages mail can be written in; a job's
        Translations tab is merged into it for that job's messages)
    :param calendar: the mailer when it keeps calendar events (answers are synced), or None
    :param clock: the real time now (when synced answers are stamped)
    """

    def __init__(
        self,
        settings: Settings,
        spreadsheet: Callable[[str], Spreadsheet],
        ledger: Ledger,
        renderer: Renderer,
        calendar: CalendarMailer | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.settings = settings
        self.spreadsheet = spreadsheet
        self.ledger = ledger
        self.renderer = renderer
        self.calendar = calendar
        self.clock = clock

    def specs(self, job: Job) -> dict[str, dict[str, TabSpec]]:
        """The job's tab specs by spreadsheet and tab name."""
        return {
            sheet: {s.name: s for s in specs} for sheet, specs in job.tabs(self.settings).items()
        }

    def read(self, job: Job) -> Tables:
        """The job's tabs as read now, with write-backs earlier runs still owe applied."""
        tables = {
            sheet: self.spreadsheet(sheet).read(list(specs))
            for sheet, specs in job.tabs(self.settings).items()
        }
        # Write-backs from earlier runs that never reached the sheet count as done.
        apply(tables, (p.write for p in self.ledger.pending(job.name)))
        # A Translations tab read with the job's tabs is merged over the shipped catalogs
        # for this job's messages (and may make a language sendable).
        tab = translations.from_tables(tables)
        self.renderer.use_translations(tab.overrides if tab is not None else None)
        return tables

    def history(self, request: Request) -> History:
        """What the ledger knows of the job, with the calendar's answers synced first."""
        history = self.ledger.history(request.job.name)
        return sync_responses(
            self.ledger, self.calendar, request.job.name, history, request.now, self.clock()
        )

    def job_input(self, request: Request, tables: Mapping, history: History) -> JobInput:
        """The planner's input: rows, the moment, options and what was sent before."""
        job = request.job
        return JobInput(
            tables=tables,
            today=request.now.date(),
            now=request.now,
            settings=self.settings,
            options=job.options(self.settings),
            history=history,
            languages=self.renderer.languages,
            others={name: self.ledger.history(name) for name in job.histories},
            on_demand=request.on_demand,
            resend=request.resend,
        )

    def rebuilt(self, request: Request, tables: Tables) -> Rebuilt | None:
        """What the sheets' sent marks show, when the ledger knows nothing of the job."""
        if not self.ledger.needs_rebuild(request.job.name):
            return None
        return rebuild_job(
            request.job.name, self.job_input(request, tables, History()), self.run_log
        )

    def plan(self, request: Request, tables: Tables, history: History) -> Plan:
        """The job's plan, then the holds every plan is subject to."""
        plan = request.job.plan(self.job_input(request, tables, history))
        tab = translations.from_tables(tables)
        if tab is not None:  # the Translations tab's own Status cells and problems
            plan.writes.extend(tab.writes)
            plan.problems.extend(tab.problems)
        plan = hold_uncalculated(plan, tables)
        if request.now.date() > self.settings.agreement_end:
            plan = after_agreement(plan, self.settings.agreement_end)
        return plan

    def planned(self, request: Request) -> Planned:
        """Read, sync, rebuild (in memory only) and plan: the plan as the sheets are now."""
        tables = self.read(request.job)
        history = self.history(request)
        rebuilt = self.rebuilt(request, tables)
        if rebuilt is not None:
            history = rebuilt.merged(history)
        return Planned(self.plan(request, tables, history), tables, history, rebuilt)

    def run_log(self, sheet: str) -> Table | None:
        """The Run Log tab of `sheet` (None when it has none), read for a ledger rebuild."""
        spreadsheet = self.spreadsheet(sheet)
        titles: Callable[[], Sequence[str]] | None = getattr(spreadsheet, "titles", None)
        if titles is not None and find_tab(titles(), RUN_LOG_TAB) is None:
            return None  # nothing to read: no request spent
        return spreadsheet.read([RUN_LOG_SPEC]).get(RUN_LOG_SPEC.name)


def notices(tables: Mapping[str, Mapping[str, Table]]) -> tuple[list[str], list[str]]:
    """What reading found for people to fix: shared columns that look like
    immigration-status data (the admin is told), and cells whose control characters
    were removed. Returns (privacy warnings, cleaned cells)."""
    sensitive = [
        f"privacy: spreadsheet {table.spreadsheet}, tab '{table.title}' has a column "
        f"'{header}' that looks like immigration-status data; remove it from shared sheets "
        "(the jobs never read it)"
        for by_tab in tables.values()
        for table in by_tab.values()
        for header in table.sensitive_headers
    ]
    cleaned = [
        f"{table.title} row {number}: {column} had control characters (invisible codes "
        "pasted from another program); they were removed, retype the cell to be sure"
        for by_tab in tables.values()
        for table in by_tab.values()
        for number, column in table.cleaned
    ]
    return sensitive, cleaned
