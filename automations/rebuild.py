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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automations.alerts import ALERT_JOB
from automations.backups import backup_folder, latest_backup
from automations.config import Settings
from automations.jobs import committee_invites as committee
from automations.jobs import mou_tracker as tracker
from automations.jobs import pd_reminders as pd
from automations.jobs import webinar_agendas as webinars
from automations.jobs.rows import message_key, plural
from automations.languages import ENGLISH
from automations.ledger import Ledger
from automations.plan import Action, History, JobInput, Message, Plan
from automations.quarters import quarters
from automations.sheets.contract import RUN_LOG_HEADERS, RUN_LOG_TAB, Column, Table, TabSpec

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


def rebuild_job(name: str, job: JobInput, run_log: RunLog) -> Rebuilt:
    """What job `name`'s rows (`job`, with an empty history) show it already sent."""
    builder = _BUILDERS.get(name)
    rebuilt = Rebuilt(name)
    if builder is not None:
        builder(job, run_log, rebuilt)
    return rebuilt


def _whole(value: str) -> int:
    """A count or version written by the tool ('' or unreadable: 0)."""
    try:
        number = float(value)
    except ValueError:
        return 0
    return int(number) if number.is_integer() and number > 0 else 0


def _partly_sent(status: str) -> bool:
    """A status saying some, not all, messages of the last action went (or may have)."""
    found = _PARTIAL.match(status)
    return bool(found) and (status.startswith("Check:") or int(found[1]) < int(found[2]))


def _ran_since(log: Table | None, job: str, since: dt.date, *, sending: bool = False) -> bool:
    """Whether the Run Log shows a real run of `job` on or after `since` (that sent mail)."""
    for row in log or ():
        if row.text("Job") != job or row.text("Dry Run").casefold() == "yes":
            continue
        try:
            when = dt.date.fromisoformat(row.text("When")[:10])
        except ValueError:
            continue
        if when >= since and (_whole(row.text("Sent")) or not sending):
            return True
    return False


# -- committee-invites ----------------------------------------------------------------


def _committee(job: JobInput, run_log: RunLog, out: Rebuilt) -> None:
    opts: committee.CommitteeOptions = job.options
    scratch = Plan()
    members = committee.read_members(job, scratch)
    addresses = sorted({m.email.casefold() for m in members})
    meetings = committee.read_meetings(job, scratch, opts.meeting_minutes)
    alert_to = opts.co_chairs or ((job.settings.mail.admin,) if job.settings.mail.admin else ())
    invited: list[str] = []
    unsure: list[str] = []
    for meeting in meetings:
        if meeting.pending:
            continue  # no ID in the sheet: nothing was ever sent under one
        row, status = meeting.row, meeting.row.text("Status")
        version = _whole(row.text("Invite Version"))
        partly = _partly_sent(status)
        if not (row.text("Invite Sent") or version or partly):
            continue
        if partly:
            unsure.append(meeting.id)
        sequence = max(version, 1) - 1
        cancelled = meeting.cancelled and status.startswith("Cancelled: cancellation sent")
        for address in addresses:
            if cancelled:
                out.sent.add(message_key(committee.NAME, meeting.id, "cancel", sequence, address))
            if not cancelled or sequence:
                # The invitation everyone on the roster now is taken to have (fail closed).
                invited_at = sequence - 1 if cancelled else sequence
                out.sent.add(
                    message_key(committee.NAME, meeting.id, "request", invited_at, address)
                )
            if row.text("Reminder Sent"):
                out.sent.add(message_key(committee.NAME, meeting.id, "reminder", address))
        out.states[f"meeting:{meeting.id}"] = {
            **meeting.snapshot(),
            "sequence": sequence,
            "cancelled": cancelled,
        }
        invited.append(
            f"{meeting.id} (version {sequence + 1}"
            + (", cancelled" if cancelled else "")
            + (", reminded" if row.text("Reminder Sent") else "")
            + ")"
        )
    if invited:
        out.report.append(
            f"Meetings: {plural(len(invited), 'meeting')} marked Invite Sent: "
            f"{', '.join(invited)}; taken as sent to the {plural(len(addresses), 'active member')} "
            "on the Members tab now, with the date, time and place the row shows now"
        )
    if unsure:
        out.report.append(
            f"Meetings {', '.join(unsure)}: the last run said only some messages went; taken as "
            "sent to everyone (check who has it)"
        )
    _committee_alerts(job, run_log, out, members, meetings, alert_to)
    if invited and job.settings.mail.backend == "microsoft365":
        out.report.append(
            "Microsoft 365: the calendar events made before are no longer linked to their "
            "meetings; changes now go out as emailed updates with the same calendar UID"
        )


