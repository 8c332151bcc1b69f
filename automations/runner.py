"""Execute plans: read, plan, consult the ledger, send, record, write back, log the run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from automations.alerts import ALERT_JOB, admin_alert
from automations.cells import CellValue, mask_addresses, mask_email, text
from automations.config import Settings
from automations.errors import AutomationError, MailError, TemplateProblem, WorkbookInUse
from automations.faults import fault_point
from automations.jobs import Job
from automations.jobs.rows import day_words, plural
from automations.ledger import Ledger, LedgerError, RunRecord
from automations.mail.backend import CalendarMailer, EventFailed, Mailer, calendar_of
from automations.mail.compose import Envelope, Outgoing, compose
from automations.plan import (
    Action,
    AttendeeResponse,
    History,
    JobInput,
    Message,
    Plan,
    StatusCell,
    TabContent,
)
from automations.private import private_dir, write_private
from automations.rebuild import RUN_LOG_SPEC, Rebuilt, rebuild_alert, rebuild_job
from automations.render import Renderer
from automations.sheets.backend import Spreadsheet
from automations.sheets.contract import (
    RUN_LOG_TAB,
    CellWrite,
    RowRef,
    RunLogEntry,
    Table,
    TabSpec,
    find_tab,
    key_text,
)
from automations.throttle import QUEUED_STATUS, Throttle

log = logging.getLogger("automations")
MAX_LISTED = 40
# Statuses are for people: a quoted 50,000-character cell must not fill a column.
MAX_STATUS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Run Log rows a spreadsheet could not take (open in Excel, unreachable) wait in the ledger;
# a few are written per run, and only the latest are kept.
LATE_RUN_LOG_ROWS_PER_RUN = 5
MAX_LATE_RUN_LOG_ROWS = 100


@dataclass
class JobResult:
    """How one job's run went; `exit_code` is what the CLI returns for it."""

    job: str
    dry_run: bool = False
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    queued: int = 0  # held back by the daily recipient limit; they go on the next run
    written: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when everything went, 1 when anything failed or was left uncertain."""
        return 1 if self.error or self.failed or self.uncertain else 0

    def summary(self) -> str:
        """One line: counts and the first problem."""
        if self.dry_run:
            counts = f"would send {self.planned}, skipped {self.skipped}"
        else:
            counts = f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}"
            if self.uncertain:
                counts += f", uncertain {self.uncertain}"
            if self.queued:
                counts += f", queued {self.queued} (daily sending limit reached)"
        first = self.error or (self.problems[0] if self.problems else "")
        return f"{counts}{'; ' + first if first else ''}"


@dataclass
class Planned:
    """A plan with the tables it was made from, the history it saw, and any rebuild."""

    plan: Plan
    tables: dict[str, dict[str, Table]]
    history: History
    rebuilt: Rebuilt | None = None


def describe_recipients(addresses: Iterable[str], limit: int = 3) -> str:
    """Masked recipients for logs: m***@x.org, a***@y.org and 6 more."""
    addresses = list(addresses)
    shown = ", ".join(mask_email(a) for a in addresses[:limit])
    return shown + (f" and {len(addresses) - limit} more" if len(addresses) > limit else "")


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
        self.settings = settings
        self._open_spreadsheet = spreadsheets
        self._spreadsheets: dict[str, Spreadsheet] = {}
        self.mailer = mailer
        self.ledger = ledger
        self.renderer = renderer
        self.clock = clock
        self.out = out
        # Paces sends to the mailer's limits (None: no limits, e.g. the outbox).
        self.throttle = throttle

    def spreadsheet(self, name: str) -> Spreadsheet:
        """The spreadsheet `name`, opened once per runner."""
        if name not in self._spreadsheets:
            self._spreadsheets[name] = self._open_spreadsheet(name)
        return self._spreadsheets[name]

    def _now(self, today: dt.date | None) -> dt.datetime:
        now = self.clock().astimezone(self.settings.timezone)
        if today is not None and today != now.date():
            now = dt.datetime.combine(today, now.time(), self.settings.timezone)
        return now

    # -- planning -------------------------------------------------------------

    def plan(
        self, job: Job, today: dt.date | None, on_demand: bool = False, resend: bool = False
    ) -> tuple[Plan, dict[str, dict[str, Table]]]:
        """Read the job's tabs (one read per spreadsheet) and return its plan.

        This is the plan as a real run would carry it out (dry runs and previews): IDs
        it gives to rows are taken as stored, and a new ledger as rebuilt from the sheets.
        """
        planned = self._planned(job, today, on_demand, resend)
        if planned.plan.assigned:
            planned = self._assume_stored(job, planned, today, on_demand, resend)
        return planned.plan, planned.tables

    def _planned(
        self,
        job: Job,
        today: dt.date | None,
        on_demand: bool,
        resend: bool = False,
        tables: dict[str, dict[str, Table]] | None = None,
        history: History | None = None,
    ) -> Planned:
        """Read (unless `tables` are given) and plan; a ledger that knows nothing of the
        job is first rebuilt from the sheets' sent marks, here only in memory. A given
        `history` (already rebuilt) is planned with as it is."""
        now = self._now(today)
        options = job.options(self.settings)
        if tables is None:
            tables = {}
            for sheet, specs in job.tabs(self.settings).items():
                tables[sheet] = self.spreadsheet(sheet).read(list(specs))
            # Write-backs from earlier runs that never reached the sheet count as done.
            _apply(tables, (p.write for p in self.ledger.pending(job.name)))

        def job_input(history: History) -> JobInput:
            return JobInput(
                tables=tables,
                today=now.date(),
                now=now,
                settings=self.settings,
                options=options,
                history=history,
                languages=self.renderer.languages,
                others={name: self.ledger.history(name) for name in job.histories},
                on_demand=on_demand,
                resend=resend,
            )

        rebuilt = None
        if history is None:
            history = self._history(job.name, now)
            if self.ledger.needs_rebuild(job.name):
                rebuilt = rebuild_job(job.name, job_input(History()), self._run_log)
                history = rebuilt.merged(history)
        plan = job.plan(job_input(history))
        _hold_uncalculated(plan, tables)
        if now.date() > self.settings.agreement_end:
            plan = after_agreement(plan, self.settings.agreement_end)
        return Planned(plan, tables, history, rebuilt)

    def _run_log(self, sheet: str) -> Table | None:
        """The Run Log tab of `sheet` (None when it has none), read for a ledger rebuild."""
        spreadsheet = self.spreadsheet(sheet)
        titles = getattr(spreadsheet, "titles", None)
        if titles is not None and find_tab(titles(), RUN_LOG_TAB) is None:
            return None  # nothing to read: no request spent
        return spreadsheet.read([RUN_LOG_SPEC]).get(RUN_LOG_SPEC.name)

    def _assume_stored(
        self,
        job: Job,
        planned: Planned,
        today: dt.date | None,
        on_demand: bool,
        resend: bool = False,
    ) -> Planned:
        """The plan once the IDs given to rows are stored, made from the same rows (in
        memory; `planned.tables` are left as read)."""
        undo = _apply_ids(planned.tables, planned.plan.assigned)
        try:
            again = self._planned(job, today, on_demand, resend, planned.tables, planned.history)
        finally:
            # As read again: the ID writes must not look like no-ops at write-back.
            for values, key, old in undo:
                values[key] = old
        # Until the sheet has the IDs, these rows are found by their fingerprint.
        assigned = planned.plan.assigned
        refs = {(w.spreadsheet, w.row.tab, key_text(w.row.key)): w.row for w in assigned}
        again.plan.writes = [*assigned, *_found_by(again.plan.writes, refs)]
        again.rebuilt = planned.rebuilt
        _keep_problems(planned.plan, again.plan)
        return again

    def _store_ids(
        self,
        job: Job,
        planned: Planned,
        today: dt.date | None,
        on_demand: bool,
        result: JobResult,
        notes: list[str],
        resend: bool = False,
    ) -> Planned:
        """Write the IDs given to rows that had none, and plan again once a read shows them.

        Until then those rows are not acted on (their plan holds nothing for them): an ID
        that never reaches the sheet could otherwise be derived differently next time and
        the same meeting or webinar sent again under a new calendar UID. A write that
        fails is the run's error (its line says so); a row that changed meanwhile a note.
        """
        specs = self._specs(job)
        stored = False
        for sheet in dict.fromkeys(w.spreadsheet for w in planned.plan.assigned):
            writes = [w for w in planned.plan.assigned if w.spreadsheet == sheet]
            ids = ", ".join(text(w.value) for w in writes)
            column = writes[0].column
            try:
                dropped = self.spreadsheet(sheet).write(writes, specs[sheet], None)
            except AutomationError as err:
                result.error = result.error or (
                    f"{column} {ids} not saved ({err}); nothing is sent for "
                    f"{'that row' if len(writes) == 1 else 'those rows'} until the ID is in "
                    "the sheet"
                )
                log.error("%s: new IDs not saved: %s", job.name, err)
                continue
            if dropped:
                notes.append(
                    f"{column} {', '.join(text(w.value) for w in dropped)} not saved: the row "
                    "changed while the job ran; it gets its ID on the next run"
                )
            stored = stored or len(dropped) < len(writes)
        if not stored:
            return planned
        again = self._planned(job, today, on_demand, resend)
        _keep_problems(planned.plan, again.plan)
        return again

    def _specs(self, job: Job) -> dict[str, dict[str, TabSpec]]:
        return {name: {s.name: s for s in specs} for name, specs in job.tabs(self.settings).items()}

    def _history(self, job: str, now: dt.datetime) -> History:
        """The ledger's history, plus attendee responses when the mailer keeps events."""
        history = self.ledger.history(job)
        calendar = calendar_of(self.mailer)
        if calendar is None:
            return history
        responses: dict[str, tuple[AttendeeResponse, ...]] = {}
        for event in self.ledger.events(job):
            starts = dt.datetime.fromisoformat(event.starts_at)
            if event.cancelled or starts < now - dt.timedelta(days=1):
                responses[event.uid] = event.responses  # settled: keep the last answers
                continue
            try:
                answers = tuple(calendar.event_responses(event.event_id))
            except EventFailed as err:
                log.warning("%s: responses for %s not read: %s", job, event.uid, err)
                answers = event.responses
            else:
                if not self.ledger.read_only:
                    self.ledger.save_responses(event.uid, answers, self._now(None))
            responses[event.uid] = answers
        return dataclasses.replace(history, responses=responses)

    def prepare(self, job: str, message: Message, now: dt.datetime) -> Outgoing:
        """Render and compose one message (with its .ics when it is an invitation)."""
        rendered = self.renderer.render(message.template, message.language, message.context)
        mail = self.settings.mail
        ics = None
        if message.invite is not None:
            from automations.ical import build_ics  # icalendar: only when there is an invite

            name, email = parseaddr(mail.organizer)
            ics = build_ics(message.invite, (name, email), now, rendered.calendar_title or None)
        envelope = Envelope(
            mail.sender, message.to, message.bcc, mail.reply_to, message.display_name
        )
        return compose(
            key=message.key,
            job=job,
            envelope=envelope,
            rendered=rendered,
            now=now,
            ics=ics,
            ics_method=message.invite.method if message.invite else None,
        )

    # -- running --------------------------------------------------------------

    def run(
        self,
        job: Job,
        today: dt.date | None = None,
        dry_run: bool = False,
        on_demand: bool = False,
        resend: bool = False,
    ) -> JobResult:
        """Plan and execute one job; never raises for problems a person can fix.

        `on_demand` tells the planner the admin asked for this job by name; `resend` that
        they asked for this period's messages again (`--resend`).
        """
        result = JobResult(job.name, dry_run=dry_run)
        started = self._now(today)
        id_notes: list[str] = []
        try:
            planned = self._planned(job, today, on_demand, resend)
            if planned.rebuilt is not None:
                self._rebuilt(job, planned.rebuilt, dry_run)
            if planned.plan.assigned:
                assumed = self._assume_stored(job, planned, today, on_demand, resend)
                if dry_run or _sends(assumed.plan) == _sends(planned.plan):
                    # Nothing would go out under the new IDs this run: they are written
                    # with the statuses, without a round trip of their own.
                    planned = assumed
                else:
                    planned = self._store_ids(
                        job, planned, today, on_demand, result, id_notes, resend
                    )
        except AutomationError as err:
            result.error = str(err)
            log.error("%s: %s", job.name, err)
            return self._finish(job, result, started, tables={})
        plan, tables = planned.plan, planned.tables
        result.skipped = plan.skipped
        sensitive = _sensitive_columns(tables)
        noticed = id_notes + sensitive + _cleaned_cells(tables) + plan.problems
        result.problems.extend(noticed)
        for problem in noticed:
            log.warning("%s: %s", job.name, problem)
        if sensitive and not dry_run:
            self.alert_admin(job.name, "privacy warning", sensitive, once=True)
        if dry_run:
            self._dry_run(job, plan, result, started, planned.history)
            return self._finish(job, result, started, tables)
        failure_writes: list[CellWrite] = []
        earlier = {p.id for p in self.ledger.pending(job.name)}
        try:
            for action in plan.actions:
                failure_writes.extend(self._execute(job.name, action, result))
        except MailError as err:
            result.error = f"mail: {err}"
            log.error("%s: stopped sending: %s", job.name, err)
        fault_point("before-write-back")
        self._write_back(job, plan, tables, failure_writes, result, started, earlier)
        return self._finish(job, result, started, tables)

    def _rebuilt(self, job: Job, rebuilt: Rebuilt, dry_run: bool) -> None:
        """Record what the sheets show as sent for a job the ledger knew nothing of."""
        if not rebuilt.sent and not rebuilt.states:
            if not dry_run:
                self.ledger.record_rebuild(job.name, (), {}, (), self._now(None))
            return
        what = f"{plural(len(rebuilt.sent), 'message')} the sheets mark as sent"
        if dry_run:
            self.out(
                f"[dry run] {job.name}: the ledger knows nothing of this job; a real run first "
                f"records the {what}, and sends none of them again"
            )
            return
        self.ledger.record_rebuild(
            job.name, rebuilt.sent, rebuilt.states, rebuilt.report, self._now(None)
        )
        self.out(
            f"{job.name}: ledger rebuilt from the sheets: {what} recorded, none resent; "
            "the admin is told"
        )
        for line in rebuilt.report:
            log.warning("%s: ledger rebuilt: %s", job.name, line)

    def report_rebuilds(self) -> bool:
        """Tell the admin, in one email, which jobs' ledger records were rebuilt and from
        what. True when there was something to tell."""
        reports = self.ledger.rebuild_reports()
        if not reports:
            return False
        message = rebuild_alert(self.settings, reports, self._now(None), self.ledger.path)
        if message is None:
            log.warning("ledger rebuilt from the sheets; no mail.admin to tell")
            self.ledger.clear_rebuild_reports(reports)
            return True
        try:
            outcome, detail, _ = self._deliver(ALERT_JOB, message, JobResult(ALERT_JOB))
        except AutomationError as err:
            outcome, detail = "failed", str(err)
        if outcome in {"sent", "already"}:
            self.ledger.clear_rebuild_reports(reports)
        else:  # kept in the ledger: the next run tries again
            log.error("could not tell the admin the ledger was rebuilt: %s", detail)
        return True

    def _execute(self, job: str, action: Action, result: JobResult) -> list[CellWrite]:
        """Send an action's messages; on full success keep its write-backs in the ledger."""
        problems: list[str] = []
        extra_writes: list[CellWrite] = []
        uncertain = 0
        calendar = calendar_of(self.mailer)
        if calendar is not None and self._as_event(job, action):
            return self._execute_event(job, action, result, calendar)
        queued = 0
        retried = False
        for message in action.messages:
            outcome, detail, rejected = self._deliver(job, message, result)
            if outcome == "queued":
                queued += 1
                for cell in message.recipient_rows.values():
                    extra_writes.append(_status(cell, QUEUED_STATUS))
                continue
            for address, reason in rejected.items():
                cell = message.recipient_rows.get(address)
                if cell is not None:
                    extra_writes.append(
                        _status(cell, f'Error: the mail server refused "{address}": {reason}')
                    )
            if outcome == "uncertain":
                uncertain += 1
            elif outcome not in {"sent", "already"}:
                problems.append(f"{describe_recipients(message.recipients, 1)}: {detail}")
                retried = retried or outcome != "rejected"
            # Everyone else the message was for must not read as fine (e.g. "Receives mail
            # in English") while it did not reach them: their row says what happened.
            unreached = _unreached_status(action.description, outcome, detail)
            if unreached:
                extra_writes.extend(
                    _status(cell, unreached)
                    for address, cell in message.recipient_rows.items()
                    if address not in rejected
                )
        if not problems and not uncertain and not queued:
            self.ledger.complete(job, action.on_success, action.state, self._now(None))
            return extra_writes
        if action.status is not None:
            total = len(action.messages)
            if queued and not problems and not uncertain:
                status = (
                    f"Queued: daily sending limit reached; {queued} of {total} messages "
                    "will go on the next run"
                )
            elif uncertain:
                status = (
                    f"Check: {uncertain} of {total} messages may or may not have gone out (a run "
                    "stopped while sending); they will not be resent automatically"
                )
            else:
                then = (
                    "will try again on the next run"
                    if retried
                    else "refused for good, not retried (see the recipients' rows)"
                )
                status = (
                    f"Error: {len(problems)} of {total} messages not sent ({problems[0]}); {then}"
                )
            extra_writes.append(_status(action.status, status))
        log.warning(
            "%s: %s: %d not sent, %d uncertain", job, action.description, len(problems), uncertain
        )
        return extra_writes

    def _as_event(self, job: str, action: Action) -> bool:
        """Whether an action's invitations become one provider event operation.

        Only meetings the provider already keeps, or brand-new ones: a meeting first
        invited by email (another mailer) keeps getting emailed updates, so calendars
        never hold two copies of it.
        """
        first = action.messages[0].invite if action.messages else None
        if not action.as_event or first is None:
            return False
        if any(m.invite != first for m in action.messages):
            return False
        if self.ledger.event(first.uid) is not None:
            return True
        never_invited = (
            action.state is None or self.ledger.history(job).state(action.state[0]) is None
        )
        return first.method == "REQUEST" and never_invited

    def _execute_event(
        self, job: str, action: Action, result: JobResult, calendar: CalendarMailer
    ) -> list[CellWrite]:
        """One create / update / cancel of the provider's event for all of an action's invites.

        Every message key is still recorded (intent, then sent) so switching mailers
        later never sends them again; the operation itself is idempotent (create carries
        a transaction id, update and cancel set absolute values), so a run that stopped
        half-way simply does it again.
        """
        first = action.messages[0].invite
        assert first is not None
        todo = [
            m
            for m in action.messages
            if (record := self.ledger.record(m.key)) is None or record.state != "sent"
        ]
        now = self._now(None)
        recipients = sum(len(m.recipients) for m in todo)
        if todo and self.throttle is not None and not self.throttle.allows_today(recipients):
            result.queued += len(todo)
            if action.status is None:
                return []
            return [_status(action.status, QUEUED_STATUS)]
        if todo:
            event = self.ledger.event(first.uid)
            for message in todo:
                self.ledger.intent(
                    message.key, job, f"event:{first.uid}", len(message.recipients), now
                )
            fault_point("after-intent")
            if self.throttle is not None:
                self.throttle.wait_turn()
            try:
                if first.method == "CANCEL":
                    event_id = event.event_id if event else ""
                    if event is not None and not event.cancelled:
                        calendar.cancel_event(event.event_id, first)
                    verb = "cancelled"
                else:
                    reuse = event.event_id if event is not None and not event.cancelled else None
                    event_id = calendar.save_event(first, reuse)
                    verb = "updated" if reuse else "created"
            except EventFailed as err:
                detail = f"calendar event not saved: {err}"
                for message in todo:
                    self.ledger.outcome(message.key, "failed", self._now(None), detail)
                result.failed += len(todo)
                log.warning("%s: %s: %s", job, action.description, detail)
                if action.status is None:
                    return []
                return [_status(action.status, f"Error: {detail}; will try again on the next run")]
            except MailError:
                for message in todo:
                    self.ledger.forget(message.key)
                raise
            if self.throttle is not None:
                self.throttle.record(recipients)
            fault_point("after-send")
            done = self._now(None)
            self.ledger.save_event(
                first.uid,
                job,
                event_id,
                first.sequence,
                first.method == "CANCEL",
                first.start,
                done,
            )
            for message in todo:
                self.ledger.outcome(
                    message.key,
                    "sent",
                    done,
                    f"Exchange meeting {verb}; the provider sent the invitation",
                    event_id,
                )
            result.sent += len(todo)
            log.info("%s: %s: calendar event %s", job, action.description, verb)
        self.ledger.complete(job, action.on_success, action.state, self._now(None))
        return []

    def _deliver(
        self, job: str, message: Message, result: JobResult
    ) -> tuple[str, str, Mapping[str, str]]:
        """Send one message at most once. Returns (outcome, detail, rejected recipients)."""
        record = self.ledger.record(message.key)
        now = self._now(None)
        if record is not None:
            # Refused recipients keep their own row status on every later run too.
            if record.state == "sent":
                return "already", "", self.ledger.refusals(message.key)
            if record.state == "rejected":
                refused = self.ledger.refusals(message.key) or (
                    {message.recipients[0]: record.detail} if len(message.recipients) == 1 else {}
                )
                return "rejected", record.detail, refused
            if record.state == "uncertain":
                result.uncertain += 1
                return "uncertain", record.detail, {}
        try:
            outgoing = self.prepare(job, message, now)
        except TemplateProblem as err:
            result.failed += 1
            return "failed", str(err), {}
        except ValueError as err:  # e.g. an address the email library cannot put in a header
            result.failed += 1
            return "failed", f"the message could not be composed: {err}", {}
        if record is not None and record.state == "intent":
            # A run stopped between recording the intent and the outcome.
            delivered = self.mailer.confirm(outgoing)
            if delivered is True:
                self.ledger.outcome(message.key, "sent", now, "confirmed after an interrupted run")
                return "already", "", {}
            if delivered is None:
                self.ledger.outcome(
                    message.key, "uncertain", now, "a run stopped while sending; not resent"
                )
                result.uncertain += 1
                return "uncertain", "outcome unknown", {}
        if self.throttle is not None:
            too_many = self.throttle.too_many_recipients(len(outgoing.recipients))
            if too_many:
                result.failed += 1
                return "failed", too_many, {}
            if not self.throttle.allows_today(len(outgoing.recipients)):
                result.queued += 1
                return "queued", QUEUED_STATUS, {}
            self.throttle.wait_turn()
            now = self._now(None)
        self.ledger.intent(message.key, job, outgoing.message_id, len(outgoing.recipients), now)
        fault_point("after-intent")
        try:
            sent = self.mailer.send(outgoing)
        except MailError:
            self.ledger.forget(message.key)
            raise
        if self.throttle is not None:
            delivered = len(outgoing.recipients) - len(sent.rejected) if sent.state == "sent" else 0
            self.throttle.record(delivered, delivered > 0)
        fault_point("after-send")
        try:
            if sent.rejected:
                self.ledger.refuse(message.key, sent.rejected)
            self.ledger.outcome(
                message.key, sent.state, self._now(None), sent.detail, sent.provider_id
            )
        except LedgerError as err:
            raise LedgerError(
                f"{err} (while recording the {message.template} to "
                f"{describe_recipients(message.recipients, 1)}: the next run checks that "
                "message rather than sending it again)",
                err.why,
            ) from err
        fault_point("after-outcome")
        if sent.state == "sent":
            result.sent += 1
            log.debug(
                "%s: sent %s to %s", job, message.template, describe_recipients(message.recipients)
            )
        else:
            if sent.state == "uncertain":
                result.uncertain += 1
            else:
                result.failed += 1
            log.warning(
                "%s: %s %s to %s: %s",
                job,
                sent.state,
                message.template,
                describe_recipients(message.recipients),
                sent.detail,
            )
        return sent.state, sent.detail, sent.rejected

    def _write_back(
        self,
        job: Job,
        plan: Plan,
        tables: Mapping[str, Mapping[str, Table]],
        failure_writes: list[CellWrite],
        result: JobResult,
        started: dt.datetime,
        earlier: frozenset[int] | set[int] = frozenset(),
    ) -> None:
        """Write every status in one batch per spreadsheet, with its Run Log row.

        `earlier` are the ids of write-backs pending before this run's sends: the plan was
        made with them applied, so the plan's writes follow them, and what this run's
        sends completed follows the plan.
        """
        pending = self.ledger.pending(job.name)
        current = _current_values(tables)
        owed = {_cell_id(p.write) for p in pending}
        before = [p.write for p in pending if p.id in earlier]
        completed = [p.write for p in pending if p.id not in earlier]
        # The last word on each cell first, then drop no-ops: a status already in the sheet
        # (e.g. "Check: ...") must not lose to an earlier, different write to the same cell.
        last = _last_per_cell([*before, *plan.writes, *completed, *failure_writes])
        last = _keep_refusals(last, self.ledger.refused_addresses(job.name))
        ordered = [
            w
            for w in map(_printable, last)
            if _cell_id(w) in owed or current.get(_cell_id(w), object()) != text(w.value)
        ]
        specs = {
            name: {s.name: s for s in specs} for name, specs in job.tabs(self.settings).items()
        }
        entry_summary = result.summary()
        held: set[str] = set()
        for sheet in tables:
            writes = _last_per_cell(w for w in ordered if w.spreadsheet == sheet)
            run_log = RunLogEntry(
                started,
                job.name,
                False,
                result.sent,
                result.skipped,
                result.failed + result.uncertain,
                entry_summary,
            )
            try:
                self._write_run_log_backlog(sheet, specs[sheet])
                dropped = self.spreadsheet(sheet).write(writes, specs[sheet], run_log)
            except WorkbookInUse as err:
                # Not a failure: staff have the file open. Nothing is written to it now.
                held.add(sheet)
                result.problems.insert(0, f"write-back: {err}")
                log.warning("%s: %s", job.name, err)
                self._keep_run_log(sheet, run_log, f"written by a later run: {err}")
                continue
            except AutomationError as err:
                result.error = result.error or f"write-back: {err}"
                log.error("%s: %s (statuses are kept and written next run)", job.name, err)
                self._keep_run_log(sheet, run_log, f"written by a later run: {err}")
                continue
            for write in dropped:
                where = write.row.key or "(new)"
                log.warning(
                    "%s: row %s of tab '%s' is gone; its %s was not written",
                    job.name,
                    mask_email(where) if "@" in where else where,
                    write.row.tab,
                    write.column,
                )
            result.written += len(writes) - len(dropped)
            self.ledger.written(p.id for p in pending if p.write.spreadsheet == sheet)
        for content in plan.tabs:
            if content.spreadsheet not in held:
                self._replace_tab(job, content, result)

    def _write_run_log_backlog(self, sheet: str, specs: Mapping[str, TabSpec]) -> None:
        """Add the Run Log rows earlier runs could not write, oldest first (a few per run:
        each is one write of the whole spreadsheet)."""
        for ident, entry in self.ledger.run_log_backlog(sheet)[:LATE_RUN_LOG_ROWS_PER_RUN]:
            self.spreadsheet(sheet).write([], specs, entry)
            self.ledger.run_log_written(ident)

    def _keep_run_log(self, sheet: str, entry: RunLogEntry, why: str) -> None:
        """Keep a Run Log row for a later write-back to add, saying why it is late."""
        summary = f"{entry.summary}; {why}" if entry.summary else why
        kept = self.ledger.run_log_backlog(sheet)
        for ident, old in kept[: max(0, len(kept) - MAX_LATE_RUN_LOG_ROWS + 1)]:
            log.warning("Run Log row of %s at %s dropped: too many waiting", old.job, old.when)
            self.ledger.run_log_written(ident)
        self.ledger.keep_run_log(sheet, dataclasses.replace(entry, summary=summary[:MAX_STATUS]))

    def _replace_tab(self, job: Job, content: TabContent, result: JobResult) -> None:
        """Rewrite one tool-owned tab whole, in one batch (e.g. `MOU Tracker`)."""
        spreadsheet = self.spreadsheet(content.spreadsheet)
        replace = getattr(spreadsheet, "replace_tab", None)
        if replace is None:
            result.error = result.error or (
                f"spreadsheet {spreadsheet.describe()}: this sheets backend cannot rewrite "
                f"the '{content.tab}' tab yet (it has no replace_tab)"
            )
            log.error("%s: %s", job.name, result.error)
            return
        try:
            replace(content.tab, content.rows)
        except WorkbookInUse as err:
            result.problems.insert(0, f"tab '{content.tab}': {err}")
            log.warning("%s: %s (rewritten on the next run)", job.name, err)
            return
        except AutomationError as err:
            result.error = result.error or f"tab '{content.tab}': {err}"
            log.error("%s: %s (rewritten on the next run)", job.name, err)
            return
        result.written += 1

    def _dry_run(
        self, job: Job, plan: Plan, result: JobResult, started: dt.datetime, history: History
    ) -> None:
        """Print what would be sent and written; render every message to prove it works."""
        lines: list[str] = []
        for action in plan.actions:
            todo = [m for m in action.messages if not history.was_sent(m.key)]
            if not todo:
                continue
            for message in todo:
                try:
                    self.renderer.render(message.template, message.language, message.context)
                except TemplateProblem as err:
                    result.problems.append(str(err))
                    result.failed += 1
            result.planned += len(todo)
            who = describe_recipients(r for m in todo for r in m.recipients)
            lines.append(f"  send  {action.description}: {len(todo)} message(s) to {who}")
        for write in plan.writes + [w for a in plan.actions for w in a.on_success]:
            where = write.row.key or "new row"
            lines.append(
                f"  write {write.row.tab} [{mask_email(where) if '@' in where else where}] "
                f"{write.column} = "
                f"{text(write.value)[:80]!r}"
            )
        for content in plan.tabs:
            lines.append(f"  write tab {content.tab}: replaced by {len(content.rows)} rows")
        self.out(f"[dry run] {job.name}: nothing is sent or written")
        for line in lines[:MAX_LISTED]:
            self.out(line)
        if len(lines) > MAX_LISTED:
            self.out(f"  … and {len(lines) - MAX_LISTED} more")

    def _finish(
        self,
        job: Job,
        result: JobResult,
        started: dt.datetime,
        tables: Mapping[str, Mapping[str, Table]],
    ) -> JobResult:
        if not result.dry_run:
            self.ledger.record_run(
                RunRecord(
                    job.name,
                    self._now(None).isoformat(timespec="seconds"),
                    False,
                    result.sent,
                    result.skipped,
                    result.failed + result.uncertain,
                    result.summary(),
                ),
                started,
            )
            if result.exit_code:
                problems = ([result.error] if result.error else []) + result.problems
                self.alert_admin(job.name, result.summary(), problems)
        self.out(f"{job.name}: {mask_addresses(result.summary())}")
        return result

    def alert_admin(
        self, job: str, summary: str, problems: list[str], *, once: bool = False
    ) -> None:
        """Email the admin: once per job, day and distinct failure (or once ever)."""
        day = self._now(None).date()
        message = admin_alert(self.settings, job, day, summary, problems, once=once)
        if message is None:
            return
        try:
            outcome, detail, _ = self._deliver(ALERT_JOB, message, JobResult(ALERT_JOB))
        except LedgerError:
            # A ledger that cannot record the alert (disk full, read-only) is exactly what
            # the admin must hear about: send it unrecorded.
            try:
                sent = self.mailer.send(self.prepare(ALERT_JOB, message, self._now(None)))
                outcome, detail = sent.state, sent.detail
            except AutomationError as err:
                outcome, detail = "failed", str(err)
        except AutomationError as err:
            outcome, detail = "failed", str(err)
        if outcome not in {"sent", "already"}:
            log.error("%s: could not alert the admin: %s", job, detail)

    # -- preview --------------------------------------------------------------

    def preview(self, job: Job, today: dt.date | None, folder: Path) -> list[Path]:
        """Write every message the job would send as .html, .txt and .eml, plus index.html."""
        planned = self._planned(job, today, False)
        if planned.plan.assigned:
            planned = self._assume_stored(job, planned, today, False)
        plan, history = planned.plan, planned.history
        now = self._now(today)
        # Previews hold whole Bcc lists: 0600 files (in a 0700 folder when it is new).
        private_dir(folder)
        entries: list[str] = []
        written: list[Path] = []
        todo = [m for m in plan.messages if not history.was_sent(m.key)]
        for number, message in enumerate(todo, start=1):
            outgoing = self.prepare(job.name, message, now)
            language = self.renderer.resolve(message.language, message.template).code
            stem = f"{number:03d}-{message.template}-{language}"
            for suffix, content in (
                (".html", outgoing.rendered.html.encode("utf-8")),
                (".txt", outgoing.rendered.text.encode("utf-8")),
                (".eml", outgoing.mime.as_bytes()),
            ):
                written.append(write_private(folder / f"{stem}{suffix}", content, sync=False))
            entries.append(
                f'<tr><td><a href="{stem}.html">{html.escape(outgoing.rendered.subject)}</a></td>'
                f"<td>{language}</td><td>{html.escape(describe_recipients(message.recipients))}</td>"
                f'<td><a href="{stem}.txt">text</a> · <a href="{stem}.eml">.eml</a></td></tr>'
            )
        index = folder / "index.html"
        page = (
            '<!doctype html><html lang="en"><meta charset="utf-8">'
            f"<title>Preview: {job.name}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
            "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
            "padding:.4rem;text-align:left}</style>"
            f"<h1>Preview: {job.name} ({now:%Y-%m-%d})</h1>"
            f"<p>{len(todo)} message(s) would be sent. Nothing was sent or written.</p>"
            "<table><tr><th>Subject</th><th>Language</th><th>To</th><th>Files</th></tr>"
            + "".join(entries)
            + "</table></html>\n"
        )
        written.append(write_private(index, page.encode("utf-8"), sync=False))
        return written


