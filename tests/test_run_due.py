"""`run due`: each job runs once when its scheduled time has passed since its last run."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from automations import PROJECT_ROOT
from automations.cli import main
from automations.due import FIRST_SEEN, decide
from automations.jobs import registry
from automations.ledger import Ledger, RunRecord
from automations.lock import RunLock
from automations.schedules import due, parse_schedule

LA = ZoneInfo("America/Los_Angeles")


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time), LA)


WEEKDAYS = (parse_schedule("weekdays at 06:30"),)
DAILY = (parse_schedule("daily at 07:00"),)
MONTHLY = (parse_schedule("monthly on day 1 at 07:00"),)


def test_a_weekday_job_is_not_due_on_saturday():
    """The old cron line ran everything daily: PD digests went out on Saturdays."""
    friday_run = at("2026-11-27", "06:31")
    assert due(WEEKDAYS, at("2026-11-28", "07:00"), friday_run) is None
    assert due(WEEKDAYS, at("2026-11-29", "23:59"), friday_run) is None
    assert due(WEEKDAYS, at("2026-11-30", "06:45"), friday_run) == at("2026-11-30", "06:30")


def test_a_job_is_due_once_its_time_has_passed_and_not_again_after_it_ran():
    last = at("2026-11-29", "07:01")
    assert due(DAILY, at("2026-11-30", "06:59"), last) is None
    assert due(DAILY, at("2026-11-30", "07:00"), last) == at("2026-11-30", "07:00")
    assert due(DAILY, at("2026-11-30", "07:15"), at("2026-11-30", "07:02")) is None


def test_missed_times_are_caught_up_once_not_once_each():
    assert due(DAILY, at("2026-11-30", "08:00"), at("2026-11-25", "07:01")) == at(
        "2026-11-30", "07:00"
    )


def test_a_monthly_job_waits_for_its_day():
    last = at("2026-11-01", "07:03")
    assert due(MONTHLY, at("2026-11-30", "12:00"), last) is None
    assert due(MONTHLY, at("2026-12-01", "07:00"), last) == at("2026-12-01", "07:00")


def test_the_last_run_may_be_in_another_utc_offset():
    last = at("2026-11-29", "07:01").astimezone(dt.UTC)
    assert due(DAILY, at("2026-11-30", "07:10"), last) == at("2026-11-30", "07:00")


def record_run(ledger: Ledger, job: str, finished: dt.datetime) -> None:
    ledger.record_run(
        RunRecord(job, finished.isoformat(timespec="seconds"), False, 0, 0, 0, "sent 0"),
        finished,
    )


@pytest.fixture
def ledger(tmp_path):
    book = Ledger(tmp_path / "ledger.sqlite3")
    yield book
    book.close()


def test_a_job_that_never_ran_waits_for_its_next_time_and_says_so(demo, ledger):
    settings = demo.settings
    jobs = list(registry().values())
    first = decide(settings, jobs, ledger, at("2026-11-30", "08:00"), record=True)
    assert [d.due_at for d in first] == [None] * len(jobs)
    notes = {d.job.name: d.note for d in first}
    assert notes["committee-invites"] == (
        "committee-invites: has never run; `run due` starts it at its next scheduled time "
        "(Tue Dec 1 at 07:00); `python jobs.py run committee-invites` runs it now"
    )
    later = decide(settings, jobs, ledger, at("2026-11-30", "09:00"), record=True)
    assert [(d.due_at, d.note) for d in later] == [(None, "")] * len(jobs)
    tomorrow = decide(settings, jobs, ledger, at("2026-12-01", "07:45"), record=True)
    assert {d.job.name: d.due_at for d in tomorrow} == {
        "committee-invites": at("2026-12-01", "07:00"),
        "committee-followup": at("2026-12-01", "07:15"),
        "pd-reminders": at("2026-12-01", "06:30"),
        "webinar-agendas": at("2026-12-01", "07:30"),
        "family-outreach": None,  # weekdays at 08:00: not yet
        "resources": at("2026-12-01", "07:45"),
        "mou-tracker": at("2026-12-01", "07:00"),
    }


def test_a_dry_run_does_not_record_the_first_sighting(demo, ledger):
    decide(
        demo.settings, list(registry().values()), ledger, at("2026-11-30", "08:00"), record=False
    )
    assert ledger.history(FIRST_SEEN).states == {}


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_run_due_on_a_fresh_install_sends_nothing_and_names_each_job(demo, capsys):
    code, out = cli(capsys, "--config", str(demo.config), "run", "due")
    assert code == 0
    for job in registry():
        assert f"{job}: has never run; `run due` starts it at its next scheduled time" in out
    assert demo.emls() == []


def test_run_due_runs_only_the_jobs_whose_time_passed_since_their_last_run(demo, capsys):
    settings = demo.settings
    now = dt.datetime.now(settings.timezone)
    ledger = Ledger(settings.state_dir / "ledger.sqlite3")
    record_run(ledger, "committee-invites", now - dt.timedelta(days=3))
    for name in ("pd-reminders", "webinar-agendas", "mou-tracker"):
        record_run(ledger, name, now + dt.timedelta(minutes=5))  # just ran
    ledger.close()
    code, out = cli(capsys, "--config", str(demo.config), "run", "due")
    assert code in (0, 1), out
    jobs = {p.name.split("-")[0] for p in demo.emls() if not p.name.startswith("admin")}
    assert jobs == {"committee"}
    before = len(demo.emls())
    cli(capsys, "--config", str(demo.config), "run", "due")
    assert len(demo.emls()) == before  # ran once: not due again


def test_run_due_holds_the_same_lock_as_run_all(demo, capsys):
    with RunLock(demo.settings.state_dir / "jobs.lock"):
        code, out = cli(capsys, "--config", str(demo.config), "run", "due")
    assert code == 75 and "another run holds the lock" in out


def test_run_due_follows_the_real_clock(demo, capsys):
    code, out = cli(capsys, "--config", str(demo.config), "run", "due", "--today", "2026-11-30")
    assert code == 2 and "run due follows the real clock" in out


def test_the_readme_cron_line_is_run_due_every_15_minutes():
    readme = (PROJECT_ROOT / "README.md").read_text()
    (line,) = [line for line in readme.splitlines() if "jobs.py run" in line and "*" in line]
    assert line.startswith("*/15 * * * *") and line.rstrip().endswith(
        "run due >> var/jobs.log 2>&1"
    )