def _committee_alerts(
    job: JobInput,
    run_log: RunLog,
    out: Rebuilt,
    members: Sequence[committee.Member],
    meetings: Sequence[committee.Meeting],
    alert_to: Sequence[str],
) -> None:
    """Roster and quarter alerts the co-chairs already had, as far as the sheets tell."""
    opts: committee.CommitteeOptions = job.options
    roster = committee.check_roster(members)
    marked = f"Roster problem: {'; '.join(roster.problems)}."
    if roster.problems and any(marked in m.row.text("Status") for m in meetings):
        for address in alert_to:
            out.sent.add(
                message_key(committee.NAME, "roster-alert", roster.fingerprint, address.casefold())
            )
        out.report.append("Members: the roster alert the meeting statuses mention, taken as sent")
    settings = job.settings
    for quarter in quarters(settings.agreement_start, settings.agreement_end, settings.quarters):
        opens = quarter.end - dt.timedelta(days=opts.quarter_alert_days)
        if not opens <= job.today <= quarter.end:
            continue
        if any(m.start.date() in quarter and not m.cancelled for m in meetings):
            continue
        # No row marks this alert: a run since its window opened would have sent it.
        if not _ran_since(run_log(committee.SHEET), committee.NAME, opens):
            continue
        for address in alert_to:
            key = message_key(committee.NAME, "quarter-alert", quarter.label, address.casefold())
            out.sent.add(key)
        out.report.append(
            f"Run Log: the {quarter.label} no-meeting alert taken as sent (a run since "
            f"{opens.isoformat()} would have sent it)"
        )


# -- webinar-agendas -----------------------------------------------------------------------

_OCCASION_WORDS = {"reminder": "reminder", "cancel": "cancellation notice"}


def _families(count: int) -> str:
    return f"{count} {'family' if count == 1 else 'families'}"


def _webinars(job: JobInput, run_log: RunLog, out: Rebuilt) -> None:
    opts: webinars.WebinarOptions = job.options
    scratch = Plan()
    families, _ = webinars.read_families(job, scratch)
    found = webinars.read_webinars(job, scratch, opts.webinar_minutes)
    sent: list[str] = []
    notes: list[str] = []
    alerts = 0
    for webinar in found:
        if webinar.pending:
            continue
        row, status = webinar.row, webinar.row.text("Status")
        if status.startswith("Not sent: agenda text missing for"):
            alerts += 1
            for owner in opts.owners:
                out.sent.add(
                    message_key(webinars.NAME, webinar.id, "coverage-alert", owner.casefold())
                )
        if not row.text("Agenda Sent"):
            continue
        targets = webinar.targets(families)
        occasions = ["agenda"]
        if row.text("Reminder Sent"):
            occasions.append("reminder")
        if webinar.cancelled and status.startswith("Cancelled: notice sent"):
            occasions.append("cancel")
        for occasion in occasions:
            # The batches a first run would make for everyone now: their keys and members.
            actions, _ = webinars.plan_batches(
                job, webinar, occasion, targets, "", {}, lambda total: []
            )
            out.take(actions)
        out.states[f"webinar:{webinar.id}"] = webinars.identity(webinar)
        words = [f"agenda to {_families(len(targets))}"]
        words += [_OCCASION_WORDS[occasion] for occasion in occasions[1:]]
        sent.append(f"{webinar.id} ({', '.join(words)})")
        recorded = _whole(row.text("Recipients"))
        if recorded != len(targets) or _partly_sent(status):
            notes.append(
                f"{webinar.id}: Recipients says {recorded or 'nothing'}, "
                f"{_families(len(targets))} would get it now; all of them are taken as "
                "having it (send it by hand to any family who does not)"
            )
    if sent:
        out.report.append(
            f"Webinars: {plural(len(sent), 'webinar')} marked Agenda Sent: {', '.join(sent)}; "
            "every family who would get them now is taken as having them"
        )
    out.report.extend(f"Webinars {note}" for note in notes)
    if alerts:
        out.report.append(
            f"Webinars: {plural(alerts, 'coverage alert')} the statuses mention, taken as sent"
        )


