"""The sending limiter: per-minute pacing, recipients per message, rolling daily cap."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automations.errors import ConfigError
from automations.throttle import Limits, Throttle, read_limits
from tests.fixtures.mail import SimClock


def busiest_minute(times: list[dt.datetime]) -> int:
    """The most sends inside any 60-second window."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= dt.timedelta(minutes=1):
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize("per_minute", [1, 7, 30, 120])
def test_limiter_never_exceeds_its_limit_over_a_simulated_hour(per_minute):
    clock = SimClock()
    throttle = Throttle(Limits(messages_per_minute=per_minute), clock, clock.sleep)
    start = clock()
    times = []
    while clock() - start < dt.timedelta(hours=1):
        throttle.wait_turn()
        times.append(clock())
        throttle.record(1)
        # Some sends take time of their own (slow server, retries).
        if len(times) % 11 == 0:
            clock.sleep(3.7)
    assert busiest_minute(times) <= per_minute
    achieved = len(times) / 60
    assert achieved >= 0.95 * per_minute


def test_limiter_counts_sends_from_an_earlier_run():
    clock = SimClock()
    earlier = [(clock() - dt.timedelta(seconds=s), 1) for s in range(30, 0, -1)]
    throttle = Throttle(Limits(messages_per_minute=30), clock, clock.sleep, earlier)
    throttle.wait_turn()
    # The oldest of the 30 earlier sends was 30 s ago: wait until it leaves the window.
    assert clock.slept == pytest.approx(30)


def test_daily_cap_is_rolling_and_includes_earlier_runs():
    clock = SimClock()
    history = [(clock() - dt.timedelta(hours=23), 9_000)]
    throttle = Throttle(Limits(recipients_per_day=10_000), clock, clock.sleep, history)
    assert throttle.allows_today(1_000)
    assert not throttle.allows_today(1_001)
    throttle.record(1_000)
    assert not throttle.allows_today(1)
    clock.sleep(3600)  # the 9,000 of 23 hours ago leave the rolling day
    assert throttle.sent_today() == 1_000
    assert throttle.allows_today(9_000)


def test_too_many_recipients_names_the_limit_and_the_setting():
    throttle = Throttle(Limits(recipients_per_message=100), SimClock(), lambda s: None)
    assert throttle.too_many_recipients(100) is None
    reason = throttle.too_many_recipients(101)
    assert reason and "101 recipients" in reason and "recipients_per_message" in reason


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"recipients_per_message": 501}, "recipients_per_message must be between 1 and 500"),
        ({"messages_per_minute": 0}, "messages_per_minute must be between"),
        ({"recipients_per_day": "many"}, "recipients_per_day must be a whole number"),
    ],
)
def test_bad_limits_are_refused_with_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        read_limits(section, f"{Path('jobs.toml')}: smtp")


def test_limits_default_to_exchange_online():
    assert read_limits({}, "x") == Limits(30, 100, 10_000)
