"""Staff's small surprises (issue 18): totals rows, alerts that hide the refused rows,
addresses typed as mail clients show them, obvious words in Group/Active/Opted Out,
immigration-status headers in other languages, the README's Staff columns."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from automations import PROJECT_ROOT, cli
from automations.cells import CellValueError, parse_recipient
from automations.jobs.family import FAMILIES
from automations.jobs.pd import STAFF
from automations.jobs.rows import day_words
from automations.sheets.contract import Names, build_table
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


# -- obvious words in Group, Active and Opted Out ------------------------------------------


def status_of(path: Path, tab: str, column: str, value: str) -> str:
    return next(str(r["Status"]) for r in records(path, tab) if r[column] == value)


def test_group_lausd_is_district_and_obvious_active_words_are_read(demo):
    edit_tab(
        demo.committee,
        "Members",
        {
            1: {"Group": "LAUSD"},
            2: {"Active": "Retired"},
            3: {"Active": "inactive"},
            4: {"Active": "Activo"},
            5: {"Active": "Jubilada"},
            6: {"Active": "maybe"},
        },
    )
    run(demo, "committee-invites")
    members = records(demo.committee, "Members")
    assert members[0]["Status"] == "Active: invitations in English"
    assert members[1]["Status"] == members[2]["Status"] == "Inactive: not invited"
    assert members[3]["Status"] == "Active: invitations in English"
    assert members[4]["Status"] == "Inactive: not invited"
    assert members[5]["Status"] == (
        'Error: Active "maybe" is not Yes or No (accepted: Yes, No, Sí, Active, Activo, '
        "Activa, Inactive, Inactivo, Inactiva, Retired, Jubilado, Jubilada; blank means Yes)"
    )


def test_a_group_that_is_no_side_lists_the_accepted_ones(demo):
    edit_tab(demo.committee, "Members", {1: {"Group": "Teachers"}})
    run(demo, "committee-invites")
    assert records(demo.committee, "Members")[0]["Status"] == (
        'Error: Group "Teachers" is not District, UTLA or Parent (LAUSD counts as District; '
        "Distrito counts as District; Padre counts as Parent; Madre counts as Parent; "
        "Padre/Madre counts as Parent)"
    )


def test_opted_out_unsubscribed_is_read_and_staff_inactive_too(demo):
    family = demo.folder / "family.xlsx"
    edit_tab(family, "Families", {3: {"Opted Out": "Unsubscribed"}, 4: {"Opted Out": "baja"}})
    edit_tab(family, "Families", {5: {"Opted Out": "Subscribed"}, 6: {"Opted Out": "later"}})
    run(demo, "webinar-agendas")
    families = records(family, "Families")
    assert families[2]["Status"] == families[3]["Status"] == "Opted out: never mailed"
    assert families[4]["Status"] == "Receives mail in English"
    assert families[5]["Status"].startswith('Error: Opted Out "later" is not Yes or No (accepted')
    assert "Unsubscribed" in families[5]["Status"] and "blank means No" in families[5]["Status"]
    pd = demo.folder / "pd.xlsx"
    edit_tab(pd, "Staff", {1: {"Active": "Inactive"}, 2: {"Active": "Retired"}})
    run(demo, "pd-reminders")
    staff = records(pd, "Staff")
    assert staff[0]["Status"] == staff[1]["Status"] == "Inactive: not reminded"


# -- addresses typed as mail programs show them --------------------------------------------


def test_two_addresses_or_a_mailto_link_say_how_to_fix_the_cell(demo):
    family = demo.folder / "family.xlsx"
    edit_tab(
        family,
        "Families",
        {
            2: {"Email": "a.parent@example.org; b.parent@example.org"},
            3: {"Email": "mailto:carmen.diaz@example.org"},
        },
    )
    run(demo, "webinar-agendas")
    families = records(family, "Families")
    assert families[1]["Status"].startswith('Error: Email "a.parent@example.org; b.parent')
    assert families[1]["Status"].endswith(
        "holds 2 addresses; one address per row: add a row for the second parent"
    )
    assert families[2]["Status"] == (
        'Error: Email "mailto:carmen.diaz@example.org" is a mailto: link; type the address '
        "alone (carmen.diaz@example.org), without mailto:"
    )


def test_name_and_address_as_mail_programs_copy_them_is_accepted(demo):
    edit_tab(
        demo.committee,
        "Members",
        {
            2: {"Email": "Denise Washington <d.washington@example.org>"},
            3: {"Name": None, "Email": '"Hyun-woo Park" <h.park@example.org>'},
        },
    )
    assert run(demo, "committee-invites") == 0
    members = records(demo.committee, "Members")
    assert members[1]["Status"] == members[2]["Status"] == "Active: invitations in English"
    sent = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in demo.emls()]
    to = {str(m["To"]): m.get_body(("plain",)).get_content() for m in sent}
    assert "d.washington@example.org" in to and "h.park@example.org" in to
    assert "Dear Hyun-woo Park," in to["h.park@example.org"]
    assert "Dear Denise Washington," in to["d.washington@example.org"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("maria@example.org", ("maria@example.org", "")),
        ("María López <maria@example.org>", ("maria@example.org", "María López")),
        ('"López, María" <maria@example.org>', ("maria@example.org", "López, María")),
        ("<maria@example.org>", ("maria@example.org", "")),
    ],
)
def test_a_recipient_cell_gives_the_address_and_the_name_typed_with_it(cell, expected):
    assert parse_recipient(cell) == expected


@pytest.mark.parametrize(
    "cell", ["a@x.org, b@y.org", "a@x.org b@y.org", "a@x.org and b@y.org", "a@x.org/b@y.org"]
)
def test_two_addresses_in_a_cell_are_refused_whatever_stands_between(cell):
    with pytest.raises(CellValueError, match="holds 2 addresses; one address per row"):
        parse_recipient(cell, who="parent")


# -- immigration-status headers in the shipped languages ------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Estatus migratorio",
        "Situación migratoria",
        "Estado migratorio",
        "Ciudadanía",
        "이민 신분",
        "移民身份",
        "移民身分",
        "Tình trạng di trú",
        "Иммиграционный статус",
        "وضعیت مهاجرت",
        "حالة الهجرة",
        "Katayuan sa imigrasyon",
        "միգրացիոն կարգավիճակ",
    ],
)
def test_an_immigration_status_header_in_a_shipped_language_is_never_read(header):
    grid = [[*(c.name for c in FAMILIES.columns), header], ["a@example.org", "", "", "", "", "X"]]
    table = build_table("family", "Families", FAMILIES, Names(), grid)
    assert table.sensitive_headers == (header,)
    assert all(header not in row.values for row in table.rows)


@pytest.mark.parametrize(
    "header", ["Estado", "Estatus", "Situación", "Idioma", "Dado de baja", "Escuela", "Región"]
)
def test_ordinary_spanish_headers_are_not_taken_for_immigration_status(header):
    grid = [[*(c.name for c in FAMILIES.columns), header]]
    assert build_table("family", "Families", FAMILIES, Names(), grid).sensitive_headers == ()


def test_the_privacy_warning_email_does_not_say_the_run_failed(demo):
    family = demo.folder / "family.xlsx"
    workbook = openpyxl.load_workbook(family)
    sheet = workbook["Families"]
    sheet.cell(1, sheet.max_column + 1).value = "Estatus migratorio"
    workbook.save(family)
    assert run(demo, "webinar-agendas") == 0
    alerts = [p for p in demo.emls() if p.name.startswith("admin-alerts")]
    assert len(alerts) == 1
    text = email.message_from_bytes(alerts[0].read_bytes(), policy=policy.default)
    body = text.get_body(("plain",)).get_content()
    assert "'Estatus migratorio' that looks like immigration-status data" in body
    assert "did not finish cleanly" not in body
    assert "goes on as usual" in body
    html = text.get_body(("html",)).get_content()
    assert "did not finish cleanly" not in html and "goes on as usual" in html


# -- alerts built on rows that were refused name them --------------------------------------


def alert_bodies(demo, prefix: str) -> list[tuple[str, str]]:
    found = []
    for path in demo.emls():
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if str(message["Subject"]).startswith(prefix):
            plain = message.get_body(("plain",)).get_content()
            found.append((plain, message.get_body(("html",)).get_content()))
    return found


def test_the_roster_alert_names_the_member_rows_not_counted_and_why(demo, capsys):
    edit_tab(demo.committee, "Members", {2: {"Email": "d.washington@"}})
    run(demo, "committee-invites")
    alerts = alert_bodies(demo, "Committee roster needs attention")
    assert len(alerts) == 2  # one to each co-chair
    plain, html = alerts[0]
    assert "2 District members active, 3 needed" in plain
    assert "These rows of the Members tab were not counted because of a problem" in plain
    assert '- row 3: Email "d.washington@" is not a valid email address' in plain
    assert "<li>row 3: Email " in html and "d.washington@" in html
    assert 'not counted: row 3: Email "d.washington@"' in last_run_log(demo.committee)


def test_two_meetings_with_one_id_are_named_not_called_an_empty_meetings_tab(demo):
    same = {"Meeting ID": "CM-20261210"}
    edit_tab(demo.committee, "Meetings", {1: same, 2: same})
    run(demo, "committee-invites", "--today", "2026-12-05")
    alerts = alert_bodies(demo, "No committee meeting scheduled for 2026 Q4")
    assert len(alerts) == 2
    plain, html = alerts[0]
    assert "has no meeting in it" not in plain and "has no meeting in it" not in html
    assert "no usable meeting on the Meetings tab falls in it" in plain
    for row in (2, 3):
        line = (
            f"- row {row}: Meeting ID CM-20261210 is on rows 2 and 3; give each meeting its own ID"
        )
        assert line in plain
    assert "row 2: Meeting ID CM-20261210 is on rows 2 and 3" in html


def test_no_upcoming_session_names_the_session_rows_set_aside(demo):
    pd = demo.folder / "pd.xlsx"
    sessions = records(pd, "Sessions")
    family = [n for n, r in enumerate(sessions, 1) if r["Topic"] == "Family Resources"]
    edit_tab(pd, "Sessions", {n: {"Date": "someday"} for n in family})
    run(demo, "pd-reminders")
    assert "no upcoming Family Resources session on the Sessions tab (not counted: row " in (
        last_run_log(pd)
    )
    assert 'Date "someday" is not a date' in last_run_log(pd)


def test_statuses_name_a_date_in_words_and_a_time_by_its_own_zone():
    assert day_words(dt.date(2026, 12, 1)) == "Dec 1, 2026"
    late = dt.datetime(2026, 11, 30, 23, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    # The same instant is another day in another zone: words are never shared by instant.
    assert day_words(late) == "Nov 30, 2026"
    assert day_words(late.astimezone(dt.UTC)) == "Dec 1, 2026"
