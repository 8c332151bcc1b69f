"""Run a job: read → plan → deliver → write back → record, one step each.

Reading is followed by the calendar's answers (Microsoft 365) and, for a ledger that
knows nothing of the job, a rebuild from the sheets; planning by the holds (formulas not
calculated, the agreement's end) and by storing the IDs given to new rows.

The steps live in their own modules: reading and planning (`planning`, with the ledger
rebuild and the holds), new IDs stored before use (`new_ids`), sending at most once
(`delivery`, `calendar_events`), what to write (`writeback`) and writing it
(`sheet_writer`), showing a plan without carrying it out (`preview`). This module wires
them to the configured spreadsheets, mailer, ledger and clock, and keeps the run's count.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from automations.alerts import Alerts
from automations.calendar_events import CalendarEvents
from automations.cells import mask_addresses
from automations.config import Settings
from automations.delivery import Delivery, prepare
from automations.errors import AutomationError, MailError, MailUnreachable
from automations.faults import fault_point
from automations.jobs import Job
from automations.ledger import Ledger, PendingWrite, RunRecord
from automations.mail.backend import Mailer, calendar_of, inbox_of
from automations.mail.compose import Outgoing
from automations.new_ids import Settled, settle_ids, storer
from automations.outcomes import RunSummary
from automations.plan import History, Message, Plan
from automations.planning import Planned, Planning, Request, Tables, left_alone, notices
from automations.preview import LOOKAHEAD_DAYS, Previewed, show_dry_run, unsent, write_preview
from automations.rebuild import record_rebuilt
from automations.render import Renderer
from automations.sheet_writer import SheetWriter
from automations.sheets.backend import Spreadsheet
from automations.sheets.contract import CellWrite, RunLogEntry
from automations.throttle import Throttle

log = logging.getLogger("automations")


class Runner:
    """Runs jobs against the configured spreadsheets, mailer and ledger."""

    def __init__(
        self,
        settings: Settings,
        spreadsheets: Callable[[str], Spreadsheet],
        mailer: Mailer,
        ledger: Ledger,
        renderer: Renderer,
        clock: Callable[[], dt.datetime],
        out: Callable[[str], None] = print,
        throttle: Throttle | None = None,
    ) -> None:
        self.settings, self.ledger, self.renderer = settings, ledger, renderer
        self.clock, self.out = clock, out
        self._open_spreadsheet = spreadsheets
        self._spreadsheets: dict[str, Spreadsheet] = {}
        calendar = calendar_of(mailer)
        now = lambda: self.now(None)  # noqa: E731
        self.planning = Planning(
            settings, self.spreadsheet, ledger, renderer, calendar, now, inbox_of(mailer)
        )
        # `throttle` paces sends to the mailer's limits (None: no limits, e.g. the outbox).
        events = CalendarEvents(ledger, calendar, now, throttle) if calendar else None
        self.delivery = Delivery(ledger, mailer, self.prepare, now, throttle, events)
        self.writer = SheetWriter(ledger, self.spreadsheet)
        self.alerts = Alerts(settings, ledger, self.delivery, self.prepare, now)

    @property
    def mailer(self) -> Mailer:
        """The mail backend messages go through (replaceable, e.g. by a test's wrapper)."""
        return self.delivery.mailer

    @mailer.setter
    def mailer(self, mailer: Mailer) -> None:
        self.delivery.mailer = mailer

    def spreadsheet(self, name: str) -> Spreadsheet:
        """The spreadsheet `name`, opened once per runner."""
        if name not in self._spreadsheets:
            self._spreadsheets[name] = self._open_spreadsheet(name)
        return self._spreadsheets[name]

    def now(self, today: dt.date | None) -> dt.datetime:
        """The time now in the configured zone, on `today` when one is given (--today)."""
        now = self.clock().astimezone(self.settings.timezone)
        if today is not None and today != now.date():
            now = dt.datetime.combine(today, now.time(), self.settings.timezone)
        return now

    def prepare(self, job: str, message: Message, now: dt.datetime | None = None) -> Outgoing:
        """Render and compose one message (with its .ics when it is an invitation)."""
        return prepare(self.settings, self.renderer, job, message, now or self.now(None))

    def run(
        self,
        job: Job,
        today: dt.date | None = None,
        dry_run: bool = False,
        on_demand: bool = False,
        resend: bool = False,
    ) -> RunSummary:
        """Plan and carry out one job; never raises for problems a person can fix.

        `on_demand` tells the planner the admin asked for this job by name; `resend` that
        they asked for this period's messages again (`--resend`).
        """
        summary = RunSummary(job.name, dry_run=dry_run)
        request = Request(job, self.now(today), on_demand, resend)
        try:
            tables = self.planning.read(job)
            history = self.planning.history(request)  # with the calendar's answers synced
            history = self.rebuild(request, tables, history, dry_run)
            plan = self.planning.plan(request, tables, history)  # then the holds
            settled = self.settle_ids(request, Planned(plan, tables, history), dry_run)
        except AutomationError as err:
            summary.error = str(err)
            log.error("%s: %s", job.name, err)
            return self.record(job, summary, request.now)
        planned, summary.error = settled.planned, settled.error
        self.notice(job, planned, settled.notes, summary)
        if dry_run:
            show_dry_run(
                job.name,
                planned.plan,
                planned.history,
                self.renderer,
                summary,
                self.out,
                planned.tables,
            )
            return self.record(job, summary, request.now)
        earlier = self.ledger.pending(job.name)
        after_sends = self.deliver(job.name, planned.plan, summary)
        fault_point("before-write-back")
        self.write_back(job, planned, earlier, after_sends, summary, request.now)
        return self.record(job, summary, request.now)

    def rebuild(self, request: Request, tables: Tables, history: History, dry_run: bool) -> History:
        """A ledger that knows nothing of the job is first rebuilt from the rows' sent marks,
        recorded before anything is sent (a dry run only says what it would record)."""
        rebuilt = self.planning.rebuilt(request, tables)
        if rebuilt is None:
            return history
        name, now = request.job.name, self.now(None)
        record_rebuilt(self.ledger, name, rebuilt, now, self.out, dry_run=dry_run)
        return rebuilt.merged(history)

    def settle_ids(self, request: Request, planned: Planned, dry_run: bool) -> Settled:
        """New IDs stored before use (see automations.new_ids); a dry run assumes them."""
        job = request.job
        store = None if dry_run else storer(self.spreadsheet, self.planning.specs(job))
        return settle_ids(
            job.name,
            planned,
            lambda tables, history: self.planning.plan(request, tables, history),
            store,
            lambda: self.planning.planned(request),
        )

    def notice(self, job: Job, planned: Planned, notes: list[str], summary: RunSummary) -> None:
        """Log and count what reading and planning found; privacy warnings alert the admin."""
        sensitive, cleaned = notices(planned.tables)
        noticed = notes + sensitive + cleaned + planned.plan.problems
        summary.skipped = planned.plan.skipped
        summary.left_alone = left_alone(planned.tables)
        if summary.left_alone:
            log.info("%s: left alone as totals/notes: %s", job.name, ", ".join(summary.left_alone))
        summary.problems.extend(noticed)
        for problem in noticed:
            log.warning("%s: %s", job.name, problem)
        if sensitive and not summary.dry_run:
            self.alert_admin(job.name, "privacy warning", sensitive, once=True, warning=True)

    def deliver(self, job: str, plan: Plan, summary: RunSummary) -> list[CellWrite]:
        """Carry out every action of the plan; returns what rows say about sends that did
        not all go. A mailer that cannot send at all stops the sends (the run's error)."""
        writes: list[CellWrite] = []
        try:
            self.delivery.carry_out_all(job, plan.actions, summary.count, writes)
        except MailUnreachable as err:
            # Nothing more can go: the rows due say so, not a status from before.
            left = [a for a in plan.actions if any(not self._went(m.key) for m in a.messages)]
            summary.waiting = sum(1 for a in left for m in a.messages if not self._went(m.key))
            for waiting in left:
                writes.extend(waiting.wording.unreachable(waiting))
            summary.error = str(err)
            log.error("%s: not sent, could not reach the mail server: %s", job, err)
        except MailError as err:
            summary.error = f"mail: {err}"
            log.error("%s: stopped sending: %s", job, err)
        return writes

    def _went(self, key: str) -> bool:
        record = self.ledger.record(key)
        return record is not None and record.state in ("sent", "rejected", "uncertain")

    def write_back(
        self,
        job: Job,
        planned: Planned,
        earlier: list[PendingWrite],
        after_sends: list[CellWrite],
        summary: RunSummary,
        started: dt.datetime,
    ) -> None:
        """Write every status in one batch per spreadsheet, with the run's Run Log row."""
        failed = summary.failed + summary.uncertain
        entry = RunLogEntry(
            started, job.name, False, summary.sent, summary.skipped, failed, summary.summary()
        )
        done = self.writer.write_back(
            job.name, planned, earlier, after_sends, entry, self.planning.specs(job)
        )
        summary.written += done.cells
        summary.problems[:0] = done.problems
        summary.error = summary.error or done.error

    def record(self, job: Job, summary: RunSummary, started: dt.datetime) -> RunSummary:
        """Keep the run in the ledger, alert the admin when it failed, print its line."""
        if not summary.dry_run:
            failed = summary.failed + summary.uncertain
            finished = self.now(None).isoformat(timespec="seconds")
            record = RunRecord(
                job.name, finished, False, summary.sent, summary.skipped, failed, summary.summary()
            )
            self.ledger.record_run(record, started)
            if summary.exit_code:
                problems = ([summary.error] if summary.error else []) + summary.problems
                self.alert_admin(job.name, summary.summary(), problems)
        self.out(f"{job.name}: {mask_addresses(summary.summary())}")
        return summary

    def alert_admin(
        self,
        job: str,
        summary: str,
        problems: list[str],
        *,
        once: bool = False,
        warning: bool = False,
    ) -> None:
        """Email the admin: once per job, day and distinct failure (or once ever); a
        `warning` says what to look at in a run that goes on."""
        self.alerts.failed_run(job, summary, problems, once=once, warning=warning)

    def report_rebuilds(self) -> bool:
        """Tell the admin which jobs' ledger records were rebuilt (True: there were some)."""
        return self.alerts.rebuilds()

    def preview(self, job: Job, today: dt.date | None, folder: Path) -> Previewed:
        """Write every message the job would send as .html, .txt and .eml, plus index.html:
        today's, or when nothing is due today, those of the next day something is."""
        request = Request(job, self.now(today))
        planned = self.settle_ids(request, self.planning.planned(request), dry_run=True).planned
        due_on = None
        if not unsent(planned):
            # Right after a run nothing is due: show the next day something is, as the
            # sheets and the ledger stand now.
            for days in range(1, LOOKAHEAD_DAYS + 1):
                later = Request(job, request.now + dt.timedelta(days=days))
                plan = self.planning.plan(later, planned.tables, planned.history)
                ahead = Planned(plan, planned.tables, planned.history)
                if unsent(ahead):
                    planned = self.settle_ids(later, ahead, dry_run=True).planned
                    due_on = later.now.date()
                    break
        files = write_preview(
            job.name,
            planned.plan,
            planned.history,
            folder,
            renderer=self.renderer,
            prepare=lambda message: self.prepare(job.name, message, request.now),
            now=request.now,
            templates_dir=self.settings.templates_dir,
            due_on=due_on,
            looked_ahead=LOOKAHEAD_DAYS,
        )
        return Previewed(files, due_on)
