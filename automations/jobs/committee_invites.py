"""Job committee-invites (MOU 2.0): the joint committee's quarterly meetings.

Invitations with a calendar invite, updates when a meeting changes, cancellations,
reminders; roster-composition and quarter-coverage alerts to the co-chairs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from automations.cells import (
    parse_email,
    parse_link,
    parse_yes_no,
)
from automations.config import Options, Settings
from automations.jobs import Job
from automations.jobs.rows import (
    RowProblem,
    choose_language,
    day_words,
    duplicates,
    error_status,
    event_times,
    field,
    identified_rows,
    key_part,
    known_events,
    message_key,
    pending_status,
    plural,
    row_ref,
    rows_phrase,
    standing_refusal,
    unless_refused,
    write,
)
from automations.languages import ENGLISH, Language
from automations.plan import (
    Action,
    Attendee,
    AttendeeResponse,
    InviteSpec,
    JobInput,
    Message,
    Plan,
    StatusCell,
)
from automations.quarters import quarters
from automations.sheets.contract import Column, Row, RowRef, TabSpec

NAME = "committee-invites"
SHEET = "committee"
GROUPS = ("District", "UTLA", "Parent")
NEEDED = {"District": 3, "UTLA": 3, "Parent": 2}
# Fields whose change sends an update, with the words staff and members see.
WATCHED = ("date", "start", "end", "location", "online_link")
FIELD_WORDS = {
    "date": "date",
    "start": "start time",
    "end": "end time",
    "location": "place",
    "online_link": "online link",
}

MEMBERS = TabSpec(
    "Members",
    (
        Column("Name", required=True),
        Column("Email", required=True),
        Column("Group", required=True),
        Column("Appointed By"),
        Column("Language"),
        Column("Active", controls=True),
        Column("Status", owned=True),
    ),
    key="Email",
    fingerprint=("Name",),
)
MEETINGS = TabSpec(
    "Meetings",
    (
        Column("Meeting ID"),
        Column("Date", required=True),
        Column("Start Time", required=True),
        Column("End Time"),
        Column("Location"),
        Column("Online Link"),
        Column("Agenda"),
        Column("Cancelled", controls=True, aliases=("Canceled",)),
        Column("Invite Sent", owned=True),
        Column("Invite Version", owned=True),
        Column("Reminder Sent", owned=True),
        Column("Responses", owned=True),
        Column("Status", owned=True),
    ),
    key="Meeting ID",
    fingerprint=("Date", "Start Time"),
)


@dataclass(frozen=True)
class CommitteeOptions:
    """Lead times and who gets the committee's alerts."""

    invite_lead_days: int
    reminder_days: int
    quarter_alert_days: int
    meeting_minutes: int
    co_chairs: tuple[str, ...]


def options(settings: Settings) -> CommitteeOptions:
    """Read [jobs.committee-invites] (every key optional)."""
    reader = Options(settings, NAME)
    result = CommitteeOptions(
        invite_lead_days=reader.integer("invite_lead_days", 21, minimum=1, maximum=365),
        reminder_days=reader.integer("reminder_days", 2, minimum=0, maximum=60),
        quarter_alert_days=reader.integer("quarter_alert_days", 30, minimum=1, maximum=92),
        meeting_minutes=reader.integer("meeting_minutes", 90, minimum=15, maximum=600),
        co_chairs=reader.addresses("co_chairs"),
    )
    reader.finish()
    return result


def tabs(settings: Settings) -> Mapping[str, Sequence[TabSpec]]:
    """The committee spreadsheet's Members and Meetings tabs."""
    return {SHEET: (MEMBERS, MEETINGS)}


# -- members and roster -------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """An active committee member who can be mailed."""

    name: str
    email: str
    group: str
    appointed_by: str
    language: Language
    # The member's row, so a mail server's refusal of this address lands on it.
    ref: RowRef | None = dataclasses.field(default=None, compare=False)
    # The row's status since a server refused this address ('' when none did).
    refused: str = dataclasses.field(default="", compare=False)

    def rows(self) -> dict[str, StatusCell]:
        """Where a refusal of this member's address is written."""
        if self.ref is None:
            return {}
        return {self.email: StatusCell(SHEET, self.ref, standing=self.refused)}


