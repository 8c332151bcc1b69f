"""The scheduler daemon: registrations, failure isolation, clean shutdown."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def clock_at(settings, *args: int):
    """A fixed clock at local time `args` (year, month, day, hour, minute) in the config's zone."""
    moment = dt.datetime(*args, tzinfo=settings.timezone)
    return lambda: moment


def test_each_schedule_is_registered_in_the_configured_time_zone(demo):
    settings = with_schedules(demo.settings, a="weekdays at 07:30", b="monday at 08:00")
    # Friday 2026-11-27, 09:00 in Los Angeles (17:00 UTC).
    daemon = Daemon(settings, run_job=lambda name: 0, clock=clock_at(settings, 2026, 11, 27, 9))
    lines = daemon.register(["a", "b"])
    assert lines == [
        "a: weekdays at 07:30 (America/Los_Angeles)",
        "b: monday at 08:00 (America/Los_Angeles)",
    ]
    due = {e.name: e.due for e in daemon.entries}
    zone = settings.timezone
    assert due == {
        "a": dt.datetime(2026, 11, 30, 7, 30, tzinfo=zone),  # Monday: the weekend is skipped
        "b": dt.datetime(2026, 11, 30, 8, 0, tzinfo=zone),
    }


def test_a_crashing_job_is_logged_and_the_others_still_run(demo, caplog):
    settings = with_schedules(demo.settings, bad="daily at 07:00", good="daily at 07:00")
    ran: list[str] = []

    def run_job(name: str) -> int:
        ran.append(name)
        if name == "bad":
            raise RuntimeError("boom")
        return 0

    now = [dt.datetime(2026, 11, 30, 6, 59, tzinfo=settings.timezone)]
    daemon = Daemon(settings, run_job=run_job, clock=lambda: now[0])
    daemon.register(["bad", "good"])
    for _ in range(2):
        now[0] += dt.timedelta(days=1)
        daemon.run_pending()
    assert ran == ["bad", "good", "bad", "good"]  # a failed job stays scheduled
    assert daemon.runs == [("bad", 1), ("good", 0), ("bad", 1), ("good", 0)]
    assert "bad crashed: unexpected RuntimeError: boom" in caplog.text
    assert "Traceback" not in caplog.text
    assert "Traceback" in (settings.state_dir / "errors.log").read_text()


def test_monthly_job_runs_only_on_its_day(demo):
    settings = with_schedules(
        demo.settings, due="monthly on day 1 at 07:00", other="monthly on day 2 at 07:00"
    )
    now = [dt.datetime(2026, 11, 30, 8, 0, tzinfo=settings.timezone)]
    ran: list[str] = []
    daemon = Daemon(settings, run_job=lambda name: ran.append(name) or 0, clock=lambda: now[0])
    daemon.register(["due", "other"])
    now[0] = dt.datetime(2026, 12, 1, 8, 0, tzinfo=settings.timezone)
    daemon.run_pending()
    assert ran == ["due"]


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


def test_sigterm_during_a_job_lets_it_finish_and_starts_no_other(demo):
    settings = with_schedules(demo.settings, first="daily at 07:00", second="daily at 07:00")
    now = [dt.datetime(2026, 11, 30, 6, 59, tzinfo=settings.timezone)]
    ran: list[str] = []

    def run_job(name: str) -> int:
        ran.append(name)
        os.kill(os.getpid(), signal.SIGTERM)  # the admin stops the service mid-job
        ran.append(f"{name} finished")
        return 0

    def sleep(seconds: float) -> None:
        now[0] += dt.timedelta(seconds=max(seconds, 1))

    daemon = Daemon(settings, run_job=run_job, clock=lambda: now[0], sleep=sleep)
    daemon.register(["first", "second"])
    daemon.run_forever(tick=60)
    assert ran == ["first", "first finished"]
    assert daemon.runs == [("first", 0)]


def test_a_time_in_the_spring_forward_gap_runs_once_a_day(demo):
    # Clocks in Los Angeles jump from 02:00 to 03:00 on Sunday 2026-03-08.
    settings = with_schedules(demo.settings, early="daily at 02:30")
    zone = settings.timezone
    now = [dt.datetime(2026, 3, 6, 12, 0, tzinfo=zone)]
    end = dt.datetime(2026, 3, 10, 12, 0, tzinfo=zone)
    ran: list[dt.datetime] = []

    def sleep(seconds: float) -> None:
        now[0] += dt.timedelta(seconds=max(seconds, 1))
        if now[0] >= end:
            daemon.stopping = True

    daemon = Daemon(
        settings,
        run_job=lambda name: ran.append(now[0].astimezone(zone)) or 0,
        clock=lambda: now[0],
        sleep=sleep,
    )
    daemon.register(["early"])
    daemon.run_forever(tick=600)
    local = [f"{moment:%m-%d %H:%M %Z}" for moment in ran]
    assert local == [
        "03-07 02:30 PST",
        "03-08 03:30 PDT",  # 02:30 does not exist that day: an hour later, once
        "03-09 02:30 PDT",
        "03-10 02:30 PDT",
    ]


def test_schedule_log_shows_times_in_the_configured_zone(demo):
    # The host runs on UTC; the jobs (and so the log) on Los Angeles time.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "jobs.py"), "--config", str(demo.config), "schedule"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TZ": "UTC"},
    )
    try:
        deadline = time.monotonic() + 30
        waiting = ""
        while time.monotonic() < deadline and not waiting:
            line = process.stderr.readline()
            if "waiting for the next job" in line:
                waiting = line
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    zone = demo.settings.timezone
    abbreviation = dt.datetime.now(zone).strftime("%Z")  # PST or PDT
    stamp, _, message = waiting.partition(" INFO ")
    assert stamp.endswith(abbreviation), waiting
    assert "(America/Los_Angeles)" in message, waiting
    shown = re.search(r"at (\d{4}-\d\d-\d\d \d\d:\d\d) (P[SD]T)", message)
    assert shown and shown[1].endswith(("06:30", "07:00", "07:30")), waiting
