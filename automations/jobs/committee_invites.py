"""Job committee-invites (MOU 2.0): the joint committee's quarterly meetings.

Invitations with a calendar invite, updates when a meeting changes, cancellations,
reminders; roster-composition and quarter-coverage alerts to the co-chairs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from automations.config import Settings
from automations.jobs import Job
from automations.jobs.committee import (
    MEETINGS,
    MEMBERS,
    SHEET,
    Meeting,
    read_meetings,
    read_members,
    roster_of,
)
from automations.jobs.declare import addresses, number, read_options
from automations.jobs.engine import alert, alert_recipients, missing_row_context, sample_messages
from automations.jobs.invitations import Invitations
from automations.jobs.occasions import Occasion, already_sent, before_start, on_cancel
from automations.jobs.recommendations import RECOMMENDATIONS_IF_ANY, open_for_agenda
from automations.jobs.rows import address_of, message_key, not_counted
from automations.mou import APPOINTERS, GROUPS, NEEDED, check_roster
from automations.plan import InviteSpec, JobInput, Message, Plan
from automations.quarters import Quarter, quarters
from automations.rebuild import Rebuilt, RunLog, ran_since

NAME = "committee-invites"
# Refused rows an alert names (the rest are counted: "... and 4 more").
MAX_REFUSED = 10


@dataclass(frozen=True)
class CommitteeOptions:
    """Lead times, and who gets the committee's alerts."""

    invite_lead_days: int = number(21, minimum=1, maximum=365)
    reminder_days: int = number(2, minimum=0, maximum=60)
    quarter_alert_days: int = number(30, minimum=1, maximum=92)
    meeting_minutes: int = number(90, minimum=15, maximum=600)
    alert_to: tuple[str, ...] = addresses("co_chairs")


def options(settings: Settings) -> CommitteeOptions:
    """Read [jobs.committee-invites] (every key optional)."""
    return read_options(settings, NAME, CommitteeOptions)


def calendar(meeting: Meeting, settings: Settings) -> InviteSpec:
    """The meeting's calendar entry (its UID stays the same for every version)."""
    domain = address_of(settings.mail.organizer).rpartition("@")[2] or "mou.invalid"
    return InviteSpec(
        uid=f"{meeting.id}.committee@{domain}",
        sequence=0,
        method="REQUEST",
        start=meeting.start,
        end=meeting.end,
        summary="District–UTLA Immigrant Support Committee meeting",
        location=meeting.location,
        url=meeting.online_link,
        description=meeting.agenda,
    )


MAIL = Invitations(
    job_name=NAME,
    sheet=SHEET,
    kind="meeting",
    id_column="Meeting ID",
    person="member",
    tab="Members",
    invite=Occasion(
        "request",
        template="committee_invite",
        when=before_start(days="invite_lead_days"),
        stamp="Invite Sent",
        update="committee_update",
        reinstated="committee_reinstated",
        version="Invite Version",
    ),
    reminder=Occasion(
        "reminder",
        template="committee_reminder",
        when=before_start(days="reminder_days"),
        audience=already_sent("request"),
        stamp="Reminder Sent",
    ),
    cancel=Occasion(
        "cancel", template="committee_cancel", when=on_cancel, audience=already_sent("request")
    ),
    # Fields whose change sends an update, with the words staff and members see.
    watched={
        "date": "date",
        "start": "start time",
        "end": "end time",
        "location": "place",
        "online_link": "online link",
    },
    calendar=calendar,
)


def plan(given: JobInput[CommitteeOptions]) -> Plan:
    """Plan invitations, updates, cancellations, reminders and alerts for the committee."""
    plan = Plan()
    opts = given.options
    member_rows = read_members(given)
    members = plan.take(member_rows)
    roster = check_roster(roster_of(members))
    meeting_rows = read_meetings(given, opts.meeting_minutes)
    meetings = plan.take(meeting_rows)
    agenda = open_for_agenda(given)
    meetings = [dataclasses.replace(m, recommendations=agenda) for m in meetings]
    note = f" Roster problem: {'; '.join(roster.problems)}." if roster.problems else ""
    alert_to = alert_recipients(opts.alert_to, given.settings, as_configured=True)
    MAIL.plan(given, meetings, members, plan, note=note)
    plan.actions.extend(
        MAIL.missing(given, meetings, "Meetings", alert_to, plan, "committee meeting")
    )
    if roster.problems:
        plan.problems.append(
            f"roster problem: {'; '.join(roster.problems)}" + not_counted(member_rows.refused)
        )
        if alert_to:
            context = {
                "problems": list(roster.problems),
                "refused": member_rows.refused[:MAX_REFUSED],
                "more_refused": max(0, len(member_rows.refused) - MAX_REFUSED),
                "counts": {g: roster.counts.get(g, 0) for g in GROUPS},
                "needed": NEEDED,
                "parents_by": {s: roster.parents_by.get(s, 0) for s in APPOINTERS},
            }
            key = (NAME, "roster-alert", roster.fingerprint)
            description = "roster alert to the co-chairs"
            plan.actions.append(
                alert(description, key, "committee_roster_alert", context, alert_to)
            )
        else:
            plan.problems.append(
                f"no co-chairs to alert: set jobs.{NAME}.co_chairs or mail.admin in the config"
            )
    for quarter in quarters_without_meeting(given, meetings):
        plan.problems.append(
            f"no meeting scheduled in {quarter.label} (ends {quarter.end})"
            + not_counted(meeting_rows.refused)
        )
        if alert_to:
            context = {
                "quarter": {"label": quarter.label, "start": quarter.start, "end": quarter.end},
                "days_left": (quarter.end - given.today).days,
                "refused": meeting_rows.refused[:MAX_REFUSED],
                "more_refused": max(0, len(meeting_rows.refused) - MAX_REFUSED),
            }
            key = (NAME, "quarter-alert", quarter.label)
            description = f"no-meeting alert for {quarter.label}"
            plan.actions.append(
                alert(description, key, "committee_quarter_alert", context, alert_to)
            )
    return plan


