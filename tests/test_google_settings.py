"""The [google] section, spreadsheet IDs and URLs, and the bounded retry policy."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from automations.config import parse_settings
from automations.errors import ConfigError
from automations.sheets.google_settings import GOOGLE_API, google_settings, spreadsheet_key
from automations.sheets.retry import Retrier, RetriesExhausted, RetryPolicy, parse_retry_after
from tests.fixtures.workbooks import TODAY

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG"


def settings(google: dict | None = None, tmp: Path = Path("/srv/mou/jobs.toml")):
    data = {
        "sheets": {"backend": "google", "spreadsheets": {"committee": {"id": KEY}}},
        "mail": {"sender": "a@example.org"},
    }
    if google is not None:
        data["google"] = google
    return parse_settings(data, tmp)


@pytest.mark.parametrize(
    "value",
    [
        KEY,
        f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0",
        f"https://docs.google.com/spreadsheets/d/{KEY}",
        f"  https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit?usp=sharing  ",
    ],
)
def test_spreadsheet_is_named_by_id_or_full_url(value):
    assert spreadsheet_key(value) == KEY


def test_something_else_is_refused_with_a_hint():
    with pytest.raises(ConfigError, match="copy the address from the browser"):
        spreadsheet_key("my committee sheet", "jobs.toml: sheets.spreadsheets.committee")


def test_defaults_talk_to_google_with_bounded_retries():
    config = google_settings(settings())
    assert config.api_base_url == GOOGLE_API and not config.custom_endpoint
    assert config.retry.attempts == 6 and config.retry.max_total_seconds == 150
    assert config.key_file({"GOOGLE_APPLICATION_CREDENTIALS": "/k.json"}) == Path("/k.json")


def test_credentials_file_is_relative_to_the_config():
    config = google_settings(settings({"credentials_file": "keys/sa.json"}))
    assert config.key_file({}) == Path("/srv/mou/keys/sa.json")


def test_missing_key_says_which_variable_to_set():
    config = google_settings(settings({"credentials_env": "MOU_SHEETS_KEY"}))
    with pytest.raises(ConfigError, match="set the environment variable MOU_SHEETS_KEY"):
        config.key_file({})


@pytest.mark.parametrize(
    ("google", "words"),
    [
        ({"api_base_url": "sheets.local"}, "google.api_base_url must be a URL"),
        ({"retry_attempts": 0}, "google.retry_attempts must be a number between 1 and 20"),
        ({"timeout_seconds": "soon"}, "google.timeout_seconds must be a number"),
        ({"credentials_env": "not a name"}, "google.credentials_env must be"),
        ({"credential_file": "x.json"}, "google.credential_file is not a known setting"),
    ],
)
def test_bad_settings_name_the_key(google, words):
    with pytest.raises(ConfigError, match=words):
        google_settings(settings(google))


def test_the_key_itself_is_refused_in_the_config():
    with pytest.raises(ConfigError, match="holds a secret"):
        settings({"private_key": "-----BEGIN PRIVATE KEY-----"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def flaky(failures: int):
    calls = {"n": 0}

    def operation() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise TimeoutError("slow")
        return "done"

    return operation, calls


def test_backoff_doubles_with_jitter_then_succeeds():
    clock = FakeClock()
    retrier = Retrier(RetryPolicy(), clock.sleep, lambda: clock.now, random.Random(1))
    operation, calls = flaky(4)
    assert retrier.call(operation, lambda err: (True, None)) == "done"
    assert calls["n"] == 5
    for attempt, pause in enumerate(clock.sleeps, start=1):
        ceiling = 2.0 * 2 ** (attempt - 1)
        assert ceiling / 2 <= pause <= ceiling


def test_retry_after_wins_over_backoff():
    clock = FakeClock()
    retrier = Retrier(RetryPolicy(), clock.sleep, lambda: clock.now)
    operation, _ = flaky(2)
    retrier.call(operation, lambda err: (True, 30.0))
    assert clock.sleeps == [30.0, 30.0]


def test_gives_up_after_the_attempt_bound():
    clock = FakeClock()
    retrier = Retrier(RetryPolicy(attempts=3), clock.sleep, lambda: clock.now)
    operation, calls = flaky(10)
    with pytest.raises(RetriesExhausted) as caught:
        retrier.call(operation, lambda err: (True, 1.0))
    assert calls["n"] == 3 and caught.value.attempts == 3 and clock.sleeps == [1.0, 1.0]


def test_gives_up_before_a_wait_would_pass_the_time_bound():
    clock = FakeClock()
    retrier = Retrier(RetryPolicy(max_total_seconds=60), clock.sleep, lambda: clock.now)
    operation, calls = flaky(10)
    with pytest.raises(RetriesExhausted):
        retrier.call(operation, lambda err: (True, 40.0))
    assert clock.sleeps == [40.0] and calls["n"] == 2


def test_errors_that_are_not_retryable_pass_through_at_once():
    retrier = Retrier(RetryPolicy(), sleep=lambda s: pytest.fail("slept"))
    operation, calls = flaky(1)
    with pytest.raises(TimeoutError):
        retrier.call(operation, lambda err: (False, None))
    assert calls["n"] == 1


def test_retry_after_is_read_as_seconds_or_an_http_date():
    now = dt.datetime(2026, 11, 30, 15, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Mon, 30 Nov 2026 15:00:45 GMT", now) == 45.0
    assert parse_retry_after("Mon, 30 Nov 2026 14:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_proxy_variables_do_not_divert_a_custom_endpoint(google_demo, monkeypatch):
    google = google_demo()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    from automations.jobs import registry

    result = google.runner().run(registry()["committee-invites"], TODAY, dry_run=True)
    assert result.error is None
