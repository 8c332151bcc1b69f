"""`jobs.py schedule`: run the configured schedules in one long-running process.

For hosts where cron is not an option. Each job runs at its configured times in the
configured time zone; a job that fails is logged (and the runner alerts the admin),
and the loop goes on; SIGTERM or SIGINT lets the current job finish, then exits.
The run lock is the same file cron runs use, so the two never overlap.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

import schedule

from automations.config import Settings
from automations.schedules import WEEKDAYS, Schedule

log = logging.getLogger("automations")


class Daemon:
    """Registers every enabled job's schedules and runs them until stopped."""

    def __init__(
        self,
        settings: Settings,
        run_job: Callable[[str], int],
        scheduler: schedule.Scheduler | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.run_job = run_job
        self.scheduler = scheduler or schedule.Scheduler()
        self.sleep = sleep
        self.stopping = False
        self.runs: list[tuple[str, int]] = []

    def register(self, names: list[str]) -> list[str]:
        """Schedule each job; returns one line per registration for the log."""
        lines = []
        zone = self.settings.timezone.key
        for name in names:
            for when in self.settings.job(name).schedules:
                for job in self._jobs_for(when):
                    job.at(when.at.strftime("%H:%M"), zone).do(self._run, name, when)
                lines.append(f"{name}: {when} ({zone})")
        return lines

    def _jobs_for(self, when: Schedule) -> list[schedule.Job]:
        every = self.scheduler.every()
        if when.when in ("daily", "monthly"):
            return [every.day]
        if when.when == "weekdays":
            return [getattr(self.scheduler.every(), day) for day in WEEKDAYS[:5]]
        return [getattr(every, when.when)]

    def _run(self, name: str, when: Schedule) -> None:
        """Run one job, never letting its failure escape into the scheduler."""
        today = dt.datetime.now(self.settings.timezone).date()
        if when.when == "monthly" and not when.due_on(today):
            return
        log.info("schedule: starting %s", name)
        try:
            code = self.run_job(name)
        except Exception as err:  # one job's crash must not stop the loop
            log.exception("schedule: %s crashed: %s", name, err)
            code = 1
        self.runs.append((name, code))
        log.info("schedule: %s finished with exit code %d", name, code)

    def stop(self, signum: int, frame: FrameType | None = None) -> None:
        """Finish the current job, then leave the loop."""
        log.info("schedule: received signal %d; stopping after the current job", signum)
        self.stopping = True

    def run_forever(self, tick: float = 1.0) -> None:
        """Run due jobs until SIGTERM or SIGINT."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("schedule: waiting for the next job (%s)", self.scheduler.next_run)
        while not self.stopping:
            self.scheduler.run_pending()
            if self.stopping:
                break
            self.sleep(tick)
        log.info("schedule: stopped")
