"""Adding a job is adding its module, its templates and its config section: nothing else.

The job below is written the way a new MOU job would be (issue 15's emergency-contact
outreach, simplified): a tab of families, a reminder every `cooldown_days` at most
`reminder_limit` times while their contacts are not updated. It is dropped into the jobs
package for the test only, and runs through the real CLI.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import openpyxl
import pytest

import automations.jobs
from automations import cli
from automations.jobs import registry
from tests.fixtures.workbooks import TODAY, read_tab, records, write_workbook

JOB_MODULE = '''
"""Job contact-outreach: families are asked to update their emergency contacts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from automations.cells import parse_date
from automations.config import Settings
from automations.jobs import Job
from automations.jobs.declare import columns, number, read_options
from automations.jobs.engine import sample_messages
from automations.jobs.occasions import Occasion
from automations.jobs.people import Person, read_people
from automations.jobs.reminders import Reminders
from automations.jobs.rows import cell, whole_number, write
from automations.plan import Action, JobInput, Message, Plan
from automations.sheets.contract import Row, RowRef, TabSpec

NAME = "contact-outreach"
SHEET = "family"
CONTACTS = TabSpec(
    "Contacts",
    columns(
        "Email*", "Name", "Language", "Opted Out!", "Contacts Updated",
        "Last Reminded+", "Reminders Sent+", "Status+",
    ),
    key="Email",
)


@dataclass(frozen=True)
class OutreachOptions:
    """How often families are asked, and how many times at most."""

    cooldown_days: int = number(90, minimum=1, maximum=365)
    reminder_limit: int = number(2, minimum=1, maximum=10)


@dataclass(frozen=True)
class Asked:
    """A family's row as a reminder sees it."""

    id: str
    ref: RowRef
    email: str
    language: object
    last_reminded: dt.date | None
    reminders_sent: int
    updated: bool


def _fields(row: Row) -> tuple[dict[str, str], list[str]]:
    last = cell(row, "Last Reminded", parse_date) if row.text("Last Reminded") else None
    count = whole_number(row, "Reminders Sent")
    updated = "yes" if row.text("Contacts Updated") else ""
    return {"last": last.isoformat() if last else "", "count": str(count), "updated": updated}, []


ASK = Reminders(
    job_name=NAME,
    sheet=SHEET,
    occasion=Occasion("contacts", template="contact_outreach"),
    cooldown="cooldown_days",
    limit="reminder_limit",
    description="contact outreach {number} to {id}",
)


def plan(given: JobInput[OutreachOptions]) -> Plan:
    """Ask every family whose contacts are not updated, once per cooldown."""
    out = Plan()
    families = out.take(
        read_people(
            given, SHEET, CONTACTS, consent="Opted Out",
            mailed="Receives mail in {language}", not_mailed="Opted out: never mailed",
            fields=_fields,
        )
    )
    for person in families:
        last = person.fields["last"]
        asked = Asked(
            person.email, person.ref, person.email, person.language,
            dt.date.fromisoformat(last) if last else None, int(person.fields["count"]),
            bool(person.fields["updated"]),
        )
        if asked.updated:
            out.writes.append(write(SHEET, asked.ref, "Status", "Contacts updated"))
            continue
        due = ASK.plan(given, asked, owes="contacts not updated", owing="Not updated",
                       context={"name": person.name})
        if isinstance(due, Action):
            out.actions.append(due)
        else:
            out.writes.append(write(SHEET, asked.ref, "Status", due))
    return out


def samples(settings: Settings, opts: OutreachOptions) -> list[Message]:
    """The message with made-up data, for `check`."""
    return sample_messages(
        {"contact_outreach": {"name": "Ana", "reminder_number": 1, "reminder_limit": 2}}
    )


JOB = Job(
    name=NAME,
    summary="Emergency contacts (MOU 6.b): families asked to update them",
    default_schedule="monthly on day 1 at 08:00",
    order=60,
    tabs=lambda settings: {SHEET: (CONTACTS,)},
    options=lambda settings: read_options(settings, NAME, OutreachOptions),
    plan=plan,
    samples=samples,
)
'''

TEMPLATES = {
    "contact_outreach.txt": """\
        {% extends "layout.txt" %}
        {% block subject %}Please update your emergency contacts{% endblock %}
        {% block body %}
        Dear {{ name or "family" }},

        Please check the emergency contacts the school has for your children.
        (Reminder {{ reminder_number }} of {{ reminder_limit }}.)
        {% endblock %}
        """,
    "contact_outreach.html": """\
        {% extends "layout.html" %}
        {% block title %}Emergency contacts{% endblock %}
        {% block content %}
        <p>Dear {{ name or "family" }},</p>
        <p>Please check the emergency contacts the school has for your children.</p>
        {% endblock %}
        """,
}


@pytest.fixture
def new_job(demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The demo with a new job module, its templates, its config section and its tab."""
    package = tmp_path / "new_jobs"
    package.mkdir()
    (package / "contact_outreach.py").write_text(JOB_MODULE, encoding="utf-8")
    monkeypatch.setattr(automations.jobs, "__path__", [*automations.jobs.__path__, str(package)])
    registry.cache_clear()
    templates = tmp_path / "templates"
    shutil.copytree(demo.settings.templates_dir.parent, templates)
    for name, text in TEMPLATES.items():
        (templates / "email" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    # templates_dir is a top-level key (before the first table); the job's own section last.
    text = demo.config.read_text(encoding="utf-8")
    top, _, tables = text.partition("\n[")
    folder = f'templates_dir = "{(templates / "email").as_posix()}"'
    section = "[jobs.contact-outreach]\ncooldown_days = 30\n"
    demo.config.write_text(f"{top}\n{folder}\n\n[{tables}\n{section}", encoding="utf-8")
    family = demo.folder / "family.xlsx"
    # Every tab the demo has (other jobs read them), plus the new job's.
    titles = openpyxl.load_workbook(family, read_only=True).sheetnames
    tabs = {title: read_tab(family, title) for title in titles}
    tabs["Contacts"] = [
        ("Email", "Name", "Language", "Opted Out", "Contacts Updated"),
        ("ana@example.org", "Ana", "Español", "", ""),
        ("bo@example.org", "Bo", "", "", "2026-09-01"),
        ("cy@example.org", "Cy", "", "Yes", ""),
    ]
    write_workbook(family, tabs)
    yield demo
    registry.cache_clear()


def test_a_new_job_module_is_listed_run_and_recorded_like_the_others(new_job, capsys):
    demo = new_job
    assert list(registry())[-2:] == ["contact-outreach", "mou-tracker"]
    config = str(demo.config)
    assert cli.main(["--config", config, "check"]) == 0, capsys.readouterr().out
    args = ["--config", config, "run", "contact-outreach", "--today", str(TODAY)]
    assert cli.main(args) == 0
    statuses = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Contacts")}
    assert statuses == {
        "ana@example.org": "Reminder 1 of 2 sent Nov 30, 2026: contacts not updated",
        "bo@example.org": "Contacts updated",
        "cy@example.org": "Opted out: never mailed",
    }
    sent = [p for p in demo.emls() if b"emergency contacts" in p.read_bytes()]
    assert len(sent) == 1
    # The next run: the cooldown holds, nothing goes twice.
    assert cli.main(args) == 0
    assert len([p for p in demo.emls() if b"emergency contacts" in p.read_bytes()]) == 1
    statuses = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Contacts")}
    assert statuses["ana@example.org"].startswith("Not updated; reminded ")
