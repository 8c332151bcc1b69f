"""Job committee-followup (MOU 2.0): the committee's recommendations are chased, not lost.

Owners get one digest of their open recommendations `notice_days` before a due date and
every `cooldown_days` while one is overdue (at most `reminder_limit` times each); members
get one follow-up `followup_days` after a held meeting: what was added, done and is still
open since the meeting before. The invitations list the open ones (`committee_invites`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from automations.config import Settings
from automations.jobs import Job, committee_invites
from automations.jobs.committee import MEETINGS, MEMBERS, Meeting, read_meetings, read_members
from automations.jobs.declare import number, read_options
from automations.jobs.engine import sample_messages
from automations.jobs.events import pending_status
from automations.jobs.people import Person
from automations.jobs.recommendations import (
    RECOMMENDATIONS,
    SHEET,
    Recommendation,
    read_recommendations,
)
from automations.jobs.rows import day_words, message_key, plural, write
from automations.languages import ENGLISH
from automations.plan import Action, JobInput, Message, Plan, StatusCell
from automations.rebuild import Rebuilt, RunLog, ran_since

NAME = "committee-followup"
DIGEST, FOLLOWUP = "committee_followup_digest", "committee_followup"
# A follow-up not sent within this many days of its day is old news: never sent (a job
# enabled mid-year does not mail the committee about last year's meetings).
LATE_DAYS = 7


@dataclass(frozen=True)
class FollowupOptions:
    """When owners are reminded, how often and how many times; when members hear back."""

    notice_days: int = number(3, minimum=0, maximum=60)
    cooldown_days: int = number(7, minimum=1, maximum=90)
    reminder_limit: int = number(4, minimum=1, maximum=52)
    followup_days: int = number(2, minimum=0, maximum=30)


def options(settings: Settings) -> FollowupOptions:
    """Read [jobs.committee-followup] (every key optional)."""
    return read_options(settings, NAME, FollowupOptions)


def _in_window(item: Recommendation, given: JobInput[FollowupOptions]) -> bool:
    """Open, with an ID stored, and due within `notice_days` or overdue."""
    opens = item.due - dt.timedelta(days=given.options.notice_days)
    return item.open and not item.pending and given.today >= opens


def _wants_reminder(item: Recommendation, given: JobInput[FollowupOptions]) -> bool:
    opts, last = given.options, item.last_reminded
    if item.reminders_sent >= opts.reminder_limit:
        return False
    if last is None:
        return True
    if item.overdue(given.today):
        return given.today >= last + dt.timedelta(days=opts.cooldown_days)
    return last < item.due - dt.timedelta(days=opts.notice_days)


def _waiting(item: Recommendation, given: JobInput[FollowupOptions]) -> str:
    """The status of an open recommendation no reminder goes out for today."""
    opts, due = given.options, day_words(item.due)
    if item.pending:
        return pending_status("Recommendation ID", item.id, item.pending, "its owner is reminded")
    if not _in_window(item, given):
        start = day_words(item.due - dt.timedelta(days=opts.notice_days))
        return f"{item.progress}: due {due}; the owner is reminded from {start}"
    when = f"Overdue since {due}" if item.overdue(given.today) else f"Due {due}"
    if item.reminders_sent >= opts.reminder_limit:
        return f"{when}: reminder limit reached ({item.reminders_sent} sent)"
    assert item.last_reminded is not None
    if item.overdue(given.today):
        after = day_words(item.last_reminded + dt.timedelta(days=opts.cooldown_days))
        return f"{when}; owner reminded {day_words(item.last_reminded)}, next on or after {after}"
    return f"{when}; owner reminded {day_words(item.last_reminded)}"


def _digest(
    given: JobInput[FollowupOptions], items: Sequence[Recommendation], owner: Person | None
) -> Action:
    """One digest of an owner's open items; the ones in their window are stamped."""
    today, limit = given.today, given.options.reminder_limit
    stamped = [i for i in items if _in_window(i, given) and i.reminders_sent < limit]
    # The stamped rows' counts and last days make the key: a rerun after a crash finds
    # this digest sent, while the next one due gets a new key.
    marks = ";".join(sorted(f"{i.id}:{i.reminders_sent}:{i.last_reminded}" for i in stamped))
    email = owner.email if owner else items[0].owner
    key = message_key(
        NAME, "digest", email.casefold(), hashlib.sha256(marks.encode()).hexdigest()[:12]
    )
    context = {
        "name": owner.name if owner else "",
        "items": [i.context(today) for i in sorted(items, key=lambda i: (i.due, i.id))],
        "notice_days": given.options.notice_days,
        "cooldown_days": given.options.cooldown_days,
    }
    language = owner.language if owner else ENGLISH
    writes = []
    for item in stamped:
        count = item.reminders_sent + 1
        when = f"overdue since {day_words(item.due)}" if item.overdue(today) else "due soon"
        status = f"Owner reminded {day_words(today)} (reminder {count} of {limit}): {when}"
        writes += [
            write(SHEET, item.ref, "Last Reminded", today),
            write(SHEET, item.ref, "Reminders Sent", count),
            write(SHEET, item.ref, "Status", status),
        ]
    ids = ", ".join(i.id for i in stamped)
    return Action(
        description=f"recommendations digest to the owner of {ids}",
        messages=[Message(key, DIGEST, language, (email,), context)],
        on_success=writes,
        status=StatusCell(SHEET, stamped[0].ref),
    )


