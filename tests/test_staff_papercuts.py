"""Staff's small surprises (issue 18): totals rows, alerts that hide the refused rows,
addresses typed as mail clients show them, obvious words in Group/Active/Opted Out,
immigration-status headers in other languages, the README's Staff columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from automations import PROJECT_ROOT, cli
from automations.jobs.pd import STAFF
from tests.fixtures.workbooks import TODAY, make_table, read_tab, records


def edit_tab(path: Path, tab: str, change: dict[int, dict[str, Any]] | None = None, *, add=()):
    """Set cells of data rows (1 = first row under the header) and append rows, by header."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[tab]
    headers = [c.value for c in sheet[1]]
    for number, values in (change or {}).items():
        for header, value in values.items():
            sheet.cell(number + 1, headers.index(header) + 1).value = value
    for values in add:
        sheet.append([values.get(h) for h in headers])
    workbook.save(path)


def run(demo, job: str, *more: str) -> int:
    return cli.main(["--config", str(demo.config), "run", job, "--today", str(TODAY), *more])


def last_run_log(path: Path) -> str:
    return str(records(path, "Run Log")[-1]["Summary"])


# -- totals and notes rows ----------------------------------------------------------------


def test_a_total_row_under_staff_is_left_alone_named_once_and_not_counted(demo, capsys):
    pd = demo.folder / "pd.xlsx"
    assert run(demo, "mou-tracker") == 0
    before = read_tab(demo.committee, "MOU Tracker")
    topics = {t: 3 for t in ("Safe Zones", "Immigration Rights", "Family Resources")}
    edit_tab(
        pd,
        "Staff",
        add=[
            {"Employee ID": 8, "Name": "Total", "Email": None, "Active": 7, **topics},
            {"Name": "Notes: Mr. Chen is on leave until January"},
        ],
    )
    run(demo, "pd-reminders")
    rows = records(pd, "Staff")
    assert rows[-2]["Status"] is None and rows[-1]["Status"] is None
    summary = last_run_log(pd)
    assert summary.count("Staff row 10 (Total)") == 1
    assert "Staff row 11 (Notes: Mr. Chen is on leave u…)" in summary
    run(demo, "mou-tracker")
    assert read_tab(demo.committee, "MOU Tracker") == before


def test_a_row_with_an_address_or_a_date_is_data_whatever_its_name():
    table = make_table(
        STAFF,
        [
            {"Employee ID": "E1", "Name": "Total", "Email": "total@example.org"},
            {"Name": "Notes", "Safe Zones": "2026-10-01"},
            {"Name": "Subtotal:", "Employee ID": 4, "Safe Zones": "75%"},
        ],
    )
    assert [r.text("Name") for r in table.rows] == ["Total", "Notes"]
    assert [r.text("Name") for r in table.footers] == ["Subtotal:"]


# -- the README ---------------------------------------------------------------------------


def test_the_readme_staff_table_lists_every_column_the_tool_reads():
    readme = " ".join((PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split())
    start = readme.index("`Staff` (")
    staff = readme[start : readme.index(")", readme.index("tool-owned", start))]
    for column in STAFF.columns:
        assert column.name in staff, column.name
