"""The Google Sheets backend against the emulator: calls, text, keyed writes, errors, retries."""

from __future__ import annotations

import datetime as dt

import pytest

from automations.cells import parse_date, parse_time
from automations.errors import SheetError
from automations.sheets.contract import CellWrite, Column, RowRef, RunLogEntry, TabSpec
from tests.emulators.sheets_api import Formula
from tests.fixtures.google import SERVICE_ACCOUNT

PEOPLE = TabSpec(
    "People",
    (
        Column("Employee ID", required=True),
        Column("Name", required=True),
        Column("Phone"),
        Column("Note"),
        Column("Status", owned=True),
    ),
    key="Employee ID",
)
DATES = TabSpec("Dates", (Column("Date", required=True), Column("Start Time")))
PEOPLE_ROWS = [
    ["Employee ID", "Name", "Phone", "Note"],
    ["00123", "Ana", "+1 (213) 555-0100", "=1+1"],
    ["00456", "Bao", "0213555", "plain"],
    ["E-789", "Chloé", "", "x"],
]
WHEN = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)


def status(key: str, value: object, sheet: str = "committee") -> CellWrite:
    return CellWrite(sheet, RowRef("People", key), "Status", value)


def run_log(summary: str = "ok") -> RunLogEntry:
    return RunLogEntry(WHEN, "test-job", False, 1, 0, 0, summary)


@pytest.fixture
def people(sheets_api, google_sheet):
    """A spreadsheet whose People tab holds text that looks like numbers and formulas."""
    ident = sheets_api.add_spreadsheet(
        "Staff list", {"People": PEOPLE_ROWS, "Dates": [["Date", "Start Time"]]}, typed=False
    )
    sheet, sleeps = google_sheet(ident)
    return ident, sheet, sleeps


def test_read_makes_one_metadata_and_one_batch_get_for_all_tabs(sheets_api, people):
    _, sheet, _ = people
    tables = sheet.read([PEOPLE, DATES])
    assert set(tables) == {"People", "Dates"}
    assert sheets_api.calls() == {"metadata": 1, "values.batchGet": 1}
    batch = next(r for r in sheets_api.requests if r.kind == "values.batchGet")
    assert batch.params["ranges"] == ["'People'", "'Dates'"]
    assert batch.params["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert batch.params["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    sheet.read([PEOPLE])
    assert sheets_api.calls()["metadata"] == 1  # metadata is cached for the run


def test_text_that_looks_like_numbers_or_formulas_is_read_unchanged(people):
    _, sheet, _ = people
    rows = sheet.read([PEOPLE])["People"].rows
    assert [r["Employee ID"] for r in rows] == ["00123", "00456", "E-789"]
    assert rows[0]["Phone"] == "+1 (213) 555-0100"
    assert rows[1]["Phone"] == "0213555"
    assert rows[0]["Note"] == "=1+1"


def test_values_are_written_raw_so_text_stays_text(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])
    dropped = sheet.write(
        [status("00123", "=2+2"), status("00456", "00042"), status("e-789", 7)],
        {"People": PEOPLE},
        None,
    )
    assert dropped == []
    grid = sheets_api.values(ident, "People")
    assert grid[0][4] == "Status"
    assert [row[4] for row in grid[1:]] == ["=2+2", "00042", 7]
    assert not isinstance(grid[1][4], Formula)
    write = next(r for r in sheets_api.requests if r.kind == "values.batchUpdate")
    assert write.body["valueInputOption"] == "RAW"


def test_typed_dates_and_times_come_back_as_serial_numbers_and_parse(sheets_api, google_sheet):
    ident = sheets_api.add_spreadsheet(
        "Dates", {"Dates": [["Date", "Start Time"], ["3/4/2026", "4:30 PM"]]}, typed=True
    )
    sheet, _ = google_sheet(ident)
    row = sheet.read([DATES])["Dates"].rows[0]
    assert isinstance(row["Date"], int | float) and isinstance(row["Start Time"], float)
    assert parse_date(row["Date"]) == dt.date(2026, 3, 4)
    assert parse_time(row["Start Time"]) == dt.time(16, 30)