def quarters_without_meeting(
    given: JobInput[CommitteeOptions], meetings: Sequence[Meeting]
) -> list[Quarter]:
    """Quarters within `quarter_alert_days` of their end with no meeting scheduled."""
    settings, days = given.settings, given.options.quarter_alert_days
    return [
        quarter
        for quarter in quarters(settings.agreement_start, settings.agreement_end, settings.quarters)
        if quarter.end - dt.timedelta(days=days) <= given.today <= quarter.end
        and not any(m.day in quarter and not m.cancelled for m in meetings)
    ]


def rebuild(given: JobInput[CommitteeOptions], run_log: RunLog, out: Rebuilt) -> None:
    """The invitations the meetings' marks show, and the alerts the co-chairs had."""
    members = read_members(given).items
    meetings = read_meetings(given, given.options.meeting_minutes).items
    alert_to = alert_recipients(given.options.alert_to, given.settings, as_configured=True)
    invited = MAIL.rebuild(given, meetings, members, out)
    roster = check_roster(roster_of(members))
    marked = f"Roster problem: {'; '.join(roster.problems)}."
    if roster.problems and any(marked in m.row.text("Status") for m in meetings):
        keys = (
            message_key(NAME, "roster-alert", roster.fingerprint, a.casefold()) for a in alert_to
        )
        out.sent.update(keys)
        out.report.append("Members: the roster alert the meeting statuses mention, taken as sent")
    for quarter in quarters_without_meeting(given, meetings):
        # No row marks this alert: a run since its window opened would have sent it.
        opens = quarter.end - dt.timedelta(days=given.options.quarter_alert_days)
        if ran_since(run_log(SHEET), NAME, opens):
            out.sent.update(
                message_key(NAME, "quarter-alert", quarter.label, a.casefold()) for a in alert_to
            )
            out.report.append(
                f"Run Log: the {quarter.label} no-meeting alert taken as sent (a run since "
                f"{opens.isoformat()} would have sent it)"
            )
    if invited:
        out.report.extend(MAIL.relinked(given))


def samples(settings: Settings, opts: CommitteeOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=settings.timezone)
    meeting = {
        "id": "CM-20270303",
        "start": start,
        "end": start + dt.timedelta(minutes=90),
        "location": "Beaudry Building, Room 1-100",
        "online_link": "https://example.org/join",
        "agenda": "1. Welcome\n2. Updates",
        "recommendations": [
            {
                "id": "REC-20261203",
                "text": "Translate the Know Your Rights flyer into Zapotec",
                "area": "Indigenous-language resources",
                "due": dt.date(2027, 2, 15),
                "overdue": True,
            }
        ],
    }
    changed = {"start": start - dt.timedelta(hours=1), "location": "Room 2"}
    quarter = {"label": "2027 Q1", "start": dt.date(2027, 1, 1), "end": dt.date(2027, 3, 31)}
    sent = "the invitation (version 2) to 8 members"
    return sample_messages(
        {
            **MAIL.sample_contexts(meeting, changed),
            "missing_row_alert": missing_row_context(
                "committee meeting", "CM-20270303", start, "Meetings", "Meeting ID", sent
            ),
            "committee_roster_alert": {
                "problems": ["2 UTLA members active, 3 needed"],
                "counts": {"District": 3, "UTLA": 2, "Parent": 2},
                "needed": NEEDED,
                "parents_by": {"District": 1, "UTLA": 1},
                "refused": ['row 5: Email "h.park@" is not a valid email address'],
                "more_refused": 0,
            },
            "committee_quarter_alert": {
                "quarter": quarter,
                "days_left": 20,
                "refused": ['row 3: Date "3/32/2027" is not a real date'],
                "more_refused": 0,
            },
        }
    )


JOB = Job(
    name=NAME,
    summary="Joint committee (MOU 2.0): meeting invitations, updates, cancellations, "
    "reminders, roster and quarter checks",
    order=10,
    default_schedule="daily at 07:00",
    tabs=lambda settings: {SHEET: (MEMBERS, MEETINGS, RECOMMENDATIONS_IF_ANY)},
    options=options,
    plan=plan,
    samples=samples,
    rebuild=rebuild,
)