def _group(value: str, column: str, allowed: Sequence[str]) -> str:
    for option in allowed:
        if value.strip().casefold() == option.casefold():
            return option
    raise RowProblem(f'{column} "{value}" is not {", ".join(allowed[:-1])} or {allowed[-1]}')


def read_members(job: JobInput, plan: Plan) -> list[Member]:
    """Active, mailable members; every row gets a status saying how it is used."""
    table = job.table(SHEET, "Members")
    assert table is not None
    doubled = duplicates(table, lambda r: r.text("Email"))
    members: list[Member] = []
    seen: set[str] = set()
    for row in table:
        ref = row_ref(MEMBERS, row)
        try:
            if not row.text("Name"):
                raise RowProblem("Name is blank")
            email = field(row, "Email", parse_email)
            group = _group(row.text("Group"), "Group", GROUPS)
            appointed = ""
            notes: list[str] = []
            if row.text("Appointed By"):
                appointed = _group(row.text("Appointed By"), "Appointed By", ("District", "UTLA"))
            elif group == "Parent":
                notes.append(
                    "Appointed By is blank (a parent member is appointed by District or UTLA)"
                )
            active = field(row, "Active", parse_yes_no, default=True)
        except RowProblem as problem:
            plan.writes.append(write(SHEET, ref, "Status", error_status(problem)))
            plan.skipped += 1
            continue
        standing = standing_refusal(job.history, ref)
        if not active:
            plan.writes.append(
                write(SHEET, ref, "Status", unless_refused("Inactive: not invited", standing))
            )
            continue
        language = choose_language(row.text("Language"), job.languages)
        if language.note:
            notes.append(language.note)
        key = email.casefold()
        if key in doubled:
            notes.append(f"the same email is on {rows_phrase(doubled[key])}; mailed once")
        status = f"Active: invitations in {language.used.name}"
        if notes:
            status = f"{status}. Check: {'; '.join(notes)}"
        plan.writes.append(write(SHEET, ref, "Status", unless_refused(status, standing)))
        if key in seen:
            continue
        seen.add(key)
        members.append(
            Member(row.text("Name"), email, group, appointed, language.used, ref, standing)
        )
    return members


@dataclass(frozen=True)
class Roster:
    """Counts of active members against 3 District / 3 UTLA / 2 parents."""

    counts: Mapping[str, int]
    parents_by: Mapping[str, int]
    problems: tuple[str, ...]
    fingerprint: str


def check_roster(members: Sequence[Member]) -> Roster:
    """Compare the active roster with the MOU's composition rule."""
    counts = Counter(m.group for m in members)
    parents_by = Counter(m.appointed_by or "nobody" for m in members if m.group == "Parent")
    problems: list[str] = []
    for group in GROUPS:
        label = "parent" if group == "Parent" else f"{group} member"
        if counts[group] != NEEDED[group]:
            problems.append(f"{plural(counts[group], label)} active, {NEEDED[group]} needed")
    if counts["Parent"] and (parents_by["District"] != 1 or parents_by["UTLA"] != 1):
        problems.append(
            "one parent must be appointed by the District and one by UTLA "
            f"(now: {parents_by['District']} by District, {parents_by['UTLA']} by UTLA"
            + (f", {parents_by['nobody']} not recorded" if parents_by["nobody"] else "")
            + ")"
        )
    basis = "|".join(sorted(f"{m.email.casefold()}:{m.group}:{m.appointed_by}" for m in members))
    return Roster(
        dict(counts),
        dict(parents_by),
        tuple(problems),
        hashlib.sha256(basis.encode()).hexdigest()[:12],
    )


# -- meetings -------------------------------------------------------------------


