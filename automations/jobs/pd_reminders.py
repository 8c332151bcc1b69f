"""Job pd-reminders (MOU 5.0 a–d): staff professional development on four topics.

One digest per staff member who still owes topics (with the next sessions of each),
no more often than the cooldown and at most a set number of times; and a reminder
with the calendar invite the day before a session someone registered for.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.cells import (
    CellValue,
    CellValueError,
    parse_completion,
    parse_date,
    parse_email,
    parse_link,
    parse_yes_no,
)
from automations.config import Options, Settings
from automations.jobs import Job
from automations.jobs.rows import (
    LanguageChoice,
    RowProblem,
    address_of,
    choose_language,
    day_words,
    duplicates,
    error_status,
    event_times,
    field,
    identified_rows,
    known_events,
    message_key,
    pending_status,
    plural,
    row_ref,
    rows_phrase,
    write,
)
from automations.languages import ENGLISH, Language
from automations.plan import Action, Attendee, InviteSpec, JobInput, Message, Plan, StatusCell
from automations.sheets.contract import Column, Row, RowRef, TabSpec

NAME = "pd-reminders"
SHEET = "pd"


@dataclass(frozen=True)
class Topic:
    """One of the four PD topics of MOU 5.a–d."""

    code: str
    name: str


TOPICS = (
    Topic("5a", "Safe Zones"),
    Topic("5b", "Immigration Rights"),
    Topic("5c", "Enforcement & Confidentiality"),
    Topic("5d", "Family Resources"),
)


def _squash(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold().replace("&", "and"))


_TOPIC_WORDS = {_squash(t.name): t for t in TOPICS} | {t.code: t for t in TOPICS}


def parse_topic(value: str) -> Topic | None:
    """The topic named by `value`: a name or a code 5a–5d (case, spacing, 'MOU 5.a' ignored)."""
    folded = _squash(value)
    folded = folded.removeprefix("mou")
    if folded in _TOPIC_WORDS:
        return _TOPIC_WORDS[folded]
    # "5a Safe Zones", "5.a – Safe Zones": a code followed by that topic's own name.
    topic = _TOPIC_WORDS.get(folded[:2])
    if topic is not None and folded[2:] == _squash(topic.name):
        return topic
    return None


SESSIONS = TabSpec(
    "Sessions",
    (
        Column("Session ID"),
        Column("Topic", required=True),
        Column("Title"),
        Column("Date", required=True),
        Column("Start Time", required=True),
        Column("End Time"),
        Column("Location"),
        Column("Join Link"),
        Column("Registration Link"),
        Column("Status", owned=True),
    ),
    key="Session ID",
    fingerprint=("Topic", "Date", "Start Time"),
)
# Topic columns are required: a misspelt header must stop the job, not remind
# 75,000 people of a topic they already completed.
STAFF = TabSpec(
    "Staff",
    (
        Column("Employee ID", required=True),
        Column("Name"),
        Column("Email", required=True),
        Column("Site"),
        Column("Active", controls=True),
        Column("Language"),
        *(Column(t.name, required=True) for t in TOPICS),
        Column("Last Reminded", owned=True),
        Column("Reminders Sent", owned=True),
        Column("Outstanding", owned=True),
        Column("Status", owned=True),
    ),
    key="Employee ID",
)
REGISTRATIONS = TabSpec(
    "Registrations",
    (
        Column("Session ID", required=True),
        Column("Employee ID"),
        Column("Email"),
    ),
    optional=True,
)


@dataclass(frozen=True)
class PdOptions:
    """Cooldown, limit, how many sessions to list and whom staff contact."""

    cooldown_days: int
    reminder_limit: int
    sessions_listed: int
    session_reminder_days: int
    session_minutes: int
    pd_contact: str


def options(settings: Settings) -> PdOptions:
    """Read [jobs.pd-reminders] (every key optional)."""
    reader = Options(settings, NAME)
    contact = reader.addresses("pd_contact")
    fallback = settings.mail.reply_to or settings.mail.sender
    result = PdOptions(
        cooldown_days=reader.integer("cooldown_days", 14, minimum=1, maximum=365),
        reminder_limit=reader.integer("reminder_limit", 6, minimum=1, maximum=100),
        sessions_listed=reader.integer("sessions_listed", 3, minimum=1, maximum=10),
        session_reminder_days=reader.integer("session_reminder_days", 1, minimum=0, maximum=14),
        session_minutes=reader.integer("session_minutes", 90, minimum=15, maximum=600),
        pd_contact=contact[0] if contact else address_of(fallback),
    )
    reader.finish()
    return result


def tabs(settings: Settings) -> Mapping[str, Sequence[TabSpec]]:
    """The PD spreadsheet's Sessions, Staff and (optional) Registrations tabs."""
    return {SHEET: (SESSIONS, STAFF, REGISTRATIONS)}