def agreement_ended(end: dt.date) -> str:
    """Why nothing is sent once the agreement is over (for statuses and the run line)."""
    return (
        f"the agreement ended on {day_words(end)}, so nothing is sent; if it was renewed, "
        "set the new end under [agreement] end in the config"
    )


def after_agreement(plan: Plan, end: dt.date) -> Plan:
    """The plan with nothing to send: each row that would have been mailed says why.

    Statuses and tool-owned tabs (the tracker's final figures) are still written.
    """
    reason = agreement_ended(end)
    stopped = [
        _status(action.status, f"Not sent: {reason}")
        for action in plan.actions
        if action.status is not None and action.messages
    ]
    return dataclasses.replace(
        plan, actions=[], writes=[*plan.writes, *stopped], problems=[reason, *plan.problems]
    )


def _sensitive_columns(tables: Mapping[str, Mapping[str, Table]]) -> list[str]:
    """Warnings for shared columns that look like immigration-status data."""
    return [
        f"privacy: spreadsheet {table.spreadsheet}, tab '{table.title}' has a column "
        f"'{header}' that looks like immigration-status data; remove it from shared sheets "
        "(the jobs never read it)"
        for by_tab in tables.values()
        for table in by_tab.values()
        for header in table.sensitive_headers
    ]