@dataclass(frozen=True)
class Meeting:
    """A meeting row read and checked."""

    row: Row
    ref: RowRef
    id: str
    start: dt.datetime
    end: dt.datetime
    location: str
    online_link: str
    agenda: str
    cancelled: bool
    # Why the Meeting ID is not in the sheet yet ('' when it is): not acted on until it is.
    pending: str = ""

    def snapshot(self) -> dict[str, str]:
        """What recipients know about the meeting, to detect changes later."""
        return {
            "date": self.start.date().isoformat(),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "location": self.location,
            "online_link": self.online_link,
        }

    def context(self) -> dict[str, Any]:
        """Template variables describing the meeting."""
        return {
            "id": self.id,
            "start": self.start,
            "end": self.end,
            "location": self.location,
            "online_link": self.online_link,
            "agenda": self.agenda,
        }


def read_meetings(job: JobInput, plan: Plan, minutes: int) -> list[Meeting]:
    """Meetings whose rows are usable; bad rows get an Error status."""
    table = job.table(SHEET, "Meetings")
    assert table is not None
    zone = job.settings.timezone
    window = (job.settings.agreement_start, job.settings.agreement_end)
    meetings: list[Meeting] = []
    known = known_events(job.history, "meeting")
    for row, ref, ident, pending in identified_rows(
        table, MEETINGS, SHEET, plan, "CM", "meeting", known
    ):
        try:
            start, end = event_times(row, zone, minutes, agreement=window)
            link = field(row, "Online Link", parse_link) if row.text("Online Link") else ""
            cancelled = field(row, "Cancelled", parse_yes_no, default=False)
        except RowProblem as problem:
            plan.writes.append(write(SHEET, ref, "Status", error_status(problem)))
            plan.skipped += 1
            continue
        meetings.append(
            Meeting(
                row,
                ref,
                ident,
                start,
                end,
                row.text("Location"),
                link,
                row.text("Agenda"),
                cancelled,
                pending,
            )
        )
    return meetings


# -- planning -----------------------------------------------------------------


def _domain(settings: Settings) -> str:
    return parseaddr(settings.mail.organizer)[1].rpartition("@")[2] or "mou.invalid"


def _uid(meeting: Meeting, settings: Settings) -> str:
    return f"{meeting.id}.committee@{_domain(settings)}"


def responses_text(answers: Sequence[AttendeeResponse]) -> str:
    """Attendee answers as staff read them: "5 accepted, 1 declined, 2 no reply"."""
    counts = Counter(a.response for a in answers)
    parts = [
        f"{counts[key]} {words}"
        for key, words in (
            ("accepted", "accepted"),
            ("tentativelyAccepted", "tentative"),
            ("declined", "declined"),
        )
        if counts[key]
    ]
    waiting = len(answers) - sum(counts[k] for k in ("accepted", "tentativelyAccepted", "declined"))
    if waiting or not parts:
        parts.append(f"{waiting} no reply")
    return ", ".join(parts)


def _invite(
    meeting: Meeting, sequence: int, method: str, members: Sequence[Member], settings: Settings
) -> InviteSpec:
    return InviteSpec(
        uid=_uid(meeting, settings),
        sequence=sequence,
        method=method,
        start=meeting.start,
        end=meeting.end,
        summary="District–UTLA Immigrant Support Committee meeting",
        location=meeting.location,
        url=meeting.online_link,
        description=meeting.agenda,
        attendees=tuple(Attendee(m.email, m.name) for m in members),
    )


def _previous(snapshot: Mapping[str, str], zone: dt.tzinfo) -> dict[str, Any]:
    day = dt.date.fromisoformat(snapshot["date"])
    return {
        "start": dt.datetime.combine(day, dt.time.fromisoformat(snapshot["start"]), zone),
        "end": dt.datetime.combine(day, dt.time.fromisoformat(snapshot["end"]), zone),
        "location": snapshot["location"],
        "online_link": snapshot["online_link"],
    }


def _recipients(job: JobInput, prefix: str) -> set[str]:
    """Addresses (casefolded) that got a message whose key starts with `prefix`."""
    return {key_part(key, -1).casefold() for key in job.history.sent_with_prefix(prefix)}


