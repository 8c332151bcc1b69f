"""Keep a run under a mailbox's sending limits: messages per minute, recipients per message
and recipients per rolling day (Exchange Online: 30/min, 500/message, 10,000/day)."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from automations.errors import ConfigError

RECIPIENTS_CEILING = 500
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
QUEUED_STATUS = "Queued: daily sending limit reached; goes out on the next run"


@dataclass(frozen=True)
class Limits:
    """A mailbox's sending limits (defaults: Exchange Online's, with 100 recipients/message)."""

    messages_per_minute: int = 30
    recipients_per_message: int = 100
    recipients_per_day: int = 10_000


LIMIT_KEYS = frozenset({"messages_per_minute", "recipients_per_message", "recipients_per_day"})
_RANGES = {
    "messages_per_minute": (1, 10_000),
    "recipients_per_message": (1, RECIPIENTS_CEILING),
    "recipients_per_day": (1, 1_000_000),
}


def read_limits(section: Mapping[str, Any], where: str) -> Limits:
    """Limits from a mailer section ([smtp] or [microsoft365]); `where` prefixes errors."""
    values: dict[str, int] = {}
    for key in sorted(LIMIT_KEYS):
        if key not in section:
            continue
        value = section[key]
        low, high = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}.{key} must be a whole number")
        if not low <= value <= high:
            hint = (
                f" ({RECIPIENTS_CEILING} is Exchange Online's ceiling)"
                if key == "recipients_per_message"
                else ""
            )
            raise ConfigError(f"{where}.{key} must be between {low} and {high}{hint}")
        values[key] = value
    return Limits(**values)


class Throttle:
    """Paces sends and counts recipients; the clock and sleep are injected (tests, bench).

    Pacing is a token bucket refilled at messages_per_minute (so a slow send or a retry
    is caught up a little afterwards) and, as a hard guard, no 60-second window ever
    holds more than messages_per_minute sends.
    `history` is (when, recipients) of sends from earlier runs, so back-to-back cron
    runs share one budget.
    """

    def __init__(
        self,
        limits: Limits,
        clock: Callable[[], dt.datetime],
        sleep: Callable[[float], None],
        history: Iterable[tuple[dt.datetime, int]] = (),
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._interval = MINUTE / limits.messages_per_minute
        # A small bucket: catch up after a delay without bursting at the start.
        self._capacity = max(1.0, limits.messages_per_minute / 10)
        self._tokens = 1.0
        self._refilled = clock()
        ordered = sorted(history)
        self._sends: deque[dt.datetime] = deque(
            (when for when, _ in ordered[-limits.messages_per_minute :]),
            maxlen=limits.messages_per_minute,
        )
        self._day: deque[tuple[dt.datetime, int]] = deque(ordered)
        self.waited = 0.0

    def too_many_recipients(self, recipients: int) -> str | None:
        """Why a message with this many recipients may not be sent as one, or None."""
        limit = self.limits.recipients_per_message
        if recipients <= limit:
            return None
        return (
            f"{recipients} recipients in one message is over the limit of {limit} per message "
            "(recipients_per_message in the mailer's config); send smaller Bcc batches"
        )

    def sent_today(self) -> int:
        """Recipients counted in the last 24 hours (this run and earlier ones)."""
        horizon = self._clock() - DAY
        while self._day and self._day[0][0] <= horizon:
            self._day.popleft()
        return sum(count for _, count in self._day)

    def allows_today(self, recipients: int) -> bool:
        """True when `recipients` more still fit in the rolling daily limit."""
        return self.sent_today() + recipients <= self.limits.recipients_per_day

    def wait_turn(self) -> None:
        """Sleep until the next message may go without breaking the per-minute limit."""
        while True:
            now = self._clock()
            self._refill(now)
            ready = now
            if self._tokens < 1:
                ready = now + (1 - self._tokens) * self._interval
            if len(self._sends) == self.limits.messages_per_minute:
                ready = max(ready, self._sends[0] + MINUTE)
            pause = (ready - now).total_seconds()
            if pause <= 0:
                return
            self.waited += pause
            self._sleep(pause)

    def _refill(self, now: dt.datetime) -> None:
        if now > self._refilled:
            gained = (now - self._refilled) / self._interval
            self._tokens = min(self._capacity, self._tokens + gained)
            self._refilled = now

    def record(self, recipients: int, delivered: bool = True) -> None:
        """Count one request to the mail server now; its recipients count when delivered."""
        now = self._clock()
        self._refill(now)
        self._tokens -= 1
        self._sends.append(now)
        if delivered:
            self._day.append((now, recipients))