UNCALCULATED = (
    "{columns} {verb} a formula that has not been calculated yet; open the workbook in Excel "
    "or LibreOffice and save it (this row waits until then)"
)


def _hold_uncalculated(plan: Plan, tables: Mapping[str, Mapping[str, Table]]) -> None:
    """Rows with an uncalculated formula were left out of the plan: say so in their Status,
    and hold what is built on whole tabs (alerts, summaries, the tracker tab) until then.

    Actions with messages but no row status are the ones built on whole tabs: a roster
    alert counted without a member whose Email is unknown would be false.
    """
    held = [
        (sheet, table, row, columns)
        for sheet, by_tab in tables.items()
        for table in by_tab.values()
        for row, columns in table.uncalculated
    ]
    if not held:
        return
    for sheet, table, row, columns in held:
        words = " and ".join(columns)
        problem = UNCALCULATED.format(columns=words, verb="hold" if len(columns) > 1 else "holds")
        spec = table.spec
        if spec.key is not None and any(c.name == "Status" and c.owned for c in spec.columns):
            fingerprint: tuple[tuple[str, str], ...] = ()
            if not row.text(spec.key):
                fingerprint = tuple((column, row.text(column)) for column in spec.fingerprint)
            ref = RowRef(spec.name, row.text(spec.key), fingerprint)
            plan.writes.append(CellWrite(sheet, ref, "Status", f"Error: {problem}"))
        plan.problems.append(f"{table.title} row {row.number}: {problem}")
        plan.skipped += 1
    waiting = [a for a in plan.actions if a.messages and a.status is None]
    if waiting or plan.tabs:
        gone = {id(a) for a in waiting}
        plan.actions = [a for a in plan.actions if id(a) not in gone]
        what = [a.description for a in waiting] + [f"the '{t.tab}' tab" for t in plan.tabs]
        plan.tabs = []
        plan.problems.append(
            f"held until those formulas are calculated (they are built on every row): "
            f"{'; '.join(what)}"
        )