def plan(job: JobInput) -> Plan:
    """Plan invitations, updates, cancellations, reminders and alerts for the committee."""
    result = Plan()
    opts: CommitteeOptions = job.options
    settings = job.settings
    members = read_members(job, result)
    roster = check_roster(members)
    meetings = read_meetings(job, result, opts.meeting_minutes)
    by_email = {m.email.casefold(): m for m in members}
    roster_note = f" Roster problem: {'; '.join(roster.problems)}." if roster.problems else ""
    alert_to = opts.co_chairs or ((settings.mail.admin,) if settings.mail.admin else ())

    for meeting in meetings:
        entity = f"meeting:{meeting.id}"
        state = job.history.state(entity)
        day = meeting.start.date()
        status: str | None = None
        note = roster_note if day >= job.today and not meeting.cancelled else ""
        prefix = message_key(NAME, meeting.id)
        if meeting.pending:
            then = "invitations go out" if state is None else "the row is used again"
            status = pending_status("Meeting ID", meeting.id, meeting.pending, then)
            result.writes.append(write(SHEET, meeting.ref, "Status", status))
            continue
        if state is None:
            if meeting.cancelled:
                status = "Cancelled; no invitations were sent"
            elif day < job.today:
                status = f"Past: not invited (dated {day_words(day)})"
            elif day > settings.agreement_end:
                status = (
                    f"Not sent: the meeting is after the agreement ends "
                    f"({settings.agreement_end:%Y-%m-%d})"
                )
            elif (day - job.today).days > opts.invite_lead_days:
                opens = day - dt.timedelta(days=opts.invite_lead_days)
                status = f"Scheduled for {day_words(day)}: invitations go out on {day_words(opens)}"
            elif not members:
                status = "Not sent: no active members with a valid email on the Members tab"
            else:
                result.actions.append(
                    _request_action(job, meeting, members, 0, None, note, first=True)
                )
        else:
            sequence = int(state["sequence"])
            was_cancelled = bool(state.get("cancelled"))
            sent_to = _recipients(job, f"{prefix}/request/")
            if meeting.cancelled and not was_cancelled:
                result.actions.append(_cancel_action(job, meeting, sent_to, by_email, sequence + 1))
            elif meeting.cancelled:
                status = f"Cancelled: cancellation sent to {plural(len(sent_to), 'member')}"
            elif day < job.today:
                status = None  # a past meeting keeps its last status
            elif was_cancelled:
                result.actions.append(
                    _request_action(
                        job, meeting, members, sequence + 1, None, note, reinstated=True
                    )
                )
            else:
                snapshot = meeting.snapshot()
                changed = [f for f in WATCHED if state.get(f) != snapshot[f]]
                if changed:
                    previous = _previous(state, settings.timezone)
                    result.actions.append(
                        _request_action(
                            job, meeting, members, sequence + 1, (changed, previous), note
                        )
                    )
                else:
                    current = _recipients(job, f"{prefix}/request/{sequence}/")
                    late = [m for m in members if m.email.casefold() not in current]
                    if late:
                        result.actions.append(
                            _request_action(job, meeting, members, sequence, None, note, only=late)
                        )
                    else:
                        status = (
                            f"Invitation sent to {plural(len(current), 'member')} "
                            f"(version {sequence + 1})"
                        )
                        if meeting.row.text("Reminder Sent"):
                            status += "; reminder sent"
                        status += note
                    due = day - dt.timedelta(days=opts.reminder_days)
                    if (
                        opts.reminder_days
                        and due <= job.today <= day
                        and not meeting.row.text("Reminder Sent")
                    ):
                        reminded = [m for m in members if m.email.casefold() in current]
                        if reminded:
                            result.actions.append(_reminder_action(job, meeting, reminded, note))
        answers = job.history.responses.get(_uid(meeting, settings))
        if answers:
            # Read from the calendar provider (Microsoft 365) before planning.
            result.writes.append(write(SHEET, meeting.ref, "Responses", responses_text(answers)))
            declined = [a.name or a.email for a in answers if a.response == "declined"]
            if status is not None and declined and not meeting.cancelled:
                status += f"; declined: {', '.join(declined)}"
        if status is not None:
            result.writes.append(write(SHEET, meeting.ref, "Status", status))
        if day > settings.agreement_end and state is None:
            result.problems.append(f"meeting {meeting.id} is after the agreement ends")

    result.actions.extend(_missing_rows(job, meetings, alert_to, result))
    if roster.problems:
        result.problems.append(f"roster problem: {'; '.join(roster.problems)}")
        if alert_to:
            result.actions.append(_roster_alert(job, roster, alert_to))
        else:
            result.problems.append(
                f"no co-chairs to alert: set jobs.{NAME}.co_chairs or mail.admin in the config"
            )
    result.actions.extend(_quarter_alerts(job, meetings, alert_to, result))
    return result


