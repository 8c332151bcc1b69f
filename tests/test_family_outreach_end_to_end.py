"""family-outreach end to end on the demo, on the workbook and the Google (emulated)
backends: asked once, reminded once, the rows say when, nothing twice; a lost ledger is
rebuilt from the rows; a Google spreadsheet set up by `init` gets the new columns."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest

from automations.cells import parse_date
from automations.jobs import registry
from automations.jobs.family import FAMILIES
from automations.sheets.google_init import init_configured
from tests.fixtures.workbooks import TODAY, records

JOB = "family-outreach"
# The demo asks from July (ask_month = 7) and reminds 14 days later.
REMINDER_DAY = TODAY + dt.timedelta(days=14)


@pytest.fixture(params=["workbook", "google"])
def env(request, demo, google_demo):
    """The demo on one backend, with a way to read its Families tab."""
    if request.param == "workbook":
        demo.families = lambda: records(demo.folder / "family.xlsx", "Families")
        return demo
    google = google_demo()
    google.families = lambda: google.records("family", "Families")
    return google


def outreach_mail(env) -> list[tuple[str, str, str]]:
    """(subject, To, Bcc) of every family-outreach message, in file order."""
    found = []
    for path in env.emls():
        if path.name.startswith(JOB):
            message = message_from_bytes(path.read_bytes(), policy=default_policy)
            found.append((str(message["Subject"]), str(message["To"]), str(message["Bcc"])))
    return sorted(found)


def run(env, day: dt.date) -> Any:
    moment = dt.datetime.combine(day, dt.time(8, 0), env.settings.timezone)
    result = env.runner(now=moment).run(registry()[JOB], day)
    assert result.error is None, result.error
    return result


def statuses(env) -> dict[str, tuple[str, str]]:
    return {
        str(r["Email"]): (
            str(r.get("Contacts Status") or ""),
            # A date cell: a datetime from a workbook, a serial number from Google.
            str(parse_date(r["Contacts Reminded"])) if r.get("Contacts Reminded") else "",
        )
        for r in env.families()
    }


def test_families_are_asked_once_and_reminded_once(env):
    first = run(env, TODAY)
    assert first.sent == 2
    assert outreach_mail(env) == [
        (
            "Are your emergency contacts up to date?",
            "LAUSD Family Engagement <immigrant-support@example.org>",
            "kim.family@example.org, minjun.lee@example.org",
        ),
        (
            "¿Están al día sus contactos de emergencia?",
            "LAUSD Family Engagement <immigrant-support@example.org>",
            "carmen.diaz@example.org, jose.martinez@example.org",
        ),
    ]
    rows = statuses(env)
    assert rows["jose.martinez@example.org"] == ("Asked Nov 30, 2026", "2026-11-30")
    assert rows["rosa.garcia@example.org"][0] == (
        "Contacts updated Jul 21, 2026: nothing to ask this school year"
    )
    assert rows["not.me@example.org"][0] == "Opted out: never asked"
    assert rows["smith.household@example.org"][0].startswith(
        'Error: Emergency Contacts Updated "soon" is not a date'
    )
    # The webinar job's Status column is left alone.
    assert all(not r.get("Status") for r in env.families())

    assert run(env, TODAY + dt.timedelta(days=1)).sent == 0
    assert statuses(env)["kim.family@example.org"][0] == (
        "Asked Nov 30, 2026: reminded Dec 14, 2026 if not updated"
    )
    assert run(env, REMINDER_DAY).sent == 2
    subjects = [subject for subject, _, _ in outreach_mail(env)]
    assert subjects.count("Reminder: please update your emergency contacts") == 1
    assert subjects.count("Recordatorio: por favor, actualice sus contactos de emergencia") == 1
    assert statuses(env)["carmen.diaz@example.org"] == (
        "Reminded Dec 14, 2026: contacts not updated yet",
        "2026-12-14",
    )
    assert run(env, REMINDER_DAY + dt.timedelta(days=30)).sent == 0
    assert len(outreach_mail(env)) == 4


def test_a_lost_ledger_is_rebuilt_from_the_rows_and_nobody_is_asked_twice(env):
    assert run(env, TODAY).sent == 2
    ledger = env.settings.state_dir / "ledger.sqlite3"
    ledger.unlink()
    assert run(env, TODAY + dt.timedelta(days=1)).sent == 0
    assert len(outreach_mail(env)) == 2


def test_init_adds_the_outreach_columns_to_a_google_families_tab(google_demo, sheets_api):
    google = google_demo()
    families = sheets_api.sheet(google.ids["family"], "Families")
    headers = families.cells[0]
    assert "Contacts Status" not in headers
    lines = init_configured(google.settings)
    assert lines
    headers = google.values("family", "Families")[0]
    for column in FAMILIES.columns:
        assert column.name in headers, column.name
