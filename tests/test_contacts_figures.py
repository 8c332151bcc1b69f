"""The tracker's emergency-contact figures (MOU 6.b): share updated this school year, by
school and region, on the MOU Tracker tab and in the report."""

from __future__ import annotations

import datetime as dt

from automations import cli
from automations.contacts_figures import (
    contacts_context,
    contacts_figure,
    contacts_rows,
    place_of,
)
from automations.jobs.family import FAMILIES
from automations.sheets.contract import Row, TabSpec
from tests.fixtures.workbooks import TODAY, make_table, read_tab

ROWS = [
    {"Email": "a@example.org", "School": "Belmont HS", "Region": "Central",
     "Emergency Contacts Updated": "9/1/2026"},
    {"Email": "b@example.org", "School": "Belmont HS", "Region": "Central",
     "Emergency Contacts Updated": "3/1/2026"},  # last school year
    {"Email": "c@example.org", "School": "Hollenbeck MS", "Region": "East"},
    {"Email": "d@example.org", "School": "Hollenbeck MS", "Region": "East",
     "Emergency Contacts Updated": "soon"},  # unreadable: neither
    {"Email": "A@example.org", "School": "Belmont HS"},  # the same family again
    {"Email": "broken@", "Emergency Contacts Updated": "9/1/2026"},  # not a family the jobs know
    {"Email": "e@example.org", "Emergency Contacts Updated": "10/1/2026", "Opted Out": "Yes"},
]  # fmt: skip


def test_share_updated_this_school_year_by_school_and_region():
    figure = contacts_figure(make_table(FAMILIES, ROWS), TODAY)
    assert figure is not None and figure.school_year == "2026-27"
    overall = figure.overall
    assert (overall.families, overall.updated, overall.uncounted) == (5, 2, 1)
    assert str(overall) == "2 / 4 (50%)"
    assert [(g.name, g.counted, g.updated, g.percent) for g in figure.schools] == [
        ("(no school)", 1, 1, 100),
        ("Belmont HS", 2, 1, 50),
        ("Hollenbeck MS", 1, 0, 0),
    ]
    assert [(g.name, g.counted, g.updated) for g in figure.regions] == [
        ("(no region)", 1, 1),
        ("Central", 2, 1),
        ("East", 1, 0),
    ]


def test_no_figure_without_the_column_and_no_breakdown_for_an_unused_one():
    bare = TabSpec(
        "Families", tuple(c for c in FAMILIES.columns if c.name != "Emergency Contacts Updated")
    )
    assert contacts_figure(make_table(bare, [{"Email": "a@example.org"}]), TODAY) is None
    assert contacts_rows(None) == [] and contacts_context(None) is None
    rows = [
        {"Email": "a@example.org", "School": "Belmont HS", "Emergency Contacts Updated": "9/1/2026"}
    ]
    figure = contacts_figure(make_table(FAMILIES, rows), TODAY)
    shown = contacts_rows(figure)
    assert ("School", "Families", "Updated", "Percent") in shown
    assert ("Region", "Families", "Updated", "Percent") not in shown
    context = contacts_context(figure)
    assert (
        context is not None and context["regions"] == [] and context["schools"][0]["percent"] == 100
    )


def test_place_of_reads_school_and_region():
    assert place_of(Row(2, {"School": " Belmont HS ", "Region": "Central"})) == (
        "Belmont HS",
        "Central",
    )
    assert place_of(Row(3, {})) == ("(no school)", "(no region)")


def test_a_family_with_only_a_school_counts_in_the_region_the_schools_tab_gives_it():
    schools = {"roosevelt hs": "East"}  # as family.read_schools reads the Schools tab
    assert place_of(Row(2, {"School": "Roosevelt  HS"}), schools) == ("Roosevelt HS", "East")
    # A typed Region wins; a school not on the tab has no region.
    assert place_of(Row(3, {"School": "Roosevelt HS", "Region": "South"}), schools)[1] == "South"
    assert place_of(Row(4, {"School": "Banning HS"}), schools)[1] == "(no region)"
    rows = [
        {
            "Email": "a@example.org",
            "School": "Roosevelt HS",
            "Emergency Contacts Updated": "9/1/2026",
        },
        {"Email": "b@example.org", "Region": "East"},
        {"Email": "c@example.org", "School": "Banning HS"},
    ]
    figure = contacts_figure(make_table(FAMILIES, rows), TODAY, schools)
    assert figure is not None
    assert [(g.name, g.counted, g.updated) for g in figure.regions] == [
        ("(no region)", 1, 0),
        ("East", 2, 1),
    ]


def test_the_school_year_turns_in_july():
    rows = [{"Email": "a@example.org", "Emergency Contacts Updated": "6/30/2026"}]
    june = contacts_figure(make_table(FAMILIES, rows), dt.date(2026, 6, 30))
    july = contacts_figure(make_table(FAMILIES, rows), dt.date(2026, 7, 1))
    assert june is not None and june.overall.updated == 1
    assert july is not None and july.overall.updated == 0


def test_the_demo_tracker_tab_and_report_show_the_section(demo, tmp_path):
    config = str(demo.config)
    assert cli.main(["--config", config, "run", "mou-tracker", "--today", str(TODAY)]) == 0
    tab = [
        [c for c in row if c not in (None, "")] for row in read_tab(demo.committee, "MOU Tracker")
    ]
    heading = [r for r in tab if r and str(r[0]).startswith("Emergency contacts (MOU 6.b)")]
    assert heading == [[
        "Emergency contacts (MOU 6.b), school year 2026-27: families with contacts updated "
        "this school year: 2 / 7 (29%)."
    ]]  # fmt: skip
    assert ["Roosevelt HS", 2, 0, "0%"] in tab and ["Banning HS", 1, 1, "100%"] in tab
    # The demo's Roosevelt and Banning families have no Region: the Schools tab gives it.
    assert ["East", 4, 1, "25%"] in tab and ["South", 2, 1, "50%"] in tab
    assert not any(row and row[0] == "(no region)" and row[1] > 1 for row in tab)
    out = tmp_path / "report.html"
    assert cli.main(["--config", config, "report", "--today", str(TODAY), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Emergency contacts (MOU 6.b)" in page and "By school" in page
    assert 'aria-label="All families: 29%"' in page
