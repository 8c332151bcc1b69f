"""Committee meetings as real Exchange events through the Microsoft 365 mailer."""

from __future__ import annotations

import datetime as dt

import openpyxl

from automations.jobs import committee_invites
from automations.ledger import Ledger
from tests.fixtures.mail import MAILBOX, SimClock, mail_runner
from tests.fixtures.workbooks import TODAY, records

UID = "CM-20261210.committee@example.org"
EVENTS = f"/v1.0/users/{MAILBOX}/calendar/events"


def at(day: dt.date, settings) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(7, 0), settings.timezone)


def run(demo, mailer, clock: SimClock, day: dt.date = TODAY):
    settings = demo.settings
    runner = mail_runner(settings, mailer, clock, now=at(day, settings))
    try:
        return runner.run(committee_invites.JOB)
    finally:
        runner.ledger.close()


def edit_meeting(demo, **values: object) -> None:
    """Change cells of the first Meetings row (by header)."""
    book = openpyxl.load_workbook(demo.committee)
    sheet = book["Meetings"]
    headers = [c.value for c in sheet[1]]
    for header, value in values.items():
        sheet.cell(row=2, column=headers.index(header) + 1, value=value)
    book.save(demo.committee)


def meeting(demo) -> dict:
    return records(demo.committee, "Meetings")[0]


def invite_mails(graph) -> list:
    return [
        r
        for r in graph.state.calls("POST", "sendMail")
        if "Committee" in str(r.body) and "ics" in str(r.body)
    ]


def test_first_invitation_is_one_exchange_meeting_with_every_member(demo, graph, m365, clock):
    result = run(demo, m365(), clock)
    assert (result.sent, result.failed) == (8, 0)
    (create,) = graph.state.calls("POST", "/calendar/events")
    assert create.path == EVENTS
    body = create.body
    assert len(body["attendees"]) == 8
    assert {"address": "mj.hernandez@example.org", "name": "María José Hernández"} in [
        a["emailAddress"] for a in body["attendees"]
    ]
    assert body["start"]["dateTime"].startswith("2026-12-10T16:30")
    assert body["start"]["timeZone"] == "Pacific Standard Time"
    assert body["transactionId"]
    assert "Safe Zones bulletin update" in body["body"]["content"]
    assert invite_mails(graph) == []  # Exchange sends the invitations, not us
    ledger = Ledger(demo.settings.state_dir / "ledger.sqlite3")
    event = ledger.event(UID)
    assert event is not None and event.event_id == next(iter(graph.state.events))
    sent = ledger.history("committee-invites").sent
    assert len([k for k in sent if "/request/0/" in k]) == 8
    assert meeting(demo)["Status"].startswith("Invitation sent to 8 members (version 1)")


def test_a_rerun_touches_no_event(demo, graph, m365, clock):
    run(demo, m365(), clock)
    before = len(graph.state.requests)
    again = run(demo, m365(), clock)
    assert again.sent == 0
    writes = [r for r in graph.state.requests[before:] if r.method != "GET"]
    assert writes == []


def test_a_changed_date_patches_the_same_event(demo, graph, m365, clock):
    run(demo, m365(), clock)
    edit_meeting(demo, Date="12/11/2026", **{"Start Time": "5 PM", "End Time": "6:30 PM"})
    result = run(demo, m365(), clock)
    assert (result.sent, result.failed) == (8, 0)
    assert len(graph.state.calls("POST", "/calendar/events")) == 1
    (patch,) = graph.state.calls("PATCH", "/events/")
    assert patch.body["start"]["dateTime"].startswith("2026-12-11T17:00")
    (event,) = graph.state.events.values()
    assert event["start"]["dateTime"].startswith("2026-12-11T17:00")
    assert "Update sent to 8 members" in meeting(demo)["Status"]


def test_cancelled_yes_cancels_the_event_once(demo, graph, m365, clock):
    run(demo, m365(), clock)
    edit_meeting(demo, Cancelled="Yes")
    result = run(demo, m365(), clock)
    assert result.sent == 8
    (cancel,) = graph.state.calls("POST", "/cancel")
    (event,) = graph.state.events.values()
    assert cancel.path.endswith(f"/events/{event['id']}/cancel") and event["isCancelled"]
    assert run(demo, m365(), clock).sent == 0
    assert len(graph.state.calls("POST", "/cancel")) == 1
    assert meeting(demo)["Status"].startswith("Cancelled")