def uncalculated_warnings(spreadsheet: str, table: Table) -> list[str]:
    """For `check`: one line per tab whose rows wait for formulas to be calculated."""
    if not table.uncalculated:
        return []
    rows = [row.number for row, _ in table.uncalculated]
    columns = sorted({c for _, found in table.uncalculated for c in found})
    shown = ", ".join(str(n) for n in rows[:10]) + (" …" if len(rows) > 10 else "")
    many = len(rows) > 1 or len(columns) > 1
    return [
        f"spreadsheet {spreadsheet}, tab '{table.title}': {', '.join(columns)} in "
        f"{'rows' if len(rows) > 1 else 'row'} {shown} "
        f"{'are formulas that have' if many else 'is a formula that has'} not been calculated "
        "yet; open the workbook in Excel or LibreOffice and save it (until then those rows "
        "are skipped)"
    ]


def _keep_refusals(writes: list[CellWrite], refused: Mapping[str, str]) -> list[CellWrite]:
    """A row keyed by an address the mail server refused keeps saying so on later runs
    (planners word a row's status afresh each run and do not know about refusals)."""
    if not refused:
        return writes
    kept = []
    for write in writes:
        address = key_text(write.row.key)
        if (
            address in refused
            and write.column == "Status"
            and not text(write.value).startswith("Error")
        ):
            value = f'Error: the mail server refused "{write.row.key}": {refused[address]}'
            write = dataclasses.replace(write, value=value)
        kept.append(write)
    return kept