# -- pd-reminders ----------------------------------------------------------------------------


def _pd(job: JobInput, run_log: RunLog, out: Rebuilt) -> None:
    opts: pd.PdOptions = job.options
    table = job.table(pd.SHEET, "Sessions")
    statuses = {row.text("Session ID").casefold(): row.text("Status") for row in table or ()}
    if not any(status.startswith("Reminder sent to") for status in statuses.values()):
        return  # no mark: no need to read 75,000 staff rows a second time
    scratch = Plan()
    sessions = pd.read_sessions(job, scratch, opts.session_minutes)
    staff = pd.read_staff(job, scratch)
    upcoming = [s for s in sessions if s.start >= job.now]
    reminded: list[str] = []
    for action in pd._session_reminders(job, opts, upcoming, staff, scratch):
        assert action.state is not None
        session = action.state[0].removeprefix("session:")
        if statuses.get(session.casefold(), "").startswith("Reminder sent to"):
            out.take([action])
            reminded.append(f"{session} ({_people(len(action.messages))})")
    if reminded:
        out.report.append(
            f"Sessions: reminders the statuses show as sent: {', '.join(reminded)}; everyone "
            "registered now is taken as reminded"
        )


# -- mou-tracker --------------------------------------------------------------------------------


def _tracker(job: JobInput, run_log: RunLog, out: Rebuilt) -> None:
    month = f"{job.today:%Y-%m}"
    month_start = job.today.replace(day=1)
    if not _ran_since(run_log(tracker.SHEET), tracker.NAME, month_start, sending=True):
        return
    people = tracker.recipients(job)
    for person in people:
        out.sent.add(tracker.summary_key(month, REBUILT_FIGURES, person.email))
    out.states["summary"] = {"month": month, "fingerprint": REBUILT_FIGURES}
    out.report.append(
        f"MOU Tracker: the Run Log shows this month's summary went out; taken as sent to the "
        f"{_people(len(people))} who would get it now"
    )


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


_BUILDERS: Mapping[str, Callable[[JobInput, RunLog, Rebuilt], None]] = {
    committee.NAME: _committee,
    webinars.NAME: _webinars,
    pd.NAME: _pd,
    tracker.NAME: _tracker,
}


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


# -- the admin's email ----------------------------------------------------------------------------


def rebuild_alert(
    settings: Settings, reports: Mapping[str, Sequence[str]], now: dt.datetime, ledger: Path
) -> Message | None:
    """The one email telling the admin the ledger was rebuilt and from what (None: no admin)."""
    if not settings.mail.admin:
        return None
    blob = "\n".join(f"{job}: {line}" for job, lines in sorted(reports.items()) for line in lines)
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    latest = latest_backup(ledger)
    return Message(
        key=message_key(ALERT_JOB, "ledger-rebuilt", now.date().isoformat(), digest),
        template="ledger_rebuilt",
        language=ENGLISH,
        to=(settings.mail.admin,),
        context={
            "day": now.date(),
            "ledger": str(ledger),
            "jobs": {job: list(lines) for job, lines in sorted(reports.items())},
            "backups": str(backup_folder(ledger)),
            "latest": latest.name if latest else "",
            "config": str(settings.path),
        },
    )
