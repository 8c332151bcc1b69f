"""A row is acted on only under an ID stored in its sheet; a lost ID comes back from the
ledger; an invited row that disappears is reported; a cancelled meeting can come back on."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path
from typing import Any

import openpyxl
from icalendar import Calendar

from automations.errors import SheetError
from automations.jobs import committee_invites
from automations.ledger import Ledger
from automations.mail.outbox import OutboxMailer
from automations.render import Renderer
from automations.runner import Runner
from automations.sheets.workbook import WorkbookSpreadsheet
from tests.fixtures.workbooks import TODAY, Env, records

JOB = committee_invites.JOB


class Locked:
    """A workbook that cannot be saved (open in Excel) for its first `refusals` writes."""

    def __init__(self, inner: WorkbookSpreadsheet, refusals: int, emls: Any) -> None:
        self.inner, self.refusals, self.emls = inner, refusals, emls
        self.writes: list[tuple[list[str], int]] = []  # (columns written, messages out by then)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, writes, specs, run_log):
        self.writes.append(([w.column for w in writes], len(self.emls())))
        if self.refusals:
            self.refusals -= 1
            raise SheetError(
                "cannot save the workbook ([Errno 13] Permission denied); is it open in "
                "another program?",
                spreadsheet=self.inner.describe(),
            )
        return self.inner.write(writes, specs, run_log)


def runner(demo: Env, refusals: int = 0, lines: list[str] | None = None) -> tuple[Runner, dict]:
    """A runner on the demo whose workbooks refuse their first `refusals` writes each."""
    settings = demo.settings
    opened: dict[str, Locked] = {}

    def spreadsheet(name: str) -> Locked:
        inner = WorkbookSpreadsheet(name, settings.spreadsheets[name].path, settings.names)
        opened[name] = Locked(inner, refusals, demo.emls)
        return opened[name]

    return (
        Runner(
            settings,
            spreadsheet,
            OutboxMailer(settings.mail.outbox_dir),
            Ledger(settings.state_dir / "ledger.sqlite3"),
            Renderer(settings.templates_dir),
            clock=lambda: dt.datetime.combine(TODAY, dt.time(7, 0), settings.timezone),
            out=(lines.append if lines is not None else lambda line: None),
        ),
        opened,
    )


def edit_meeting(path: Path, number: int, **values: Any) -> None:
    """Set cells of data row `number` (1 = first meeting) of the Meetings tab, by header."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Meetings"]
    header = [c.value for c in sheet[1]]
    for column, value in values.items():
        sheet.cell(row=number + 1, column=header.index(column.replace("_", " ")) + 1).value = value
    workbook.save(path)


def delete_meeting(path: Path, number: int) -> None:
    workbook = openpyxl.load_workbook(path)
    workbook["Meetings"].delete_rows(number + 1)
    workbook.save(path)


def committee_mail(demo: Env, since: set[Path] = frozenset()) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in demo.emls()
        if p.name.startswith("committee-invites") and p not in since
    ]


def event(message: email.message.EmailMessage) -> Any:
    (part,) = [
        p
        for p in message.walk()
        if p.get_content_type() == "text/calendar" and p.get_filename() == "invite.ics"
    ]
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    (found,) = calendar.walk("VEVENT")
    return calendar, found


def first_meeting(demo: Env) -> dict[str, Any]:
    return records(demo.committee, "Meetings")[0]


# -- IDs are stored before anything is sent under them -----------------------------------


def test_new_meeting_ids_are_saved_before_any_invitation_goes_out(demo):
    run, opened = runner(demo)
    result = run.run(JOB)
    assert result.sent == 8 and result.error is None
    columns, messages_by_then = opened["committee"].writes[0]
    assert set(columns) == {"Meeting ID"} and messages_by_then == 0
    ident = first_meeting(demo)["Meeting ID"]
    uids = {str(event(m)[1]["UID"]) for m in committee_mail(demo)}
    assert uids == {f"{ident}.committee@example.org"}


def test_meeting_id_that_cannot_be_saved_holds_its_invitations_back(demo):
    lines: list[str] = []
    run, _ = runner(demo, refusals=5, lines=lines)
    result = run.run(JOB)
    assert result.sent == 0 and committee_mail(demo) == []
    assert result.exit_code == 1
    error = result.error
    assert error.startswith("Meeting ID CM-")
    assert "not saved (spreadsheet 'committee'" in error and "open in another program" in error
    assert error.endswith("nothing is sent for those rows until the ID is in the sheet")
    assert lines == [f"committee-invites: sent 0, skipped 0, failed 0; {error}"]
    again, _ = runner(demo)
    assert again.run(JOB).sent == 8


