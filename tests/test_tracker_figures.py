"""The tracker's figures, counted by hand on a small fixture (tests/fixtures/tracker.py)."""

from __future__ import annotations

import datetime as dt

from automations import tracker
from automations.jobs import mou_tracker
from automations.plan import History
from automations.tracker import MET, MISSED, NO_MEETING_YET, SCHEDULED, UPCOMING, Completion
from automations.tracker_views import tab_rows
from tests.fixtures.tracker import ALL_DONE, MEETINGS, WEBINARS


def test_quarters_run_from_agreement_start_to_end_with_their_meetings(tracker_input):
    figures = tracker.compute(tracker_input())
    assert [q.label for q in figures.quarters] == ["2026 Q1", "2026 Q2", "2026 Q3", "2026 Q4"]
    q1, q2, q3, q4 = figures.quarters
    assert (q1.status, q1.invited, q1.held, q1.cancelled) == (MET, 1, 1, 0)
    assert q1.responses == "M1: 5 accepted, 1 declined"
    # The only Q2 meeting was cancelled (invited per the ledger): the quarter was missed.
    assert (q2.status, q2.invited, q2.held, q2.cancelled) == (MISSED, 1, 0, 1)
    assert (q3.status, q3.meetings) == (MISSED, ())
    assert (q4.status, q4.invited, q4.held) == (SCHEDULED, 0, 0)
    assert [q.flagged for q in figures.quarters] == [False, True, True, False]
    assert figures.quarters_met == 1 and len(figures.quarters_due) == 4


def test_a_started_quarter_without_meeting_says_no_meeting_yet_and_later_ones_upcoming(
    tracker_input,
):
    figures = tracker.compute(tracker_input(today=dt.date(2026, 10, 15), meetings=MEETINGS[:2]))
    statuses = [q.status for q in figures.quarters]
    assert statuses == [MET, MISSED, MISSED, NO_MEETING_YET]
    early = tracker.compute(tracker_input(today=dt.date(2026, 1, 5)))
    assert [q.status for q in early.quarters] == [SCHEDULED, UPCOMING, UPCOMING, SCHEDULED]
    assert len(early.quarters_due) == 1


def test_invited_comes_from_the_ledger_when_the_sheet_column_is_blank(tracker_input):
    without = tracker.compute(tracker_input(others={}))
    assert without.quarters[1].invited == 0
    assert tracker.compute(tracker_input()).quarters[1].invited == 1


def test_roster_counts_active_members_and_names_what_is_missing(tracker_input):
    roster = tracker.compute(tracker_input()).roster
    assert roster.counts == {"District": 3, "UTLA": 2, "Parent": 2}
    assert roster.parents_by == {"District": 2, "UTLA": 0}
    assert roster.missing == ("1 UTLA member", "a parent appointed by UTLA")
    assert roster.extra == ("1 parent appointed by District too many",)
    assert not roster.complete


def test_pd_completion_overall_and_per_site_counts_each_active_person_once(tracker_input):
    pd = tracker.compute(tracker_input()).pd
    overall = pd.overall
    # Active: E1, E2, E3, E6 (E1's duplicate row counts once; E4 and E5 are inactive).
    assert (overall.active, overall.inactive, overall.owe_all, overall.all_done) == (4, 2, 1, 1)
    assert overall.fully_trained.percent == 25
    assert [overall.topics[n] for n in pd.topics] == [
        Completion(3, 4),
        Completion(2, 4),
        Completion(1, 4),
        Completion(1, 4),
    ]
    assert [overall.topics[n].percent for n in pd.topics] == [75, 50, 25, 25]
    sites = {s.site: s for s in pd.sites}
    assert list(sites) == ["Adams", "Banks", "(no site)"]
    assert [sites["Adams"].topics[n].percent for n in pd.topics] == [67, 33, 33, 33]
    assert str(sites["Adams"].topics["Safe Zones"]) == "2 / 3 (67%)"
    assert [sites["(no site)"].topics[n].percent for n in pd.topics] == [100, 100, 0, 0]
    assert [(s.id, s.name, s.site) for s in pd.owing_all] == [("E3", "Cy", "Adams")]


def test_a_site_with_zero_active_staff_has_no_percentage(tracker_input):
    banks = {s.site: s for s in tracker.compute(tracker_input()).pd.sites}["Banks"]
    assert (banks.active, banks.inactive) == (0, 2)
    assert all(c.percent is None for c in banks.topics.values())
    assert str(banks.topics["Safe Zones"]) == "0 / 0 (no active staff)"


