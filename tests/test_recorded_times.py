"""Times the tool records (Invite Sent, Agenda Sent, Reminder Sent, Last Reminded, the Run
Log's When) are real date cells staff can sort, shown like `Dec 1, 2026 4:58 PM` in the
configured zone, on workbooks and on Google; the tool reads them back, and the ISO text
older runs wrote, to the same instant (issue 13, "Sheet values staff read")."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from automations.cells import parse_date, parse_stamp, same_stamp, serial_number, wall_time
from automations.jobs import registry
from automations.ledger import Ledger
from automations.rebuild import ran_since
from automations.sheets.contract import (
    RUN_LOG_TAB,
    CellWrite,
    Column,
    Names,
    RowRef,
    RunLogEntry,
    TabSpec,
)
from automations.sheets.workbook import WorkbookSpreadsheet
from automations.writeback import merge
from tests.fixtures.excel_files import excel_workbook, parts_of
from tests.fixtures.workbooks import TODAY, make_table, records

LA = ZoneInfo("America/Los_Angeles")
SHOWN = "mmm d, yyyy h:mm AM/PM"
# Each job's recorded-time columns: (spreadsheet, tab, columns, date-only).
STAMPED = {
    "committee-invites": ("committee", "Meetings", ("Invite Sent",), False),
    "webinar-agendas": ("family", "Webinars", ("Agenda Sent",), False),
    "pd-reminders": ("pd", "Staff", ("Last Reminded",), True),
}
PEOPLE = TabSpec(
    "People",
    (
        Column("Employee ID", required=True),
        Column("Sent At", owned=True),
        Column("Status", owned=True),
    ),
    key="Employee ID",
)


def shown(value: dt.datetime, code: str) -> str:
    """A date cell as Excel shows it with one of the tool's two formats."""
    day = f"{value:%b} {value.day}, {value.year}"
    if code == SHOWN:
        return f"{day} {value.hour % 12 or 12}:{value:%M} {'AM' if value.hour < 12 else 'PM'}"
    assert code == "mmm d, yyyy"
    return day


def stamp(key: str, value: object) -> CellWrite:
    return CellWrite("people", RowRef("People", key), "Sent At", value)


# -- workbooks --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STAMPED)
def test_workbook_recorded_times_are_date_cells_shown_like_dec_1_2026_4_58_pm(name, demo):
    sheet, tab, columns, day_only = STAMPED[name]
    summary = demo.runner().run(registry()[name], TODAY)
    assert summary.error is None and summary.sent
    path = demo.settings.spreadsheets[sheet].path
    book = openpyxl.load_workbook(path)
    header = [c.value for c in book[tab][1]]
    found = []
    for row in book[tab].iter_rows(min_row=2):
        for column in columns:
            cell = row[header.index(column)]
            held = wall_time(cell.value)
            if held is None or held.date() != TODAY:
                continue  # blank, or typed by staff before (the demo's earlier reminders)
            found.append(cell)
            assert cell.is_date, (column, cell.value)
            assert cell.number_format == ("mmm d, yyyy" if day_only else SHOWN)
            # The run's time (7:00 in the configured zone) as staff read it.
            assert isinstance(cell.value, dt.datetime)
            assert cell.value == dt.datetime.combine(TODAY, dt.time(0 if day_only else 7))
            expected = "Nov 30, 2026" if day_only else "Nov 30, 2026 7:00 AM"
            assert shown(cell.value, cell.number_format) == expected
    assert found
    when = book[RUN_LOG_TAB]["A2"]
    assert when.is_date and when.number_format == SHOWN
    assert when.value == dt.datetime.combine(TODAY, dt.time(7))


@pytest.mark.parametrize("name", STAMPED)
def test_a_second_run_sends_nothing_and_rewrites_no_recorded_time(name, demo):
    sheet, tab, columns, _ = STAMPED[name]
    job = registry()[name]
    first = demo.runner().run(job, TODAY)
    assert first.sent
    path = demo.settings.spreadsheets[sheet].path
    before = [{c: r.get(c) for c in columns} for r in records(path, tab)]
    later = dt.datetime.combine(TODAY, dt.time(9, 30), demo.settings.timezone)
    second = demo.runner(now=later).run(job, TODAY)
    assert second.sent == 0
    # The recorded times stay as the first run wrote them (statuses may be reworded).
    assert [{c: r.get(c) for c in columns} for r in records(path, tab)] == before


