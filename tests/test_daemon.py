"""The scheduler daemon: registrations, failure isolation, clean shutdown."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import schedule

from automations.config import JobConfig
from automations.daemon import Daemon
from automations.schedules import parse_schedule

ROOT = Path(__file__).resolve().parent.parent


def with_schedules(settings, **jobs: str):
    configured = {
        name.replace("_", "-"): JobConfig(name.replace("_", "-"), True, (parse_schedule(text),))
        for name, text in jobs.items()
    }
    return type(settings)(**{**settings.__dict__, "jobs": configured})


def test_each_schedule_is_registered_in_the_configured_time_zone(demo):
    settings = with_schedules(demo.settings, a="weekdays at 07:30", b="monday at 08:00")
    daemon = Daemon(settings, run_job=lambda name: 0, scheduler=schedule.Scheduler())
    lines = daemon.register(["a", "b"])
    assert lines == [
        "a: weekdays at 07:30 (America/Los_Angeles)",
        "b: monday at 08:00 (America/Los_Angeles)",
    ]
    jobs = daemon.scheduler.jobs
    assert len(jobs) == 6
    assert {j.at_time for j in jobs} == {dt.time(7, 30), dt.time(8, 0)}
    assert {str(j.at_time_zone) for j in jobs} == {"America/Los_Angeles"}
    assert sorted(j.start_day for j in jobs) == sorted(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "monday"]
    )


def test_a_crashing_job_is_logged_and_the_others_still_run(demo, caplog):
    settings = with_schedules(demo.settings, bad="daily at 07:00", good="daily at 07:00")
    ran: list[str] = []

    def run_job(name: str) -> int:
        ran.append(name)
        if name == "bad":
            raise RuntimeError("boom")
        return 0

    daemon = Daemon(settings, run_job=run_job, scheduler=schedule.Scheduler())
    daemon.register(["bad", "good"])
    daemon.scheduler.run_all()
    daemon.scheduler.run_all()  # a failed job stays scheduled
    assert ran == ["bad", "good", "bad", "good"]
    assert daemon.runs == [("bad", 1), ("good", 0), ("bad", 1), ("good", 0)]
    assert "bad crashed: boom" in caplog.text


def test_monthly_job_runs_only_on_its_day(demo):
    today = dt.datetime.now(demo.settings.timezone).date()
    other = today.day % 28 + 1
    settings = with_schedules(
        demo.settings,
        due=f"monthly on day {min(today.day, 28)} at 07:00",
        other=f"monthly on day {other} at 07:00",
    )
    ran: list[str] = []
    daemon = Daemon(settings, run_job=lambda name: ran.append(name) or 0)
    daemon.register(["due", "other"])
    daemon.scheduler.run_all()
    assert ran == (["due"] if today.day <= 28 else [])


def test_sigterm_stops_the_daemon_cleanly(demo):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "jobs.py"), "--config", str(demo.config), "schedule"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "waiting for the next job" in line:
            break
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    rest = process.stderr.read()
    assert "committee-invites: daily at 07:00 (America/Los_Angeles)" in "".join(lines)
    assert "stopped" in rest
