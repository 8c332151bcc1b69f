"""After the agreement's end no job sends anything; `check` warns from 60 days before."""

from __future__ import annotations

import dataclasses
import datetime as dt

import openpyxl

from automations.cli import agreement_notice, main
from automations.demo import init_demo
from automations.jobs import registry
from tests.fixtures.workbooks import Env, records

END = dt.date(2028, 6, 30)


def demo_on(tmp_path, day: dt.date) -> Env:
    folder = tmp_path / "demo"
    return Env(folder, init_demo(folder, day))


def run_all(env: Env, day: dt.date) -> list:
    moment = dt.datetime.combine(day, dt.time(7, 0), env.settings.timezone)
    runner = env.runner(now=moment, out=lambda line: None)
    return [runner.run(job, day) for job in registry().values()]


def test_no_job_sends_anything_after_the_agreement_ends(tmp_path):
    day = END + dt.timedelta(days=1)
    env = demo_on(tmp_path, day)
    results = run_all(env, day)
    assert env.emls() == []
    for result in results:
        assert result.sent == 0
        assert result.problems[0].startswith("the agreement ended on Jun 30, 2028")
    staff = {r["Employee ID"]: r["Status"] for r in records(env.folder / "pd.xlsx", "Staff")}
    assert staff["E1001"] == (
        "Not sent: the agreement ended on Jun 30, 2028, so nothing is sent; if it was "
        "renewed, set the new end under [agreement] end in the config"
    )
    # The tracker's tab still shows the final figures.
    assert "MOU Tracker" in openpyxl.load_workbook(env.committee).sheetnames


def test_the_last_day_of_the_agreement_still_sends(tmp_path):
    env = demo_on(tmp_path, END)
    run_all(env, END)
    assert env.emls()


def test_a_renewed_end_in_the_config_sends_again(tmp_path):
    day = END + dt.timedelta(days=1)
    env = demo_on(tmp_path, day)
    env.config.write_text(
        env.config.read_text().replace('end = "2028-06-30"', 'end = "2031-06-30"')
    )
    run_all(env, day)
    assert env.emls()


def test_check_warns_from_60_days_before_the_end(demo):
    settings = dataclasses.replace(demo.settings, agreement_end=END)
    assert agreement_notice(settings, END - dt.timedelta(days=61)) is None
    assert agreement_notice(settings, END - dt.timedelta(days=60)) == (
        "the agreement ends on Jun 30, 2028 (in 60 days); after that no job sends anything. "
        "If it is renewed, set the new end under [agreement] end in the config"
    )
    assert agreement_notice(settings, END + dt.timedelta(days=1)).startswith(
        "the agreement ended on Jun 30, 2028, so nothing is sent"
    )


def test_check_prints_the_warning(demo, capsys):
    soon = dt.datetime.now(demo.settings.timezone).date() + dt.timedelta(days=30)
    demo.config.write_text(
        demo.config.read_text().replace('end = "2028-06-30"', f'end = "{soon.isoformat()}"')
    )
    assert main(["--config", str(demo.config), "check"]) == 0
    out = capsys.readouterr().out
    assert f"warning: the agreement ends on {soon:%b} {soon.day}, {soon.year} (in 30 days)" in out
