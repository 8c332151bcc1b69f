"""The resources planner and the Resources tab's reading, as plain functions on rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from automations.jobs import resources as rs
from automations.jobs import webinar_agendas as wa
from automations.jobs.directory import RESOURCES, parse_phone
from automations.jobs.family import FAMILIES, SCHOOLS
from automations.plan import History, Plan
from tests.fixtures.workbooks import TODAY, make_table


def day(offset: int) -> str:
    value = TODAY + dt.timedelta(days=offset)
    return f"{value.month}/{value.day}/{value.year}"


def entry(name: str = "Legal Clinic", **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Kind": "legal services",
        "Region": "East",
        "Address": "1 Main St, Los Angeles, CA",
        "Phone": "(213) 555-0100",
        "Languages": "English, Spanish",
        "Cost": "free",
        "Verified On": day(-10),
        **extra,
    }


FAMILY_ROWS = [
    {"Email": "ana@example.org", "Language": "Spanish", "Region": "East"},
    {"Email": "bo@example.org", "Language": "", "School": "Roosevelt HS"},
    {"Email": "cy@example.org", "Language": "", "Region": "West"},
    {"Email": "di@example.org", "Language": "", "Region": "East", "Opted Out": "Yes"},
    {"Email": "ed@example.org", "Language": "", "Region": "Nowhere"},
]


@pytest.fixture
def plan_for(demo, job_input):
    settings = demo.settings

    def run(
        entries: list[dict[str, Any]],
        family_rows: list[dict[str, Any]] = FAMILY_ROWS,
        *,
        today: dt.date = TODAY,
        sent: frozenset[str] | set[str] = frozenset(),
        states: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Plan:
        tables = {
            "Resources": make_table(RESOURCES, entries),
            "Families": make_table(FAMILIES, family_rows),
            "Schools": make_table(SCHOOLS, [{"School": "Roosevelt HS", "Region": "east"}]),
        }
        options = dataclasses.replace(rs.options(settings), **overrides)
        history = History(sent=frozenset(sent), states=states or {})
        given = job_input(
            {"family": tables}, settings=settings, options=options, today=today, history=history
        )
        return rs.plan(given)

    return run


def statuses(plan: Plan, tab: str = "Resources") -> dict[str, Any]:
    writes = list(plan.writes) + [w for a in plan.actions for w in a.on_success]
    return {w.row.key: w.value for w in writes if w.row.tab == tab and w.column == "Status"}


def batches(plan: Plan) -> list[Any]:
    return [m for m in plan.messages if m.template == "resources_near_you"]


def test_a_verified_entry_is_shown_and_its_region_gets_the_quarter_message_once(plan_for):
    plan = plan_for([entry()])
    assert statuses(plan)["Legal Clinic"].startswith("Shown to families in the East region")
    sent = batches(plan)
    # Ana (Spanish, Region East) and Bo (School Roosevelt HS -> east); Cy's West has no help,
    # Di opted out, Ed's region is not configured.
    assert sorted((m.language.code, m.bcc) for m in sent) == [
        ("en", ("bo@example.org",)),
        ("es", ("ana@example.org",)),
    ]
    help_near = sent[0].context["help_near"]
    assert help_near[0]["kind"] == "legal services"
    assert help_near[0]["items"][0]["tel"] == "tel:+12135550100"
    assert help_near[0]["items"][0]["map_link"].startswith("https://www.google.com/maps/")
    # The next run of the same quarter: the batches went, nothing more to send.
    again = plan_for([entry()], sent={m.key for m in sent}, states=_reserved(plan))
    assert batches(again) == []


def _reserved(plan: Plan) -> dict[str, Any]:
    return {a.state[0]: a.state[1] for a in plan.actions if a.state is not None}


def test_a_family_whose_region_is_not_configured_is_told_so_on_its_row(plan_for):
    families = statuses(plan_for([entry()]), "Families")
    assert 'Region "Nowhere" is not one of: North, East, South, West' in families["ed@example.org"]


def test_the_quarter_message_waits_for_send_day(plan_for):
    first = dt.date(TODAY.year, ((TODAY.month - 1) // 3) * 3 + 1, 1)
    assert (
        batches(plan_for([entry(**{"Verified On": first.isoformat()})], today=first, send_day=10))
        == []
    )


def test_a_stale_entry_is_hidden_and_its_contact_asked_once(plan_for):
    stale = entry(**{"Verified On": day(-200), "Contact Email": "desk@clinic.org"})
    plan = plan_for([stale])
    assert batches(plan) == []  # the only East entry is stale: nothing to tell families
    asks = [m for m in plan.messages if m.template == "resource_confirm"]
    assert [m.to for m in asks] == [("desk@clinic.org",)]
    assert asks[0].context["resource"]["Phone"] == "(213) 555-0100"
    done = statuses(plan)["Legal Clinic"]
    assert done.startswith("Not shown to families: last verified ")
    assert "asked desk@clinic.org to confirm" in done and "update Verified On" in done
    later = plan_for([{**stale, "Confirm Asked": "Dec 1, 2026"}], sent={asks[0].key})
    assert not [m for m in later.messages if m.template == "resource_confirm"]
    # The same words whether the request went this run or earlier (a killed run leaves
    # the same status); the day is the Confirm Asked cell's.
    assert statuses(later)["Legal Clinic"] == done


def test_a_stale_entry_without_contact_asks_the_owner(plan_for):
    plan = plan_for([entry(**{"Verified On": ""})], alert_to=("owner@example.org",))
    asks = [m for m in plan.messages if m.template == "resource_confirm"]
    assert [m.to for m in asks] == [("owner@example.org",)]
    assert "never verified" in statuses(plan)["Legal Clinic"]


def test_an_entry_without_phone_or_website_is_never_shown(plan_for):
    plan = plan_for([entry(Phone="", Website="")])
    assert statuses(plan)["Legal Clinic"].startswith("Not shown to families: no phone or website")
    assert batches(plan) == []


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("Phone", "555-0100", "give the area code too"),
        ("Phone", "call us", "is not a phone number"),
        ("Website", "javascript:alert(1)", "is not a web link"),
        ("Kind", "spaceship", "is not one of: legal services"),
        ("Region", "Central", 'Region "Central" is not one of'),
        ("Cost", "cheap", "is not free, low cost or sliding scale"),
        ("Languages", "Klingonese", "is not a language we recognise"),
        ("Verified On", "someday", "Verified On"),
        ("Contact Email", "desk@", "Contact Email"),
    ],
)
def test_a_bad_row_gets_an_error_status_and_is_never_shown(plan_for, column, value, words):
    plan = plan_for([entry(**{column: value})])
    assert statuses(plan)["Legal Clinic"].startswith("Error: ")
    assert words in statuses(plan)["Legal Clinic"]
    assert batches(plan) == []


def test_two_entries_with_one_name_are_both_refused(plan_for):
    plan = plan_for([entry(), entry(Region="South")])
    assert "the same Name is on rows 2 and 3" in statuses(plan)["Legal Clinic"]


@pytest.mark.parametrize(
    ("raw", "shown", "tel"),
    [
        ("213.555.0100", "(213) 555-0100", "tel:+12135550100"),
        ("1 (213) 555-0100 ext. 12", "(213) 555-0100 ext. 12", "tel:+12135550100;ext=12"),
        ("+52 55 5555 0100", "+525555550100", "tel:+525555550100"),
    ],
)
def test_phone_numbers_become_tel_links(raw, shown, tel):
    assert parse_phone(raw) == (shown, tel)


def test_webinar_agendas_list_the_help_near_each_family_in_its_batch(demo, job_input):
    settings = demo.settings
    webinar = {
        "Webinar ID": "W1",
        "Title": "Ready",
        "Date": day(3),
        "Start Time": "6 PM",
        "Join Link": "https://example.org/join",
        "Family Preparedness": "Plan.",
        "We Are One": "Help.",
        "Know Your Rights": "Rights.",
    }
    tables = {
        "Webinars": make_table(wa.WEBINARS, [webinar]),
        "Families": make_table(FAMILIES, FAMILY_ROWS),
        "Resources": make_table(RESOURCES, [entry(), entry("Old", **{"Verified On": day(-400)})]),
    }
    given = job_input({"family": tables}, settings=settings, options=wa.options(settings))
    agendas = [m for m in wa.plan(given).messages if m.template == "webinar_agenda"]
    by_family = {b: m.context["help_near"] for m in agendas for b in m.bcc}
    assert [i["name"] for g in by_family["ana@example.org"] for i in g["items"]] == ["Legal Clinic"]
    assert by_family["cy@example.org"] == []  # West: nothing verified to show
    assert "di@example.org" not in by_family  # opted out
