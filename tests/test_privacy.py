"""Privacy: no full addresses in logs or the Run Log, sensitive columns never read."""

from __future__ import annotations

import datetime as dt
import logging

import openpyxl

from automations.cli import main
from automations.jobs import registry
from tests.fixtures.workbooks import TODAY, read_tab


def addresses_in(folder) -> set[str]:
    found = set()
    for path in folder.glob("*.xlsx"):
        workbook = openpyxl.load_workbook(path)
        for sheet in workbook:
            for row in sheet.iter_rows(values_only=True):
                found.update(v.strip() for v in row if isinstance(v, str) and "@" in v)
    # Real addresses only: a typo like "maria@" is quoted back in its row's Status.
    return {a for a in found if " " not in a and a.rpartition("@")[2]}


def add_column(path, tab, header, values):
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[tab]
    column = sheet.max_column + 1
    sheet.cell(row=1, column=column).value = header
    for row, value in enumerate(values, start=2):
        sheet.cell(row=row, column=column).value = value
    workbook.save(path)


def test_logs_output_and_run_log_never_hold_a_full_address(demo, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="automations")
    addresses = addresses_in(demo.folder)
    assert len(addresses) >= 8
    for args in (["run", "all", "--dry-run"], ["-v", "run", "all"], ["list"]):
        main(["--config", str(demo.config), *args])
    logger = logging.getLogger("automations")
    logger.propagate = True  # the CLI detaches its logger; let caplog see the next lines
    for job in registry().values():
        demo.runner().run(job)
    captured = capsys.readouterr()
    run_logs = [
        str(cell)
        for path in demo.folder.glob("*.xlsx")
        for row in read_tab(path, "Run Log")
        for cell in row
    ]
    text = "\n".join([caplog.text, captured.out, captured.err, *run_logs])
    leaked = sorted(a for a in addresses if a.casefold() in text.casefold())
    assert leaked == []
    assert "***@example.org" in captured.err


def test_sensitive_column_is_warned_once_and_never_read(demo, capsys):
    add_column(demo.committee, "Members", "Visa Status", ["H-1B"] * 9)
    code = main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert code == 0
    assert "warning:" in out and "'Visa Status' looks like immigration-status data" in out

    later = dt.datetime.combine(TODAY, dt.time(7), demo.settings.timezone)
    first = demo.runner(now=later).run(registry()["committee-invites"])
    demo.runner(now=later + dt.timedelta(days=1)).run(registry()["committee-invites"])
    assert first.problems[0].startswith("privacy: spreadsheet")
    log_rows = read_tab(demo.committee, "Run Log")
    assert "Visa Status" in log_rows[1][-1]
    alerts = [p for p in demo.emls() if p.name.startswith("admin-alerts")]
    assert len(alerts) == 1
    assert "immigration-status data" in alerts[0].read_text()
    for path in demo.emls():
        assert "H-1B" not in path.read_text()