# -- sessions -------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A PD session row read and checked."""

    ref: RowRef
    id: str
    topic: Topic
    title: str
    start: dt.datetime
    end: dt.datetime
    location: str
    join_link: str
    registration_link: str
    # Why the Session ID is not in the sheet yet ('' when it is): digests may list the
    # session, but no reminder (whose calendar UID is made from the ID) goes out until it is.
    pending: str = ""

    def context(self) -> dict[str, Any]:
        """Template variables describing the session."""
        return {
            "id": self.id,
            "topic": self.topic.code,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "location": self.location,
            "join_link": self.join_link,
            "registration_link": self.registration_link,
        }


def _topic_list() -> str:
    return ", ".join(t.name for t in TOPICS)


def read_sessions(job: JobInput, plan: Plan, minutes: int) -> list[Session]:
    """Sessions whose rows are usable, soonest first; bad rows get an Error status."""
    table = job.table(SHEET, "Sessions")
    assert table is not None
    zone = job.settings.timezone
    window = (job.settings.agreement_start, job.settings.agreement_end)
    sessions: list[Session] = []

    def prefix(row: Row) -> str:
        topic = parse_topic(row.text("Topic"))
        return f"PD-{topic.code if topic else 'X'}"

    known = known_events(job.history, "session")
    for row, ref, ident, pending in identified_rows(
        table, SESSIONS, SHEET, plan, prefix, "session", known
    ):
        try:
            topic = parse_topic(row.text("Topic"))
            if topic is None:
                raise RowProblem(
                    f'Topic "{row.text("Topic")}" is not one of {_topic_list()} (or 5a–5d)'
                )
            start, end = event_times(row, zone, minutes, agreement=window)
            join = field(row, "Join Link", parse_link) if row.text("Join Link") else ""
            signup = (
                field(row, "Registration Link", parse_link) if row.text("Registration Link") else ""
            )
        except RowProblem as problem:
            plan.writes.append(write(SHEET, ref, "Status", error_status(problem)))
            plan.skipped += 1
            continue
        sessions.append(
            Session(
                ref,
                ident,
                topic,
                row.text("Title") or topic.name,
                start,
                end,
                row.text("Location"),
                join,
                signup,
                pending,
            )
        )
    sessions.sort(key=lambda s: (s.start, s.id))
    return sessions


# -- staff --------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """An active staff member who can be mailed, and what they still owe."""

    row: Row
    ref: RowRef
    id: str
    name: str
    email: str
    language: Language
    note: str
    owed: tuple[Topic, ...]
    last_reminded: dt.date | None
    reminders_sent: int


def _count(row: Row, column: str) -> int:
    raw = row.text(column)
    if not raw:
        return 0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or not value.is_integer():
        raise RowProblem(f'{column} "{raw}" is not a whole number (clear it to start again)')
    return int(value)


@functools.lru_cache(maxsize=4096)
def _completion(value: CellValue, today: dt.date) -> dt.date | bool | None:
    # 75,000 rows share a few hundred dates: read each distinct value once.
    return parse_completion(value, today)


