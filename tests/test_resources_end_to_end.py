"""The resources job end to end on the demo workbooks, through the real CLI (the Google
backend runs the same job in tests/test_google_jobs.py, parametrized over every job)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

from automations import cli
from tests.fixtures.workbooks import TODAY, records


def messages(demo, prefix: str) -> list:
    found = []
    for path in sorted(demo.emls()):
        if path.name.startswith(prefix):
            found.append(message_from_bytes(path.read_bytes(), policy=default_policy))
    return found


def test_run_all_shows_verified_entries_asks_about_stale_ones_and_mails_once_a_quarter(demo):
    config = str(demo.config)
    assert cli.main(["--config", config, "run", "all", "--today", str(TODAY)]) == 0
    rows = {r["Name"]: r for r in records(demo.folder / "family.xlsx", "Resources")}
    assert rows["Eastside Immigrant Legal Clinic"]["Status"].startswith(
        "Shown to families in the East region"
    )
    assert (
        "asked office@counsel-west.example.org to confirm"
        in rows["Westside Counseling Center"]["Status"]
    )
    assert rows["Westside Counseling Center"]["Confirm Asked"]
    assert rows["Valley Adult School ESL"]["Status"].startswith("Not shown to families: no phone")
    assert rows["Harbor Housing Help"]["Status"].startswith("Error: Phone")
    assert rows["Downtown Legal Aid"]["Status"].startswith('Error: Region "Central"')
    sent = messages(demo, "resources-")
    near = [m for m in sent if m["Bcc"]]
    spanish = next(m for m in near if "Recursos cerca de usted" in m["Subject"])
    html = spanish.get_body(("html",)).get_content()
    assert 'href="tel:+12135550142"' in html and "google.com/maps/search" in html
    assert "Ayuda legal gratis" in html
    assert {a for m in near for a in m["Bcc"].split(", ")} == {
        "rosa.garcia@example.org",
        "jose.martinez@example.org",
        "kim.family@example.org",
        "carmen.diaz@example.org",
        "nguyen.family@example.org",
    }
    agendas = [
        m
        for m in messages(demo, "webinar-agendas-")
        if "Eastside Immigrant Legal Clinic" in m.get_body(("html",)).get_content()
    ]
    assert agendas, "the agendas of East families list the help near them"
    # A second run in the same quarter sends nothing more.
    assert cli.main(["--config", config, "run", "resources", "--today", str(TODAY)]) == 0
    assert len(messages(demo, "resources-")) == len(sent)


def test_a_lost_ledger_resends_neither_the_quarter_message_nor_a_confirmation(demo):
    config = str(demo.config)
    args = ["--config", config, "run", "resources", "--today", str(TODAY)]
    assert cli.main(args) == 0
    sent = len(messages(demo, "resources-"))
    assert sent == 5
    for path in (demo.folder / "state").glob("ledger.sqlite3*"):
        path.unlink()
    assert cli.main(args) == 0
    assert len(messages(demo, "resources-")) == sent