def test_write_rereads_only_header_and_key_columns_in_one_request(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])
    sheets_api.reset_log()
    sheet.write([status("00123", "Sent")], {"People": PEOPLE}, run_log())
    reread = next(r for r in sheets_api.requests if r.kind == "values.batchGet")
    assert reread.params["ranges"] == ["'People'!1:10", "'People'!A:A"]
    # The Run Log tab is missing the first time: one structural request creates it.
    assert sheets_api.calls() == {"values.batchGet": 1, "batchUpdate": 1, "values.batchUpdate": 1}
    assert sheets_api.values(ident, "Run Log")[0][:3] == ["When", "Job", "Dry Run"]


def test_run_log_rows_are_appended_without_structural_requests_later(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])
    sheet.write([], {"People": PEOPLE}, run_log("first"))
    sheets_api.reset_log()
    sheet.write([], {"People": PEOPLE}, run_log("second"))
    assert sheets_api.calls() == {"values.batchGet": 1, "values.batchUpdate": 1}
    log_rows = sheets_api.values(ident, "Run Log")
    assert [r[-1] for r in log_rows] == ["Summary", "first", "second"]
    # The When is a date cell (issue 13: sortable, read like Nov 30, 2026 7:00 AM).
    assert isinstance(log_rows[1][0], float)
    assert sheets_api.sheet(ident, "Run Log").shown(1, 0) == "Nov 30, 2026 7:00 AM"
    assert sheets_api.sheet(ident, "Run Log").shown(2, 0) == "Nov 30, 2026 7:00 AM"


def test_status_lands_on_the_right_row_after_staff_sort_during_run(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])

    def staff_sorts_and_inserts(emulator):
        tab = emulator.sheet(ident, "People")
        header, *rows = tab.cells
        tab.cells = [header, ["00999", "New person"], *reversed(rows)]

    sheets_api.before("values.batchGet", staff_sorts_and_inserts)
    sheet.write(
        [status("00123", "Sent to Ana"), status("00456", "Sent to Bao")], {"People": PEOPLE}, None
    )
    by_id = {r[0]: r for r in sheets_api.values(ident, "People")[1:]}
    assert by_id["00123"][4] == "Sent to Ana"
    assert by_id["00456"][4] == "Sent to Bao"
    assert len(by_id["00999"]) < 5  # the inserted row got nothing


def test_writes_for_a_row_deleted_during_run_are_dropped(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])

    def staff_deletes_ana(emulator):
        tab = emulator.sheet(ident, "People")
        tab.cells = [r for r in tab.cells if not r or r[0] != "00123"]

    sheets_api.before("values.batchGet", staff_deletes_ana)
    dropped = sheet.write([status("00123", "x"), status("00456", "y")], {"People": PEOPLE}, None)
    assert [w.row.key for w in dropped] == ["00123"]
    assert [r[4] if len(r) > 4 else None for r in sheets_api.values(ident, "People")[1:]] == [
        "y",
        None,
    ]


def test_moved_key_column_during_run_is_found_again(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])

    def staff_moves_id_column_last(emulator):
        tab = emulator.sheet(ident, "People")
        tab.cells = [[*r[1:4], r[0]] for r in tab.cells]

    sheets_api.before("values.batchGet", staff_moves_id_column_last)
    sheet.write([status("00456", "moved but found")], {"People": PEOPLE}, None)
    grid = sheets_api.values(ident, "People")
    row = next(r for r in grid if len(r) > 3 and r[3] == "00456")
    assert grid[0][4] == "Status" and row[4] == "moved but found"


def test_new_owned_column_beyond_the_grid_grows_it_in_the_same_structural_request(
    sheets_api, google_sheet
):
    ident = sheets_api.add_spreadsheet("Narrow", {"People": PEOPLE_ROWS}, typed=False)
    sheets_api.sheet(ident, "People").column_count = 4  # staff trimmed the grid
    sheet, _ = google_sheet(ident)
    sheet.read([PEOPLE])
    sheets_api.reset_log()
    sheet.write([status("00123", "Sent")], {"People": PEOPLE}, run_log())
    structural = [r for r in sheets_api.requests if r.kind == "batchUpdate"]
    assert len(structural) == 1
    kinds = [next(iter(req)) for req in structural[0].body["requests"]]
    # ... and the new Run Log's When column gets its date format in it (issue 13).
    assert sorted(kinds) == ["addSheet", "appendDimension", "repeatCell"]
    assert sheets_api.values(ident, "People")[1][4] == "Sent"