def _request_action(
    job: JobInput,
    meeting: Meeting,
    members: Sequence[Member],
    sequence: int,
    change: tuple[list[str], dict[str, Any]] | None,
    note: str,
    *,
    first: bool = False,
    only: Sequence[Member] | None = None,
    reinstated: bool = False,
) -> Action:
    """An invitation (first, to late members), an update (with what changed), or the
    news that a cancelled meeting is back on (`reinstated`)."""
    prefix = message_key(NAME, meeting.id)
    ever = _recipients(job, f"{prefix}/request/")
    targets = list(only if only is not None else members)
    invite = _invite(meeting, sequence, "REQUEST", members, job.settings)
    messages = []
    for member in targets:
        template = "committee_invite"
        if member.email.casefold() in ever and (change is not None or reinstated):
            template = "committee_reinstated" if reinstated else "committee_update"
        messages.append(
            Message(
                key=message_key(NAME, meeting.id, "request", sequence, member.email.casefold()),
                template=template,
                language=member.language,
                to=(member.email,),
                context={
                    "name": member.name,
                    "meeting": meeting.context(),
                    "changes": change[0] if change else [],
                    "previous": change[1] if change else {},
                },
                invite=invite,
                recipient_rows=member.rows(),
            )
        )
    total = len(members)
    if reinstated:
        status = (
            f"Back on: invitation sent again to {plural(total, 'member')} (version {sequence + 1})"
        )
        description = f"meeting {meeting.id} back on after its cancellation"
    elif change is not None:
        words = ", ".join(FIELD_WORDS[f] for f in change[0])
        status = (
            f"Update sent to {plural(total, 'member')}: {words} changed (version {sequence + 1})"
        )
        description = f"update of meeting {meeting.id} ({words} changed)"
    elif only is not None:
        status = (
            f"Invitation sent to {plural(total, 'member')} (version {sequence + 1}); "
            f"{plural(len(targets), 'member')} added since"
        )
        description = f"invitation to {plural(len(targets), 'new member')} for meeting {meeting.id}"
    else:
        status = f"Invitation sent to {plural(total, 'member')} (version {sequence + 1})"
        description = f"invitation for meeting {meeting.id} on {meeting.start:%Y-%m-%d}"
    writes = [
        write(SHEET, meeting.ref, "Invite Version", sequence + 1),
        write(SHEET, meeting.ref, "Status", status + note),
    ]
    if first:
        writes.insert(
            0, write(SHEET, meeting.ref, "Invite Sent", job.now.isoformat(timespec="minutes"))
        )
    return Action(
        description=description,
        messages=messages,
        on_success=writes,
        status=StatusCell(SHEET, meeting.ref),
        state=(
            f"meeting:{meeting.id}",
            {**meeting.snapshot(), "sequence": sequence, "cancelled": False},
        ),
        as_event=True,
    )


