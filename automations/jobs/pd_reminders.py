"""Job pd-reminders (MOU 5.0 a–d): staff professional development on four topics.

One digest per staff member who still owes topics (with the next sessions of each),
no more often than the cooldown and at most a set number of times; and a reminder
with the calendar invite the day before a session someone registered for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automations.config import Settings
from automations.jobs import Job
from automations.jobs.declare import number, option, read_options
from automations.jobs.engine import sample_messages
from automations.jobs.events import pending_status
from automations.jobs.occasions import Occasion, before_start
from automations.jobs.pd import (
    REGISTRATIONS,
    SESSIONS,
    SHEET,
    STAFF,
    Session,
    Staff,
    read_sessions,
    read_staff,
    registered,
)
from automations.jobs.reminders import Reminders
from automations.jobs.rows import (
    address_of,
    day_words,
    message_key,
    not_counted,
    plural,
    write,
)
from automations.mou import TOPICS, Topic
from automations.plan import Action, Attendee, JobInput, Message, Plan, StatusCell
from automations.rebuild import Rebuilt, RunLog

NAME = "pd-reminders"


@dataclass(frozen=True)
class PdOptions:
    """Cooldown, limit, how many sessions to list and whom staff contact."""

    pd_contact: str = option(
        lambda r, k, s: next(iter(r.addresses(k)), address_of(s.mail.reply_to or s.mail.sender))
    )
    cooldown_days: int = number(14, minimum=1, maximum=365)
    reminder_limit: int = number(6, minimum=1, maximum=100)
    sessions_listed: int = number(3, minimum=1, maximum=10)
    session_reminder_days: int = number(1, minimum=0, maximum=14)
    session_minutes: int = number(90, minimum=15, maximum=600)


def options(settings: Settings) -> PdOptions:
    """Read [jobs.pd-reminders] (every key optional)."""
    return read_options(settings, NAME, PdOptions)


DIGEST = Reminders(
    job_name=NAME,
    sheet=SHEET,
    occasion=Occasion("digest", template="pd_digest"),
    cooldown="cooldown_days",
    limit="reminder_limit",
    description="PD digest {number} to staff {id}",
)
SESSION_REMINDER = Occasion(
    "session-reminder",
    template="pd_session_reminder",
    when=before_start(days="session_reminder_days"),
)


def plan(given: JobInput[PdOptions]) -> Plan:
    """Plan digests for staff who owe topics and reminders for tomorrow's sessions."""
    plan, opts = Plan(), given.options
    session_rows = read_sessions(given, opts.session_minutes)
    sessions = plan.take(session_rows)
    staff = plan.take(read_staff(given))
    upcoming = [s for s in sessions if s.start >= given.now]
    # Shared by every digest: the next sessions of each topic, as template values.
    listed: dict[str, list[dict[str, Any]]] = {t.code: [] for t in TOPICS}
    for session in upcoming:
        if len(listed[session.topic.code]) < opts.sessions_listed:
            listed[session.topic.code].append(session.context())
    topics = {t.code: {"code": t.code, "name": t.name, "sessions": listed[t.code]} for t in TOPICS}
    for topic in TOPICS:
        if not listed[topic.code]:
            plan.problems.append(
                f"no upcoming {topic.name} session on the Sessions tab"
                + not_counted(session_rows.refused)
            )
    listed_ids = {s["id"] for sessions_of in listed.values() for s in sessions_of}
    # Who is registered for each listed session (any day ahead): their digest says so
    # instead of sending them to register again. Its problems are the reminders' too.
    signed_up, _ = registered(given, upcoming, staff, days=100 * 366)
    registrations: dict[str, list[str]] = {}
    for session_id, people in signed_up.items():
        for address in people:
            registrations.setdefault(address, []).append(session_id)
    for session in sessions:
        on = day_words(session.day)
        if session.pending:
            status = pending_status(
                "Session ID", session.id, session.pending, "its reminders go out"
            )
        elif session.start < given.now:
            status = f"Past session ({on})"
        elif session.id in listed_ids:
            status = f"Listed in reminders ({session.topic.code} {session.topic.name}, {on})"
        else:
            status = f"Upcoming ({on}): listed once earlier sessions have passed"
        plan.writes.append(write(SHEET, session.ref, "Status", status))
    # People owing the same topics share one list: the render cache freezes it once.
    owed_topics: dict[tuple[Topic, ...], list[dict[str, Any]]] = {}
    for person in staff:
        owed = "; ".join(t.name for t in person.owed)
        plan.writes.append(write(SHEET, person.ref, "Outstanding", owed))
        if not person.owed:
            plan.writes.append(write(SHEET, person.ref, "Status", "All four topics completed"))
            continue
        owing_topics = owed_topics.get(person.owed)
        if owing_topics is None:
            owing_topics = owed_topics[person.owed] = [topics[t.code] for t in person.owed]
        context = {
            "name": person.name,
            "topics": owing_topics,
            "contact": opts.pd_contact,
            "registered": sorted(registrations.get(person.email.casefold(), [])),
        }
        note = f". Check: {person.note}" if person.note else ""
        owing = f"Owes {plural(len(person.owed), 'topic')}"
        due = DIGEST.plan(
            given,
            person,
            owes=f"owes {owed}",
            owing=owing,
            context=context,
            note=note,
            reply_to=opts.pd_contact,
        )
        if isinstance(due, Action):
            plan.actions.append(due)
        else:
            plan.writes.append(write(SHEET, person.ref, "Status", due))
    reminders, problems = session_reminders(given, upcoming, staff)
    plan.problems.extend(problems)
    plan.actions.extend(reminders)
    return plan


