"""The PD spreadsheet's tabs and how their rows are read: Sessions, Staff (what each
person completed) and the optional Registrations tab (who signed up for which session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automations.cells import parse_date, parse_email, parse_yes_no
from automations.errors import RowProblem
from automations.jobs.declare import columns
from automations.jobs.events import Event, EventRow, read_events
from automations.jobs.people import Languages
from automations.jobs.rows import Reading, cell, duplicates, row_ref, rows_phrase, whole_number
from automations.languages import ENGLISH, Language
from automations.mou import TOPICS, Topic, parse_topic, read_completions
from automations.plan import Attendee, InviteSpec, JobInput
from automations.sheets.contract import Row, RowRef, TabSpec

SHEET = "pd"
SESSIONS = TabSpec(
    "Sessions",
    columns(
        *("Session ID", "Topic*", "Title", "Date*", "Start Time*", "End Time", "Location"),
        *("Join Link", "Registration Link", "Status+"),
    ),
    key="Session ID",
    fingerprint=("Topic", "Date", "Start Time"),
)


# Topic columns are required: a misspelt header must stop the job, not remind
# 75,000 people of a topic they already completed.
STAFF = TabSpec(
    "Staff",
    columns(
        *("Employee ID*", "Name", "Email*", "Site", "Active!", "Language"),
        *(f"{t.name}*" for t in TOPICS),
        *("Last Reminded+", "Reminders Sent+", "Outstanding+", "Status+"),
    ),
    key="Employee ID",
)
REGISTRATIONS = TabSpec(
    "Registrations", columns("Session ID*", "Employee ID", "Email"), optional=True
)


@dataclass(frozen=True, kw_only=True)
class Session(Event):
    """A PD session row read and checked. While its ID is pending, digests may list it,
    but no reminder (whose calendar UID is made from the ID) goes out."""

    topic: Topic
    title: str
    location: str
    join_link: str
    registration_link: str

    def invite(self, domain: str, attendee: Attendee) -> InviteSpec:
        """The session's calendar invitation for one person (its UID: ID and `domain`)."""
        return InviteSpec(
            uid=f"{self.id}.pd@{domain}",
            sequence=0,
            method="REQUEST",
            start=self.start,
            end=self.end,
            summary=self.title,
            location=self.location,
            url=self.join_link,
            description=f"MOU {self.topic.code}: {self.topic.name}",
            attendees=(attendee,),
        )

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


def _session(row: EventRow) -> Session:
    topic = parse_topic(row.text("Topic"))
    if topic is None:
        names = ", ".join(t.name for t in TOPICS)
        raise RowProblem(f'Topic "{row.text("Topic")}" is not one of {names} (or 5a–5d)')
    start, end = row.times()
    join, signup = row.link("Join Link"), row.link("Registration Link")
    title, location = row.text("Title") or topic.name, row.text("Location")
    return Session(
        **row.base, start=start, end=end, topic=topic, title=title, location=location,
        join_link=join, registration_link=signup,
    )  # fmt: skip


def read_sessions(given: JobInput[Any], minutes: int) -> Reading[Session]:
    """Sessions whose rows are usable, soonest first; bad rows get an Error status."""

    def prefix(row: Row) -> str:
        topic = parse_topic(row.text("Topic"))
        return f"PD-{topic.code if topic else 'X'}"

    reading = read_events(
        given, SHEET, SESSIONS, kind="session", prefix=prefix, minutes=minutes, parse=_session
    )
    reading.items.sort(key=lambda s: (s.start, s.id))
    return reading


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


def read_staff(given: JobInput[Any]) -> Reading[Staff]:
    """Active, mailable staff; inactive and bad rows get a status and are skipped."""
    table = given.table(SHEET, "Staff")
    assert table is not None
    reading: Reading[Staff] = Reading()
    doubled = duplicates(table, lambda r: r.text("Employee ID"))
    languages = Languages(given.languages)
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
            email = cell(row, "Email", parse_email)
            active = cell(row, "Active", parse_yes_no, default=True)
            last = cell(row, "Last Reminded", parse_date) if row.text("Last Reminded") else None
            count = whole_number(row, "Reminders Sent")
        except RowProblem as problem:
            if ident:
                reading.error(SHEET, ref, problem)
            else:
                reading.problems.append(f"Staff row {row.number}: {problem}")
                reading.skipped += 1
            continue
        if not active:
            reading.status(SHEET, ref, "Inactive: not reminded")
            continue
        completions = read_completions(row.values, given.today)
        if completions.problems:
            # No digest at all: with one topic unreadable, a reminder could name a topic
            # the person did, or leave out one they owe. A person settles the cell first.
            problem = "; ".join(completions.problems)
            reading.error(SHEET, ref, f"{problem}. No reminder is sent until it is fixed")
            continue
        choice = languages.choose(row.text("Language"))
        reading.items.append(
            Staff(row, ref, ident, row.text("Name"), email, choice.used, choice.note,
                  completions.owed, last, count)
        )  # fmt: skip
    return reading


def registered(
    given: JobInput[Any], upcoming: Sequence[Any], staff: Sequence[Staff], days: int
) -> tuple[dict[str, dict[str, tuple[str, str, Language]]], list[str]]:
    """Who registered (Registrations tab) for each of the `upcoming` sessions that starts
    within `days`, by session ID and address: (email, name, language); and problems with
    the tab's rows. Sessions whose ID is not stored yet are left out."""
    table = given.table(SHEET, "Registrations")
    problems: list[str] = []
    found: dict[str, dict[str, tuple[str, str, Language]]] = {}
    if table is None or not days:
        return found, problems
    by_id = {s.id.casefold(): s for s in upcoming if not s.pending}
    by_employee = {p.id.casefold(): p for p in staff}
    by_email = {p.email.casefold(): p for p in staff}
    known = {row.text("Session ID").casefold() for row in given.table(SHEET, "Sessions") or []}
    known |= set(by_id)
    for row in table:
        session = by_id.get(row.text("Session ID").casefold())
        if row.text("Session ID").casefold() not in known:
            problems.append(
                f"Registrations row {row.number}: Session ID {row.text('Session ID')!r} "
                "is not on the Sessions tab"
            )
            continue
        if session is None or not 0 <= (session.day - given.today).days <= days:
            continue  # past, unusable, or not due yet
        person = None
        if row.text("Employee ID"):
            person = by_employee.get(row.text("Employee ID").casefold())
        if person is None and row.text("Email"):
            person = by_email.get(row.text("Email").casefold())
        if person is not None:
            who = (person.email, person.name, person.language)
        else:
            try:
                who = (parse_email(row["Email"]), "", ENGLISH)
            except ValueError:
                problems.append(
                    f"Registrations row {row.number}: no staff member with Employee ID "
                    f"{row.text('Employee ID')!r} and no valid Email"
                )
                continue
        found.setdefault(session.id, {}).setdefault(who[0].casefold(), who)
    return found, problems
