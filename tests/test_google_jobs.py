"""Every job end to end on the Google backend (emulated): same results as on workbooks,
a fixed number of API calls per run, statuses kept when writing fails."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import openpyxl
import pytest

from automations.cells import parse_date, text, wall_time
from automations.cli import main
from automations.demo import demo_workbooks
from automations.jobs import Job, registry
from automations.sheets.contract import RUN_LOG_TAB
from tests.fixtures.google import SERVICE_ACCOUNT, GoogleEnv
from tests.fixtures.workbooks import TODAY, Env, read_tab, records

JOBS = list(registry())
FIRST_RUN = {"metadata": 1, "values.batchGet": 2, "batchUpdate": 1, "values.batchUpdate": 1}
LATER_RUN = {"metadata": 1, "values.batchGet": 2, "values.batchUpdate": 1}
DRY_RUN = {"metadata": 1, "values.batchGet": 1}
# A first run that gives IDs to rows due to be sent now (the demo's first meeting and its
# webinars have none) writes them first and reads them back before acting on those rows:
# one more values.batchUpdate and two more values.batchGet (the write's own re-read, then
# the read). IDs of rows with nothing to send yet go with the statuses, at no extra cost.
FIRST_RUN_WITH_IDS = {**FIRST_RUN, "values.batchGet": 4, "values.batchUpdate": 2}
# Exact calls per spreadsheet (first run, later run); "*" is any other spreadsheet.
# A job not listed must keep to the budget: FIRST_RUN, then LATER_RUN.
EXPECTED = {
    **{
        name: ({"*": FIRST_RUN_WITH_IDS}, {"*": LATER_RUN})
        for name in ("committee-invites", "committee-followup", "webinar-agendas")
    },
    # Reads three spreadsheets but only logs there (nothing to re-read before the Run
    # Log exists), and rewrites its own 'MOU Tracker' tab: one more batchUpdate.
    "mou-tracker": (
        {
            "committee": {**FIRST_RUN, "values.batchGet": 1, "batchUpdate": 2},
            "*": {**FIRST_RUN, "values.batchGet": 1},
        },
        {"committee": {**LATER_RUN, "batchUpdate": 1}, "*": LATER_RUN},
    ),
}


def seedable(job: Job, env: Env) -> None:
    """Skip a job whose spreadsheets the demo data does not provide (yet)."""
    books = demo_workbooks(TODAY)
    for sheet, specs in job.tabs(env.settings).items():
        if sheet not in books:
            pytest.skip(f"the demo has no '{sheet}' spreadsheet to seed {job.name} from")
        missing = [s.name for s in specs if not s.optional and s.name not in books[sheet]]
        if missing:
            pytest.skip(f"the demo '{sheet}' spreadsheet has no {missing} tab")


def mail_summary(folder: Path) -> list[tuple[str, str, str]]:
    """(subject, to, bcc) of every message in an outbox, sorted."""
    result = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=default_policy)
        result.append((str(message["Subject"]), str(message["To"]), str(message["Bcc"] or "")))
    return sorted(result)


def comparable(value: object) -> str:
    """A cell as text, with dates the same whether typed as text or stored as a serial."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool) and 30000 < value < 80000:
        return parse_date(value).isoformat()
    return text(value)  # type: ignore[arg-type]


def cells(grid: list[list]) -> list[list[str]]:
    """A grid as comparable text, trailing blanks trimmed."""
    rows = [[comparable(v) for v in row] for row in grid]
    for row in rows:
        while row and row[-1] == "":
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def owned_cells(rows: list[dict], job: Job, env: Env, sheet: str, tab: str) -> list[dict]:
    """The tool's columns (and the key) of every row, comparable across backends."""
    (spec,) = [s for s in job.tabs(env.settings)[sheet] if s.name == tab]
    columns = [c.name for c in spec.columns if c.owned or c.name == spec.key]
    return [{c: comparable(row.get(c)) for c in columns} for row in rows]