def _followup(
    given: JobInput[FollowupOptions],
    meetings: Sequence[Meeting],
    items: Sequence[Recommendation],
    members: Sequence[Person],
) -> Action | None:
    """The follow-up of the last held meeting, on its day (or within LATE_DAYS after)."""
    held = sorted((m for m in meetings if held_meeting(m, given)), key=lambda m: m.start)
    if not held or not items:  # nothing to follow up on
        return None
    meeting = held[-1]
    due = meeting.day + dt.timedelta(days=given.options.followup_days)
    if not due <= given.today <= due + dt.timedelta(days=LATE_DAYS):
        return None
    since = held[-2].day if len(held) > 1 else dt.date.min
    today = given.today
    added = [i for i in items if since < i.raised <= today]
    done = [i for i in items if not i.open and i.progress == "Done" and since < closed(i, today)]
    still = sorted((i for i in items if i.open), key=lambda i: (i.raised, i.due, i.id))
    context = {
        "meeting": meeting.context(),
        "previous": held[-2].start if len(held) > 1 else None,
        "added": [i.context(today) for i in added],
        "done": [i.context(today) for i in done],
        "open": [i.context(today) for i in still],
    }
    messages = [
        Message(
            key=message_key(NAME, meeting.id, "followup", person.address),
            template=FOLLOWUP,
            language=person.language,
            to=(person.email,),
            context={**context, "name": person.name},
            recipient_rows=person.rows(),
        )
        for person in members
    ]
    if not messages:
        return None
    return Action(
        description=f"follow-up of meeting {meeting.id} to {plural(len(messages), 'member')}",
        messages=messages,
    )


def held_meeting(meeting: Meeting, given: JobInput[FollowupOptions]) -> bool:
    """A meeting that took place: not cancelled, its ID stored, ended by now."""
    return not meeting.cancelled and not meeting.pending and meeting.end <= given.now


def closed(item: Recommendation, today: dt.date) -> dt.date:
    """The day a Done or Dropped item was closed (today when this run first sees it)."""
    return item.closed_on or today