def test_the_date_format_is_added_to_styles_once_and_every_other_part_is_kept(tmp_path):
    path = excel_workbook(
        tmp_path / "book.xlsx",
        {"People": [["Employee ID", "Sent At", "Status"], ["1"], ["2"]]},
        picture_on="People",
        dropdown_on={"People": "C2:C500"},
    )
    book = WorkbookSpreadsheet("people", path, Names())
    before = parts_of(path)
    moment = dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)
    book.write([stamp("1", moment)], {"People": PEOPLE}, None)
    after = parts_of(path)
    styles, sheet = "xl/styles.xml", "xl/worksheets/sheet1.xml"
    assert {n for n in before if before[n] != after.get(n)} == {sheet, styles}
    old, new = before[styles].decode(), after[styles].decode()
    # styles.xml only gains the number format and one cell format that uses it.
    assert f'formatCode="{SHOWN}"' in new and SHOWN not in old
    assert re.sub(r"<numFmts.*?</numFmts>|<numFmt [^>]*/>|count=\"\d+\"", "", new).replace(
        re.findall(r"<xf [^>]*applyNumberFormat=\"1\"[^>]*/>", new)[-1], "", 1
    ) == re.sub(r"<numFmts.*?</numFmts>|<numFmt [^>]*/>|count=\"\d+\"", "", old)
    cell = openpyxl.load_workbook(path)["People"]["B2"]
    assert cell.is_date and cell.number_format == SHOWN
    assert cell.value == dt.datetime(2026, 12, 1, 16, 58)
    assert shown(cell.value, cell.number_format) == "Dec 1, 2026 4:58 PM"
    # Later times reuse the format: styles.xml does not change again.
    book.write([stamp("2", moment + dt.timedelta(days=1))], {"People": PEOPLE}, None)
    assert parts_of(path)[styles] == after[styles]
    assert openpyxl.load_workbook(path)["People"]["B3"].number_format == SHOWN


def test_the_workbook_reader_gives_back_the_instant_written(tmp_path):
    path = excel_workbook(tmp_path / "book.xlsx", {"People": [["Employee ID"], ["1"], ["2"]]})
    book = WorkbookSpreadsheet("people", path, Names())
    moment = dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)
    book.write([stamp("1", moment), stamp("2", moment.date())], {"People": PEOPLE}, None)
    rows = book.read([PEOPLE])["People"].rows
    assert parse_stamp(rows[0]["Sent At"], LA) == moment
    assert parse_date(rows[1]["Sent At"]) == moment.date()


# -- Google -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STAMPED)
def test_google_recorded_times_are_date_cells_shown_like_dec_1_2026_4_58_pm(name, google_demo):
    sheet, tab, columns, day_only = STAMPED[name]
    google = google_demo()
    job = registry()[name]
    summary = google.runner().run(job, TODAY)
    assert summary.error is None and summary.sent
    grid = google.emulator.sheet(google.ids[sheet], tab)
    header = grid.cells[0]
    found = 0
    for number in range(1, len(grid.cells)):
        for column in columns:
            index = header.index(column)
            value = grid.get(number, index)
            held = wall_time(value)
            if held is None or held.date() != TODAY:
                continue  # blank, or typed by staff before (the demo's earlier reminders)
            found += 1
            assert isinstance(value, int | float), (column, value)
            assert grid.formats[(number, index)] == ("DATE" if day_only else "DATE_TIME")
            expected = "Nov 30, 2026" if day_only else "Nov 30, 2026 7:00 AM"
            assert grid.shown(number, index) == expected
            assert parse_stamp(value, google.settings.timezone) == dt.datetime.combine(
                TODAY, dt.time(0 if day_only else 7), google.settings.timezone
            )
    assert found
    log = google.emulator.sheet(google.ids[sheet], RUN_LOG_TAB)
    assert log.shown(1, 0) == "Nov 30, 2026 7:00 AM"
    # A second run sends nothing and rewrites no recorded time: no format request either.
    google.emulator.reset_log()
    later = dt.datetime.combine(TODAY, dt.time(9, 30), google.settings.timezone)
    again = google.runner(now=later).run(job, TODAY)
    assert again.sent == 0
    assert google.emulator.calls(spreadsheet=google.ids[sheet]).get("batchUpdate", 0) == 0
    assert log.shown(2, 0) == "Nov 30, 2026 9:30 AM"


def test_google_write_formats_the_stamp_cell_and_keeps_values_raw(sheets_api, google_sheet):
    ident = sheets_api.add_spreadsheet(
        "Staff", {"People": [["Employee ID", "Sent At", "Status"], ["1"], ["2"]]}, typed=False
    )
    sheet, _ = google_sheet(ident)
    sheet.read([PEOPLE])
    moment = dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)
    sheet.write(
        [stamp("1", moment), CellWrite("people", RowRef("People", "2"), "Status", "=1+1")],
        {"People": PEOPLE},
        None,
    )
    tab = sheets_api.sheet(ident, "People")
    assert tab.get(1, 1) == pytest.approx(serial_number(moment))
    assert tab.shown(1, 1) == "Dec 1, 2026 4:58 PM"
    assert tab.get(2, 2) == "=1+1"  # statuses still go in raw
    assert parse_stamp(sheet.read([PEOPLE])["People"].rows[0]["Sent At"], LA) == moment


