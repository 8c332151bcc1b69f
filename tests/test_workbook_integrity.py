"""Nothing staff keep in a workbook is lost: their saves during a write-back, pictures,
dropdowns and formula results, a file open in Excel or LibreOffice; unreadable files are
one line; saves are on the disk before they count."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from automations.demo import init_demo
from automations.errors import SheetError
from automations.jobs import committee_invites
from automations.sheets.contract import CellWrite, Column, Names, RowRef, RunLogEntry, TabSpec
from automations.sheets.workbook import WorkbookSpreadsheet
from tests.fixtures.excel_files import Formula, excel_workbook, parts_of
from tests.fixtures.faults import cli_env, jobs_args, run_jobs, tool_statuses
from tests.fixtures.workbooks import TODAY, read_tab, records
from tests.test_cli import cli

WHEN = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
PEOPLE = TabSpec(
    "People",
    (
        Column("Employee ID", required=True),
        Column("Email", required=True),
        Column("Status", owned=True),
    ),
    key="Employee ID",
)


def status(key: str, value: str) -> CellWrite:
    return CellWrite("people", RowRef("People", key), "Status", value)


def excel_copy(path: Path, cells: dict[tuple[str, str], Any] | None = None, **features) -> None:
    """Save `path` again as Excel would, with cells replaced: {(tab, "B3"): value}."""
    workbook = openpyxl.load_workbook(path)
    tabs = {}
    for sheet in workbook:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        for (tab, ref), value in (cells or {}).items():
            if tab == sheet.title:
                row, column = openpyxl.utils.cell.coordinate_to_tuple(ref)
                while len(rows) < row:
                    rows.append([])
                rows[row - 1] += [None] * (column - len(rows[row - 1]))
                rows[row - 1][column - 1] = value
        tabs[sheet.title] = rows
    excel_workbook(path, tabs, **features)


def with_meeting_ids(path: Path) -> None:
    """Fill in the demo's Meeting IDs, so sending never waits for the tool to store them."""
    workbook = openpyxl.load_workbook(path)
    meetings = workbook["Meetings"]
    for number in range(2, meetings.max_row + 1):
        meetings.cell(row=number, column=1, value=f"CM-TEST-{number}")
    workbook.save(path)


def sends(folder: Path) -> list[str]:
    db = sqlite3.connect(folder / "state" / "ledger.sqlite3")
    try:
        return [key for (key,) in db.execute("SELECT key FROM sends")]
    finally:
        db.close()


# -- the write design: everything but the tool's cells stays ---------------------------------


def test_write_back_leaves_every_other_part_of_the_file_unchanged(tmp_path):
    path = excel_workbook(
        tmp_path / "book.xlsx",
        {
            "People": [
                ["Employee ID", "Email", "Site", "Joined"],
                ["1", Formula('LOWER("A@Example.org")', "a@example.org"), "Roosevelt HS"],
                ["2", "b@example.org", "Garfield HS", dt.date(2026, 3, 4)],
            ],
            "Lists": [["Roosevelt HS"], ["Garfield HS"], ["Belmont HS"]],
        },
        picture_on="People",
        dropdown_on={"People": "C2:C500"},
    )
    before = parts_of(path)
    book = WorkbookSpreadsheet("people", path, Names())
    book.write([status("1", "Sent"), status("2", "Sent")], {"People": PEOPLE}, None)
    after = parts_of(path)
    sheet = "xl/worksheets/sheet1.xml"
    assert {name for name in before if before[name] != after.get(name)} == {sheet}
    assert set(after) == set(before)
    old, new = before[sheet].decode(), after[sheet].decode()
    # Outside the rows the tool wrote to, the sheet is the same text.
    assert new.split("<sheetData>")[0] == old.split("<sheetData>")[0].replace("D3", "E3")
    assert new.split("</sheetData>")[1] == old.split("</sheetData>")[1]
    assert '<c r="B2" t="str"><f>LOWER("A@Example.org")</f><v>a@example.org</v></c>' in new
    assert read_tab(path, "People")[1][4] == "Sent"


