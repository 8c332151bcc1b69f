"""The pd-reminders planner, as plain functions on rows and dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from automations.jobs import pd_reminders as pd
from automations.mou import parse_topic
from automations.plan import History, Plan
from tests.fixtures.workbooks import TODAY, make_table

TOPIC_COLUMNS = (
    "Safe Zones",
    "Immigration Rights",
    "Enforcement & Confidentiality",
    "Family Resources",
)


def day(offset: int) -> str:
    value = TODAY + dt.timedelta(days=offset)
    return f"{value.month}/{value.day}/{value.year}"


def person(ident: str = "E1", **extra: Any) -> dict[str, Any]:
    return {
        "Employee ID": ident,
        "Name": f"Staff {ident}",
        "Email": f"{ident.lower()}@example.org",
        **extra,
    }


def done(*topics: str) -> dict[str, str]:
    """Completion cells for `topics` (the others stay blank, i.e. owed)."""
    return {topic: "2026-01-15" for topic in topics}


def session(ident: str, topic: str, offset: int, **extra: Any) -> dict[str, Any]:
    return {
        "Session ID": ident,
        "Topic": topic,
        "Title": f"Session {ident}",
        "Date": day(offset),
        "Start Time": "3:30 PM",
        "End Time": "5 PM",
        "Location": "Library",
        **extra,
    }


SESSIONS = [
    session("S1", "Safe Zones", 5),
    session("S2", "5b", 6),
    session("S3", "Enforcement & Confidentiality", 7),
]


@pytest.fixture
def plan_for(demo, job_input):
    settings = demo.settings

    def run(
        staff: list[dict[str, Any]],
        sessions: list[dict[str, Any]] = SESSIONS,
        registrations: list[dict[str, Any]] | None = None,
        *,
        today: dt.date = TODAY,
        sent: frozenset[str] = frozenset(),
        **overrides: Any,
    ) -> Plan:
        tables = {
            "Sessions": make_table(pd.SESSIONS, sessions),
            "Staff": make_table(pd.STAFF, staff),
        }
        if registrations is not None:
            tables["Registrations"] = make_table(pd.REGISTRATIONS, registrations)
        options = dataclasses.replace(pd.options(settings), **overrides)
        return pd.plan(
            job_input(
                {"pd": tables},
                settings=settings,
                options=options,
                today=today,
                history=History(sent=sent),
            )
        )

    return run


def cell(plan: Plan, key: str, column: str, *, actions: bool = True) -> Any:
    """The last value planned for `column` of the row keyed `key` (writes, then on_success)."""
    writes = list(plan.writes)
    if actions:
        writes += [w for a in plan.actions for w in a.on_success]
    values = [w.value for w in writes if w.row.key == key and w.column == column]
    return values[-1] if values else None


def digests(plan: Plan) -> list:
    return [m for m in plan.messages if m.template == "pd_digest"]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("5a", "5a"),
        ("5 A", "5a"),
        ("MOU 5.b", "5b"),
        (" SAFE  zones ", "5a"),
        ("immigration rights", "5b"),
        ("Enforcement and Confidentiality", "5c"),
        ("5c Enforcement & Confidentiality", "5c"),
        ("family-resources", "5d"),
        ("Parent outreach", None),
        ("5e", None),
        ("5a Family Resources", None),
    ],
)
def test_topics_are_matched_by_name_or_code_ignoring_case_and_spacing(typed, code):
    topic = parse_topic(typed)
    assert (topic.code if topic else None) == code


def test_one_digest_lists_every_owed_topic_with_its_next_sessions(plan_for):
    plan = plan_for([person("E1", **done("Immigration Rights"))])
    (message,) = digests(plan)
    assert message.to == ("e1@example.org",)
    codes = [t["code"] for t in message.context["topics"]]
    assert codes == ["5a", "5c", "5d"]
    sessions = {t["code"]: [s["id"] for s in t["sessions"]] for t in message.context["topics"]}
    assert sessions == {"5a": ["S1"], "5c": ["S3"], "5d": []}
    assert cell(plan, "E1", "Outstanding") == (
        "Safe Zones; Enforcement & Confidentiality; Family Resources"
    )
    assert cell(plan, "E1", "Reminders Sent") == 1
    assert cell(plan, "E1", "Last Reminded") == TODAY  # a date cell (issue 13)
    status = cell(plan, "E1", "Status")
    assert status.startswith("Reminder 1 of 6 sent Nov 30, 2026: owes Safe Zones")


def test_each_person_gets_their_own_digest_and_nobody_who_is_done_gets_one(plan_for):
    plan = plan_for(
        [
            person("E1"),
            person("E2", **done(*TOPIC_COLUMNS)),
            person("E3", **done("Safe Zones")),
        ]
    )
    assert [m.to for m in digests(plan)] == [("e1@example.org",), ("e3@example.org",)]
    assert cell(plan, "E2", "Status") == "All four topics completed"
    assert cell(plan, "E2", "Outstanding") == ""


def test_next_sessions_are_the_earliest_upcoming_ones_of_the_topic(plan_for):
    sessions = [
        session("OLD", "Safe Zones", -2),
        session("LATE", "Safe Zones", 30),
        session("SOON", "safe zones", 3),
        session("MID", "5a", 10),
        session("TODAY-EARLY", "Safe Zones", 0, **{"Start Time": "6 AM", "End Time": "6:30 AM"}),
    ]
    plan = plan_for([person("E1", **done(*TOPIC_COLUMNS[1:]))], sessions, sessions_listed=2)
    (message,) = digests(plan)
    listed = [s["id"] for s in message.context["topics"][0]["sessions"]]
    # Today's 6 AM session already started when the 7 AM run plans.
    assert listed == ["SOON", "MID"]
    assert cell(plan, "OLD", "Status") == "Past session (Nov 28, 2026)"


def test_a_topic_with_no_upcoming_session_says_whom_to_contact(plan_for):
    plan = plan_for(
        [person("E1", **done("Safe Zones", "Immigration Rights"))], pd_contact="pd@x.org"
    )
    (message,) = digests(plan)
    family = message.context["topics"][-1]
    assert family["code"] == "5d" and family["sessions"] == []
    assert message.context["contact"] == "pd@x.org"
    assert "no upcoming Family Resources session on the Sessions tab" in plan.problems


def test_nobody_is_reminded_again_within_the_cooldown(plan_for):
    recent = (TODAY - dt.timedelta(days=13)).isoformat()
    due = (TODAY - dt.timedelta(days=14)).isoformat()
    plan = plan_for(
        [
            person("E1", **{"Last Reminded": recent, "Reminders Sent": 1}),
            person("E2", **{"Last Reminded": due, "Reminders Sent": 1}),
        ]
    )
    assert [m.to for m in digests(plan)] == [("e2@example.org",)]
    assert cell(plan, "E1", "Status") == (
        "Owes 4 topics; reminded Nov 17, 2026, next reminder on or after Dec 1, 2026"
    )
    assert cell(plan, "E2", "Reminders Sent") == 2


def test_cooldown_is_configurable(plan_for):
    recent = (TODAY - dt.timedelta(days=3)).isoformat()
    plan = plan_for(
        [person("E1", **{"Last Reminded": recent, "Reminders Sent": 1})], cooldown_days=3
    )
    assert len(digests(plan)) == 1


@pytest.mark.parametrize(
    ("limit", "sent", "expected"), [(6, 5, 1), (6, 6, 0), (2, 2, 0), (2, 1, 1)]
)
def test_reminders_stop_at_the_limit(plan_for, limit, sent, expected):
    long_ago = (TODAY - dt.timedelta(days=60)).isoformat()
    plan = plan_for(
        [person("E1", **{"Last Reminded": long_ago, "Reminders Sent": sent})], reminder_limit=limit
    )
    assert len(digests(plan)) == expected
    if not expected:
        assert cell(plan, "E1", "Status") == (
            f"Reminder limit reached ({limit} sent); still owes Safe Zones; Immigration Rights; "
            "Enforcement & Confidentiality; Family Resources"
        )


def test_digest_key_is_stable_until_the_reminder_is_recorded(plan_for):
    first = digests(plan_for([person("E1")]))[0].key
    rerun = digests(plan_for([person("E1")]))[0].key
    assert first == rerun  # a rerun after a crash finds it in the ledger
    later = TODAY + dt.timedelta(days=14)
    after = person("E1", **{"Last Reminded": TODAY.isoformat(), "Reminders Sent": 1})
    assert digests(plan_for([after], today=later))[0].key != first


def test_bad_rows_get_a_precise_status_and_the_job_goes_on(plan_for):
    sessions = [
        *SESSIONS,
        session("BAD-TOPIC", "Parent outreach", 4),
        session("BAD-DATE", "5d", 4, Date="sometime in spring"),
    ]
    staff = [
        person("E1", Email=""),
        person("E2", Email="maria@"),
        person("E3", Active="No"),
        person("E4", **{"Reminders Sent": "lots"}),
        person("E5"),
    ]
    plan = plan_for(staff, sessions)
    assert cell(plan, "E1", "Status") == "Error: Email is blank"
    assert cell(plan, "E2", "Status") == 'Error: Email "maria@" is not a valid email address'
    assert cell(plan, "E3", "Status") == "Inactive: not reminded"
    assert "is not a whole number" in cell(plan, "E4", "Status")
    assert cell(plan, "BAD-TOPIC", "Status") == (
        'Error: Topic "Parent outreach" is not one of Safe Zones, Immigration Rights, '
        "Enforcement & Confidentiality, Family Resources (or 5a–5d)"
    )
    assert cell(plan, "BAD-DATE", "Status").startswith(
        'Error: Date "sometime in spring" is not a date'
    )
    assert [m.to for m in digests(plan)] == [("e5@example.org",)]
    assert plan.skipped == 5


def test_duplicate_employee_ids_are_errors_not_guesses(plan_for):
    plan = plan_for([person("E1"), person("e1", Email="other@example.org")])
    assert digests(plan) == []
    assert cell(plan, "E1", "Status").startswith("Error: Employee ID E1 is on rows 2 and 3")


def test_sessions_without_an_id_get_one_derived_from_topic_and_date(plan_for):
    plan = plan_for([person("E1")], [session("", "Safe Zones", 5)])
    (ident,) = [w.value for w in plan.writes if w.column == "Session ID"]
    expected = (TODAY + dt.timedelta(days=5)).strftime("PD-5a-%Y%m%d")
    assert ident == expected
    (message,) = digests(plan)
    assert message.context["topics"][0]["sessions"][0]["id"] == expected


def test_registered_staff_get_a_reminder_with_the_invite_the_day_before(plan_for):
    sessions = [
        session("S1", "Safe Zones", 1, **{"Join Link": "https://example.org/s1"}),
        session("S2", "5b", 3),
    ]
    staff = [person("E1", **done("Immigration Rights")), person("E2")]
    registrations = [
        {"Session ID": "S1", "Employee ID": "E1"},
        {"Session ID": "s1", "Email": "guest@example.org"},
        {"Session ID": "S1", "Employee ID": "e1"},  # registered twice: reminded once
        {"Session ID": "S2", "Employee ID": "E2"},  # in three days: not yet
        {"Session ID": "S9", "Employee ID": "E2"},
    ]
    plan = plan_for(staff, sessions, registrations)
    reminders = [m for m in plan.messages if m.template == "pd_session_reminder"]
    assert sorted(m.to for m in reminders) == [("e1@example.org",), ("guest@example.org",)]
    invite = reminders[0].invite
    assert invite is not None and invite.method == "REQUEST"
    assert invite.uid.startswith("S1.pd@")
    assert invite.start.date() == TODAY + dt.timedelta(days=1)
    assert invite.url == "https://example.org/s1"
    assert len({m.key for m in reminders}) == 2
    assert any("Session ID 'S9' is not on the Sessions tab" in p for p in plan.problems)
    assert cell(plan, "S1", "Status") == "Reminder sent to 2 registered people"


def test_without_a_registrations_tab_there_are_no_session_reminders(plan_for):
    plan = plan_for([person("E1")], [session("S1", "Safe Zones", 1)], None)
    assert [m.template for m in plan.messages] == ["pd_digest"]


def test_staff_language_picks_the_digest_language(plan_for):
    plan = plan_for([person("E1", Language="Español"), person("E2", Language="Korean")])
    languages = {m.to[0]: m.language.code for m in digests(plan)}
    assert languages == {"e1@example.org": "es", "e2@example.org": "en"}
    assert cell(plan, "E2", "Status").endswith("Check: sent in English: no Korean translation yet")


@pytest.mark.parametrize(
    "typed", ["no", "pending", "N/A", "registered 12/9", "12/9/2026", "sometime"]
)
def test_an_unreadable_completion_cell_is_an_error_naming_it_and_sends_no_digest(plan_for, typed):
    plan = plan_for([person("E1", **{"Safe Zones": typed}), person("E2")])
    assert [m.to for m in digests(plan)] == [("e2@example.org",)]
    status = cell(plan, "E1", "Status")
    assert status.startswith(f'Error: Safe Zones "{typed}" ')
    assert "No reminder is sent until it is fixed" in status
    assert cell(plan, "E1", "Outstanding") is None
    assert plan.skipped == 1


def test_completed_words_and_past_dates_count_as_done(plan_for):
    plan = plan_for(
        [
            person(
                "E1",
                **{
                    "Safe Zones": "Sí",
                    "Immigration Rights": "✓",
                    "Enforcement & Confidentiality": day(0),
                    "Family Resources": "Completed",
                },
            )
        ]
    )
    assert digests(plan) == []
    assert cell(plan, "E1", "Status") == "All four topics completed"


def test_session_statuses_name_the_date_they_read(plan_for):
    plan = plan_for([person("E1")], sessions=[session("S1", "5a", 10), session("S2", "5a", 40)])
    assert cell(plan, "S1", "Status") == "Listed in reminders (5a Safe Zones, Dec 10, 2026)"
    assert cell(plan, "S2", "Status").startswith("Listed in reminders (5a Safe Zones, Jan 9, 2027")


@pytest.mark.parametrize(
    ("date", "start", "words"),
    [
        ("3/8/2026", "2:30 AM", "does not exist on Mar 8, 2026"),
        ("11/1/2026", "1:30 AM", "happens twice on Nov 1, 2026"),
        ("3/4/2062", "3:30 PM", 'Date "3/4/2062" reads as Mar 4, 2062, far outside'),
    ],
)
def test_sessions_at_a_time_the_clocks_skip_or_repeat_or_far_years_are_row_errors(
    plan_for, date, start, words
):
    bad = session("S9", "5a", 5, Date=date, **{"Start Time": start})
    plan = plan_for([person("E1")], sessions=[*SESSIONS, bad], today=dt.date(2026, 2, 1))
    assert words in cell(plan, "S9", "Status")
    assert cell(plan, "S9", "Status").startswith("Error: ")


def test_session_without_a_stored_id_gets_no_reminder_until_it_is_saved(plan_for):
    ident = (TODAY + dt.timedelta(days=1)).strftime("PD-5a-%Y%m%d")
    sessions = [session("", "Safe Zones", 1)]
    # Someone registered under the ID the tool is about to give the session.
    plan = plan_for([person("E1")], sessions, [{"Session ID": ident, "Employee ID": "E1"}])
    assert [w.value for w in plan.assigned] == [ident]
    assert not [m for m in plan.messages if m.template == "pd_session_reminder"]
    assert cell(plan, ident, "Status") == (
        f"Session ID {ident} assigned; its reminders go out once it is saved in the sheet"
    )


def test_session_reminder_lets_the_ledger_find_a_lost_session_id(plan_for):
    sessions = [session("S1", "Safe Zones", 1)]
    plan = plan_for([person("E1")], sessions, [{"Session ID": "S1", "Employee ID": "E1"}])
    (action,) = [a for a in plan.actions if a.description.startswith("reminder for PD session")]
    assert action.state == (
        "session:S1",
        {"date": (TODAY + dt.timedelta(days=1)).isoformat(), "start": "15:30"},
    )
