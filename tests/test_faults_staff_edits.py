"""Staff edit a tab while a job runs (between its read and its write-back): rows sorted, a
row inserted above, a row deleted, the tool's Status column moved. Every status lands on
its own row by key; the deleted row's status is dropped with a log line, never misplaced."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import openpyxl

from automations.demo import init_demo
from automations.jobs import committee_invites
from automations.ledger import Ledger
from automations.mail.outbox import OutboxMailer
from automations.render import Renderer
from automations.runner import Runner
from automations.sheets.workbook import WorkbookSpreadsheet
from tests.fixtures.workbooks import TODAY, Env, records
from tests.test_microsoft365_calendar import at

GONE = "h.park@example.org"
NEWCOMER = ["Newcomer", "new.person@example.org", "UTLA", None, "English", "Yes"]


def staff_edit(grid: list[list[Any]]) -> list[list[Any]]:
    """Sort by name descending, insert a row on top, delete one, move Status first."""
    header, *rows = [list(r) for r in grid]
    width = len(header)
    rows = [r + [None] * (width - len(r)) for r in rows if any(v not in (None, "") for v in r)]
    email = header.index("Email")
    rows = [r for r in rows if r[email] != GONE]
    rows.sort(key=lambda r: str(r[header.index("Name")]), reverse=True)
    newcomer = dict(zip(header[:6], NEWCOMER, strict=False))
    rows.insert(0, [newcomer.get(h) for h in header])
    status = header.index("Status")
    order = [status] + [i for i in range(width) if i != status]
    return [[row[i] for i in order] for row in [header, *rows]]


def with_status_column(path, tab: str = "Members") -> None:
    """Give the tab an empty Status column at the end (where the tool would add it)."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[tab]
    sheet.cell(row=1, column=sheet.max_column + 1, value="Status")
    workbook.save(path)


def clean_statuses(tmp_path) -> dict[str, str]:
    folder = tmp_path / "clean"
    env = Env(folder, init_demo(folder, TODAY))
    with_status_column(env.committee)
    env.runner(out=lambda line: None).run(committee_invites.JOB)
    return {r["Email"]: r["Status"] for r in records(env.committee, "Members")}


class EditedBeforeWrite:
    """A spreadsheet whose tab a person edits right before the job writes back (the write
    with the Run Log row; new Meeting IDs are written, and read again, before that)."""

    def __init__(self, inner: WorkbookSpreadsheet, edit: Callable[[], None]) -> None:
        self.inner, self.edit = inner, edit

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, writes, specs, run_log):
        if run_log is not None:
            self.edit()
        return self.inner.write(writes, specs, run_log)


def assert_statuses_on_their_rows(rows: list[dict[str, Any]], clean: dict[str, str]) -> None:
    by_email = {r["Email"]: r for r in rows}
    assert GONE not in by_email
    assert not by_email["new.person@example.org"].get("Status")
    for address, status in clean.items():
        if address != GONE:
            assert by_email[address]["Status"] == status, address
    assert next(iter(rows[0])) == "Status"  # the moved column stayed where staff put it


def test_workbook_edits_during_a_run_keep_every_status_on_its_row(demo, tmp_path, caplog):
    clean = clean_statuses(tmp_path)
    with_status_column(demo.committee)
    settings = demo.settings

    def edit() -> None:
        workbook = openpyxl.load_workbook(demo.committee)
        sheet = workbook["Members"]
        grid = [list(r) for r in sheet.iter_rows(values_only=True)]
        workbook.remove(sheet)
        edited = workbook.create_sheet("Members", 0)
        for row in staff_edit(grid):
            edited.append(row)
        workbook.save(demo.committee)

    runner = Runner(
        settings,
        lambda name: EditedBeforeWrite(
            WorkbookSpreadsheet(name, settings.spreadsheets[name].path, settings.names), edit
        ),
        OutboxMailer(settings.mail.outbox_dir),
        Ledger(settings.state_dir / "ledger.sqlite3"),
        Renderer(settings.templates_dir),
        clock=lambda: at(TODAY, settings),
        out=lambda line: None,
    )
    with caplog.at_level(logging.WARNING, logger="automations"):
        result = runner.run(committee_invites.JOB)
    assert result.sent == 8 and result.error is None
    assert_statuses_on_their_rows(records(demo.committee, "Members"), clean)
    gone = [r.getMessage() for r in caplog.records if "is gone" in r.getMessage()]
    assert gone and "Members" in gone[0]
    assert GONE not in caplog.text  # the log line names the row without the full address


def test_google_edits_during_a_run_keep_every_status_on_its_row(
    google_demo, sheets_api, tmp_path, caplog
):
    clean = clean_statuses(tmp_path)
    env = google_demo()
    sid = env.ids["committee"]
    members = env.emulator.sheet(sid, "Members")
    members.set(0, len(members.cells[0]), "Status")

    def edit(emulator) -> None:
        tab = emulator.sheet(sid, "Members")
        tab.cells = staff_edit(tab.cells)

    # The write-back's fresh read: after the read, the new Meeting IDs' write and the
    # read that shows them stored (see Runner._store_ids).
    sheets_api.before("values.batchGet", edit, nth=4)
    with caplog.at_level(logging.WARNING, logger="automations"):
        result = env.runner(out=lambda line: None).run(committee_invites.JOB)
    assert result.sent == 8 and result.error is None
    assert_statuses_on_their_rows(env.records("committee", "Members"), clean)
    assert any("is gone" in r.getMessage() for r in caplog.records)
