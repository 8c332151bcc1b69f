"""The committee-invites planner, as plain functions on rows and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from automations.jobs import committee_invites as ci
from automations.jobs.rows import message_key
from automations.plan import History, Plan
from tests.fixtures.workbooks import TODAY, make_table

ROSTER = [
    {"Name": "Dana D1", "Email": "d1@example.org", "Group": "District"},
    {"Name": "Dana D2", "Email": "d2@example.org", "Group": "district"},
    {"Name": "Dana D3", "Email": "d3@example.org", "Group": " District "},
    {"Name": "Uma U1", "Email": "u1@example.org", "Group": "UTLA"},
    {"Name": "Uma U2", "Email": "u2@example.org", "Group": "UTLA"},
    {"Name": "Uma U3", "Email": "u3@example.org", "Group": "utla"},
    {
        "Name": "María P1",
        "Email": "p1@example.org",
        "Group": "Parent",
        "Appointed By": "District",
        "Language": "Español",
    },
    {"Name": "Pat P2", "Email": "p2@example.org", "Group": "Parent", "Appointed By": "UTLA"},
]
EMAILS = [m["Email"] for m in ROSTER]


def meeting(days: int = 10, **extra: Any) -> dict[str, Any]:
    day = TODAY + dt.timedelta(days=days)
    return {
        "Meeting ID": "M1",
        "Date": f"{day.month}/{day.day}/{day.year}",
        "Start Time": "6 PM",
        "End Time": "7:30 PM",
        "Location": "Room 1",
        "Online Link": "https://example.org/join",
        **extra,
    }


def snapshot(days: int = 10, **extra: Any) -> dict[str, Any]:
    day = TODAY + dt.timedelta(days=days)
    return {
        "date": day.isoformat(),
        "start": "18:00",
        "end": "19:30",
        "location": "Room 1",
        "online_link": "https://example.org/join",
        "sequence": 0,
        "cancelled": False,
        **extra,
    }


def sent_requests(sequence: int = 0, emails: list[str] = EMAILS, ident: str = "M1") -> set[str]:
    return {message_key("committee-invites", ident, "request", sequence, e) for e in emails}


@pytest.fixture
def plan_for(demo, job_input):
    settings = demo.settings
    options = ci.options(settings)

    def run(
        meetings: list[dict[str, Any]],
        members: list[dict[str, Any]] = ROSTER,
        *,
        today: dt.date = TODAY,
        sent: set[str] = frozenset(),
        states: dict[str, Any] | None = None,
    ) -> Plan:
        tables = {
            "committee": {
                "Members": make_table(ci.MEMBERS, members),
                "Meetings": make_table(ci.MEETINGS, meetings),
            }
        }
        history = History(frozenset(sent), states or {})
        return ci.plan(
            job_input(tables, settings=settings, options=options, today=today, history=history)
        )

    return run


def statuses(plan: Plan, tab: str = "Meetings") -> dict[str, Any]:
    return {w.row.key: w.value for w in plan.writes if w.row.tab == tab and w.column == "Status"}


def test_meeting_inside_lead_time_is_invited_to_every_active_member(plan_for):
    plan = plan_for([meeting(days=21)])
    (action,) = [a for a in plan.actions if "invitation" in a.description]
    assert sorted(m.to[0] for m in action.messages) == sorted(EMAILS)
    assert {m.template for m in action.messages} == {"committee_invite"}
    assert all(
        m.invite and m.invite.method == "REQUEST" and m.invite.sequence == 0
        for m in action.messages
    )
    written = {w.column: w.value for w in action.on_success}
    assert written["Invite Version"] == 1
    assert written["Status"].startswith("Invitation sent to 8 members")
    assert "Invite Sent" in written


def test_meeting_beyond_lead_time_says_when_invitations_go_out(plan_for):
    plan = plan_for([meeting(days=22)])
    assert not plan.actions
    assert statuses(plan)["M1"] == ("Scheduled for Dec 22, 2026: invitations go out on Dec 1, 2026")


def test_member_language_picks_spanish_template(plan_for):
    plan = plan_for([meeting()])
    by_to = {m.to[0]: m for m in plan.messages}
    assert by_to["p1@example.org"].language.code == "es"
    assert by_to["d1@example.org"].language.code == "en"


def test_past_meetings_are_never_invited(plan_for):
    plan = plan_for([meeting(days=-1)])
    assert not plan.actions
    assert statuses(plan)["M1"] == "Past: not invited (dated Nov 29, 2026)"


def test_meeting_after_agreement_end_is_flagged_not_sent(plan_for):
    after_end = meeting(Date="7/2/2028")
    plan = plan_for([after_end], today=dt.date(2028, 6, 25))
    assert not [m for m in plan.messages if m.template.startswith("committee_invite")]
    assert statuses(plan)["M1"] == (
        "Not sent: the meeting is after the agreement ends (2028-06-30)"
    )
    assert any("after the agreement ends" in p for p in plan.problems)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"Date": "12/11/2026"}, ["date"]),
        ({"Start Time": "17:30"}, ["start"]),
        ({"End Time": "8 PM"}, ["end"]),
        ({"Location": "Room 2"}, ["location"]),
        ({"Online Link": "https://example.org/other"}, ["online_link"]),
    ],
)
def test_change_to_an_invited_meeting_sends_update_with_higher_sequence(plan_for, change, fields):
    plan = plan_for([meeting(**change)], sent=sent_requests(), states={"meeting:M1": snapshot()})
    (action,) = plan.actions
    assert [m.template for m in action.messages] == ["committee_update"] * 8
    assert {m.invite.sequence for m in action.messages} == {1}
    assert {m.invite.uid for m in action.messages} == {"M1.committee@example.org"}
    assert action.messages[0].context["changes"] == fields
    assert {w.column: w.value for w in action.on_success}["Invite Version"] == 2


def test_unchanged_invited_meeting_sends_nothing(plan_for):
    plan = plan_for([meeting()], sent=sent_requests(), states={"meeting:M1": snapshot()})
    assert plan.actions == []
    assert statuses(plan)["M1"] == "Invitation sent to 8 members (version 1)"


def test_cancellation_goes_to_everyone_who_was_invited(plan_for):
    plan = plan_for(
        [meeting(Cancelled="Yes")],
        members=ROSTER[:7],  # p2 left the committee after being invited
        sent=sent_requests(),
        states={"meeting:M1": snapshot()},
    )
    (action,) = [a for a in plan.actions if a.description.startswith("cancellation")]
    assert sorted(m.to[0] for m in action.messages) == sorted(EMAILS)
    assert {(m.invite.method, m.invite.sequence) for m in action.messages} == {("CANCEL", 1)}
    assert {m.template for m in action.messages} == {"committee_cancel"}


def test_cancelled_meeting_never_invited_sends_nothing(plan_for):
    plan = plan_for([meeting(Cancelled="yes")])
    assert plan.actions == []
    assert statuses(plan)["M1"] == "Cancelled; no invitations were sent"


def test_cancellation_is_sent_once(plan_for):
    plan = plan_for(
        [meeting(Cancelled="Yes")],
        sent=sent_requests(),
        states={"meeting:M1": snapshot(sequence=1, cancelled=True)},
    )
    assert plan.actions == []
    assert statuses(plan)["M1"].startswith("Cancelled: cancellation sent to 8 members")


def test_reminder_goes_out_n_days_before_once(plan_for):
    base = {"sent": sent_requests(), "states": {"meeting:M1": snapshot(days=2)}}
    plan = plan_for([meeting(days=2)], **base)
    (action,) = plan.actions
    assert {m.template for m in action.messages} == {"committee_reminder"}
    assert "Reminder Sent" in {w.column for w in action.on_success}
    assert (
        plan_for([meeting(days=3)], **base | {"states": {"meeting:M1": snapshot(days=3)}}).actions
        == []
    )
    already = plan_for([meeting(days=2, **{"Reminder Sent": "2026-11-30T07:00"})], **base)
    assert already.actions == []


def test_member_added_after_invitation_gets_it_on_next_run(plan_for):
    plan = plan_for(
        [meeting()], sent=sent_requests(emails=EMAILS[:7]), states={"meeting:M1": snapshot()}
    )
    (action,) = plan.actions
    assert [m.to[0] for m in action.messages] == ["p2@example.org"]
    assert action.messages[0].template == "committee_invite"
    assert action.messages[0].key == message_key(
        "committee-invites", "M1", "request", 0, "p2@example.org"
    )


def test_blank_meeting_id_is_filled_deterministically(plan_for):
    first = plan_for([meeting(**{"Meeting ID": ""})])
    second = plan_for([meeting(**{"Meeting ID": ""})])
    ids = [w.value for w in first.writes if w.column == "Meeting ID"]
    assert ids == ["CM-20261210"]
    assert ids == [w.value for w in second.writes if w.column == "Meeting ID"]
    (id_write,) = [w for w in first.writes if w.column == "Meeting ID"]
    assert id_write.row.fingerprint == (("Date", "12/10/2026"), ("Start Time", "6 PM"))
    assert {m.key for m in first.messages} == {m.key for m in second.messages}


def test_bad_rows_get_a_status_and_the_rest_goes_on(plan_for):
    members = [*ROSTER, {"Name": "Broken", "Email": "maria@", "Group": "UTLA"}]
    meetings = [meeting(), meeting(**{"Meeting ID": "M2", "Date": "2/30/2027"})]
    plan = plan_for(meetings, members=members)
    assert statuses(plan)["M2"] == 'Error: Date "2/30/2027" is not a real date'
    assert (
        statuses(plan, "Members")["maria@"] == 'Error: Email "maria@" is not a valid email address'
    )
    assert len(plan.messages) == 8
    assert plan.skipped == 2


def test_duplicate_meeting_ids_are_both_flagged_and_neither_sent(plan_for):
    plan = plan_for([meeting(), meeting(days=12)])
    assert plan.actions == [] or all("M1" not in a.description for a in plan.actions)
    flagged = [w for w in plan.writes if w.column == "Status" and w.row.key == "M1"]
    assert flagged and all("is on rows 2 and 3" in w.value for w in flagged)


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (ROSTER[1:], "2 District members active, 3 needed"),
        (
            [*ROSTER, {"Name": "X", "Email": "u4@example.org", "Group": "UTLA"}],
            "4 UTLA members active, 3 needed",
        ),
        (ROSTER[:7], "1 parent active, 2 needed"),
        (
            [
                *ROSTER,
                {"Name": "X", "Email": "p3@example.org", "Group": "Parent", "Appointed By": "UTLA"},
            ],
            "3 parents active, 2 needed",
        ),
        (
            [*ROSTER[:7], {**ROSTER[7], "Appointed By": "District"}],
            "one parent must be appointed by the District and one by UTLA",
        ),
        (
            [*ROSTER[:7], {**ROSTER[7], "Appointed By": ""}],
            "one parent must be appointed by the District and one by UTLA",
        ),
        ([*ROSTER[:7], {**ROSTER[7], "Active": "No"}], "1 parent active, 2 needed"),
    ],
)
def test_roster_that_breaks_3_3_2_is_reported_and_alerted(plan_for, members, expected):
    plan = plan_for([meeting()], members=members)
    assert any(expected in p for p in plan.problems)
    alerts = [a for a in plan.actions if a.description.startswith("roster alert")]
    assert len(alerts) == 1
    assert sorted(m.to[0] for m in alerts[0].messages) == [
        "cochair.district@example.org",
        "cochair.utla@example.org",
    ]
    assert "Roster problem" in next(
        w.value for a in plan.actions for w in a.on_success if w.column == "Status"
    )


def test_correct_roster_sends_no_alert(plan_for):
    plan = plan_for([meeting()])
    assert not any(a.description.startswith("roster alert") for a in plan.actions)
    assert not [p for p in plan.problems if "roster" in p]


def test_roster_alert_key_changes_only_when_roster_changes(plan_for):
    broken = ROSTER[1:]
    first = [a for a in plan_for([meeting()], members=broken).actions if "roster" in a.description]
    again = [a for a in plan_for([meeting()], members=broken).actions if "roster" in a.description]
    other = [
        a for a in plan_for([meeting()], members=ROSTER[2:]).actions if "roster" in a.description
    ]
    keys = lambda actions: {m.key for m in actions[0].messages}  # noqa: E731
    assert keys(first) == keys(again)
    assert keys(first) != keys(other)


def test_quarter_without_meeting_alerts_co_chairs_near_its_end(plan_for):
    today = dt.date(2027, 3, 10)  # 21 days before 2027 Q1 ends
    plan = plan_for([meeting(days=200)], today=today)
    alerts = [a for a in plan.actions if "no-meeting alert" in a.description]
    assert [a.description for a in alerts] == ["no-meeting alert for 2027 Q1"]
    assert {m.key.split("/")[2] for m in alerts[0].messages} == {"2027 Q1".replace(" ", "%20")}


def test_quarter_with_a_meeting_or_far_from_its_end_is_not_alerted(plan_for):
    march = dt.date(2027, 3, 10)
    in_quarter = meeting(days=(dt.date(2027, 3, 20) - TODAY).days)
    assert not [
        a for a in plan_for([in_quarter], today=march).actions if "no-meeting" in a.description
    ]
    early = dt.date(2027, 2, 1)
    assert not [
        a
        for a in plan_for([meeting(days=200)], today=early).actions
        if "no-meeting" in a.description
    ]


def test_cancelled_meeting_does_not_cover_its_quarter(plan_for):
    march = dt.date(2027, 3, 10)
    cancelled = meeting(days=(dt.date(2027, 3, 20) - TODAY).days, Cancelled="Yes")
    plan = plan_for([cancelled], today=march)
    assert [a for a in plan.actions if "no-meeting" in a.description]


def test_a_day_month_date_read_as_month_day_is_visible_in_the_status(plan_for):
    """10/12/2026 meant as December 10 is read as October 12: the status says so."""
    plan = plan_for([meeting(Date="10/12/2026")])
    assert statuses(plan)["M1"] == "Past: not invited (dated Oct 12, 2026)"
    later = plan_for([meeting(Date="2/3/2027")])
    assert statuses(later)["M1"] == (
        "Scheduled for Feb 3, 2027: invitations go out on Jan 13, 2027"
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"Date": "3/14/2027", "Start Time": "2:30 AM", "End Time": "4 AM"},
            'Start Time "2:30 AM" does not exist on Mar 14, 2027',
        ),
        (
            {"Date": "11/7/2027", "Start Time": "1:30 AM", "End Time": "3 AM"},
            'Start Time "1:30 AM" happens twice on Nov 7, 2027 in America/Los_Angeles',
        ),
        (
            {"Date": "11/7/2027", "Start Time": "12:30 AM", "End Time": "1:15 AM"},
            'End Time "1:15 AM" happens twice',
        ),
    ],
)
def test_a_local_time_the_clocks_skip_or_repeat_is_a_row_error(plan_for, change, words):
    plan = plan_for([meeting(**change)], today=dt.date(2027, 3, 1))
    assert not [a for a in plan.actions if "meeting M1" in a.description]
    assert statuses(plan)["M1"].startswith("Error: ")
    assert words in statuses(plan)["M1"]


def test_the_spring_forward_error_says_what_to_type(plan_for):
    plan = plan_for(
        [meeting(Date="3/8/2026", **{"Start Time": "2:30 AM", "End Time": "4 AM"})],
        today=dt.date(2026, 3, 1),
    )
    assert statuses(plan)["M1"] == (
        'Error: Start Time "2:30 AM" does not exist on Mar 8, 2026 in America/Los_Angeles: '
        "the clocks go forward an hour that night; type the time as the clock will show it "
        "(e.g. 3:30 AM)"
    )


def test_a_default_length_is_real_time_across_a_clock_change(plan_for):
    plan = plan_for(
        [meeting(Date="3/8/2026", **{"Start Time": "1 AM", "End Time": None})],
        today=dt.date(2026, 3, 1),
    )
    (action,) = [a for a in plan.actions if "invitation" in a.description]
    invite = action.messages[0].invite
    assert invite.end.time() == dt.time(3, 30)  # 90 minutes later, the clocks having jumped
    elapsed = invite.end.astimezone(dt.UTC) - invite.start.astimezone(dt.UTC)
    assert elapsed == dt.timedelta(minutes=90)


def test_a_default_end_in_the_repeated_hour_asks_for_an_end_time(plan_for):
    plan = plan_for(
        [meeting(Date="11/1/2026", **{"Start Time": "12:00 AM", "End Time": None})],
        today=dt.date(2026, 10, 25),
    )
    assert statuses(plan)["M1"] == (
        "Error: End Time is blank and 90 minutes after the start is 1:30 AM on Nov 1, 2026, "
        "which happens twice that night (the clocks go back); type an End Time outside the "
        "repeated hour"
    )


def test_a_year_far_from_the_agreement_is_a_row_error_not_a_wait(plan_for):
    plan = plan_for([meeting(Date="12/10/2062")])
    assert statuses(plan)["M1"] == (
        'Error: Date "12/10/2062" reads as Dec 10, 2062, far outside the agreement '
        "(Jul 1, 2025 to Jun 30, 2028); check the year"
    )
    assert plan.skipped == 1


# -- identity: IDs stored before use, lost IDs recovered, rows that disappear -------------


def test_row_without_id_is_given_one_but_not_invited_until_it_is_stored(plan_for):
    plan = plan_for([meeting(**{"Meeting ID": ""})])
    assert [(w.column, w.value) for w in plan.assigned] == [("Meeting ID", "CM-20261210")]
    assert plan.actions == []
    assert statuses(plan)["CM-20261210"] == (
        "Meeting ID CM-20261210 assigned; invitations go out once it is saved in the sheet"
    )


def test_row_that_lost_its_id_gets_the_ledgers_id_back_not_a_new_one(plan_for):
    # Invited as CM-OLD; the ID cell was emptied (a save from a stale copy).
    plan = plan_for(
        [meeting(**{"Meeting ID": ""})],
        sent=sent_requests(ident="CM-OLD"),
        states={"meeting:CM-OLD": snapshot()},
    )
    assert [w.value for w in plan.assigned] == ["CM-OLD"]
    assert plan.actions == []  # no second invitation under a new calendar UID
    assert statuses(plan)["CM-OLD"].startswith("Meeting ID CM-OLD recovered from the ledger")
    assert any("had lost its Meeting ID; CM-OLD" in p for p in plan.problems)


def test_lost_id_is_recovered_only_at_the_same_date_and_start(plan_for):
    # CM-20261210 was invited for 4:30 PM and its row is gone; a 6 PM meeting that day
    # is another meeting: a new ID, never the old one (its calendar UID is taken).
    states = {"meeting:CM-20261210": snapshot(start="16:30")}
    sent = sent_requests(ident="CM-20261210")
    plan = plan_for([meeting(**{"Meeting ID": ""})], sent=sent, states=states)
    assert [w.value for w in plan.assigned] == ["CM-20261210-1800"]


def test_blank_id_row_matching_two_lost_meetings_gets_no_id(plan_for):
    states = {"meeting:CM-A": snapshot(), "meeting:CM-B": snapshot()}
    plan = plan_for([meeting(**{"Meeting ID": ""})], states=states)
    assert plan.assigned == []
    assert not [a for a in plan.actions if "invitation" in a.description]
    (status,) = statuses(plan).values()
    assert status.startswith("Error: Meeting ID is blank and 2 meetings already sent")
    assert "CM-A, CM-B" in status


@pytest.mark.parametrize("date", ["Dec 14", "sometime in spring", "2/30/2027"])
def test_row_whose_date_cannot_be_read_gets_no_id(plan_for, date):
    plan = plan_for([meeting(**{"Meeting ID": "", "Date": date, "Start Time": "4:30 PM"})])
    assert not [w for w in plan.writes if w.column == "Meeting ID"]
    (status,) = statuses(plan).values()
    assert status.startswith(f'Error: Date "{date}" ')
    assert plan.actions == [] and plan.skipped == 1


def test_invited_meeting_whose_row_is_gone_alerts_the_co_chairs(plan_for):
    states = {"meeting:M1": snapshot(), "meeting:GONE": snapshot(days=40, sequence=1)}
    sent = sent_requests() | sent_requests(sequence=1, ident="GONE", emails=EMAILS[:6])
    plan = plan_for([meeting()], sent=sent, states=states)
    (alert,) = [a for a in plan.actions if a.description.startswith("missing-row alert")]
    assert sorted(m.to[0] for m in alert.messages) == [
        "cochair.district@example.org",
        "cochair.utla@example.org",
    ]
    assert {m.template for m in alert.messages} == {"missing_row_alert"}
    assert all(m.key.startswith("committee-invites/GONE/missing-alert/") for m in alert.messages)
    context = alert.messages[0].context
    assert context["sent"] == "the invitation (version 2) to 6 members"
    (problem,) = [p for p in plan.problems if "GONE" in p]
    assert "restore the row or mark it Cancelled" in problem
    assert not [a for a in plan.actions if a.description.startswith("cancellation")]


@pytest.mark.parametrize(
    "state",
    [snapshot(days=-3), snapshot(days=40, sequence=1, cancelled=True)],
    ids=["past", "cancelled"],
)
def test_past_or_cancelled_meeting_whose_row_is_gone_is_not_alerted(plan_for, state):
    plan = plan_for(
        [meeting()], sent=sent_requests(), states={"meeting:M1": snapshot(), "meeting:GONE": state}
    )
    assert not [a for a in plan.actions if "missing-row" in a.description]


def test_meeting_back_on_after_its_cancellation_says_so(plan_for):
    plan = plan_for(
        [meeting(Cancelled="No")],
        sent=sent_requests(),
        states={"meeting:M1": snapshot(sequence=1, cancelled=True)},
    )
    (action,) = plan.actions
    assert {m.template for m in action.messages} == {"committee_reinstated"}
    assert {(m.invite.method, m.invite.sequence) for m in action.messages} == {("REQUEST", 2)}
    assert all(m.context["changes"] == [] for m in action.messages)
    written = {w.column: w.value for w in action.on_success}
    assert written["Status"] == "Back on: invitation sent again to 8 members (version 3)"
    assert written["Invite Version"] == 3
    assert action.state[1]["cancelled"] is False