def session_reminders(
    given: JobInput[PdOptions], upcoming: Sequence[Session], staff: Sequence[Staff]
) -> tuple[list[Action], list[str]]:
    """The day before a session, a reminder with its invite to everyone registered."""
    days = given.options.session_reminder_days
    found, problems = registered(given, upcoming, staff, days)
    domain = address_of(given.settings.mail.organizer).rpartition("@")[2] or "mou.invalid"
    actions = []
    for session in upcoming:
        people = found.get(session.id)
        if not people:
            continue
        messages = [
            Message(
                key=message_key(NAME, session.id, SESSION_REMINDER.name, address),
                template=SESSION_REMINDER.template,
                language=language,
                to=(email,),
                context={"name": name, "session": session.context(), "sent_on": given.today},
                invite=session.invite(domain, Attendee(email, name)),
            )
            for address, (email, name, language) in sorted(people.items())
        ]
        who = "person" if len(messages) == 1 else "people"
        actions.append(
            Action(
                description=f"reminder for PD session {session.id} on {session.start:%Y-%m-%d}",
                messages=messages,
                on_success=[
                    write(
                        SHEET,
                        session.ref,
                        "Status",
                        f"Reminder sent to {len(messages)} registered {who}",
                    )
                ],
                status=StatusCell(SHEET, session.ref),
                # The ledger knows the session by ID, date and time: a lost ID is found again.
                state=(f"session:{session.id}", session.identity()),
            )
        )
    return actions, problems


def rebuild(given: JobInput[PdOptions], run_log: RunLog, out: Rebuilt) -> None:
    """Session reminders the sessions' statuses show as sent, to everyone registered now.
    (Digests need nothing: their keys come from Reminders Sent and Last Reminded.)"""
    table = given.table(SHEET, "Sessions")
    statuses = {row.text("Session ID").casefold(): row.text("Status") for row in table or ()}
    if not any(status.startswith("Reminder sent to") for status in statuses.values()):
        return  # no mark: no need to read 75,000 staff rows a second time
    sessions = read_sessions(given, given.options.session_minutes).items
    upcoming = [s for s in sessions if s.start >= given.now]
    reminded: list[str] = []
    for action in session_reminders(given, upcoming, read_staff(given).items)[0]:
        assert action.state is not None
        session = action.state[0].removeprefix("session:")
        if statuses.get(session.casefold(), "").startswith("Reminder sent to"):
            out.take([action])
            who = "person" if len(action.messages) == 1 else "people"
            reminded.append(f"{session} ({len(action.messages)} {who})")
    if reminded:
        out.report.append(
            f"Sessions: reminders the statuses show as sent: {', '.join(reminded)}; everyone "
            "registered now is taken as reminded"
        )


def samples(settings: Settings, opts: PdOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    start = dt.datetime(2027, 3, 3, 15, 30, tzinfo=settings.timezone)
    session = {
        "id": "PD-5a-20270303",
        "topic": "5a",
        "title": "Safe Zones: what every adult on campus should know",
        "start": start,
        "end": start + dt.timedelta(minutes=90),
        "location": "Library, Roosevelt High School",
        "join_link": "https://example.org/join",
        "registration_link": "https://example.org/register",
    }
    topics = [
        {"code": "5a", "name": "Safe Zones", "sessions": [session]},
        {"code": "5c", "name": "Enforcement & Confidentiality", "sessions": []},
    ]
    digest = {"name": "Ana", "topics": topics, "contact": opts.pd_contact}
    return sample_messages(
        {
            "pd_digest": {**digest, "reminder_number": 1, "reminder_limit": opts.reminder_limit},
            "pd_session_reminder": {"name": "Ana", "session": session},
        }
    )


JOB = Job(
    name=NAME,
    summary="Staff PD (MOU 5.0 a–d): a digest of the topics each person still owes, "
    "session reminders with calendar invites",
    order=20,
    default_schedule="weekdays at 06:30",
    tabs=lambda settings: {SHEET: (SESSIONS, STAFF, REGISTRATIONS)},
    options=options,
    plan=plan,
    samples=samples,
    rebuild=rebuild,
)
