"""The resources job on the Google backend (emulated): `init` adds the Resources and
Schools tabs with their headers and dropdowns, a run writes the same statuses as on the
workbooks, and the flyers read the tab from Google too."""

from __future__ import annotations

from automations.jobs.directory import COSTS, KINDS, RESOURCES
from automations.jobs.family import SCHOOLS
from tests.fixtures.workbooks import TODAY
from tests.test_google_init import cli, empty_spreadsheets


def test_init_adds_the_resources_and_schools_tabs_with_dropdowns(google_demo, capsys):
    google = empty_spreadsheets(google_demo())
    code, _out, err = cli(capsys, "--config", str(google.config), "init")
    assert code == 0, err
    family = google.ids["family"]
    resources = google.emulator.sheet(family, "Resources")
    header = resources.values()[0]
    assert header == [c.name for c in RESOURCES.columns]
    kinds = resources.validation_at(3, header.index("Kind"))
    assert [v["userEnteredValue"] for v in kinds["condition"]["values"]] == list(KINDS)
    costs = resources.validation_at(3, header.index("Cost"))
    assert [v["userEnteredValue"] for v in costs["condition"]["values"]] == list(COSTS)
    assert google.emulator.sheet(family, "Schools").values()[0] == [c.name for c in SCHOOLS.columns]
    families = google.emulator.sheet(family, "Families").values()[0]
    assert {"Region", "School"} <= set(families)


def test_a_run_on_google_writes_the_entries_statuses_and_mails_the_regions(google_demo, capsys):
    google = google_demo()
    args = ["--config", str(google.config), "run", "resources", "--today", str(TODAY)]
    code, out, err = cli(capsys, *args)
    assert code == 0, out + err
    rows = google.values("family", "Resources")
    header = rows[0]
    status = {r[0]: r[header.index("Status")] for r in rows[1:]}
    assert status["Eastside Immigrant Legal Clinic"].startswith("Shown to families in the East")
    assert status["Harbor Housing Help"].startswith("Error: Phone")
    assert (
        "asked office@counsel-west.example.org to confirm" in status["Westside Counseling Center"]
    )
    sent = [p for p in (google.folder / "outbox").glob("resources-*.eml")]
    assert len(sent) == 5  # four region-and-language batches and one confirmation request
    code, _out, err = cli(capsys, *args)
    assert code == 0
    assert len(list((google.folder / "outbox").glob("resources-*.eml"))) == 5


def test_flyers_read_the_resources_tab_from_google(google_demo, capsys, tmp_path):
    google = google_demo()
    out_dir = tmp_path / "flyers"
    args = ["--config", str(google.config), "resources", "--out", str(out_dir)]
    code, _out, err = cli(capsys, *args, "--today", str(TODAY))
    assert code == 0, err
    assert sorted(p.name for p in out_dir.glob("*.html")) == [
        "east-en.html",
        "east-es.html",
        "south-en.html",
        "south-es.html",
    ]
    assert 'href="tel:+12135550142"' in (out_dir / "east-es.html").read_text(encoding="utf-8")
