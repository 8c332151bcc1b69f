"""Bounded retries for API calls: exponential backoff with jitter, honouring Retry-After.

gspread's own BackOffHTTPClient never gives up and ignores Retry-After, so the Google
backend uses this instead. Sleep, clock and randomness are parameters so tests can
run a minute of backoff in no time.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")

# Answers worth trying again: quota (429) and the server's transient failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts and total time are both bounded.

    The defaults span a little over one minute of waiting (2+4+8+16+32 s), so a
    429 from the 60 requests/min/user quota has a full quota window to clear.
    """

    attempts: int = 6
    max_total_seconds: float = 150.0
    initial_delay: float = 2.0
    max_delay: float = 64.0


class RetriesExhausted(Exception):
    """Every allowed attempt failed; `last` is the last error, `waited` the seconds slept."""

    def __init__(self, last: BaseException, attempts: int, waited: float) -> None:
        super().__init__(f"gave up after {attempts} attempts and {waited:.0f} s: {last}")
        self.last, self.attempts, self.waited = last, attempts, waited


@dataclass
class Retrier:
    """Runs a call until it succeeds, fails for good, or the policy's bounds are reached."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`: Retry-After if given, else backoff."""
        if retry_after is not None:
            return max(0.0, retry_after)
        backoff = min(self.policy.max_delay, self.policy.initial_delay * 2 ** (attempt - 1))
        # Full jitter on the upper half keeps clients apart without shrinking waits too much.
        return backoff / 2 + self.rng.uniform(0, backoff / 2)

    def call(
        self,
        operation: Callable[[], T],
        classify: Callable[[BaseException], tuple[bool, float | None]],
    ) -> T:
        """Call `operation`; `classify(error)` says (retryable, Retry-After seconds)."""
        started = self.clock()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation()
            except Exception as err:
                retryable, retry_after = classify(err)
                if not retryable:
                    raise
                pause = self.delay(attempt, retry_after)
                # Time spent so far: the clock, or the sleeps when sleep is not real.
                spent = max(self.clock() - started, waited)
                if attempt >= self.policy.attempts or spent + pause > self.policy.max_total_seconds:
                    raise RetriesExhausted(err, attempt, waited) from err
                self.sleep(pause)
                waited += pause


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Read a Retry-After header: delta seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