def _cleaned_cells(tables: Mapping[str, Mapping[str, Table]]) -> list[str]:
    """One line per cell whose control characters were removed on reading."""
    return [
        f"{table.title} row {number}: {column} had control characters (invisible codes "
        "pasted from another program); they were removed, retype the cell to be sure"
        for by_tab in tables.values()
        for table in by_tab.values()
        for number, column in table.cleaned
    ]


def _unreached_status(description: str, outcome: str, detail: str) -> str:
    """A recipient row's status when `outcome` means the message did not reach it ("" if it did)."""
    if outcome == "failed":
        then = "" if "next run" in detail else "; will try again on the next run"
        return f"Not sent yet: {description}: {detail}{then}"
    if outcome == "rejected":
        return f"Error: {description} was refused by the mail server ({detail}); not retried"
    if outcome == "uncertain":
        return (
            f"Check: {description} may or may not have gone out (a run stopped while "
            "sending); it will not be resent automatically"
        )
    return ""


def _status(cell: StatusCell, value: str) -> CellWrite:
    return CellWrite(cell.spreadsheet, cell.row, cell.column, value)


def _printable(write: CellWrite) -> CellWrite:
    """A status fit for a cell: no control characters, at most MAX_STATUS characters."""
    value = write.value
    if not isinstance(value, str):
        return write
    clean = _CONTROL.sub("\ufffd", value)
    if len(clean) > MAX_STATUS:
        clean = clean[: MAX_STATUS - 1] + "…"
    return write if clean == value else dataclasses.replace(write, value=clean)