@dataclass(frozen=True)
class Completions:
    """A staff row's topics: completed, still owed, and cells that could not be read."""

    done: tuple[Topic, ...]
    owed: tuple[Topic, ...]
    unreadable: tuple[Topic, ...]
    problems: tuple[str, ...]  # one per unreadable cell, naming the topic and the value


def read_completions(row: Row, today: dt.date) -> Completions:
    """Each topic cell read strictly: a date on or before today or a completed word.

    Blank is owed; anything else ("no", "pending", "registered 12/9", a future date)
    is unreadable and must not be guessed either way.
    """
    done: list[Topic] = []
    owed: list[Topic] = []
    unreadable: list[Topic] = []
    problems: list[str] = []
    for topic in TOPICS:
        try:
            value = _completion(row[topic.name], today)
        except CellValueError as err:
            unreadable.append(topic)
            problems.append(f"{topic.name} {err}")
            continue
        (owed if value is None else done).append(topic)
    return Completions(tuple(done), tuple(owed), tuple(unreadable), tuple(problems))


def read_staff(job: JobInput, plan: Plan) -> list[Staff]:
    """Active, mailable staff; inactive and bad rows get a status and are skipped."""
    table = job.table(SHEET, "Staff")
    assert table is not None
    doubled = duplicates(table, lambda r: r.text("Employee ID"))
    staff: list[Staff] = []
    available = job.languages
    languages: dict[str, LanguageChoice] = {}  # 75,000 rows share a handful of values
    for row in table:
        ref = row_ref(STAFF, row)
        ident = row.text("Employee ID")
        try:
            if not ident:
                raise RowProblem("Employee ID is blank")
            if ident.casefold() in doubled:
                raise RowProblem(
                    f"Employee ID {ident} is on {rows_phrase(doubled[ident.casefold()])}; "
                    "each person needs their own row"
                )
            email = field(row, "Email", parse_email)
            active = field(row, "Active", parse_yes_no, default=True)
            last = field(row, "Last Reminded", parse_date) if row.text("Last Reminded") else None
            count = _count(row, "Reminders Sent")
        except RowProblem as problem:
            if ident:
                plan.writes.append(write(SHEET, ref, "Status", error_status(problem)))
            else:
                plan.problems.append(f"Staff row {row.number}: {problem}")
            plan.skipped += 1
            continue
        if not active:
            plan.writes.append(write(SHEET, ref, "Status", "Inactive: not reminded"))
            continue
        completions = read_completions(row, job.today)
        if completions.problems:
            # No digest at all: with one topic unreadable, a reminder could name a topic
            # the person did, or leave out one they owe. A person settles the cell first.
            problem = "; ".join(completions.problems)
            status = error_status(f"{problem}. No reminder is sent until it is fixed")
            plan.writes.append(write(SHEET, ref, "Status", status))
            plan.skipped += 1
            continue
        raw_language = row.text("Language")
        language = languages.get(raw_language)
        if language is None:
            language = languages[raw_language] = choose_language(raw_language, available)
        owed = completions.owed
        staff.append(
            Staff(
                row,
                ref,
                ident,
                row.text("Name"),
                email,
                language.used,
                language.note,
                owed,
                last,
                count,
            )
        )
    return staff


# -- planning -----------------------------------------------------------------


def _names(topics: Sequence[Topic]) -> str:
    return "; ".join(t.name for t in topics)


