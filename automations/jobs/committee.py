"""The committee spreadsheet's Members and Meetings tabs, and how their rows are read.

Shared by the jobs that mail the committee and by the tracker that counts its meetings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.jobs.declare import columns
from automations.jobs.events import Event, EventRow, read_events
from automations.jobs.people import Person, read_people
from automations.jobs.rows import Reading, one_of
from automations.mou import APPOINTERS, GROUP_ALIASES, GROUPS, SIDE_ALIASES
from automations.plan import JobInput
from automations.sheets.contract import Column, Row, TabSpec

SHEET = "committee"
MEMBERS = TabSpec(
    "Members",
    columns("Name*", "Email*", "Group*", "Appointed By", "Language", "Active!", "Status+"),
    key="Email",
    fingerprint=("Name",),
)
MEETINGS = TabSpec(
    "Meetings",
    columns(
        *("Meeting ID", "Date*", "Start Time*", "End Time", "Location", "Online Link", "Agenda"),
        Column("Cancelled", controls=True, aliases=("Canceled",)),
        *("Invite Sent+", "Invite Version+", "Reminder Sent+", "Responses+", "Status+"),
    ),
    key="Meeting ID",
    fingerprint=("Date", "Start Time"),
)


def _member_fields(row: Row) -> tuple[dict[str, str], list[str]]:
    """A member's Group and Appointed By (a parent's appointing side)."""
    group = one_of(row, "Group", GROUPS, GROUP_ALIASES)
    notes = []
    appointed = ""
    if row.text("Appointed By"):
        appointed = one_of(row, "Appointed By", APPOINTERS, SIDE_ALIASES)
    elif group == "Parent":
        notes.append("Appointed By is blank (a parent member is appointed by District or UTLA)")
    return {"group": group, "appointed_by": appointed}, notes


def read_members(given: JobInput[Any]) -> Reading[Person]:
    """Active, mailable members; every row gets a status saying how it is used."""
    return read_people(
        given,
        SHEET,
        MEMBERS,
        consent="Active",
        mailed="Active: invitations in {language}",
        not_mailed="Inactive: not invited",
        name_required=True,
        fields=_member_fields,
        who="member",
    )


def roster_of(members: Sequence[Person]) -> list[tuple[str, str, str]]:
    """Members as the roster rule counts them: (email, group, appointed by)."""
    return [(m.email, m.fields["group"], m.fields["appointed_by"]) for m in members]


@dataclass(frozen=True, kw_only=True)
class Meeting(Event):
    """A meeting row read and checked."""

    location: str
    online_link: str
    agenda: str
    # The open recommendations listed under the Agenda (see jobs.recommendations).
    recommendations: tuple[Mapping[str, Any], ...] = ()

    def context(self) -> dict[str, Any]:
        """Template variables describing the meeting."""
        return {
            "id": self.id,
            "start": self.start,
            "end": self.end,
            "location": self.location,
            "online_link": self.online_link,
            "agenda": self.agenda,
            "recommendations": list(self.recommendations),
        }


def _meeting(row: EventRow) -> Meeting:
    start, end = row.times()
    link = row.link("Online Link")
    return Meeting(
        **row.base,
        start=start,
        end=end,
        location=row.text("Location"),
        online_link=link,
        agenda=row.text("Agenda"),
        cancelled=row.cancelled(),
    )


def read_meetings(given: JobInput[Any], minutes: int) -> Reading[Meeting]:
    """Meetings whose rows are usable; bad rows get an Error status."""
    return read_events(
        given, SHEET, MEETINGS, kind="meeting", prefix="CM", minutes=minutes, parse=_meeting
    )