def test_large_write_is_split_into_requests_under_the_payload_limit(sheets_api, google_sheet):
    rows = [["Employee ID", "Name"]] + [[f"{n:06d}", f"Person {n}"] for n in range(3000)]
    ident = sheets_api.add_spreadsheet("Big", {"People": rows}, typed=False)
    sheet, _ = google_sheet(ident, google="max_request_bytes = 20000")
    sheet.read([PEOPLE])
    sheets_api.reset_log()
    writes = [status(f"{n:06d}", f"Reminded {n}") for n in range(0, 3000, 2)]
    assert sheet.write(writes, {"People": PEOPLE}, None) == []
    bodies = [r for r in sheets_api.requests if r.kind == "values.batchUpdate"]
    assert len(bodies) > 1 and sheet.last_write.value_requests == len(bodies)
    assert all(b.bytes_in < 20000 + 500 for b in bodies)
    # Bodies are filled up before a new one starts.
    assert len(bodies) <= sum(b.bytes_in for b in bodies) // 20000 + 1
    grid = sheets_api.values(ident, "People")
    assert grid[1][2] == "Reminded 0" and len(grid[2]) == 2 and grid[2999][2] == "Reminded 2998"


def test_one_range_per_run_of_consecutive_rows(sheets_api, google_sheet):
    rows = [["Employee ID", "Name"]] + [[f"{n:06d}", f"P{n}"] for n in range(1000)]
    ident = sheets_api.add_spreadsheet("Many", {"People": rows}, typed=False)
    sheet, _ = google_sheet(ident)
    sheet.read([PEOPLE])
    sheets_api.reset_log()
    sheet.write([status(f"{n:06d}", "ok") for n in range(1000)], {"People": PEOPLE}, None)
    (body,) = [r.body for r in sheets_api.requests if r.kind == "values.batchUpdate"]
    assert [d["range"] for d in body["data"]] == ["'People'!C1:C1001"]


def test_403_says_share_the_spreadsheet_with_the_service_account(sheets_api, people):
    ident, sheet, _ = people
    sheets_api.deny(ident)
    with pytest.raises(SheetError) as caught:
        sheet.read([PEOPLE])
    assert str(caught.value) == (
        f"The spreadsheet {ident} is not shared with {SERVICE_ACCOUNT}; share it as Editor"
    )


def test_404_names_the_spreadsheet_id(sheets_api, google_sheet):
    sheet, _ = google_sheet("1NoSuchSpreadsheetAnywhere000000000000000000")
    with pytest.raises(SheetError, match="No spreadsheet with ID 1NoSuchSpreadsheetAnywhere0"):
        sheet.read([PEOPLE])


def test_missing_tab_names_spreadsheet_and_tab(people):
    _, sheet, _ = people
    spec = TabSpec("Meetings", (Column("Date", required=True),))
    with pytest.raises(SheetError) as caught:
        sheet.read([spec])
    message = str(caught.value)
    assert "'Staff list'" in message and "no tab named 'Meetings'" in message
    assert "People" in message


def test_missing_column_names_spreadsheet_tab_and_column(people):
    _, sheet, _ = people
    spec = TabSpec("People", (Column("Email", required=True),))
    with pytest.raises(SheetError, match="tab 'People', column 'Email'"):
        sheet.read([spec])


def test_429_with_retry_after_is_honoured(sheets_api, people):
    _, sheet, sleeps = people
    sheets_api.fail("metadata", 429, retry_after="7", times=2)
    sheet.read([PEOPLE])
    assert sleeps == [7.0, 7.0]
    assert sheets_api.calls()["metadata"] == 3