def test_formula_results_read_the_same_before_and_after_write_backs(demo):
    with_meeting_ids(demo.committee)
    excel_copy(
        demo.committee,
        {
            ("Members", "B3"): Formula(
                'LOWER("D.Washington@Example.org")', "d.washington@example.org"
            ),
            ("Meetings", "B2"): Formula("DATE(2026,12,10)", dt.date(2026, 12, 10)),
        },
    )
    for _ in range(3):  # each run writes back; each next run reads the same values
        result = demo.runner(out=lambda line: None).run(committee_invites.JOB)
        assert result.error is None and not any("blank" in p for p in result.problems)
        members = {r["Email"]: r["Status"] for r in records(demo.committee, "Members")}
        assert members['=LOWER("D.Washington@Example.org")'] == "Active: invitations in English"
        meeting = records(demo.committee, "Meetings")[0]
        assert meeting["Invite Sent"] and not str(meeting["Status"]).startswith("Error")
    assert not [key for key in sends(demo.folder) if "roster-alert" in key]


def test_a_formula_never_calculated_is_named_in_the_row_and_raises_no_alert(demo, capsys):
    with_meeting_ids(demo.committee)
    excel_copy(demo.committee, {("Members", "B3"): Formula('LOWER("D.Washington@Example.org")')})
    result = demo.runner(out=lambda line: None).run(committee_invites.JOB)
    row = records(demo.committee, "Members")[1]
    assert row["Status"] == (
        "Error: Email holds a formula that has not been calculated yet; open the workbook in "
        "Excel or LibreOffice and save it (this row waits until then)"
    )
    # Without that row the roster looks one District member short: no alert built on that.
    assert not [key for key in sends(demo.folder) if "roster-alert" in key]
    assert any("roster alert" in p and "held" in p for p in result.problems)
    assert result.sent == 7  # the other members are invited
    _, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert "tab 'Members': Email in row 3 is a formula that has not been calculated yet" in out


# -- staff saving while the tool writes -----------------------------------------------------


