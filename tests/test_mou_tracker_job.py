"""Job mou-tracker on the demo workbooks: its own tab, the monthly summary, on-demand resend."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import openpyxl

from automations import cli
from automations.jobs import mou_tracker, registry
from automations.jobs.mou_tracker import TAB
from tests.fixtures.workbooks import TODAY, read_tab


def run(demo, today=TODAY, on_demand=False, dry_run=False, resend=False):
    moment = dt.datetime.combine(today, dt.time(7, 0), demo.settings.timezone)
    runner = demo.runner(now=moment, out=lambda line: None)
    return runner.run(
        registry()["mou-tracker"], today, dry_run=dry_run, on_demand=on_demand, resend=resend
    )


def summaries(demo):
    return [p for p in demo.emls() if p.name.startswith("mou-tracker")]


def test_registered_last_with_a_monthly_schedule():
    jobs = list(registry().values())
    assert jobs[-1].name == "mou-tracker"
    assert jobs[-1].default_schedule == "monthly on day 1 at 07:00"


def test_run_writes_its_own_tab_and_sends_the_summary_to_members_and_owners(demo):
    members_before = read_tab(demo.committee, "Members")
    result = run(demo)
    assert result.exit_code == 0 and result.error is None
    rows = read_tab(demo.committee, TAB)
    assert rows[0][0].startswith("MOU Tracker")
    assert rows[1][0].startswith("Generated Nov 30, 2026 7:00 AM (")  # issue 13: as staff read
    labels = [r[0] for r in rows]
    assert "2025 Q3" in labels and "2028 Q2" in labels and "All sites" in labels
    assert read_tab(demo.committee, "Members") == members_before  # staff tabs untouched
    sent = summaries(demo)
    # The 8 active demo members and the 2 configured owners each get one.
    assert result.sent == len(sent) == 10
    recipients = {email.message_from_bytes(p.read_bytes())["To"] for p in sent}
    assert {"cochair.district@example.org", "cochair.utla@example.org"} <= recipients


def test_the_tab_is_replaced_whole_on_each_run(demo):
    run(demo)
    workbook = openpyxl.load_workbook(demo.committee)
    workbook[TAB]["Z200"] = "stale note"
    workbook.save(demo.committee)
    run(demo)
    rows = read_tab(demo.committee, TAB)
    assert all("stale note" not in row for row in rows)
    assert openpyxl.load_workbook(demo.committee).sheetnames.count(TAB) == 1


def test_the_summary_goes_once_a_month_and_again_next_month(demo):
    first = run(demo).sent
    assert run(demo).sent == 0
    assert run(demo, today=dt.date(2026, 11, 10)).sent == 0
    assert run(demo, today=dt.date(2027, 1, 1)).sent == first


def test_a_named_run_refreshes_the_tab_but_sends_no_second_summary_in_a_month(demo):
    first = run(demo).sent
    assert run(demo, on_demand=True).sent == 0  # same figures: the same keys
    complete_a_topic(demo)
    assert run(demo).sent == 0  # a scheduled run still waits for next month
    # Issue 10: a named run used to send everyone a second summary when figures changed.
    assert run(demo, on_demand=True).sent == 0
    rows = read_tab(demo.committee, TAB)
    overall = next(r for r in rows if r and r[0] == "All sites")
    assert overall[5] == "2 / 7 (29%)"  # Family Resources was 1 / 7: the tab is fresh
    assert run(demo, on_demand=True, resend=True).sent == first
    assert run(demo, on_demand=True, resend=True).sent == 0  # same figures: not again


def test_dry_run_lists_the_tab_and_sends_nothing(demo):
    lines: list[str] = []
    moment = dt.datetime.combine(TODAY, dt.time(7, 0), demo.settings.timezone)
    runner = demo.runner(now=moment, out=lines.append)
    runner.run(registry()["mou-tracker"], TODAY, dry_run=True)
    assert any(line.startswith(f"  write tab {TAB}: replaced by") for line in lines)
    assert summaries(demo) == []
    assert TAB not in openpyxl.load_workbook(demo.committee).sheetnames


def test_spanish_members_get_the_summary_in_spanish(demo):
    run(demo)
    subjects = [
        str(
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]
        ).strip()
        for p in summaries(demo)
    ]
    assert any(s.startswith("MOU tracker, November 2026") for s in subjects)
    assert any(s.startswith("Seguimiento del MOU, noviembre de 2026") for s in subjects)


def test_summary_day_holds_the_monthly_summary_until_that_day(tracker_input):
    opts = mou_tracker.TrackerOptions(owners=("owner@example.org",), summary_day=5, listed_staff=5)
    early = mou_tracker.plan(tracker_input(today=dt.date(2026, 11, 3), options=opts))
    assert early.actions == [] and len(early.tabs) == 1
    later = mou_tracker.plan(tracker_input(today=dt.date(2026, 11, 5), options=opts))
    assert [m.to for m in later.actions[0].messages][-1] == ("owner@example.org",)
    asked = mou_tracker.plan(
        tracker_input(today=dt.date(2026, 11, 3), options=opts, on_demand=True)
    )
    assert asked.actions


def test_the_tab_lists_at_most_listed_staff_names(tracker_input):
    opts = mou_tracker.TrackerOptions(owners=(), summary_day=1, listed_staff=0)
    rows = mou_tracker.plan(tracker_input(options=opts)).tabs[0].rows
    texts = [str(r[0]) for r in rows if r]
    assert "Staff with every topic outstanding: 1" in texts
    assert any(t.startswith("… and 1 more") for t in texts)


def complete_a_topic(demo) -> None:
    workbook = openpyxl.load_workbook(demo.folder / "pd.xlsx")
    staff = workbook["Staff"]
    header = [c.value for c in staff[1]]
    staff.cell(row=2, column=header.index("Family Resources") + 1, value="2026-11-29")
    workbook.save(demo.folder / "pd.xlsx")


def test_only_resend_on_the_command_line_sends_the_month_s_summary_again(demo, capsys):
    base = ["--config", str(demo.config), "run"]
    today = ["--today", TODAY.isoformat()]
    assert cli.main([*base, "all", *today]) in (0, 1)
    first = len(summaries(demo))
    assert first == 10
    complete_a_topic(demo)
    cli.main([*base, "all", *today])
    assert len(summaries(demo)) == first  # run all keeps the monthly rhythm
    assert cli.main([*base, "mou-tracker", *today]) == 0
    assert len(summaries(demo)) == first  # by name: the tab is refreshed, no second summary
    assert cli.main([*base, "mou-tracker", *today, "--resend"]) == 0
    assert len(summaries(demo)) == 2 * first
    assert cli.main([*base, "mou-tracker", *today, "--resend"]) == 0
    assert len(summaries(demo)) == 2 * first  # same figures: not again


def test_resend_needs_a_job_name(demo, capsys):
    code = cli.main(["--config", str(demo.config), "run", "all", "--resend"])
    assert code == 2
    assert "--resend goes with a job name" in capsys.readouterr().err


def test_report_command_writes_a_standalone_page(demo, capsys):
    out = demo.folder / "site" / "report.html"
    code = cli.main(
        ["--config", str(demo.config), "report", "--today", "2026-11-30", "--out", str(out)]
    )
    assert code == 0 and f"report written to {out}" in capsys.readouterr().out
    page = out.read_text()
    assert page.startswith("<!doctype html>") and '<html lang="en">' in page
    assert "November 30, 2026" in page and "2028 Q2" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "Ana Morales" not in page  # counts only: no names of staff who owe training


def test_run_alone_fills_the_status_of_a_row_it_leaves_out(demo, capsys):
    workbook = openpyxl.load_workbook(demo.committee)
    meetings = workbook["Meetings"]
    header = [c.value for c in meetings[1]]
    row = meetings.max_row + 1
    meetings.cell(row=row, column=header.index("Meeting ID") + 1, value="CM-BROKEN")
    meetings.cell(row=row, column=header.index("Date") + 1, value="someday")
    meetings.cell(row=row, column=header.index("Start Time") + 1, value="6 PM")
    workbook.save(demo.committee)
    args = ["--config", str(demo.config), "run", "mou-tracker", "--today", TODAY.isoformat()]
    cli.main(args)
    after = read_tab(demo.committee, "Meetings")
    status = after[row - 1][after[0].index("Status")]
    assert str(status).startswith('Error: Date "someday" is not a date')
    tab = read_tab(demo.committee, TAB)
    # The tab names the row it left out, and so does the run's output.
    assert any(str(r[0]).startswith("Left out of the figures: 1 row") for r in tab if r)
    assert any(r[:4] == ["committee", "Meetings", row, "CM-BROKEN"] for r in tab)
    assert f"Meetings row {row} (CM-BROKEN)" in capsys.readouterr().out
