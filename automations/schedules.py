"""When jobs run: a small schedule grammar shared by `list`, cron lines and the daemon."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PATTERN = re.compile(
    r"(?P<when>daily|weekdays|monthly on day (?P<day>\d{1,2})|" + "|".join(WEEKDAYS) + r")"
    r"\s+at\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Schedule:
    """One recurring time: daily, on weekdays, one weekday, or one day of the month."""

    when: str
    at: dt.time
    day: int | None = None

    def __str__(self) -> str:
        when = f"monthly on day {self.day}" if self.when == "monthly" else self.when
        return f"{when} at {self.at:%H:%M}"

    def cron(self) -> str:
        """The same time as a crontab time field (in the configured time zone)."""
        minute, hour = self.at.minute, self.at.hour
        if self.when == "daily":
            return f"{minute} {hour} * * *"
        if self.when == "weekdays":
            return f"{minute} {hour} * * 1-5"
        if self.when == "monthly":
            return f"{minute} {hour} {self.day} * *"
        return f"{minute} {hour} * * {(WEEKDAYS.index(self.when) + 1) % 7}"

    def due_on(self, day: dt.date) -> bool:
        """True when this schedule fires on `day` (at any time)."""
        if self.when == "daily":
            return True
        if self.when == "weekdays":
            return day.weekday() < 5
        if self.when == "monthly":
            return day.day == self.day
        return WEEKDAYS[day.weekday()] == self.when


def parse_schedule(value: str) -> Schedule:
    """Parse 'daily at 07:00', 'weekdays at 7:30', 'monday at 08:00', 'monthly on day 1 at 7:00'."""
    match = _PATTERN.fullmatch(" ".join(value.split()))
    if not match:
        raise ValueError(
            f'"{value}" is not a schedule; write e.g. "daily at 07:00", "weekdays at 07:00", '
            '"monday at 08:00" or "monthly on day 1 at 07:00"'
        )
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise ValueError(f'"{value}" has no such time of day')
    when = match["when"].lower()
    if match["day"]:
        day = int(match["day"])
        if not 1 <= day <= 28:
            raise ValueError(f'"{value}": the day of the month must be 1 to 28')
        return Schedule("monthly", dt.time(hour, minute), day)
    return Schedule(when, dt.time(hour, minute))


def latest_occurrence(schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The last time at or before `now` that `schedule` fired (in `now`'s time zone)."""
    zone = now.tzinfo
    for back in range(32):  # a monthly schedule fires at least once in 31 days
        day = now.date() - dt.timedelta(days=back)
        if schedule.due_on(day):
            moment = dt.datetime.combine(day, schedule.at, zone)
            if moment.astimezone(dt.UTC) <= now.astimezone(dt.UTC):
                return moment
    return None


def next_occurrence(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The first time after `now` that `schedule` fires (in `now`'s time zone)."""
    zone = now.tzinfo
    back = 0
    while True:
        day = now.date() + dt.timedelta(days=back)
        if schedule.due_on(day):
            moment = dt.datetime.combine(day, schedule.at, zone)
            if moment.astimezone(dt.UTC) > now.astimezone(dt.UTC):
                return moment
        back += 1


def due(
    schedules: tuple[Schedule, ...] | list[Schedule], now: dt.datetime, since: dt.datetime
) -> dt.datetime | None:
    """The scheduled time that makes a job due: the latest one after `since`, up to `now`.

    Only the latest counts, so a job that missed several times (the host was off) runs
    once, not once per missed time. None when no scheduled time passed since `since`.
    """
    latest = [t for s in schedules if (t := latest_occurrence(s, now)) is not None]
    moment = max(latest, key=lambda t: t.astimezone(dt.UTC), default=None)
    if moment is None or moment.astimezone(dt.UTC) <= since.astimezone(dt.UTC):
        return None
    return moment
