"""`python jobs.py init` against Google Sheets (emulated): tabs, headers, frozen row, dropdowns."""

from __future__ import annotations

import copy

from automations.cli import main
from automations.jobs import registry
from automations.sheets.contract import RUN_LOG_HEADERS, RUN_LOG_TAB
from tests.fixtures.google import GoogleEnv
from tests.fixtures.workbooks import TODAY


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def empty_spreadsheets(google: GoogleEnv) -> GoogleEnv:
    """Point the config at brand-new spreadsheets holding one blank tab each."""
    config = google.config.read_text(encoding="utf-8")
    for name, ident in list(google.ids.items()):
        fresh = google.emulator.add_spreadsheet(f"New {name}", {"Sheet1": []})
        config = config.replace(ident, fresh)
        google.ids[name] = fresh
    google.config.write_text(config, encoding="utf-8")
    return google


def snapshot(google: GoogleEnv) -> dict:
    return {
        ident: [
            (s.title, s.frozen_rows, s.row_count, s.column_count, s.values(), s.validations)
            for s in google.emulator.spreadsheets[ident].sheets
        ]
        for ident in google.ids.values()
    }


def test_init_creates_every_tab_with_headers_frozen_row_and_dropdowns(google_demo, capsys):
    google = empty_spreadsheets(google_demo())
    code, out, err = cli(capsys, "--config", str(google.config), "init")
    assert code == 0, err
    # Recommendations: issue 15's committee-followup (with its Area and Progress dropdowns).
    assert "created tabs: Members, Meetings, Recommendations, Run Log" in out
    members = google.emulator.sheet(google.ids["committee"], "Members")
    assert members.values()[0][:3] == ["Name", "Email", "Group"]
    assert members.values()[0][-1] == "Status"
    assert members.frozen_rows == 1 and 0 in members.bold_rows
    group = members.values()[0].index("Group")
    rule = members.validation_at(5, group)
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == [
        "District",
        "UTLA",
        "Parent",
    ]
    assert members.validation_at(0, group) is None  # not on the header itself
    active = members.values()[0].index("Active")
    assert members.validation_at(1, active)["condition"]["values"][0] == {"userEnteredValue": "Yes"}
    assert google.values("committee", RUN_LOG_TAB) == [list(RUN_LOG_HEADERS)]
    # Every job's tabs exist, so every job can run on the new spreadsheets.
    for job in registry().values():
        for sheet, specs in job.tabs(google.settings).items():
            titles = {s.title for s in google.emulator.spreadsheets[google.ids[sheet]].sheets}
            assert {s.name for s in specs} <= titles
    code, out, err = cli(
        capsys, "--config", str(google.config), "run", "all", "--today", str(TODAY)
    )
    assert "there is no tab" not in out + err


def test_second_init_changes_nothing_and_writes_nothing(google_demo, capsys):
    google = empty_spreadsheets(google_demo())
    cli(capsys, "--config", str(google.config), "init")
    before = copy.deepcopy(snapshot(google))
    google.emulator.reset_log()
    code, out, _ = cli(capsys, "--config", str(google.config), "init")
    assert code == 0
    assert snapshot(google) == before
    calls = google.emulator.calls()
    assert "batchUpdate" not in calls and "values.batchUpdate" not in calls
    assert out.count("already set up; nothing changed") == len(google.ids)


def test_init_on_sheets_with_data_adds_only_missing_headers_and_keeps_every_cell(
    google_demo, capsys
):
    google = google_demo(typed=True)
    ident = google.ids["committee"]
    before = copy.deepcopy(google.emulator.sheet(ident, "Members").values())
    code, out, err = cli(capsys, "--config", str(google.config), "init")
    assert code == 0, err
    after = google.emulator.sheet(ident, "Members").values()
    for r, row in enumerate(before):
        assert after[r][: len(row)] == row
    assert after[0][len(before[0]) :] == ["Status"]
    assert google.emulator.sheet(ident, "Members").frozen_rows == 1
    assert "added headers: Members (Status)" in out


def test_init_without_demo_on_workbooks_says_what_to_do(demo, capsys):
    code, _, err = cli(capsys, "--config", str(demo.config), "init")
    assert code == 2
    assert "init --demo DIR" in err