def plan(job: JobInput) -> Plan:
    """Plan digests for staff who owe topics and reminders for tomorrow's sessions."""
    result = Plan()
    opts: PdOptions = job.options
    sessions = read_sessions(job, result, opts.session_minutes)
    staff = read_staff(job, result)
    upcoming = [s for s in sessions if s.start >= job.now]
    # Shared by every digest: the next sessions of each topic, as template values.
    next_sessions: dict[str, list[dict[str, Any]]] = {t.code: [] for t in TOPICS}
    for session in upcoming:
        listed = next_sessions[session.topic.code]
        if len(listed) < opts.sessions_listed:
            listed.append(session.context())
    topic_context = {
        t.code: {"code": t.code, "name": t.name, "sessions": next_sessions[t.code]} for t in TOPICS
    }
    for topic in TOPICS:
        if not next_sessions[topic.code]:
            result.problems.append(f"no upcoming {topic.name} session on the Sessions tab")
    listed_ids = {s["id"] for listed in next_sessions.values() for s in listed}
    for session in sessions:
        on = day_words(session.start.date())
        if session.pending:
            then = "its reminders go out"
            status = pending_status("Session ID", session.id, session.pending, then)
        elif session.start < job.now:
            status = f"Past session ({on})"
        elif session.id in listed_ids:
            status = f"Listed in reminders ({session.topic.code} {session.topic.name}, {on})"
        else:
            status = f"Upcoming ({on}): listed once earlier sessions have passed"
        result.writes.append(write(SHEET, session.ref, "Status", status))

    for person in staff:
        _plan_staff(job, opts, person, topic_context, result)
    result.actions.extend(_session_reminders(job, opts, upcoming, staff, result))
    return result


def _plan_staff(
    job: JobInput,
    opts: PdOptions,
    person: Staff,
    topic_context: Mapping[str, Mapping[str, Any]],
    result: Plan,
) -> None:
    """One staff row: a digest when due, else a status saying why not."""
    today = job.today
    note = f". Check: {person.note}" if person.note else ""
    owed = _names(person.owed)
    result.writes.append(write(SHEET, person.ref, "Outstanding", owed))
    if not person.owed:
        result.writes.append(write(SHEET, person.ref, "Status", "All four topics completed"))
        return
    if person.reminders_sent >= opts.reminder_limit:
        status = f"Reminder limit reached ({opts.reminder_limit} sent); still owes {owed}"
        result.writes.append(write(SHEET, person.ref, "Status", status))
        return
    if person.last_reminded is not None:
        due = person.last_reminded + dt.timedelta(days=opts.cooldown_days)
        if today < due:
            status = (
                f"Owes {plural(len(person.owed), 'topic')}; reminded "
                f"{person.last_reminded.isoformat()}, next reminder on or after {due.isoformat()}"
            )
            result.writes.append(write(SHEET, person.ref, "Status", status + note))
            return
    number = person.reminders_sent + 1
    # The count and the date of the previous reminder make the key: a rerun after a
    # crash finds this digest already sent; the next due digest gets a new key.
    previous = person.last_reminded.isoformat() if person.last_reminded else "never"
    message = Message(
        key=message_key(NAME, person.id, "digest", number, previous, person.email.casefold()),
        template="pd_digest",
        language=person.language,
        to=(person.email,),
        # Beyond the name (filled in after rendering) only what they owe varies: equal
        # digests render once, which keeps 75,000 rows fast (see Renderer.render).
        context={
            "name": person.name,
            "topics": [topic_context[t.code] for t in person.owed],
            "contact": opts.pd_contact,
            "reminder_number": number,
            "reminder_limit": opts.reminder_limit,
        },
    )
    status = f"Reminder {number} of {opts.reminder_limit} sent {today.isoformat()}: owes {owed}"
    result.actions.append(
        Action(
            description=f"PD digest {number} to staff {person.id}",
            messages=[message],
            on_success=[
                write(SHEET, person.ref, "Last Reminded", today.isoformat()),
                write(SHEET, person.ref, "Reminders Sent", number),
                write(SHEET, person.ref, "Status", status + note),
            ],
            status=StatusCell(SHEET, person.ref),
        )
    )


def _domain(settings: Settings) -> str:
    return address_of(settings.mail.organizer).rpartition("@")[2] or "mou.invalid"


