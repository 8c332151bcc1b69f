"""`jobs.py schedule`: run the configured schedules in one long-running process.

For hosts where cron is not an option. Each job runs at its configured times in the
configured time zone; a job that fails is logged (and the admin alerted), and the loop
goes on; SIGTERM or SIGINT lets the current job finish, then exits without starting
another. The run lock is the same file cron runs use, so the two never overlap.

Times are computed here, per calendar day in the configured zone, rather than by the
`schedule` library: it reads the host's clock directly (no clock can be passed in) and
around a daylight-saving change it could run a job twice on one day. Each schedule
fires at most once per local day; a time inside the spring-forward gap (02:30 when
clocks jump from 02:00 to 03:00) fires an hour later that day, as the clock reads then;
a time that occurs twice in the fall fires the first time only.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from zoneinfo import ZoneInfo

from automations.config import Settings
from automations.crashes import crash_line, record_crash
from automations.schedules import Schedule

log = logging.getLogger("automations")
# Far enough for any schedule: monthly days are 1 to 28, so one turns up within 31 days.
_SEARCH_DAYS = 366


def fire_time(when: Schedule, day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """When `when` fires on `day` (fold 0: in a gap, an hour later; when doubled, the first)."""
    moment = dt.datetime.combine(day, when.at, tzinfo=zone)
    # Normalise through UTC so a gap time reads as the wall clock shows it (03:30, not 02:30).
    return moment.astimezone(dt.UTC).astimezone(zone)


def next_fire(
    when: Schedule, zone: ZoneInfo, after: dt.datetime, last_day: dt.date | None = None
) -> dt.datetime:
    """The first time `when` fires later than `after`, on a day after `last_day`."""
    day = after.astimezone(zone).date()
    if last_day is not None:
        day = max(day, last_day + dt.timedelta(days=1))
    for _ in range(_SEARCH_DAYS):
        if when.due_on(day):
            moment = fire_time(when, day, zone)
            if moment > after:
                return moment
        day += dt.timedelta(days=1)
    raise ValueError(f"{when} never fires")  # cannot happen with parse_schedule's grammar


def show(moment: dt.datetime, zone: ZoneInfo) -> str:
    """A time as the log shows it: 2026-03-09 07:00 PDT (America/Los_Angeles)."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M %Z} ({zone.key})"


@dataclass
class Entry:
    """One job's schedule and when it fires next."""

    name: str
    when: Schedule
    due: dt.datetime


class Daemon:
    """Registers every enabled job's schedules and runs them until stopped."""

    def __init__(
        self,
        settings: Settings,
        run_job: Callable[[str], int],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.zone = settings.timezone
        self.run_job = run_job
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.sleep = sleep
        self.stopping = False
        self.entries: list[Entry] = []
        self.runs: list[tuple[str, int]] = []

    def register(self, names: list[str]) -> list[str]:
        """Schedule each job; returns one line per registration for the log."""
        lines = []
        now = self.clock()
        for name in names:
            for when in self.settings.job(name).schedules:
                self.entries.append(Entry(name, when, next_fire(when, self.zone, now)))
                lines.append(f"{name}: {when} ({self.zone.key})")
        return lines

    @property
    def next_entry(self) -> Entry | None:
        """The schedule that fires next."""
        return min(self.entries, key=lambda e: e.due, default=None)

    def run_pending(self) -> None:
        """Run every job that is due, earliest first; none once a stop was asked for."""
        now = self.clock()
        for entry in sorted((e for e in self.entries if e.due <= now), key=lambda e: e.due):
            if self.stopping:
                return
            self._run(entry.name)
            day = entry.due.astimezone(self.zone).date()
            entry.due = next_fire(entry.when, self.zone, max(self.clock(), entry.due), day)

    def _run(self, name: str) -> None:
        """Run one job, never letting its failure escape into the loop."""
        log.info("schedule: starting %s", name)
        try:
            code = self.run_job(name)
        except Exception as err:  # one job's crash must not stop the loop
            where = record_crash(self.settings.state_dir, err, f"schedule: {name}")
            log.error("schedule: %s crashed: %s", name, crash_line(err, where))
            code = 1
        self.runs.append((name, code))
        log.info("schedule: %s finished with exit code %d", name, code)

    def stop(self, signum: int, frame: FrameType | None = None) -> None:
        """Finish the current job, then leave the loop."""
        log.info("schedule: received signal %d; stopping after the current job", signum)
        self.stopping = True

    def _log_next(self) -> None:
        entry = self.next_entry
        if entry is not None:
            log.info(
                "schedule: waiting for the next job: %s at %s",
                entry.name,
                show(entry.due, self.zone),
            )

    def run_forever(self, tick: float = 1.0) -> None:
        """Run due jobs until SIGTERM or SIGINT (checked every `tick` seconds)."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._log_next()
            while not self.stopping:
                ran = len(self.runs)
                self.run_pending()
                if self.stopping:
                    break
                if len(self.runs) != ran:
                    self._log_next()
                entry = self.next_entry
                pause = tick
                if entry is not None:
                    pause = min(tick, (entry.due - self.clock()).total_seconds())
                self.sleep(max(pause, 0.0))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("schedule: stopped")