def plan(given: JobInput[FollowupOptions]) -> Plan:
    """Plan owners' digests, the follow-up of the last meeting and every row's status."""
    out, today = Plan(), given.today
    items = out.take(read_recommendations(given))
    # Members and meetings are committee-invites' rows: read here, never written.
    members = read_members(given).items
    minutes = committee_invites.options(given.settings).meeting_minutes
    meetings = read_meetings(given, minutes).items
    by_owner: dict[str, list[Recommendation]] = {}
    for item in items:
        if not item.open:
            if item.closed_on is None:
                out.writes.append(write(SHEET, item.ref, "Closed On", today))
            status = f"{item.progress} (closed {day_words(closed(item, today))})"
            out.writes.append(write(SHEET, item.ref, "Status", status))
            continue
        if item.closed_on is not None:  # reopened: the next close is stamped again
            out.writes.append(write(SHEET, item.ref, "Closed On", ""))
        if not item.pending:
            by_owner.setdefault(item.owner.casefold(), []).append(item)
    people = {person.address: person for person in members}
    for address, owned in by_owner.items():
        if any(_in_window(i, given) and _wants_reminder(i, given) for i in owned):
            action = _digest(given, owned, people.get(address))
            out.actions.append(action)
            reminded = {w.row.key for w in action.on_success}
            owned = [i for i in owned if i.id not in reminded]
        for item in owned:
            out.writes.append(write(SHEET, item.ref, "Status", _waiting(item, given)))
    for item in items:
        if item.pending:
            out.writes.append(write(SHEET, item.ref, "Status", _waiting(item, given)))
    followup = _followup(given, meetings, items, members)
    if followup is not None:
        out.actions.append(followup)
    return out


def rebuild(given: JobInput[FollowupOptions], run_log: RunLog, out: Rebuilt) -> None:
    """The last meeting's follow-up, when a run since its day would have sent it. (Digests
    need nothing: their keys come from Reminders Sent and Last Reminded.)"""
    minutes = committee_invites.options(given.settings).meeting_minutes
    meetings = read_meetings(given, minutes).items
    items = read_recommendations(given).items
    action = _followup(given, meetings, items, read_members(given).items)
    if action is None:
        return
    meeting = action.messages[0].context["meeting"]
    due = meeting["start"].date() + dt.timedelta(days=given.options.followup_days)
    if ran_since(run_log(SHEET), NAME, due):
        out.sent.update(m.key for m in action.messages)
        out.report.append(
            f"Recommendations: the follow-up of meeting {meeting['id']} taken as sent (a run "
            f"since {due.isoformat()} would have sent it)"
        )


def samples(settings: Settings, opts: FollowupOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=settings.timezone)
    item = {
        "id": "REC-20261203",
        "text": "Translate the Know Your Rights flyer into Zapotec and K'iche'",
        "area": "Indigenous-language resources",
        "owner": "owner@example.org",
        "raised": dt.date(2026, 12, 3),
        "due": dt.date(2027, 2, 15),
        "progress": "In progress",
        "overdue": True,
        "days_overdue": 16,
    }
    later = {**item, "id": "REC-20270303", "text": "Invite a legal clinic", "overdue": False}
    meeting = {"id": "CM-20270303", "start": start, "end": start + dt.timedelta(minutes=90)}
    return sample_messages(
        {
            DIGEST: {
                "name": "Ana",
                "items": [item, later],
                "notice_days": opts.notice_days,
                "cooldown_days": opts.cooldown_days,
            },
            FOLLOWUP: {
                "name": "Ana",
                "meeting": meeting,
                "previous": start - dt.timedelta(days=91),
                "added": [later],
                "done": [{**item, "progress": "Done", "overdue": False}],
                "open": [item, later],
            },
        }
    )


JOB = Job(
    name=NAME,
    summary="Committee recommendations (MOU 2.0): owners' digests before and after due "
    "dates, members' follow-up after each meeting",
    order=15,
    default_schedule="daily at 07:15",
    tabs=lambda settings: {SHEET: (MEMBERS, MEETINGS, RECOMMENDATIONS)},
    options=options,
    plan=plan,
    samples=samples,
    rebuild=rebuild,
)