def _cell_id(write: CellWrite) -> tuple[str, str, str, str]:
    # Rows with a blank key are told apart by their fingerprint, never merged into one.
    key = key_text(write.row.key) or repr(write.row.fingerprint)
    return (write.spreadsheet, write.row.tab, key, write.column)


def _last_per_cell(writes: Iterable[CellWrite]) -> list[CellWrite]:
    """Keep the last write to each cell (later knowledge wins), in first-seen order."""
    last: dict[tuple[str, str, str, str], CellWrite] = {}
    for write in writes:
        last.pop(_cell_id(write), None)
        last[_cell_id(write)] = write
    return list(last.values())


def _index(tables: Mapping[str, Mapping[str, Table]]) -> dict[tuple[str, str, str], list[dict]]:
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for sheet, by_tab in tables.items():
        for tab, table in by_tab.items():
            key = table.spec.key
            if key is None:
                continue
            for row in table.rows:
                if row.text(key):
                    rows.setdefault((sheet, tab, key_text(row[key])), []).append(row.values)
    return rows


class _CurrentValues:
    """Cell values as read (plus earlier pending writes), for dropping no-op writes.

    Looked up per write through the rows' own dicts: a table of every cell of 75,000 rows
    would hold over a million entries (~150 MB) at the run's peak.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, Table]]) -> None:
        self.rows = _index(tables)

    def get(self, cell: tuple[str, str, str, str], default: object = None) -> object:
        sheet, tab, key, column = cell
        rows = self.rows.get((sheet, tab, key), ())
        if len(rows) != 1 or column not in rows[0]:
            return default  # duplicate keys: always write
        return text(rows[0][column])


def _current_values(tables: Mapping[str, Mapping[str, Table]]) -> _CurrentValues:
    """Cell values as read (plus earlier pending writes), for dropping no-op writes."""
    return _CurrentValues(tables)


def _found_by(
    writes: Iterable[CellWrite], refs: Mapping[tuple[str, str, str], RowRef]
) -> list[CellWrite]:
    """`writes` whose row is known by a new ID, pointed at the row's fingerprint too."""
    result = []
    for write in writes:
        ref = refs.get((write.spreadsheet, write.row.tab, key_text(write.row.key)))
        result.append(dataclasses.replace(write, row=ref) if ref is not None else write)
    return result