def _session_reminders(
    job: JobInput,
    opts: PdOptions,
    upcoming: Sequence[Session],
    staff: Sequence[Staff],
    result: Plan,
) -> list[Action]:
    """The day before a session, remind everyone registered for it, with its invite."""
    table = job.table(SHEET, "Registrations")
    if table is None or not opts.session_reminder_days:
        return []
    by_id = {s.id.casefold(): s for s in upcoming if not s.pending}
    by_employee = {p.id.casefold(): p for p in staff}
    by_email = {p.email.casefold(): p for p in staff}
    known = {row.text("Session ID").casefold() for row in job.table(SHEET, "Sessions") or []}
    known |= set(by_id)
    registered: dict[str, dict[str, tuple[str, str, Language]]] = {}
    for row in table:
        session_id = row.text("Session ID").casefold()
        if session_id not in known:
            result.problems.append(
                f"Registrations row {row.number}: Session ID {row.text('Session ID')!r} "
                "is not on the Sessions tab"
            )
            continue
        session = by_id.get(session_id)
        if session is None:
            continue  # past or unusable session
        days = (session.start.date() - job.today).days
        if not 0 <= days <= opts.session_reminder_days:
            continue
        person = (
            by_employee.get(row.text("Employee ID").casefold()) if row.text("Employee ID") else None
        )
        if person is None and row.text("Email"):
            person = by_email.get(row.text("Email").casefold())
        if person is not None:
            who = (person.email, person.name, person.language)
        else:
            try:
                email = parse_email(row["Email"])
            except ValueError:
                result.problems.append(
                    f"Registrations row {row.number}: no staff member with Employee ID "
                    f"{row.text('Employee ID')!r} and no valid Email"
                )
                continue
            who = (email, "", ENGLISH)
        registered.setdefault(session.id, {}).setdefault(who[0].casefold(), who)
    actions = []
    for session in upcoming:
        people = registered.get(session.id)
        if not people:
            continue
        messages = []
        for address, (email, name, language) in sorted(people.items()):
            invite = InviteSpec(
                uid=f"{session.id}.pd@{_domain(job.settings)}",
                sequence=0,
                method="REQUEST",
                start=session.start,
                end=session.end,
                summary=session.title,
                location=session.location,
                url=session.join_link,
                description=f"MOU {session.topic.code}: {session.topic.name}",
                attendees=(Attendee(email, name),),
            )
            messages.append(
                Message(
                    key=message_key(NAME, session.id, "session-reminder", address),
                    template="pd_session_reminder",
                    language=language,
                    to=(email,),
                    context={"name": name, "session": session.context()},
                    invite=invite,
                )
            )
        actions.append(
            Action(
                description=f"reminder for PD session {session.id} on {session.start:%Y-%m-%d}",
                messages=messages,
                on_success=[
                    write(
                        SHEET,
                        session.ref,
                        "Status",
                        f"Reminder sent to {len(messages)} registered "
                        + ("person" if len(messages) == 1 else "people"),
                    )
                ],
                status=StatusCell(SHEET, session.ref),
                # The ledger knows the session by ID, date and time: a lost ID is found again.
                state=(
                    f"session:{session.id}",
                    {"date": session.start.date().isoformat(), "start": f"{session.start:%H:%M}"},
                ),
            )
        )
    return actions


def samples(settings: Settings, opts: PdOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    zone = settings.timezone
    start = dt.datetime(2027, 3, 3, 15, 30, tzinfo=zone)
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
    contexts = {
        "pd_digest": {
            "name": "Ana",
            "topics": topics,
            "contact": opts.pd_contact,
            "reminder_number": 1,
            "reminder_limit": opts.reminder_limit,
        },
        "pd_session_reminder": {"name": "Ana", "session": session},
    }
    return [
        Message(f"sample/{template}", template, ENGLISH, ("sample@example.org",), context)
        for template, context in contexts.items()
    ]


JOB = Job(
    name=NAME,
    summary="Staff PD (MOU 5.0 a–d): a digest of the topics each person still owes, "
    "session reminders with calendar invites",
    default_schedule="weekdays at 06:30",
    tabs=tabs,
    options=options,
    plan=plan,
    samples=samples,
)