# -- reading what is in the sheets ------------------------------------------------------------


@pytest.mark.parametrize(
    "held",
    [
        "2026-12-01T16:58-08:00",  # what the tool wrote before
        "2026-12-02T00:58:00+00:00",  # the same instant written in UTC
        "Dec 1, 2026 4:58 PM",  # retyped by staff as text
        " dec 1, 2026 4:58 pm ",
        dt.datetime(2026, 12, 1, 16, 58),  # a workbook date cell
        46357.70694444444,  # a Google date cell, read as a serial number
    ],
)
def test_old_iso_text_retyped_text_and_date_cells_read_as_the_same_instant(held):
    assert parse_stamp(held, LA) == dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)


def test_text_that_is_no_time_is_not_read_as_one():
    for held in ("sent", "yes", "", None, True, "Dec 2026", "4:58 PM", -3):
        assert wall_time(held) is None


def test_a_stamp_the_cell_already_shows_is_not_written_again():
    moment = dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)
    rows = [
        {"Employee ID": "1", "Sent At": "2026-12-01T16:58-08:00"},
        {"Employee ID": "2", "Sent At": 46357.70694444444},
        {"Employee ID": "3", "Sent At": "Dec 1, 2026 4:58 PM"},
        {"Employee ID": "4", "Sent At": "2026-11-30T16:58-08:00"},
        {"Employee ID": "5", "Sent At": None},
        {"Employee ID": "6", "Sent At": "2026-12-02T00:58:00+00:00"},  # the same instant
    ]
    tables = {"people": {"People": make_table(PEOPLE, rows, "people")}}
    planned = [stamp(str(n), moment) for n in range(1, 7)]
    kept = merge(tables, earlier=[], planned=planned, completed=[])
    assert [w.row.key for w in kept] == ["4", "5"]
    assert same_stamp(dt.datetime(2026, 11, 30), dt.date(2026, 11, 30))


def test_the_run_log_is_read_in_every_form_its_when_was_written():
    spec = TabSpec(RUN_LOG_TAB, (Column("When"), Column("Job"), Column("Dry Run"), Column("Sent")))
    since = dt.date(2026, 11, 30)
    for when in (
        "2026-11-30T07:00:00-08:00",
        dt.datetime(2026, 11, 30, 7, 0),
        46356.291666666664,
        "Nov 30, 2026 7:00 AM",
    ):
        log = make_table(spec, [{"When": when, "Job": "j", "Dry Run": "No", "Sent": 2}])
        assert ran_since(log, "j", since, sending=True), when
        assert not ran_since(log, "j", since + dt.timedelta(days=1)), when


def test_a_pending_stamp_keeps_its_instant_in_the_ledger(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    moment = dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)
    writes = [stamp("1", moment), stamp("2", moment.date()), stamp("3", "text")]
    ledger.complete("job", writes, None, moment)
    assert [p.write.value for p in ledger.pending("job")] == [moment, moment.date(), "text"]


def test_run_log_when_is_written_as_a_date_cell_in_a_new_tab(tmp_path):
    path = excel_workbook(tmp_path / "book.xlsx", {"People": [["Employee ID"], ["1"]]})
    book = WorkbookSpreadsheet("people", path, Names())
    when = dt.datetime(2026, 12, 1, 16, 58, 41, tzinfo=LA)
    book.write([], {"People": PEOPLE}, RunLogEntry(when, "j", False, 1, 0, 0, "ok"))
    cell = openpyxl.load_workbook(path)[RUN_LOG_TAB]["A2"]
    assert cell.is_date and cell.number_format == SHOWN
    assert shown(cell.value, cell.number_format) == "Dec 1, 2026 4:58 PM"


def test_a_dry_run_shows_a_recorded_time_as_its_cell_will(demo, capsys):
    from tests.test_cli import cli

    args = ("--config", str(demo.config), "run", "committee-invites", "--dry-run")
    code, out, _ = cli(capsys, *args, "--today", str(TODAY))
    assert code == 0
    assert re.search(r"Invite Sent = 'Nov 30, 2026 \d{1,2}:\d\d [AP]M'", out), out


def test_a_1904_workbook_gets_the_same_time(tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    workbook.active.title = "People"
    workbook.active.append(["Employee ID"])
    workbook.active.append(["1"])
    path = tmp_path / "mac.xlsx"
    workbook.save(path)
    book = WorkbookSpreadsheet("people", path, Names())
    moment = dt.datetime(2026, 12, 1, 16, 58, tzinfo=LA)
    book.write([stamp("1", moment)], {"People": PEOPLE}, None)
    assert openpyxl.load_workbook(path)["People"]["B2"].value == dt.datetime(2026, 12, 1, 16, 58)
    rows = WorkbookSpreadsheet("people", path, Names()).read([PEOPLE])["People"].rows
    assert parse_stamp(rows[0]["Sent At"], LA) == moment