def staff_save(path: Path, number: int) -> str:
    """What a person's save does: a new row at the end of the first tab, saved whole."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    mark = f"staff edit {number}"
    width = sheet.max_column
    row = [None] * width
    row[0] = mark
    sheet.append(row)
    workbook.save(path)
    return mark


def test_staff_saves_during_write_backs_are_never_lost(demo, tmp_path):
    clean = tmp_path / "clean"
    clean_config = init_demo(clean, TODAY)
    assert run_jobs(clean_config, "run", "all", "--today", TODAY.isoformat()).returncode == 0
    expected = tool_statuses(clean)

    handoffs = tmp_path / "handoffs"
    handoffs.mkdir()
    proc = subprocess.Popen(
        jobs_args(demo.config, "run", "all", "--today", TODAY.isoformat()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(extra={"AUTOMATIONS_HANDOFF": f"before-replace:{handoffs}"}),
    )
    saves: dict[Path, list[str]] = {}
    pause = 0
    try:
        while True:
            pause += 1
            waiting = handoffs / f"before-replace.{pause}.waiting"
            while not waiting.exists() and proc.poll() is None:
                time.sleep(0.01)  # waiting for the tool's signal, not racing it
            if not waiting.exists():
                break
            book = Path(waiting.read_text(encoding="utf-8"))
            # Two saves in a row on each write-back, then none: the tool must place its
            # writes again on each newer file and never write over one.
            if pause % 3:
                saves.setdefault(book, []).append(staff_save(book, pause))
            (handoffs / f"before-replace.{pause}.go").touch()
    finally:
        output = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, output
    attempted = sum(len(marks) for marks in saves.values())
    lost = 0
    for book, marks in saves.items():
        first_tab = openpyxl.load_workbook(book).worksheets[0]
        found = {row[0] for row in first_tab.iter_rows(values_only=True)}
        lost += sum(1 for mark in marks if mark not in found)
    print(f"staff saves during write-backs: attempted {attempted}, lost {lost}")
    assert lost == 0, f"{lost} of {attempted} staff saves were lost"
    assert attempted >= 10 and len(saves) == 3
    statuses = tool_statuses(demo.folder)
    assert {k: v for k, v in statuses.items() if k in expected} == expected


# -- open in Excel or LibreOffice ---------------------------------------------------------


def excel_owner_file(user: str) -> bytes:
    """An Excel owner file as Excel writes it (165 bytes)."""
    data = bytes([len(user)]) + user.encode("cp1252")
    data += b" " * (55 - len(data))
    data += bytes([len(user), 0]) + user.encode("utf-16-le")
    return data + b" \0" * ((165 - len(data)) // 2)


@pytest.mark.parametrize(
    ("lock_name", "content", "said"),
    [
        ("~$committee.xlsx", excel_owner_file("María López"), "open in Excel (María López)"),
        (
            ".~lock.committee.xlsx#",
            "María López,mlopez,STAFF-PC7,30.11.2026 06:58,file:///C:/Users/mlopez/AppData/"
            "Roaming/LibreOffice/4;".encode(),
            "open in LibreOffice on STAFF-PC7 (María López)",
        ),
        (
            ".~lock.committee.xlsx#",
            b",mlopez,STAFF-PC7,30.11.2026 06:58,;",
            "on STAFF-PC7 (mlopez)",
        ),
        ("~$committee.xlsx", b"\xff garbage", "open in Excel;"),
    ],
)
def test_a_workbook_open_in_excel_or_libreoffice_waits_and_statuses_come_next_run(
    demo, lock_name, content, said
):
    with_meeting_ids(demo.committee)
    lock = demo.folder / lock_name
    lock.write_bytes(content)
    before = demo.committee.read_bytes()
    done = run_jobs(demo.config, "run", "committee-invites", "--today", TODAY.isoformat())
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert demo.committee.read_bytes() == before
    run_line = next(line for line in done.stdout.splitlines() if line.startswith("committee"))
    assert said in run_line and "statuses will be written next run" in run_line
    assert f"delete the lock file {lock_name}" in run_line
    assert len(demo.emls()) == 8  # sending goes on
    check = run_jobs(demo.config, "check")
    assert said in check.stdout and "warning:" in check.stdout

    lock.unlink()
    done = run_jobs(demo.config, "run", "committee-invites", "--today", TODAY.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(demo.emls()) == 8  # nothing sent twice
    members = records(demo.committee, "Members")
    assert all(str(r["Status"]).startswith(("Active", "Inactive")) for r in members)
    meeting = records(demo.committee, "Meetings")[0]
    assert meeting["Invite Sent"] and meeting["Invite Version"]
    log_rows = read_tab(demo.committee, "Run Log")
    assert len(log_rows) == 3
    assert "written by a later run" in log_rows[1][6] and said in log_rows[1][6]
    assert "written by a later run" not in log_rows[2][6]


# -- killed saves, full disks, durable saves -------------------------------------------------


def test_a_temporary_copy_left_by_a_killed_save_is_removed_next_run(demo):
    with_meeting_ids(demo.committee)
    before = demo.committee.read_bytes()
    done = run_jobs(
        demo.config,
        "run",
        "committee-invites",
        "--today",
        TODAY.isoformat(),
        fault="before-replace:1",
    )
    assert done.returncode == -9
    assert demo.committee.read_bytes() == before
    (leftover,) = demo.folder.glob("*.xlsx.tmp")
    assert leftover.name.startswith(".committee.xlsx.")
    done = run_jobs(demo.config, "run", "committee-invites", "--today", TODAY.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(demo.folder.glob("*.xlsx.tmp")) == []
    assert records(demo.committee, "Meetings")[0]["Invite Sent"]


@contextlib.contextmanager
def no_room_past(size: int):
    """Files this process writes cannot grow past `size` bytes (the write fails, EFBIG)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.parametrize("where", ["flush", "write"])