def _cancel_action(
    job: JobInput,
    meeting: Meeting,
    sent_to: set[str],
    by_email: Mapping[str, Member],
    sequence: int,
) -> Action:
    """A cancellation to everyone who was ever sent an invitation for the meeting."""
    recipients = [
        by_email.get(email) or Member("", email, "", "", ENGLISH) for email in sorted(sent_to)
    ]
    invite = _invite(meeting, sequence, "CANCEL", recipients, job.settings)
    messages = [
        Message(
            key=message_key(NAME, meeting.id, "cancel", sequence, member.email.casefold()),
            template="committee_cancel",
            language=member.language,
            to=(member.email,),
            context={"name": member.name, "meeting": meeting.context()},
            invite=invite,
            recipient_rows=member.rows(),
        )
        for member in recipients
    ]
    return Action(
        description=f"cancellation of meeting {meeting.id}",
        messages=messages,
        on_success=[
            write(SHEET, meeting.ref, "Invite Version", sequence + 1),
            write(
                SHEET,
                meeting.ref,
                "Status",
                f"Cancelled: cancellation sent to {plural(len(recipients), 'member')}",
            ),
        ],
        status=StatusCell(SHEET, meeting.ref),
        state=(
            f"meeting:{meeting.id}",
            {**meeting.snapshot(), "sequence": sequence, "cancelled": True},
        ),
        as_event=True,
    )


def _reminder_action(
    job: JobInput, meeting: Meeting, members: Sequence[Member], note: str
) -> Action:
    """A reminder a few days before, once per member."""
    messages = [
        Message(
            key=message_key(NAME, meeting.id, "reminder", member.email.casefold()),
            template="committee_reminder",
            language=member.language,
            to=(member.email,),
            context={"name": member.name, "meeting": meeting.context()},
            recipient_rows=member.rows(),
        )
        for member in members
    ]
    return Action(
        description=f"reminder for meeting {meeting.id}",
        messages=messages,
        on_success=[
            write(SHEET, meeting.ref, "Reminder Sent", job.now.isoformat(timespec="minutes")),
            write(
                SHEET,
                meeting.ref,
                "Status",
                f"Reminder sent to {plural(len(members), 'member')}{note}",
            ),
        ],
        status=StatusCell(SHEET, meeting.ref),
    )


def _roster_alert(job: JobInput, roster: Roster, alert_to: Sequence[str]) -> Action:
    """Tell the co-chairs once per change of roster that it breaks the 3/3/2 rule."""
    context = {
        "problems": list(roster.problems),
        "counts": {g: roster.counts.get(g, 0) for g in GROUPS},
        "needed": NEEDED,
        "parents_by": {s: roster.parents_by.get(s, 0) for s in ("District", "UTLA")},
    }
    return Action(
        description="roster alert to the co-chairs",
        messages=[
            Message(
                key=message_key(NAME, "roster-alert", roster.fingerprint, address.casefold()),
                template="committee_roster_alert",
                language=ENGLISH,
                to=(address,),
                context=context,
            )
            for address in alert_to
        ],
    )


def _missing_rows(
    job: JobInput, meetings: Sequence[Meeting], alert_to: Sequence[str], result: Plan
) -> list[Action]:
    """Alert the co-chairs once about each invited meeting whose row left the Meetings tab.

    Nothing is cancelled automatically: a deleted row may be a slip of the mouse.
    """
    table = job.table(SHEET, "Meetings")
    on_tab = {row.text("Meeting ID").casefold() for row in table or ()}
    on_tab |= {m.id.casefold() for m in meetings}
    actions = []
    for ident, state in sorted(_events(job).items()):
        day = dt.date.fromisoformat(str(state["date"]))
        if state.get("cancelled") or day < job.today or ident.casefold() in on_tab:
            continue
        prefix = message_key(NAME, ident)
        sequence = int(state.get("sequence", 0))
        invited = len(_recipients(job, f"{prefix}/request/{sequence}/"))
        sent = f"the invitation (version {sequence + 1}) to {plural(invited, 'member')}"
        reminded = len(_recipients(job, f"{prefix}/reminder/"))
        if reminded:
            sent += f", a reminder to {plural(reminded, 'member')}"
        result.problems.append(
            f"meeting {ident} on {day.isoformat()} was invited ({sent}) but its row is gone from "
            "the Meetings tab: restore the row or mark it Cancelled"
        )
        if not alert_to:
            continue
        start = dt.datetime.combine(
            day, dt.time.fromisoformat(str(state["start"])), job.settings.timezone
        )
        context = {
            "what": "committee meeting",
            "id": ident,
            "start": start,
            "tab": "Meetings",
            "column": "Meeting ID",
            "sent": sent,
        }
        actions.append(
            Action(
                description=f"missing-row alert for meeting {ident}",
                messages=[
                    Message(
                        key=message_key(NAME, ident, "missing-alert", address.casefold()),
                        template="missing_row_alert",
                        language=ENGLISH,
                        to=(address,),
                        context=context,
                    )
                    for address in alert_to
                ],
            )
        )
    return actions


