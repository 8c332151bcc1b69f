"""The committee-followup planner and the Recommendations tab, as plain functions on rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from automations.jobs import committee_followup as cf
from automations.jobs import committee_invites as ci
from automations.jobs.recommendations import RECOMMENDATIONS
from automations.jobs.rows import message_key
from automations.plan import History, Plan
from automations.rebuild import RUN_LOG_SPEC, Rebuilt
from automations.sheets.contract import Names, build_table
from automations.tracker_recommendations import compute_recommendations, recommendation_rows
from tests.fixtures.workbooks import TODAY, make_table

MEMBERS = [
    {"Name": "Dana D1", "Email": "d1@example.org", "Group": "District"},
    {
        "Name": "María P1",
        "Email": "p1@example.org",
        "Group": "Parent",
        "Appointed By": "UTLA",
        "Language": "Español",
    },
]


def day(offset: int) -> str:
    moment = TODAY + dt.timedelta(days=offset)
    return f"{moment.month}/{moment.day}/{moment.year}"


def rec(ident: str = "R1", *, due: int = 10, raised: int = -30, **extra: Any) -> dict[str, Any]:
    return {
        "Recommendation ID": ident,
        "Raised On": day(raised),
        "Recommendation": f"Recommendation {ident}",
        "Area": "Legal partnerships",
        "Owner Email": "d1@example.org",
        "Due": day(due),
        **extra,
    }


def meeting(ident: str, offset: int, **extra: Any) -> dict[str, Any]:
    return {"Meeting ID": ident, "Date": day(offset), "Start Time": "4 PM", **extra}


@pytest.fixture
def plan_for(demo, job_input):
    settings = demo.settings

    def run(
        recommendations: list[dict[str, Any]],
        meetings: list[dict[str, Any]] = (),
        *,
        today: dt.date = TODAY,
        sent: set[str] = frozenset(),
        job: Any = cf,
    ) -> Plan:
        tables = {
            "committee": {
                "Members": make_table(ci.MEMBERS, MEMBERS),
                "Meetings": make_table(ci.MEETINGS, list(meetings)),
                "Recommendations": make_table(RECOMMENDATIONS, recommendations),
            }
        }
        given = job_input(
            tables,
            settings=settings,
            options=job.options(settings),
            today=today,
            history=History(frozenset(sent)),
        )
        return job.plan(given)

    return run


def statuses(plan: Plan) -> dict[str, Any]:
    return {
        w.row.key: w.value
        for w in plan.writes
        if w.row.tab == "Recommendations" and w.column == "Status"
    }


def digests(plan: Plan) -> list[Any]:
    return [a for a in plan.actions if "digest" in a.description]


def test_owner_gets_one_digest_of_all_open_items_when_one_is_due_within_notice_days(plan_for):
    plan = plan_for([rec("R1", due=3), rec("R2", due=40), rec("R3", due=2, Progress="Done")])
    (action,) = digests(plan)
    (message,) = action.messages
    assert message.to == ("d1@example.org",) and message.template == "committee_followup_digest"
    assert [i["id"] for i in message.context["items"]] == ["R1", "R2"]  # soonest due first
    written = {(w.row.key, w.column): w.value for w in action.on_success}
    assert written[("R1", "Reminders Sent")] == 1
    assert written[("R1", "Last Reminded")] == TODAY  # a date cell
    assert ("R2", "Last Reminded") not in written  # listed, not yet in its window
    assert statuses(plan)["R2"].startswith("Open: due ")


def test_nothing_is_sent_before_the_notice_window(plan_for):
    plan = plan_for([rec("R1", due=4)])
    assert plan.actions == []
    assert statuses(plan)["R1"] == "Open: due Dec 4, 2026; the owner is reminded from Dec 1, 2026"


def test_overdue_items_are_reminded_every_cooldown_not_every_day(plan_for):
    recently = (TODAY - dt.timedelta(days=3)).isoformat()
    plan = plan_for([rec("R1", due=-5, **{"Last Reminded": recently, "Reminders Sent": 1})])
    assert plan.actions == []
    assert statuses(plan)["R1"] == (
        "Overdue since Nov 25, 2026; owner reminded Nov 27, 2026, next on or after Dec 4, 2026"
    )
    week = (TODAY - dt.timedelta(days=7)).isoformat()
    plan = plan_for([rec("R1", due=-5, **{"Last Reminded": week, "Reminders Sent": 1})])
    (action,) = digests(plan)
    assert action.messages[0].context["items"][0]["overdue"] is True
    status = {w.row.key: w.value for w in action.on_success if w.column == "Status"}
    assert status["R1"] == (
        "Owner reminded Nov 30, 2026 (reminder 2 of 4): overdue since Nov 25, 2026"
    )


def test_due_soon_item_reminded_once_before_its_due_date(plan_for):
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    plan = plan_for([rec("R1", due=2, **{"Last Reminded": yesterday, "Reminders Sent": 1})])
    assert plan.actions == []
    assert statuses(plan)["R1"] == "Due Dec 2, 2026; owner reminded Nov 29, 2026"


def test_reminder_limit_stops_the_digests_and_the_row_says_so(plan_for):
    long_ago = (TODAY - dt.timedelta(days=30)).isoformat()
    plan = plan_for(
        [rec("R1", due=-40, raised=-90, **{"Last Reminded": long_ago, "Reminders Sent": 4})]
    )
    assert plan.actions == []
    assert statuses(plan)["R1"] == "Overdue since Oct 21, 2026: reminder limit reached (4 sent)"


def test_digest_goes_in_the_owner_language_from_the_members_tab(plan_for):
    plan = plan_for([rec("R1", due=1, **{"Owner Email": "P1@example.org"})])
    (action,) = digests(plan)
    assert action.messages[0].language.code == "es"
    assert action.messages[0].context["name"] == "María P1"


def test_owner_not_on_members_gets_the_digest_in_english(plan_for):
    plan = plan_for([rec("R1", due=1, **{"Owner Email": "staff@example.org"})])
    (action,) = digests(plan)
    assert action.messages[0].language.code == "en"
    assert action.messages[0].to == ("staff@example.org",)


def test_a_crash_rerun_plans_the_same_digest_key_and_the_next_one_a_new_key(plan_for):
    first = digests(plan_for([rec("R1", due=1)]))[0].messages[0].key
    again = digests(plan_for([rec("R1", due=1)], sent={first}))[0].messages[0].key
    assert again == first  # the ledger then finds it sent: not sent twice
    later = TODAY + dt.timedelta(days=7)
    stamped = rec("R1", due=1, **{"Last Reminded": TODAY.isoformat(), "Reminders Sent": 1})
    assert digests(plan_for([stamped], today=later))[0].messages[0].key != first


def test_blank_id_is_assigned_from_raised_on_and_not_chased_until_stored(plan_for):
    plan = plan_for([rec("", due=1, raised=-2), rec("", due=1, raised=-2, Recommendation="B")])
    assert [w.value for w in plan.assigned] == ["REC-20261128", "REC-20261128-2"]
    assert plan.actions == []
    assert set(statuses(plan).values()) == {
        "Recommendation ID REC-20261128 assigned; its owner is reminded once it is saved in "
        "the sheet",
        "Recommendation ID REC-20261128-2 assigned; its owner is reminded once it is saved in "
        "the sheet",
    }


@pytest.mark.parametrize(
    ("row", "error"),
    [
        (rec(**{"Raised On": "soon"}), 'Raised On "soon"'),
        (rec(Recommendation=""), "Recommendation is blank"),
        (rec(**{"Owner Email": "maria@"}), '"maria@" is not a valid email address'),
        (rec(Due=""), "Due"),
        (rec(due=-40), "is before Raised On"),
        (rec(Area="Housing"), 'Area "Housing" is not Indigenous-language resources'),
        (rec(Progress="Finished"), 'Progress "Finished" is not Open, In progress, Done or'),
        (rec(**{"Reminders Sent": "two"}), 'Reminders Sent "two" is not a whole number'),
    ],
)
def test_a_bad_row_gets_an_error_status_and_the_others_go_on(plan_for, row, error):
    plan = plan_for([row, rec("R2", due=1)])
    assert statuses(plan)["R1"].startswith("Error: ") and error in statuses(plan)["R1"]
    assert plan.skipped == 1
    assert [i["id"] for i in digests(plan)[0].messages[0].context["items"]] == ["R2"]


def test_rows_sharing_an_id_are_both_refused(plan_for):
    plan = plan_for([rec("R1", due=1), rec("r1", due=1)])
    assert plan.actions == [] and plan.skipped == 2


def test_done_is_stamped_closed_once_and_a_reopened_row_is_cleared(plan_for):
    plan = plan_for(
        [rec("R1", Progress="done"), rec("R2", Progress="Open", **{"Closed On": day(-9)})]
    )
    closed = {w.row.key: w.value for w in plan.writes if w.column == "Closed On"}
    assert closed == {"R1": TODAY, "R2": ""}  # a date cell
    assert statuses(plan)["R1"] == "Done (closed Nov 30, 2026)"
    plan = plan_for([rec("R1", Progress="Dropped", **{"Closed On": day(-9)})])
    assert not [w for w in plan.writes if w.column == "Closed On"]
    assert statuses(plan)["R1"] == "Dropped (closed Nov 21, 2026)"


def test_followup_goes_to_members_two_days_after_a_held_meeting(plan_for):
    rows = [
        rec("OLD", raised=-120, due=-60, Progress="Done", **{"Closed On": day(-100)}),
        rec("DONE", raised=-120, due=-60, Progress="Done", **{"Closed On": day(-20)}),
        rec("NEW", raised=-10, due=30),
        rec("STILL", raised=-120, due=-1),
    ]
    meetings = [meeting("M0", -90), meeting("M1", -2), meeting("M2", 60)]
    plan = plan_for(rows, meetings)
    (action,) = [a for a in plan.actions if "follow-up" in a.description]
    assert sorted(m.to[0] for m in action.messages) == ["d1@example.org", "p1@example.org"]
    assert {m.key for m in action.messages} == {
        message_key("committee-followup", "M1", "followup", e)
        for e in ("d1@example.org", "p1@example.org")
    }
    context = action.messages[0].context
    assert context["meeting"]["id"] == "M1"
    assert [i["id"] for i in context["added"]] == ["NEW"]
    assert [i["id"] for i in context["done"]] == ["DONE"]
    assert [(i["id"], i["overdue"]) for i in context["open"]] == [("STILL", True), ("NEW", False)]
    spanish = next(m for m in action.messages if m.to == ("p1@example.org",))
    assert spanish.language.code == "es"


def test_followup_is_not_sent_early_twice_late_or_for_a_cancelled_meeting(plan_for):
    rows = [rec("R1", due=30)]

    def followups(meetings: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
        plan = plan_for(rows, meetings, **kwargs)
        return [a for a in plan.actions if "follow-up" in a.description]

    assert followups([meeting("M1", -1)]) == []  # one day after: not yet
    assert followups([meeting("M1", -10)]) == []  # old news
    assert followups([meeting("M1", -2, Cancelled="Yes")]) == []
    sent = {message_key("committee-followup", "M1", "followup", "d1@example.org")}
    (action,) = followups([meeting("M1", -3)], sent=sent)
    # The runner drops keys the ledger holds; the key is the same on every run.
    assert {m.key for m in action.messages} >= sent


def test_followup_taken_as_sent_by_a_rebuild_after_a_run_since_its_day(demo, job_input):
    settings = demo.settings
    tables = {
        "committee": {
            "Members": make_table(ci.MEMBERS, MEMBERS),
            "Meetings": make_table(ci.MEETINGS, [meeting("M1", -3)]),
            "Recommendations": make_table(RECOMMENDATIONS, [rec("R1", due=30)]),
        }
    }
    given = job_input(tables, settings=settings, options=cf.options(settings))
    out = Rebuilt("committee-followup")
    cf.rebuild(given, lambda sheet: None, out)
    assert out.sent == set()  # no run since its day: it would still be sent
    grid = [
        ["When", "Job", "Dry Run", "Sent", "Skipped", "Failed", "Summary"],
        [f"{TODAY - dt.timedelta(days=1)}T07:15", "committee-followup", "No", "2", "0", "0", "x"],
    ]
    log = build_table("committee", "Run Log", RUN_LOG_SPEC, Names(), grid)
    out = Rebuilt("committee-followup")
    cf.rebuild(given, lambda sheet: log, out)
    assert out.sent == {
        message_key("committee-followup", "M1", "followup", e)
        for e in ("d1@example.org", "p1@example.org")
    }


def test_invitation_lists_open_recommendations_oldest_first_with_overdue_marked(plan_for):
    rows = [
        rec("NEWER", raised=-5, due=20),
        rec("OLDER", raised=-50, due=-3),
        rec("SHUT", raised=-90, due=-3, Progress="Done"),
        rec("BAD", **{"Owner Email": "x@"}),
    ]
    plan = plan_for(rows, [meeting("M1", 20)], job=ci)
    (action,) = [a for a in plan.actions if "invitation" in a.description]
    listed = action.messages[0].context["meeting"]["recommendations"]
    assert [(r["id"], r["overdue"]) for r in listed] == [("OLDER", True), ("NEWER", False)]
    # The invitations job leaves the rows' statuses to committee-followup.
    assert not [w for w in plan.writes if w.row.tab == "Recommendations"]


def test_tracker_counts_open_overdue_and_done_this_quarter_by_area(plan_for, demo, job_input):
    rows = [
        rec("A", due=-1),
        rec("B", due=5, Area="pd"),
        rec("C", Progress="Done", **{"Closed On": day(-10)}),
        rec("D", Progress="Done", **{"Closed On": day(-80)}),  # last quarter
        rec("E", Progress="Dropped", **{"Closed On": day(-10)}),
        rec("F", **{"Owner Email": "x@"}),
    ]
    tables = {"committee": {"Recommendations": make_table(RECOMMENDATIONS, rows)}}
    given = job_input(tables, settings=demo.settings, options=None)
    figure = compute_recommendations(given)
    assert figure is not None and figure.quarter == "2026 Q4" and figure.skipped == 1
    by_area = {a.area: (a.open, a.overdue, a.done) for a in figure.areas}
    assert by_area["Legal partnerships"] == (1, 1, 1)
    assert by_area["PD"] == (1, 0, 0)
    rows_out = recommendation_rows(figure)
    assert ("Total", 2, 1, 1) in rows_out
    assert compute_recommendations(job_input({}, settings=demo.settings, options=None)) is None


def test_no_followup_when_the_tab_has_no_recommendations(plan_for):
    assert plan_for([], [meeting("M1", -2)]).actions == []