@pytest.mark.parametrize("typed", [True, False], ids=["typed-cells", "text-cells"])
@pytest.mark.parametrize("name", JOBS)
def test_job_gives_the_same_results_on_google_as_on_workbooks(name, typed, demo, google_demo):
    job = registry()[name]
    seedable(job, demo)
    google = google_demo(typed=typed)
    on_workbook = demo.runner().run(job, TODAY)
    on_google = google.runner().run(job, TODAY)
    assert on_google.error is None, on_google.error
    assert (on_google.sent, on_google.skipped, on_google.failed, on_google.written) == (
        on_workbook.sent,
        on_workbook.skipped,
        on_workbook.failed,
        on_workbook.written,
    )
    assert mail_summary(google.outbox) == mail_summary(demo.outbox)
    for sheet, specs in job.tabs(demo.settings).items():
        path = demo.settings.spreadsheets[sheet].path
        for spec in specs:
            assert owned_cells(google.records(sheet, spec.name), job, demo, sheet, spec.name) == (
                owned_cells(records(path, spec.name), job, demo, sheet, spec.name)
            )
        # Tabs the job rewrites whole (e.g. 'MOU Tracker'): every cell the same.
        for tab in openpyxl.load_workbook(path, read_only=True).sheetnames:
            if tab not in {*demo_workbooks(TODAY)[sheet], RUN_LOG_TAB}:
                assert cells(google.values(sheet, tab)) == cells(read_tab(path, tab)), tab
        # The When is a date cell on both (issue 13): compared as the time it shows.
        when, *rest = google.values(sheet, RUN_LOG_TAB)[-1]
        book_when, *book_rest = records(path, RUN_LOG_TAB)[-1].values()
        assert wall_time(when) == wall_time(book_when) is not None
        assert rest == [text(v) if isinstance(v, str) else v for v in book_rest]


@pytest.mark.parametrize("name", JOBS)
def test_each_run_makes_a_fixed_number_of_api_calls_per_spreadsheet(name, demo, google_demo):
    job = registry()[name]
    seedable(job, demo)
    google = google_demo()
    api = google.emulator
    google.runner().run(job, TODAY, dry_run=True)
    for ident in google.ids.values():
        if api.calls(spreadsheet=ident):
            assert api.calls(spreadsheet=ident) == DRY_RUN
    first, later = EXPECTED.get(name, ({"*": FIRST_RUN}, {"*": LATER_RUN}))
    api.reset_log()
    google.runner().run(job, TODAY)
    touched = {s: i for s, i in google.ids.items() if api.calls(spreadsheet=i)}
    assert touched
    for sheet, ident in touched.items():
        assert api.calls(spreadsheet=ident) == first.get(sheet, first["*"]), sheet
    api.reset_log()
    google.runner().run(job, TODAY + dt.timedelta(days=1))
    for sheet, ident in touched.items():
        assert api.calls(spreadsheet=ident) == later.get(sheet, later["*"]), sheet


def test_api_calls_do_not_grow_with_the_number_of_rows(google_demo, sheets_api):
    google = google_demo()
    members = sheets_api.sheet(google.ids["committee"], "Members")
    for n in range(3000):
        members.cells.append([f"Former {n}", f"former{n}@example.org", "District", "", "", "No"])
    members.row_count = 4000
    google.runner().run(registry()["committee-invites"], TODAY)
    assert sheets_api.calls() == FIRST_RUN_WITH_IDS
    statuses = [r.get("Status") for r in google.records("committee", "Members")]
    assert statuses.count("Inactive: not invited") == 3001


def name_meetings(google: GoogleEnv) -> None:
    """Give the demo's meetings IDs in the sheet, as staff (or an earlier run) would."""
    meetings = google.emulator.sheet(google.ids["committee"], "Meetings")
    for row in range(1, len(meetings.cells)):
        meetings.set(row, 0, f"CM-{row}")