def test_all_complete_and_none_complete(tracker_input):
    staff = [
        {"Employee ID": f"E{i}", "Email": f"e{i}@example.org", "Site": "Cole", **ALL_DONE}
        for i in range(3)
    ]
    done = tracker.compute(tracker_input(staff=staff)).pd
    assert [done.overall.topics[n].percent for n in done.topics] == [100, 100, 100, 100]
    assert done.owing_all == () and done.overall.owe_all == 0
    assert done.overall.fully_trained == Completion(3, 3)
    bare = [{k: v for k, v in row.items() if k not in ALL_DONE} for row in staff]
    none = tracker.compute(tracker_input(staff=bare)).pd
    assert [none.overall.topics[n].percent for n in none.topics] == [0, 0, 0, 0]
    assert [s.id for s in none.owing_all] == ["E0", "E1", "E2"]
    assert none.sites[0].owe_all == 3


def test_empty_tabs_give_zero_figures_not_errors(tracker_input):
    figures = tracker.compute(
        tracker_input(members=[], meetings=[], staff=[], webinars=[], families=[], others={})
    )
    assert [q.status for q in figures.quarters] == [MISSED, MISSED, MISSED, NO_MEETING_YET]
    assert figures.roster.counts == {"District": 0, "UTLA": 0, "Parent": 0}
    assert figures.roster.missing == (
        "3 District members",
        "3 UTLA members",
        "a parent appointed by the District",
        "a parent appointed by UTLA",
    )
    assert figures.pd.overall.active == 0 and figures.pd.sites == ()
    assert all(c.percent is None for c in figures.pd.overall.topics.values())
    assert figures.webinars == () and figures.webinars_held == 0
    assert [s.rows for s in figures.sources] == [0, 0, 0, 0, 0]


def test_webinars_in_the_period_with_coverage_agenda_recipients_and_languages(tracker_input):
    figures = tracker.compute(tracker_input())
    webinars = {w.id: w for w in figures.webinars}
    assert list(webinars) == ["W1", "W2", "W4", "W5"]  # W3 is after the agreement ends
    w1, w2, w4, w5 = webinars.values()
    # W1: blank Language goes to every family in their own language (opted out left out).
    assert (w1.covered, w1.agenda_sent, w1.recipients, w1.languages) == (
        True,
        True,
        12,
        ("English", "Spanish"),
    )
    assert (w2.covered, w2.missing, w2.agenda_sent, w2.recipients, w2.languages) == (
        False,
        ("We Are One",),
        False,
        None,
        ("Spanish",),
    )
    # W4: only the batches the ledger says went out count.
    assert (w4.agenda_sent, w4.recipients, w4.languages) == (True, 1, ("Spanish",))
    assert w5.cancelled
    assert (figures.webinars_held, figures.webinars_covered) == (3, 2)


def test_generated_at_sources_and_fingerprint_ignoring_the_clock(tracker_input):
    figures = tracker.compute(tracker_input())
    assert figures.generated_at.isoformat() == "2026-11-30T07:00:00-08:00"
    assert [(s.spreadsheet, s.tab, s.rows) for s in figures.sources] == [
        ("committee", "Members", 8),
        ("committee", "Meetings", 3),
        ("family", "Webinars", 5),
        ("family", "Families", 4),
        ("pd", "Staff", 7),
    ]
    later = tracker.compute(tracker_input(history=History()))
    assert later.fingerprint() == figures.fingerprint()
    changed = tracker.compute(tracker_input(meetings=MEETINGS[:2]))
    assert changed.fingerprint() != figures.fingerprint()


def test_rows_with_errors_are_left_out_and_counted(tracker_input):
    meetings = [*MEETINGS, {"Meeting ID": "M9", "Date": "someday", "Start Time": "6 PM"}]
    figures = tracker.compute(tracker_input(meetings=meetings))
    assert figures.skipped_rows == 1
    # Issue 13: the note names the row (tab, row, key, reason), not only a count.
    (left,) = figures.left_out
    assert (left.spreadsheet, left.tab, left.row, left.key) == ("committee", "Meetings", 5, "M9")
    assert left.reason.startswith('Date "someday" is not a date')
    assert (
        figures.left_out_note
        == f"1 row left out of the figures: Meetings row 5 (M9): {left.reason}"
    )


def test_the_tracker_writes_the_error_status_of_the_rows_it_leaves_out(tracker_input):
    meetings = [*MEETINGS, {"Meeting ID": "M9", "Date": "someday", "Start Time": "6 PM"}]
    opts = mou_tracker.TrackerOptions(owners=(), summary_day=1, listed_staff=5)
    plan = mou_tracker.plan(tracker_input(meetings=meetings, options=opts))
    (write,) = plan.writes
    assert (write.spreadsheet, write.row.tab, write.row.key, write.column) == (
        "committee",
        "Meetings",
        "M9",
        "Status",
    )
    assert str(write.value).startswith('Error: Date "someday" is not a date')
    assert plan.skipped == 1
    # The other rows' statuses stay the other jobs' business.
    assert mou_tracker.plan(tracker_input(options=opts)).writes == []


