"""The family-outreach planner (MOU 6.b), as plain functions on rows and dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from automations.config import parse_settings
from automations.errors import ConfigError
from automations.jobs import family_outreach as fo
from automations.jobs.announcements import batch_key
from automations.jobs.family import FAMILIES
from automations.plan import History, Plan
from automations.rebuild import Rebuilt
from tests.fixtures.workbooks import TODAY, make_table

# TODAY is Nov 30, 2026: school year 2026-27, asking open from Sep 1 (ask_month 9).
YEAR = "2026-27"


def family(name: str, **extra: Any) -> dict[str, Any]:
    return {"Email": f"{name}@example.org", "Name": name, **extra}


@pytest.fixture
def plan_for(demo, job_input):
    settings = demo.settings

    def run(
        rows: list[dict[str, Any]],
        *,
        today: dt.date = TODAY,
        sent: frozenset[str] | set[str] = frozenset(),
        states: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Plan:
        options = dataclasses.replace(
            fo.options(settings), **{"ask_month": 9, "remind_days": 21, **overrides}
        )
        return fo.plan(
            job_input(
                {"family": {"Families": make_table(FAMILIES, rows)}},
                settings=settings,
                options=options,
                today=today,
                history=History(sent=frozenset(sent), states=states or {}),
                languages=frozenset({"en", "es"}),
            )
        )

    return run


def cell(plan: Plan, name: str, column: str) -> Any:
    writes = list(plan.writes) + [w for a in plan.actions for w in a.on_success]
    key = f"{name}@example.org"
    values = [w.value for w in writes if w.row.key.casefold() == key and w.column == column]
    return values[-1] if values else None


def sent_to(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {m.key: m.bcc for m in plan.messages}


def after(plan: Plan, history: History | None = None) -> History:
    """The history once every action of `plan` went (reservations and batches)."""
    history = history or History()
    states = {a.state[0]: a.state[1] for a in plan.actions if a.state is not None}
    return History(
        sent=history.sent | {m.key for m in plan.messages},
        states={**history.states, **states},
    )


def test_school_year_runs_july_to_june():
    assert fo.school_year(dt.date(2026, 6, 30)).id == "2025-26"
    assert fo.school_year(dt.date(2026, 7, 1)).id == "2026-27"
    assert fo.school_year(TODAY).opens(9) == dt.date(2026, 9, 1)
    assert fo.school_year(TODAY).opens(2) == dt.date(2027, 2, 1)


def test_families_not_updated_this_school_year_are_asked_in_bcc_batches_by_language(plan_for):
    rows = [
        family("ana", Language="Spanish"),
        family("bo", **{"Emergency Contacts Updated": "3/15/2026"}),  # last school year
        family("cy", **{"Emergency Contacts Updated": "9/2/2026"}),  # this school year
        family("di", **{"Opted Out": "Yes"}),
    ]
    plan = plan_for(rows)
    messages = plan.messages
    assert [(m.language.code, m.bcc) for m in messages] == [
        ("en", ("bo@example.org",)),
        ("es", ("ana@example.org",)),
    ]
    assert all(m.template == "family_outreach" and not m.context["reminder"] for m in messages)
    assert all(m.to == ("immigrant-support@example.org",) for m in messages)
    assert batch_key("family-outreach", YEAR, "ask", 1) in sent_to(plan)
    assert cell(plan, "ana", "Contacts Status") == "Asked Nov 30, 2026"
    assert cell(plan, "ana", "Contacts Reminded") == dt.date(2026, 11, 30)  # a date cell
    assert cell(plan, "cy", "Contacts Status") == (
        "Contacts updated Sep 2, 2026: nothing to ask this school year"
    )
    assert cell(plan, "di", "Contacts Status") == "Opted out: never asked"
    # The Families tab's Status belongs to the webinar job: never written here.
    assert not [w for a in plan.actions for w in a.on_success if w.column == "Status"]
    assert not [w for w in plan.writes if w.column == "Status"]


def test_nobody_is_asked_before_the_configured_month(plan_for):
    plan = plan_for([family("ana")], today=dt.date(2026, 8, 20))
    assert plan.messages == []
    assert cell(plan, "ana", "Contacts Status") == (
        "Not updated this school year: asked on or after Sep 1, 2026"
    )
    later = plan_for([family("ana")], today=dt.date(2026, 8, 20), ask_month=8)
    assert len(later.messages) == 1


def test_a_family_is_asked_once_then_reminded_once_after_remind_days(plan_for):
    rows = [family("ana")]
    first = plan_for(rows)
    history = after(first)
    asked = [family("ana", **{"Contacts Reminded": "2026-11-30"})]
    again = plan_for(asked, today=TODAY + dt.timedelta(days=5), sent=history.sent,
                     states=dict(history.states))  # fmt: skip
    assert again.messages == []
    assert cell(again, "ana", "Contacts Status") == (
        "Asked Nov 30, 2026: reminded Dec 21, 2026 if not updated"
    )
    due = TODAY + dt.timedelta(days=21)
    reminder = plan_for(asked, today=due, sent=history.sent, states=dict(history.states))
    (message,) = reminder.messages
    assert message.context["reminder"] is True
    assert message.key == batch_key("family-outreach", YEAR, "reminder", 1)
    assert cell(reminder, "ana", "Contacts Status") == (
        "Reminded Dec 21, 2026: contacts not updated yet"
    )
    history = after(reminder, history)
    reminded = [family("ana", **{"Contacts Reminded": due.isoformat()})]
    last = plan_for(reminded, today=due + dt.timedelta(days=60), sent=history.sent,
                    states=dict(history.states))  # fmt: skip
    assert last.messages == []
    assert cell(last, "ana", "Contacts Status") == (
        "Asked and reminded this school year (last Dec 21, 2026)"
    )


def test_a_family_that_updated_after_being_asked_is_never_reminded(plan_for):
    history = after(plan_for([family("ana")]))
    updated = family("ana", **{"Contacts Reminded": "2026-11-30",
                               "Emergency Contacts Updated": "12/2/2026"})  # fmt: skip
    plan = plan_for([updated], today=TODAY + dt.timedelta(days=30), sent=history.sent,
                    states=dict(history.states))  # fmt: skip
    assert plan.messages == []
    assert cell(plan, "ana", "Contacts Status").startswith("Contacts updated Dec 2, 2026")


def test_a_new_school_year_asks_again(plan_for):
    history = after(plan_for([family("ana")]))
    next_year = plan_for([family("ana", **{"Contacts Reminded": "2026-11-30"})],
                         today=dt.date(2027, 9, 1), sent=history.sent,
                         states=dict(history.states))  # fmt: skip
    (message,) = next_year.messages
    assert message.key == batch_key("family-outreach", "2027-28", "ask", 1)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("soon", '"soon" is not a date'),
        ("12/25/2026", "Dec 25, 2026 is after today"),
        ("yes", '"yes" is not a date'),
    ],
)
def test_an_odd_updated_date_is_an_error_and_the_family_is_not_asked(plan_for, value, words):
    plan = plan_for([family("ana", **{"Emergency Contacts Updated": value})])
    assert plan.messages == []
    status = cell(plan, "ana", "Contacts Status")
    assert status.startswith(f"Error: Emergency Contacts Updated {words}")
    assert status.endswith("not asked until then")
    assert plan.problems == [
        "1 family row: Emergency Contacts Updated unreadable (see Contacts Status)"
    ]


def test_an_odd_preparedness_plan_is_noted_but_does_not_stop_the_message(plan_for):
    for value in ("Yes", "no", "9/1/2026"):
        assert fo.read_plan(value, TODAY) is (value.casefold() != "no")
    plan = plan_for([family("ana", **{"Preparedness Plan": "maybe"})])
    assert len(plan.messages) == 1
    assert cell(plan, "ana", "Contacts Status") == (
        'Asked Nov 30, 2026. Check: Preparedness Plan "maybe" is not a date, Yes or No'
    )


def test_an_unreadable_reminded_day_holds_the_reminder(plan_for):
    history = after(plan_for([family("ana")]))
    plan = plan_for([family("ana", **{"Contacts Reminded": "last week"})],
                    today=TODAY + dt.timedelta(days=40), sent=history.sent,
                    states=dict(history.states))  # fmt: skip
    assert plan.messages == []
    assert cell(plan, "ana", "Contacts Status").startswith(
        'Check: asked this school year, but Contacts Reminded "last week" is not a date'
    )


def test_a_family_added_later_gets_a_batch_of_its_own_and_nobody_twice(plan_for):
    history = after(plan_for([family("ana")]))
    rows = [family("ana", **{"Contacts Reminded": "2026-11-30"}), family("bo")]
    plan = plan_for(rows, today=TODAY + dt.timedelta(days=1), sent=history.sent,
                    states=dict(history.states))  # fmt: skip
    assert sent_to(plan) == {
        batch_key("family-outreach", YEAR, "ask", 2): ("bo@example.org",),
    }


def test_batches_are_cut_to_batch_size(plan_for):
    plan = plan_for([family(f"f{n}") for n in range(5)], batch_size=2)
    assert [len(m.bcc) for m in plan.messages] == [2, 2, 1]


def test_rebuild_takes_this_years_marks_as_sent(demo, job_input):
    settings = demo.settings
    rows = [
        family("ana", **{"Contacts Reminded": "2026-11-30", "Contacts Status": "Asked"}),
        family("bo", **{"Contacts Reminded": "2026-12-20",
                        "Contacts Status": "Reminded Dec 20, 2026: contacts not updated yet"}),
        family("cy", **{"Contacts Reminded": "2026-03-01"}),  # last school year's
    ]  # fmt: skip
    given = job_input(
        {"family": {"Families": make_table(FAMILIES, rows)}},
        settings=settings,
        options=dataclasses.replace(fo.options(settings), ask_month=9),
        today=dt.date(2026, 12, 21),
        history=History(),
        languages=frozenset({"en"}),
    )
    out = Rebuilt("family-outreach")
    fo.rebuild(given, lambda sheet: None, out)
    assert out.sent == {
        batch_key("family-outreach", YEAR, "ask", 1),
        batch_key("family-outreach", YEAR, "reminder", 1),
    }
    assert out.states[f"outreach:{YEAR}:ask:1"]["recipients"] == [
        "ana@example.org",
        "bo@example.org",
    ]
    assert out.states[f"outreach:{YEAR}:reminder:1"]["recipients"] == ["bo@example.org"]


def test_options_are_checked(demo):
    def settings(**options: Any):
        data = {
            "sheets": {"spreadsheets": {"family": {"path": "family.xlsx"}}},
            "mail": {"sender": "Support <support@example.org>"},
            "jobs": {"family-outreach": options},
        }
        return parse_settings(data, demo.config)

    assert fo.options(settings()).ask_month == 9
    with pytest.raises(ConfigError, match="ask_month"):
        fo.options(settings(ask_month=13))
    with pytest.raises(ConfigError, match="portal_link"):
        fo.options(settings(portal_link="javascript:alert(1)"))
    with pytest.raises(ConfigError, match="never_mention"):
        fo.options(settings(never_mention="visa"))
    with pytest.raises(ConfigError, match="remind_dayz"):
        fo.options(settings(remind_dayz=3))
    assert fo.options(settings(never_mention=["visa"])).never_mention == ("visa",)