def test_attendee_responses_are_read_back_into_the_sheet(demo, graph, m365, clock):
    run(demo, m365(), clock)
    (event_id,) = graph.state.events
    for address in ("a.ruiz@example.org", "d.washington@example.org", "h.park@example.org"):
        graph.state.respond(event_id, address, "accepted")
    graph.state.respond(event_id, "t.aguilar@example.org", "declined")
    graph.state.respond(event_id, "g.okafor@example.org", "tentativelyAccepted")
    run(demo, m365(), clock, TODAY + dt.timedelta(days=1))
    row = meeting(demo)
    assert row["Responses"] == "3 accepted, 1 tentative, 1 declined, 3 no reply"
    assert "declined: Tomás Aguilar" in row["Status"]


def test_responses_survive_a_graph_outage(demo, graph, m365, clock):
    run(demo, m365(), clock)
    (event_id,) = graph.state.events
    graph.state.respond(event_id, "a.ruiz@example.org", "accepted")
    run(demo, m365(), clock)
    graph.state.fail(500, 10, method="GET", path="/events/")
    result = run(demo, m365(), clock)
    assert result.error is None
    assert meeting(demo)["Responses"] == "1 accepted, 7 no reply"


def test_switching_back_to_the_outbox_sends_no_invitation_again(demo, graph, m365, clock):
    run(demo, m365(), clock)
    again = demo.runner().run(committee_invites.JOB)
    assert again.sent == 0
    assert demo.emls() == []


def test_online_meetings_ask_exchange_for_a_teams_link(demo, graph, m365, clock):
    run(demo, m365(online_meetings=True), clock)
    (create,) = graph.state.calls("POST", "/calendar/events")
    assert create.body["isOnlineMeeting"] in (True, "true")  # O365 sends "true"
    (event,) = graph.state.events.values()
    assert event["onlineMeeting"]["joinUrl"].startswith("https://")
    assert create.body["onlineMeetingProvider"] == "teamsForBusiness"


def test_calendar_events_off_mails_ics_invitations_instead(demo, graph, m365, clock):
    result = run(demo, m365(calendar_events=False), clock)
    assert result.sent == 8
    assert graph.state.calls("POST", "/calendar/events") == []
    assert len(graph.state.calls("POST", "sendMail")) == 8


def test_a_failed_event_write_marks_the_meeting_and_is_retried_next_run(demo, graph, m365, clock):
    graph.state.fail(500, 1, method="POST", path="/calendar/events")
    first = run(demo, m365(), clock)
    assert (first.sent, first.failed) == (0, 8)
    assert meeting(demo)["Status"].startswith("Error: calendar event not saved")
    second = run(demo, m365(), clock)
    assert (second.sent, second.failed) == (8, 0)
    assert len(graph.state.events) == 1


def test_a_run_that_stopped_after_creating_the_event_does_not_create_a_second(
    demo, graph, m365, clock
):
    run(demo, m365(), clock)
    # Forget the outcome, as if the process died right after Graph answered.
    ledger = Ledger(demo.settings.state_dir / "ledger.sqlite3")
    ledger._db.execute("DELETE FROM events")
    ledger._db.execute("UPDATE sends SET state = 'intent'")
    ledger._db.execute("DELETE FROM entity_state")
    ledger.close()
    result = run(demo, m365(), clock)
    assert result.sent == 8
    assert len(graph.state.calls("POST", "/calendar/events")) == 2
    assert len(graph.state.events) == 1  # the transactionId made Graph return the same event


def test_429_storm_on_event_creation_makes_one_event(demo, graph, m365, clock):
    graph.state.fail(429, 3, retry_after=20, method="POST", path="/calendar/events")
    result = run(demo, m365(), clock)
    assert result.sent == 8
    assert len(graph.state.events) == 1
    assert clock.slept >= 60


def test_the_events_migration_upgrades_an_existing_ledger(tmp_path):
    import sqlite3

    from automations.ledger import MIGRATIONS
    from automations.plan import AttendeeResponse

    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute(
        "INSERT INTO sends VALUES ('k', 'committee-invites', '<m>', 1, 'sent', '', '', "
        "'2026-11-30T07:00:00-08:00', '2026-11-30T07:00:00-08:00')"
    )
    db.commit()
    db.close()
    ledger = Ledger(path)
    assert ledger._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert ledger.history("committee-invites").sent == frozenset({"k"})
    start = dt.datetime(2026, 12, 10, 16, 30, tzinfo=dt.UTC)
    ledger.save_event(UID, "committee-invites", "AAMk1", 0, False, start, start)
    ledger.save_responses(UID, [AttendeeResponse("a@x.org", "Ana", "accepted")], start)
    event = ledger.event(UID)
    assert event is not None and event.event_id == "AAMk1" and not event.cancelled
    assert event.responses == (AttendeeResponse("a@x.org", "Ana", "accepted"),)
    assert [e.uid for e in ledger.events("committee-invites")] == [UID]
    ledger.close()