def _events(job: JobInput) -> dict[str, Mapping[str, Any]]:
    """Meetings the ledger knows were invited, by ID, with their last snapshot."""
    return {
        entity.removeprefix("meeting:"): state
        for entity, state in job.history.states.items()
        if entity.startswith("meeting:") and "date" in state
    }


def _quarter_alerts(
    job: JobInput, meetings: Sequence[Meeting], alert_to: Sequence[str], result: Plan
) -> list[Action]:
    """Alert the co-chairs once when a quarter nears its end with no meeting scheduled."""
    opts: CommitteeOptions = job.options
    settings = job.settings
    actions = []
    for quarter in quarters(settings.agreement_start, settings.agreement_end, settings.quarters):
        if not quarter.end - dt.timedelta(days=opts.quarter_alert_days) <= job.today <= quarter.end:
            continue
        if any(m.start.date() in quarter and not m.cancelled for m in meetings):
            continue
        result.problems.append(f"no meeting scheduled in {quarter.label} (ends {quarter.end})")
        if not alert_to:
            continue
        actions.append(
            Action(
                description=f"no-meeting alert for {quarter.label}",
                messages=[
                    Message(
                        key=message_key(NAME, "quarter-alert", quarter.label, address.casefold()),
                        template="committee_quarter_alert",
                        language=ENGLISH,
                        to=(address,),
                        context={
                            "quarter": {
                                "label": quarter.label,
                                "start": quarter.start,
                                "end": quarter.end,
                            },
                            "days_left": (quarter.end - job.today).days,
                        },
                    )
                    for address in alert_to
                ],
            )
        )
    return actions


def samples(settings: Settings, opts: CommitteeOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    zone = settings.timezone
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=zone)
    meeting = {
        "id": "CM-20270303",
        "start": start,
        "end": start + dt.timedelta(minutes=90),
        "location": "Beaudry Building, Room 1-100",
        "online_link": "https://example.org/join",
        "agenda": "1. Welcome\n2. Updates",
    }
    previous = {**meeting, "start": start - dt.timedelta(hours=1), "location": "Room 2"}
    base: dict[str, Any] = {"name": "Ana", "meeting": meeting, "changes": [], "previous": {}}
    contexts = {
        "committee_invite": base,
        "committee_update": {**base, "changes": ["start", "location"], "previous": previous},
        "committee_cancel": base,
        "committee_reminder": base,
        "committee_reinstated": base,
        "missing_row_alert": {
            "what": "committee meeting",
            "id": "CM-20270303",
            "start": start,
            "tab": "Meetings",
            "column": "Meeting ID",
            "sent": "the invitation (version 2) to 8 members",
        },
        "committee_roster_alert": {
            "problems": ["2 UTLA members active, 3 needed"],
            "counts": {"District": 3, "UTLA": 2, "Parent": 2},
            "needed": NEEDED,
            "parents_by": {"District": 1, "UTLA": 1},
        },
        "committee_quarter_alert": {
            "quarter": {
                "label": "2027 Q1",
                "start": dt.date(2027, 1, 1),
                "end": dt.date(2027, 3, 31),
            },
            "days_left": 20,
        },
    }
    return [
        Message(f"sample/{template}", template, ENGLISH, ("sample@example.org",), context)
        for template, context in contexts.items()
    ]


JOB = Job(
    name=NAME,
    summary="Joint committee (MOU 2.0): meeting invitations, updates, cancellations, "
    "reminders, roster and quarter checks",
    default_schedule="daily at 07:00",
    tabs=tabs,
    options=options,
    plan=plan,
    samples=samples,
)
