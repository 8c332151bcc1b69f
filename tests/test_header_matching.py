"""Header matching fails closed: a near-miss of a column that decides who is mailed stops
the tab; other near-misses are reported by `check`; missing-column messages are short.

The contract (`build_table`) is shared by the workbook and Google backends, so most tests
work on in-memory grids; one end-to-end test per backend proves the job stops."""

from __future__ import annotations

from typing import Any

import openpyxl
import pytest

from automations.cli import main
from automations.errors import SheetError
from automations.jobs import committee_invites as ci
from automations.jobs import pd_reminders as pd
from automations.jobs import registry
from automations.jobs import webinar_agendas as wa
from automations.sheets.contract import Names, TabSpec, build_table, likeness
from tests.fixtures.workbooks import TODAY, Env, records


def grid(spec: TabSpec, rename: dict[str, str], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """A tab whose default headers are renamed as staff might have typed them."""
    headers = [c.name for c in spec.columns if not c.owned]
    return [[rename.get(h, h) for h in headers]] + [[row.get(h) for h in headers] for row in rows]


FAMILY = {"Email": "out@example.org", "Language": "English", "Opted Out": "Yes"}
MEMBER = {"Name": "Former", "Email": "former@example.org", "Group": "UTLA", "Active": "No"}
MEETING = {"Meeting ID": "M1", "Date": "12/10/2026", "Start Time": "6 PM", "Cancelled": "Yes"}


@pytest.mark.parametrize(
    ("spec", "column", "typed", "row"),
    [
        (wa.FAMILIES, "Opted Out", "Opt Out", FAMILY),
        (wa.FAMILIES, "Opted Out", "Opted-Out", FAMILY),
        (ci.MEMBERS, "Active", "Active?", MEMBER),
        (ci.MEMBERS, "Active", "Inactive", MEMBER),
        (pd.STAFF, "Active", "Active?", {"Employee ID": "E1", "Email": "e@example.org"}),
        (ci.MEETINGS, "Cancelled", "Cancel", MEETING),
        (wa.WEBINARS, "Cancelled", "Cancelled?", {"Title": "T", "Date": "12/10/2026"}),
    ],
)
def test_a_near_miss_of_a_column_that_decides_who_is_mailed_stops_the_tab(spec, column, typed, row):
    with pytest.raises(SheetError) as raised:
        build_table("'family'", spec.name, spec, Names(), grid(spec, {column: typed}, [row]))
    message = str(raised.value)
    assert f"tab '{spec.name}'" in message
    assert f"found '{typed}', expected '{column}'" in message
    assert "case and spacing do not matter" in message
    assert f'[sheets.columns.{spec.name}] "{column}" = "{typed}"' in message
    assert "\n" not in message


def test_british_and_us_spellings_of_cancelled_are_one_column():
    table = build_table(
        "c",
        "Meetings",
        ci.MEETINGS,
        Names(),
        grid(ci.MEETINGS, {"Cancelled": "Canceled"}, [MEETING]),
    )
    (row,) = table.rows
    assert "Cancelled" in table.present and row["Cancelled"] == "Yes"
    assert table.near_misses == ()


def test_the_configured_header_settles_a_near_miss():
    names = Names(columns={"Families": {"Opted Out": "Opt Out"}})
    table = build_table(
        "f", "Families", wa.FAMILIES, names, grid(wa.FAMILIES, {"Opted Out": "Opt Out"}, [FAMILY])
    )
    assert table.rows[0]["Opted Out"] == "Yes"


@pytest.mark.parametrize(
    "extra",
    ["Opted In", "Notes", "Phone", "Status Notes", "Activity", "Start Date", "Region", "School"],
)
def test_unrelated_headers_do_not_stop_a_tab_with_no_control_column(extra):
    """A tab without Opted Out / Active / Cancelled reads on unless a header is close."""
    for spec, column in ((wa.FAMILIES, "Opted Out"), (ci.MEMBERS, "Active")):
        rows = grid(spec, {}, [])
        rows[0] = [h for h in rows[0] if h != column] + [extra]
        table = build_table("s", spec.name, spec, Names(), rows)
        assert column not in table.present


@pytest.mark.parametrize(
    ("found", "expected", "close"),
    [
        ("Opt Out", "Opted Out", True),
        ("Active?", "Active", True),
        ("Cancel", "Cancelled", True),
        ("Emial", "Email", True),
        ("Opted In", "Opted Out", False),
        ("Start Date", "Start Time", False),
        ("Location", "Language", False),
        ("Status", "Active", False),
    ],
)
def test_close_means_the_same_letters_or_a_difflib_ratio_of_0_8(found, expected, close):
    assert (likeness(found, expected) >= 0.8) is close


def test_other_near_misses_are_kept_for_check_not_refused():
    rows = grid(ci.MEETINGS, {"Location": "Locaton"}, [MEETING])
    table = build_table("c", "Meetings", ci.MEETINGS, Names(), rows)
    (miss,) = table.near_misses
    assert (miss.found, miss.expected, miss.controls) == ("Locaton", "Location", False)


def test_missing_column_message_names_only_the_column_and_the_nearest_header():
    rows = grid(ci.MEETINGS, {"Start Time": "Start"}, [MEETING])
    with pytest.raises(SheetError) as raised:
        build_table("'committee'", "Meetings", ci.MEETINGS, Names(), rows)
    assert str(raised.value) == (
        "spreadsheet 'committee', tab 'Meetings', column 'Start Time': the header row has no "
        "'Start Time' column (nearest header: 'Start'); add it (case and spacing do not "
        "matter, spelling does)"
    )


def test_missing_column_with_nothing_like_it_names_no_nearest_header():
    rows = grid(ci.MEMBERS, {}, [MEMBER])
    rows[0] = [h for h in rows[0] if h != "Email"]
    with pytest.raises(SheetError) as raised:
        build_table("'committee'", "Members", ci.MEMBERS, Names(), rows)
    assert str(raised.value).endswith(
        "the header row has no 'Email' column; add it (case and spacing do not matter, "
        "spelling does)"
    )


# -- end to end -------------------------------------------------------------------------


def rename_header(path, tab: str, old: str, new: str) -> None:
    workbook = openpyxl.load_workbook(path)
    for cell in workbook[tab][1]:
        if cell.value == old:
            cell.value = new
    workbook.save(path)


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_opt_out_renamed_on_a_workbook_mails_no_family_and_check_reports_it(demo: Env, capsys):
    family = demo.folder / "family.xlsx"
    rename_header(family, "Families", "Opted Out", "Opt Out")
    code, out = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1
    assert "problem: spreadsheet" in out and "found 'Opt Out', expected 'Opted Out'" in out
    code, out = cli(
        capsys, "--config", str(demo.config), "run", "webinar-agendas", "--today", str(TODAY)
    )
    assert code == 1
    assert "found 'Opt Out', expected 'Opted Out'" in out
    assert not [p for p in demo.emls() if p.name.startswith("webinar-agendas")]
    statuses = [r.get("Status") for r in records(family, "Families")]
    assert not any(s and s.startswith("Receives mail") for s in statuses)


def test_check_says_did_you_mean_for_a_header_close_to_a_known_column(demo: Env, capsys):
    rename_header(demo.committee, "Meetings", "Location", "Locaton")
    code, out = cli(capsys, "--config", str(demo.config), "check")
    assert code == 0, out
    (line,) = [line for line in out.splitlines() if "did you mean" in line]
    assert line.startswith("warning: spreadsheet 'committee'")
    assert "tab 'Meetings': header 'Locaton': did you mean 'Location'?" in line


def test_a_former_member_under_active_question_mark_is_not_invited(demo: Env, capsys):
    rename_header(demo.committee, "Members", "Active", "Active?")
    code, out = cli(
        capsys, "--config", str(demo.config), "run", "committee-invites", "--today", str(TODAY)
    )
    assert code == 1 and "found 'Active?', expected 'Active'" in out
    assert not [p for p in demo.emls() if p.name.startswith("committee-invites")]


def test_canceled_with_one_l_sends_the_cancellation(demo: Env, capsys):
    base = ["--config", str(demo.config), "run", "committee-invites", "--today", str(TODAY)]
    assert cli(capsys, *base)[0] == 0
    rename_header(demo.committee, "Meetings", "Cancelled", "Canceled")
    workbook = openpyxl.load_workbook(demo.committee)
    meetings = workbook["Meetings"]
    header = [c.value for c in meetings[1]]
    meetings.cell(row=2, column=header.index("Canceled") + 1, value="Yes")
    workbook.save(demo.committee)
    assert cli(capsys, *base)[0] == 0
    first = records(demo.committee, "Meetings")[0]
    assert first["Status"].startswith("Cancelled: cancellation sent to 8 members")


def test_opt_out_renamed_on_google_stops_the_job_the_same_way(google_demo, capsys):
    env = google_demo()
    families = env.emulator.sheet(env.ids["family"], "Families")
    header = families.cells[0]
    header[header.index("Opted Out")] = "Opt Out"
    result = env.runner(out=lambda line: None).run(registry()["webinar-agendas"], TODAY)
    assert result.exit_code == 1
    assert "found 'Opt Out', expected 'Opted Out'" in (result.error or "")
    assert not [p for p in env.emls() if p.name.startswith("webinar-agendas")]


def test_check_warns_when_a_column_that_decides_who_is_mailed_is_absent(demo: Env, capsys):
    rename_header(demo.folder / "family.xlsx", "Families", "Opted Out", "Unsubscribed")
    code, out = cli(capsys, "--config", str(demo.config), "check")
    assert code == 0, out
    assert "tab 'Families' has no 'Opted Out' column, which decides who is mailed" in out