def test_a_past_meeting_with_no_invite_record_is_not_recorded_not_zero(tracker_input):
    figures = tracker.compute(tracker_input(others={}))
    q1, q2, _q3, q4 = figures.quarters
    assert (q1.invited, q1.invites_unrecorded) == (1, 0)  # Invite Sent filled in
    assert (q2.invited, q2.invites_unrecorded) == (0, 1)  # past, cancelled, no record
    assert (q4.invited, q4.invites_unrecorded) == (0, 0)  # upcoming: none sent yet
    assert q2.meetings[0].invited is None and q4.meetings[0].invited is False


def test_webinars_have_distinct_states_and_only_held_ones_are_counted(tracker_input):
    upcoming = {**WEBINARS[0], "Webinar ID": "W6", "Date": "2026-12-10", "Agenda Sent": ""}
    not_sent = {**WEBINARS[0], "Webinar ID": "W7", "Date": "2026-09-10", "Agenda Sent": ""}
    figures = tracker.compute(tracker_input(webinars=[*WEBINARS, upcoming, not_sent]))
    webinars = {w.id: w for w in figures.webinars}
    assert (webinars["W1"].state, webinars["W1"].agenda) == ("held", "sent")
    assert (webinars["W5"].state, webinars["W5"].agenda) == ("cancelled", "cancelled")
    assert (webinars["W6"].state, webinars["W6"].agenda) == ("upcoming", "not yet")
    assert (webinars["W7"].state, webinars["W7"].agenda) == ("held", "not sent")
    # W6 covers all three topics but has not happened: not counted as held or covered.
    assert (figures.webinars_held, figures.webinars_covered) == (4, 3)
    assert figures.webinars_upcoming == 1


def test_unreadable_completion_cells_are_counted_as_neither_done_nor_owed(tracker_input):
    staff = [
        {"Employee ID": "A", "Email": "a@example.org", **ALL_DONE},
        {"Employee ID": "B", "Email": "b@example.org", **ALL_DONE, "Safe Zones": "pending"},
        {"Employee ID": "C", "Email": "c@example.org", "Safe Zones": "12/9/2026"},
        {"Employee ID": "D", "Email": "d@example.org", "Safe Zones": "N/A"},
    ]
    figures = tracker.compute(tracker_input(staff=staff))
    overall = figures.pd.overall
    assert figures.pd.uncounted == 3
    assert overall.topics["Safe Zones"] == Completion(1, 4, 3)
    assert str(overall.topics["Safe Zones"]) == "1 / 1 (100%), 3 not counted"
    assert overall.topics["Immigration Rights"] == Completion(2, 4)
    # B's other topics are done and Safe Zones unknown: neither fully trained nor not.
    assert overall.fully_trained == Completion(1, 4, 1)
    assert overall.owe_all == 0  # C and D owe three topics, the fourth is unknown
    (note,) = [n for n in figures.notes if "PD completion" in n]
    assert note.startswith("3 PD completion cells could not be counted")


def test_the_tab_says_not_recorded_and_the_webinar_states(tracker_input):
    upcoming = {**WEBINARS[0], "Webinar ID": "W6", "Date": "2026-12-10", "Agenda Sent": ""}
    not_sent = {**WEBINARS[0], "Webinar ID": "W7", "Date": "2026-09-10", "Agenda Sent": ""}
    figures = tracker.compute(tracker_input(others={}, webinars=[*WEBINARS, upcoming, not_sent]))
    rows = tab_rows(figures, listed_staff=5)
    quarters = {r[0]: r for r in rows if r and str(r[0]).startswith("2026 Q")}
    assert quarters["2026 Q2"][5] == "not recorded"  # a past meeting, no record: not 0
    assert quarters["2026 Q4"][5] == 0  # upcoming: none sent yet
    webinars = {r[0]: r for r in rows if r and str(r[0]).startswith("W")}
    assert (webinars["W5"][3], webinars["W5"][5], webinars["W5"][8]) == (
        "—",
        "None (cancelled)",
        "Cancelled",
    )
    assert (webinars["W6"][5], webinars["W6"][8]) == ("Not yet", "Upcoming")
    assert (webinars["W7"][5], webinars["W7"][8]) == ("Not sent (the webinar has passed)", "Held")
    assert any("Covered all three: 3 of 4 held (1 upcoming" in str(r[0]) for r in rows if r)
    assert ("Left out of the figures: no rows",) in rows