def test_a_full_disk_is_reported_as_a_full_disk(tmp_path, monkeypatch, where):
    path = excel_workbook(
        tmp_path / "book.xlsx", {"People": [["Employee ID", "Email"], ["1", "a@x.org"]]}
    )
    before = path.read_bytes()

    def full(handle: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    book = WorkbookSpreadsheet("people", path, Names())
    with pytest.raises(SheetError) as caught:
        if where == "flush":
            # A full disk can show first when the copy is flushed (delayed allocation).
            monkeypatch.setattr(os, "fsync", full)
            book.write([status("1", "Sent")], {"People": PEOPLE}, None)
        else:
            with no_room_past(1000):
                book.write([status("1", "Sent")], {"People": PEOPLE}, None)
    message = str(caught.value)
    assert "the disk is full" in message and "open in another program" not in message
    assert str(path) in message and "statuses will be written next run" in message
    assert path.read_bytes() == before
    assert list(tmp_path.glob("*.tmp")) == []


def test_saves_are_flushed_with_their_folder_before_they_count(tmp_path, monkeypatch, demo):
    synced: list[str] = []
    real = os.fsync

    def record(handle: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        real(handle)

    monkeypatch.setattr(os, "fsync", record)
    path = excel_workbook(
        tmp_path / "book.xlsx", {"People": [["Employee ID", "Email"], ["1", "a@x.org"]]}
    )
    WorkbookSpreadsheet("people", path, Names()).write(
        [status("1", "Sent")], {"People": PEOPLE}, RunLogEntry(WHEN, "j", False, 1, 0, 0, "")
    )
    assert synced[0].endswith(".xlsx.tmp") and synced[1] == str(tmp_path)

    synced.clear()
    demo.runner(out=lambda line: None).run(committee_invites.JOB)
    outbox = str(demo.outbox)
    assert any(p.startswith(outbox + "/") for p in synced) and outbox in synced
    assert str(demo.folder / "state") in synced  # the ledger's folder


# -- files that are not usable workbooks -------------------------------------------------------


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda p: p.write_bytes(b""), "is it still syncing"),
        (truncated, "damaged or incomplete: is it still syncing? is it password-protected?"),
        (lambda p: p.write_bytes(b"Name,Email\n"), "save it as an Excel Workbook (.xlsx)"),
        (
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000),
            "password-protected",
        ),
    ],
)
def test_an_unreadable_workbook_is_one_line_and_the_other_jobs_run(demo, capsys, spoil, said):
    spoil(demo.committee)
    code, out, err = cli(capsys, "--config", str(demo.config), "run", "all")
    assert code == 1 and "Traceback" not in err
    lines = [line for line in out.splitlines() if str(demo.committee) in line]
    assert lines and all(said in line for line in lines), out
    assert "openpyxl" not in out + err and "zip" not in (out + err).casefold()
    names = [p.name for p in demo.emls()]
    assert [n for n in names if n.startswith("webinar-agendas")]
    assert [n for n in names if n.startswith("admin-alerts")]
    code, out, err = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1 and "Traceback" not in err
    assert f"problem: spreadsheet 'committee' ({demo.committee}): " in out and said in out


def test_an_xls_file_is_asked_to_be_saved_as_xlsx(demo, capsys):
    old = demo.folder / "committee.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    config = demo.config.read_text().replace('path = "committee.xlsx"', 'path = "committee.xls"')
    demo.config.write_text(config)
    code, out, err = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1 and "Traceback" not in err
    assert (
        "this is a .xls file: open it in Excel or LibreOffice, save it as an Excel Workbook" in out
    )
    assert "xlrd" not in out


def test_a_symlinked_workbook_is_written_where_it_lives(tmp_path):
    real = excel_workbook(
        tmp_path / "shared" / "book.xlsx", {"People": [["Employee ID", "Email"], ["1", "a@x.org"]]}
    )
    link = tmp_path / "book.xlsx"
    link.symlink_to(real)
    WorkbookSpreadsheet("people", link, Names()).write(
        [status("1", "Sent")], {"People": PEOPLE}, None
    )
    assert link.is_symlink()
    assert read_tab(real, "People")[1] == ["1", "a@x.org", "Sent"]


def test_late_run_log_rows_are_written_a_few_per_run_oldest_first(demo):
    with_meeting_ids(demo.committee)
    lock = demo.folder / "~$committee.xlsx"
    lock.write_bytes(excel_owner_file("Ana"))
    for _ in range(7):
        demo.runner(out=lambda line: None).run(committee_invites.JOB)
    lock.unlink()
    demo.runner(out=lambda line: None).run(committee_invites.JOB)
    rows = read_tab(demo.committee, "Run Log")[1:]
    assert ["written by a later run" in row[6] for row in rows] == [True] * 5 + [False]
    demo.runner(out=lambda line: None).run(committee_invites.JOB)
    rows = read_tab(demo.committee, "Run Log")[1:]
    assert ["written by a later run" in row[6] for row in rows] == [True] * 5 + [False] * 1 + [
        True
    ] * 2 + [False]