def test_5xx_is_retried_with_growing_backoff(sheets_api, people):
    _, sheet, sleeps = people
    sheets_api.fail("values.batchGet", 503, times=3)
    sheet.read([PEOPLE])
    # Defaults: 2, 4, 8 s ceilings with jitter on the upper half.
    assert len(sleeps) == 3
    assert 1 <= sleeps[0] <= 2 and 2 <= sleeps[1] <= 4 and 4 <= sleeps[2] <= 8


def test_permanent_429_gives_up_within_the_bound_with_a_clear_error(sheets_api, people):
    _, sheet, sleeps = people
    sheets_api.fail("metadata", 429, retry_after="1", times=None)
    with pytest.raises(SheetError) as caught:
        sheet.read([PEOPLE])
    message = str(caught.value)
    assert "kept answering HTTP 429" in message and "after 6 attempts" in message
    assert "run again" in message and "next run" in message
    assert sheets_api.calls()["metadata"] == 6 and len(sleeps) == 5


def test_total_retry_time_is_bounded(sheets_api, people):
    _, sheet, sleeps = people
    sheets_api.fail("metadata", 429, retry_after="100", times=None)
    with pytest.raises(SheetError, match="after 2 attempts"):
        sheet.read([PEOPLE])
    assert sleeps == [100.0]  # a second 100 s wait would pass the 150 s bound


def test_400_is_not_retried(sheets_api, people):
    _, sheet, sleeps = people
    sheets_api.fail("values.batchGet", 400, times=1)
    with pytest.raises(SheetError, match="HTTP 400"):
        sheet.read([PEOPLE])
    assert sleeps == []


def test_connection_timeout_is_retried(sheets_api, google_sheet):
    ident = sheets_api.add_spreadsheet("Slow", {"People": PEOPLE_ROWS}, typed=False)
    sheet, sleeps = google_sheet(ident, google="timeout_seconds = 1")
    sheets_api.fail("metadata", None, delay=1.5, times=1)
    assert "People" in sheet.read([PEOPLE])
    assert len(sleeps) == 1 and sheets_api.calls()["metadata"] == 2


def test_replace_tab_rewrites_a_tool_owned_tab_in_one_request(sheets_api, people):
    ident, sheet, _ = people
    sheet.replace_tab("MOU Tracker", [["Figure", "Value"], ["=SUM(1)", 3], ["00123", None]])
    assert sheets_api.calls() == {"metadata": 1, "batchUpdate": 1}
    assert sheets_api.values(ident, "MOU Tracker") == [
        ["Figure", "Value"],
        ["=SUM(1)", 3],
        ["00123"],
    ]
    sheets_api.reset_log()
    sheet.replace_tab("MOU Tracker", [["Figure"], ["shorter"]])
    assert sheets_api.calls() == {"batchUpdate": 1}
    assert sheets_api.values(ident, "MOU Tracker") == [["Figure"], ["shorter"]]
    untouched = [[v if v != "" else None for v in row] for row in PEOPLE_ROWS]
    assert sheets_api.values(ident, "People") == untouched  # staff tabs untouched


def test_a_retried_add_sheet_that_already_went_through_is_not_an_error(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])

    def answer_was_lost(emulator):
        emulator.spreadsheets[ident].sheets.append(
            type(emulator.sheet(ident, "People"))(99, "Run Log", 1)
        )

    sheets_api.before("batchUpdate", answer_was_lost)
    assert sheet.write([], {"People": PEOPLE}, run_log("after a lost answer")) == []
    assert sheets_api.values(ident, "Run Log")[-1][-1] == "after a lost answer"


def test_after_a_failed_write_the_next_write_sees_the_sheet_as_it_is(sheets_api, people):
    ident, sheet, _ = people
    sheet.read([PEOPLE])
    sheets_api.fail("batchUpdate", 503, times=None)
    with pytest.raises(SheetError, match="after 6 attempts"):
        sheet.write([status("00123", "x")], {"People": PEOPLE}, run_log("lost"))
    sheets_api.faults.clear()
    sheet.write([status("00123", "x")], {"People": PEOPLE}, run_log("kept"))
    assert sheets_api.values(ident, "Run Log")[-1][-1] == "kept"
    assert sheets_api.values(ident, "People")[1][4] == "x"