def test_id_never_saved_then_date_changed_sends_no_second_invitation(demo):
    """The issue's case: the ID does not reach the sheet, then staff move the meeting."""
    run, _ = runner(demo, refusals=5)
    run.run(JOB)
    moved = (TODAY + dt.timedelta(days=18)).strftime("%-m/%-d/%Y")
    edit_meeting(demo.committee, 1, Date=moved)
    runner(demo)[0].run(JOB)
    runner(demo)[0].run(JOB)
    sent = committee_mail(demo)
    assert len(sent) == 8
    ident = first_meeting(demo)["Meeting ID"]
    assert {str(event(m)[1]["UID"]) for m in sent} == {f"{ident}.committee@example.org"}


def test_meeting_whose_id_was_cleared_gets_the_ledgers_id_back(demo):
    edit_meeting(demo.committee, 1, Meeting_ID="DEC-MEETING")  # typed by staff
    first, _ = runner(demo)
    assert first.run(JOB).sent == 8
    edit_meeting(demo.committee, 1, Meeting_ID=None)  # a save from a stale copy
    lines: list[str] = []
    again, _ = runner(demo, lines=lines)
    result = again.run(JOB)
    assert result.sent == 0
    row = first_meeting(demo)
    assert row["Meeting ID"] == "DEC-MEETING"
    assert row["Status"] == "Invitation sent to 8 members (version 1)"
    assert any("had lost its Meeting ID; DEC-MEETING" in p for p in result.problems)


def test_meeting_row_with_an_unreadable_date_gets_no_id(demo):
    edit_meeting(demo.committee, 2, Date="Dec 14", Start_Time="4:30 PM")
    runner(demo)[0].run(JOB)
    row = records(demo.committee, "Meetings")[1]
    assert row["Meeting ID"] is None
    assert row["Status"].startswith('Error: Date "Dec 14"')


# -- rows that disappear -------------------------------------------------------------------


def test_deleting_an_invited_meetings_row_alerts_the_co_chairs_once(demo):
    run, _ = runner(demo)
    run.run(JOB)
    ident = first_meeting(demo)["Meeting ID"]
    delete_meeting(demo.committee, 1)
    before = set(demo.emls())
    result = runner(demo)[0].run(JOB)
    alerts = committee_mail(demo, before)
    assert sorted(str(m["To"]) for m in alerts) == [
        "cochair.district@example.org",
        "cochair.utla@example.org",
    ]
    body = alerts[0].get_body(("plain",)).get_content()
    assert str(alerts[0]["Subject"]).startswith(f"Row missing: committee meeting {ident}")
    assert "the invitation (version 1) to 8 members" in body
    assert "restore it and mark it Cancelled" in body
    assert any(ident in p and "restore the row or mark it Cancelled" in p for p in result.problems)
    assert not [m for m in alerts if "Cancelled:" in str(m["Subject"])]
    assert runner(demo)[0].run(JOB).sent == 0


# -- un-cancelling --------------------------------------------------------------------------


def test_meeting_back_on_after_its_cancellation_tells_members_so(demo):
    runner(demo)[0].run(JOB)
    edit_meeting(demo.committee, 1, Cancelled="Yes")
    assert runner(demo)[0].run(JOB).sent == 8
    edit_meeting(demo.committee, 1, Cancelled="No")
    before = set(demo.emls())
    assert runner(demo)[0].run(JOB).sent == 8
    back = committee_mail(demo, before)
    subjects = {str(m["Subject"]).split(":")[0] for m in back}
    assert subjects == {"Back on", "Vuelve a celebrarse"}
    for message in back:
        body = message.get_body(("plain",)).get_content()
        assert "(it was" not in body and "(antes" not in body
        calendar, found = event(message)
        assert calendar["METHOD"] == "REQUEST" and found["SEQUENCE"] == 2
    assert first_meeting(demo)["Status"] == (
        "Back on: invitation sent again to 8 members (version 3)"
    )


# -- the same on Google Sheets ----------------------------------------------------------------


def test_google_write_failure_holds_back_rows_whose_id_is_new(google_demo, sheets_api):
    google = google_demo()
    sheets_api.fail("values.batchUpdate", 503, times=None)
    first = google.runner(out=lambda line: None).run(JOB, TODAY)
    assert first.sent == 0
    assert first.error.startswith("Meeting ID CM-")
    sheets_api.faults.clear()
    second = google.runner(out=lambda line: None).run(JOB, TODAY)
    assert second.sent == 8
    assert all(r["Meeting ID"] for r in google.records("committee", "Meetings"))


def test_ids_of_rows_with_nothing_to_send_yet_go_with_the_statuses(demo):
    edit_meeting(demo.committee, 1, Meeting_ID="DEC-MEETING")  # the one due now has its ID
    run, opened = runner(demo)
    assert run.run(JOB).sent == 8
    (only,) = opened["committee"].writes  # one write: statuses, new IDs and the Run Log
    assert only[0].count("Meeting ID") == 3
    ids = [r["Meeting ID"] for r in records(demo.committee, "Meetings")]
    assert ids[0] == "DEC-MEETING" and all(i.startswith("CM-") for i in ids[1:])
    later = records(demo.committee, "Meetings")[1]["Status"]
    assert later.startswith("Scheduled for ") and "invitations go out on" in later
