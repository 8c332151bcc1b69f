"""Calendar invitations (.ics) with the icalendar library: REQUEST, updates, CANCEL."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event, vCalAddress, vText

from automations.cells import strip_bidi
from automations.plan import InviteSpec

PRODID = "-//LAUSD-UTLA MOU automations//EN"


def _address(email: str, name: str = "") -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if strip_bidi(name):
        address.params["CN"] = vText(strip_bidi(name))
    return address


def join_description(description: str, url: str) -> str:
    """The event's description with its join link on a line of its own at the end."""
    text = description.strip()
    if not url or url in text:
        return text
    return f"{text}\n\n{url}" if text else url


def build_ics(
    invite: InviteSpec,
    organizer: tuple[str, str],
    now: dt.datetime,
    summary: str | None = None,
) -> bytes:
    """Serialise `invite` as an iCalendar object with METHOD, VTIMEZONE and attendees."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", invite.method)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", invite.start)
    event.add("dtend", invite.end)
    event.add("summary", strip_bidi(summary or invite.summary))
    # Outlook and Google Calendar never show URL: the join link goes in LOCATION when
    # there is no room, and always in DESCRIPTION, or an online meeting shows no link.
    location = invite.location or invite.url
    if location:
        event.add("location", location)
    if invite.url:
        event.add("url", invite.url)
    description = join_description(invite.description, invite.url)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if invite.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    name, email = organizer
    event.add("organizer", _address(email, name))
    for attendee in invite.attendees:
        address = _address(attendee.email, attendee.name)
        address.params["ROLE"] = vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    # A year either side gives both the standard and daylight rules, not 1970-2038.
    calendar.add_missing_timezones(
        first_date=invite.start.date() - dt.timedelta(days=366),
        last_date=invite.end.date() + dt.timedelta(days=366),
    )
    return calendar.to_ical()