def _sends(plan: Plan) -> tuple[frozenset[str], dict[str, Mapping]]:
    """What a plan would send and record: message keys and entity snapshots."""
    keys = frozenset(m.key for m in plan.messages)
    return keys, {a.state[0]: a.state[1] for a in plan.actions if a.state is not None}


def _apply_ids(
    tables: Mapping[str, Mapping[str, Table]], writes: Iterable[CellWrite]
) -> list[tuple[dict, str, CellValue]]:
    """Put IDs given to blank-ID rows into those rows in memory, found by fingerprint.

    Returns (row values, key column, value before) of each row changed, to undo it.
    """
    changed: list[tuple[dict, str, CellValue]] = []
    for write in writes:
        table = tables.get(write.spreadsheet, {}).get(write.row.tab)
        if table is None or table.spec.key is None:
            continue
        key = table.spec.key
        rows = [
            row
            for row in table.rows
            if not row.text(key)
            and all(row.text(column) == value for column, value in write.row.fingerprint)
        ]
        if len(rows) == 1:
            changed.append((rows[0].values, key, rows[0].values.get(key)))
            rows[0].values[key] = write.value
    return changed


def _keep_problems(first: Plan, again: Plan) -> None:
    """Keep what the first plan noticed (e.g. a recovered ID) in the plan made after it."""
    again.problems[:0] = [p for p in first.problems if p not in again.problems]


def _apply(tables: Mapping[str, Mapping[str, Table]], writes: Iterable[CellWrite]) -> None:
    """Apply write-backs to rows in memory, as if the sheet already showed them."""
    index = _index(tables)
    specs: dict[tuple[str, str], TabSpec] = {
        (sheet, tab): table.spec
        for sheet, by_tab in tables.items()
        for tab, table in by_tab.items()
    }
    for write in writes:
        if (write.spreadsheet, write.row.tab) not in specs:
            continue
        for values in index.get((write.spreadsheet, write.row.tab, key_text(write.row.key)), []):
            values[write.column] = write.value
