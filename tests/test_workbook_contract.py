"""The sheet contract on real .xlsx files through the workbook backend."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from automations.errors import SheetError
from automations.sheets.contract import (
    CellWrite,
    Column,
    Names,
    RowRef,
    RunLogEntry,
    TabSpec,
)
from automations.sheets.workbook import WorkbookSpreadsheet
from tests.fixtures.workbooks import read_tab, write_workbook

SPEC = TabSpec(
    "People",
    (
        Column("Employee ID", required=True),
        Column("Email", required=True),
        Column("Start Time"),
        Column("Status", owned=True),
    ),
    key="Employee ID",
)
SPECS = {"People": SPEC}


def sheet(tmp_path, rows, names: Names | None = None, title: str = "People"):
    path = write_workbook(tmp_path / "book.xlsx", {title: rows})
    return WorkbookSpreadsheet("people", path, names or Names()), path


def status(key: str, value: str) -> CellWrite:
    return CellWrite("people", RowRef("People", key), "Status", value)


def test_headers_match_ignoring_case_spaces_and_order(tmp_path):
    book, _ = sheet(
        tmp_path,
        [["  EMAIL ", "Notes", "employee   id"], ["a@example.org", "x", "00123"]],
    )
    (row,) = book.read([SPEC])["People"].rows
    assert row["Email"] == "a@example.org"
    assert row["Employee ID"] == "00123"


def test_header_row_below_a_title_row_is_found(tmp_path):
    book, path = sheet(
        tmp_path,
        [["PD tracker 2026–27"], [], ["Employee ID", "Email"], ["7", "a@example.org"]],
    )
    (row,) = book.read([SPEC])["People"].rows
    assert row.number == 4
    book.write([status("7", "ok")], SPECS, None)
    assert read_tab(path, "People")[2:] == [
        ["Employee ID", "Email", "Status"],
        ["7", "a@example.org", "ok"],
    ]


def test_renamed_tab_and_column_from_config(tmp_path):
    names = Names(tabs={"People": "Personal"}, columns={"People": {"Email": "Correo"}})
    book, _ = sheet(
        tmp_path, [["Employee ID", "Correo"], ["1", "a@example.org"]], names, title="personal"
    )
    assert book.read([SPEC])["People"].rows[0]["Email"] == "a@example.org"


def test_missing_required_column_names_spreadsheet_tab_and_column(tmp_path):
    book, path = sheet(tmp_path, [["Employee ID", "Name"], ["1", "x"]])
    with pytest.raises(SheetError) as caught:
        book.read([SPEC])
    message = str(caught.value)
    assert str(path) in message and "tab 'People'" in message and "'Email'" in message


def test_missing_tab_lists_the_tabs_there_are(tmp_path):
    book, _ = sheet(tmp_path, [["x"]], title="Other")
    with pytest.raises(SheetError, match="there is no tab named 'People' \\(tabs: Other\\)"):
        book.read([SPEC])


def test_optional_tab_may_be_absent(tmp_path):
    book, _ = sheet(tmp_path, [["x"]], title="Other")
    optional = TabSpec("People", SPEC.columns, key="Employee ID", optional=True)
    assert book.read([optional]) == {}


def test_blank_rows_are_skipped_and_row_numbers_kept(tmp_path):
    book, _ = sheet(
        tmp_path,
        [["Employee ID", "Email"], ["1", "a@x.org"], [None, None], ["  ", ""], ["2", "b@x.org"]],
    )
    assert [r.number for r in book.read([SPEC])["People"].rows] == [2, 5]


def test_tool_owned_column_is_appended_and_other_columns_untouched(tmp_path):
    book, path = sheet(
        tmp_path,
        [["Employee ID", "Email", "Notes"], ["1", "a@x.org", "keep me"], ["2", "b@x.org", "=A2"]],
    )
    book.write([status("2", "Sent")], SPECS, None)
    assert read_tab(path, "People") == [
        ["Employee ID", "Email", "Notes", "Status"],
        ["1", "a@x.org", "keep me", None],
        ["2", "b@x.org", "=A2", "Sent"],
    ]


def test_rows_resorted_between_read_and_write_get_their_own_status(tmp_path):
    book, path = sheet(
        tmp_path,
        [["Employee ID", "Email"], ["1", "a@x.org"], ["2", "b@x.org"], ["3", "c@x.org"]],
    )
    book.read([SPEC])
    # Staff sort descending, insert a row above and delete row 2 while the job runs.
    workbook = openpyxl.load_workbook(path)
    people = workbook["People"]
    people.delete_rows(2, 3)
    for row in (["new", "n@x.org"], ["3", "c@x.org"], ["1", "a@x.org"]):
        people.append(row)
    workbook.save(path)
    dropped = book.write(
        [status("1", "one"), status("2", "two"), status("3", "three")], SPECS, None
    )
    assert read_tab(path, "People")[1:] == [
        ["new", "n@x.org", None],
        ["3", "c@x.org", "three"],
        ["1", "a@x.org", "one"],
    ]
    assert [w.row.key for w in dropped] == ["2"]


def test_values_written_back_stay_text(tmp_path):
    book, path = sheet(tmp_path, [["Employee ID", "Email"], ["00123", "a@x.org"]])
    book.write([status("00123", "=1+1")], SPECS, None)
    workbook = openpyxl.load_workbook(path)
    cell = workbook["People"]["C2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    assert workbook["People"]["A2"].value == "00123"


def test_blank_key_row_is_found_by_fingerprint(tmp_path):
    spec = TabSpec(
        "People",
        (Column("Employee ID"), Column("Email", required=True), Column("Status", owned=True)),
        key="Employee ID",
        fingerprint=("Email",),
    )
    book, path = sheet(tmp_path, [["Employee ID", "Email"], [None, "a@x.org"], [None, "b@x.org"]])
    ref = RowRef("People", "E-9", (("Email", "b@x.org"),))
    book.write(
        [CellWrite("people", ref, "Employee ID", "E-9"), CellWrite("people", ref, "Status", "ok")],
        {"People": spec},
        None,
    )
    assert read_tab(path, "People")[1:] == [[None, "a@x.org", None], ["E-9", "b@x.org", "ok"]]


def test_run_log_tab_is_created_then_appended(tmp_path):
    book, path = sheet(tmp_path, [["Employee ID", "Email"], ["1", "a@x.org"]])
    when = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    for sent in (3, 0):
        book.write([], SPECS, RunLogEntry(when, "job-a", False, sent, 1, 0, "summary"))
    assert read_tab(path, "Run Log") == [
        ["When", "Job", "Dry Run", "Sent", "Skipped", "Failed", "Summary"],
        # The When is a date cell (issue 13), the time as the clock in its zone showed it.
        [dt.datetime(2026, 11, 30, 7, 0), "job-a", "No", 3, 1, 0, "summary"],
        [dt.datetime(2026, 11, 30, 7, 0), "job-a", "No", 0, 1, 0, "summary"],
    ]


def test_sensitive_looking_columns_are_noticed_but_never_read(tmp_path):
    book, _ = sheet(
        tmp_path,
        [["Employee ID", "Email", "Immigration Status"], ["1", "a@x.org", "secret"]],
    )
    table = book.read([SPEC])["People"]
    assert table.sensitive_headers == ("Immigration Status",)
    assert "secret" not in repr(table.rows)


def test_missing_workbook_says_how_to_fix(tmp_path):
    book = WorkbookSpreadsheet("people", tmp_path / "nope.xlsx", Names())
    with pytest.raises(SheetError, match="init --demo"):
        book.read([SPEC])