def test_statuses_not_written_are_kept_and_nothing_is_sent_twice(google_demo, sheets_api):
    google = google_demo()
    name_meetings(google)  # a Meeting ID that cannot be written holds its row back
    job = registry()["committee-invites"]
    sheets_api.fail("values.batchUpdate", 503, times=None)
    first = google.runner().run(job, TODAY)
    assert first.sent == 8 and "write-back" in (first.error or "")
    assert "run again" in first.error and "next run" in first.error
    assert all(not r.get("Status") for r in google.records("committee", "Members"))
    sheets_api.faults.clear()
    second = google.runner().run(job, TODAY)
    assert second.sent == 0 and second.error is None
    assert len([p for p in google.emls() if p.name.startswith("committee-invites")]) == 8
    meetings = google.records("committee", "Meetings")
    assert meetings[0]["Status"].startswith("Invitation sent to 8 members")
    assert all(r["Meeting ID"] for r in meetings)


def test_staff_sorting_meetings_during_a_run_keeps_statuses_on_their_rows(google_demo, sheets_api):
    google = google_demo()
    ident = google.ids["committee"]

    def staff_sorts_newest_first(emulator):
        tab = emulator.sheet(ident, "Meetings")
        header, *rows = tab.cells
        moved_formats = {}
        for r, row in enumerate(reversed(rows), start=1):
            old = len(rows) - r + 1
            for c in range(len(row)):
                if (old, c) in tab.formats:
                    moved_formats[(r, c)] = tab.formats[(old, c)]
        tab.cells = [header, *reversed(rows)]
        tab.formats = moved_formats

    sheets_api.before("values.batchGet", staff_sorts_newest_first, nth=2)
    google.runner().run(registry()["committee-invites"], TODAY)
    meetings = google.records("committee", "Meetings")
    earliest = min(meetings, key=lambda r: r["Date"])
    assert earliest is meetings[-1]
    assert earliest["Status"].startswith("Invitation sent to 8 members")
    assert all(r["Status"].startswith("Scheduled") for r in meetings[:-1])
    assert len({r["Meeting ID"] for r in meetings}) == 4


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_runs_and_checks_against_google(google_demo, capsys):
    google: GoogleEnv = google_demo()
    config = str(google.config)
    _, out, err = cli(capsys, "--config", config, "check")
    assert not [line for line in out.splitlines() if "Google Sheets" in line], out + err
    code, out, err = cli(
        capsys, "--config", config, "run", "committee-invites", "--today", str(TODAY)
    )
    assert code == 0, err
    assert "sent 8" in out
    assert google.values("committee", RUN_LOG_TAB)[1][1] == "committee-invites"


def test_check_reports_unshared_and_unknown_spreadsheets(google_demo, capsys):
    google: GoogleEnv = google_demo()
    google.emulator.deny(google.ids["committee"])
    code, out, _ = cli(capsys, "--config", str(google.config), "check")
    assert code == 1
    assert (
        f"problem: The spreadsheet {google.ids['committee']} is not shared with "
        f"{SERVICE_ACCOUNT}; share it as Editor"
    ) in out
    google.emulator.spreadsheets.pop(google.ids["committee"])
    code, out, _ = cli(capsys, "--config", str(google.config), "check")
    assert f"problem: No spreadsheet with ID {google.ids['committee']}" in out


def test_missing_key_file_is_a_config_error(google_demo, capsys, monkeypatch):
    google: GoogleEnv = google_demo()
    text_ = google.config.read_text(encoding="utf-8")
    google.config.write_text(
        "\n".join(line for line in text_.splitlines() if not line.startswith("credentials_file")),
        encoding="utf-8",
    )
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    code, out, err = cli(
        capsys, "--config", str(google.config), "run", "committee-invites", "--today", str(TODAY)
    )
    assert code != 0
    assert "no Google service-account key: set the environment variable " in out + err
    assert "GOOGLE_APPLICATION_CREDENTIALS" in out + err
