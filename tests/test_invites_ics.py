"""Calendar invitations parse back and stay consistent across runs."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import openpyxl
from icalendar import Calendar

from automations.jobs import committee_invites


def invites(folder, since=()):
    found = []
    for path in sorted(folder.glob("*.eml")):
        if path.name in since:
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        if parts:
            found.append((message, parts))
    return found


def event_of(part):
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_invitation_ics_has_every_property_calendars_need(demo):
    demo.runner().run(committee_invites.JOB)
    sent = invites(demo.outbox)
    assert len(sent) == 8
    _, parts = sent[0]
    assert [p.get_param("method") for p in parts] == ["REQUEST", "REQUEST"]
    assert parts[1].get_filename() == "invite.ics"
    calendar, event = event_of(parts[1])
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    (timezone,) = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "America/Los_Angeles"
    assert event["UID"] == "CM-20261210.committee@example.org"
    assert event["SEQUENCE"] == 0
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2026, 12, 10, 16, 30, tzinfo=start.tzinfo)
    assert str(start.tzinfo) == "America/Los_Angeles"
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert event.decoded("DTEND") - start == dt.timedelta(minutes=90)
    assert str(event["ORGANIZER"]) == "mailto:immigrant-support@example.org"
    attendees = event["ATTENDEE"]
    assert len(attendees) == 8
    assert all(a.params["RSVP"] == "TRUE" for a in attendees)
    assert "Beaudry" in str(event["LOCATION"])
    assert str(event["URL"]).startswith("https://")
    assert "Welcome and introductions" in str(event["DESCRIPTION"])


def change_first_meeting(path, column, value):
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Meetings"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index(column) + 1).value = value
    workbook.save(path)


def test_update_keeps_uid_and_bumps_sequence_then_cancel_bumps_again(demo):
    demo.runner().run(committee_invites.JOB)
    first = {p.name for p in demo.outbox.glob("*.eml")}
    change_first_meeting(demo.committee, "Start Time", "5 PM")
    result = demo.runner().run(committee_invites.JOB)
    assert result.sent == 8
    updates = invites(demo.outbox, since=first)
    assert len(updates) == 8
    english = [(m, p) for m, p in updates if m["Subject"].startswith("Changed:")]
    assert len(english) == 7
    message, parts = english[0]
    _, event = event_of(parts[1])
    assert event["UID"] == "CM-20261210.committee@example.org"
    assert event["SEQUENCE"] == 1
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith(
        "WHAT CHANGED:\n- The meeting now starts at 5:00\u202fPM (it was 4:30\u202fPM)."
    )

    second = {p.name for p in demo.outbox.glob("*.eml")}
    change_first_meeting(demo.committee, "Cancelled", "Yes")
    demo.runner().run(committee_invites.JOB)
    cancels = invites(demo.outbox, since=second)
    assert len(cancels) == 8
    calendar, event = event_of(cancels[0][1][1])
    assert calendar["METHOD"] == "CANCEL"
    assert (event["SEQUENCE"], event["STATUS"]) == (2, "CANCELLED")
    assert event["UID"] == "CM-20261210.committee@example.org"


def test_reminder_goes_out_once_on_a_later_day(demo):
    demo.runner().run(committee_invites.JOB)
    later = dt.datetime(2026, 12, 8, 7, 0, tzinfo=demo.settings.timezone)
    reminded = demo.runner(now=later).run(committee_invites.JOB)
    assert reminded.sent == 8
    assert demo.runner(now=later).run(committee_invites.JOB).sent == 0
    subjects = {
        email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"]
        for p in demo.outbox.glob("*.eml")
    }
    assert any(s.startswith("Reminder:") for s in subjects)
    assert any(s.startswith("Recordatorio:") for s in subjects)
