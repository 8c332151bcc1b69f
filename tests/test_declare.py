"""Declaring tabs and options: marked column names and options as dataclass fields."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from automations.config import parse_settings
from automations.errors import ConfigError
from automations.jobs.declare import addresses, columns, number, read_options
from automations.sheets.contract import Column


def test_column_marks_read_as_required_controls_and_owned():
    assert columns("Email*", "Active!", "Status+", "Name", Column("Cancelled", aliases=("x",))) == (
        Column("Email", required=True),
        Column("Active", controls=True),
        Column("Status", owned=True),
        Column("Name"),
        Column("Cancelled", aliases=("x",)),
    )


@dataclass(frozen=True)
class Options:
    reminder_days: int = number(2, minimum=0, maximum=60)
    alert_to: tuple[str, ...] = addresses("co_chairs")


def settings(tmp_path, section: dict):
    data = {"mail": {"sender": "a@example.org"}, "jobs": {"committee-invites": section}}
    return parse_settings(data, tmp_path / "jobs.toml")


def test_options_are_read_by_their_fields_with_defaults(tmp_path):
    assert read_options(settings(tmp_path, {}), "committee-invites", Options) == Options(2, ())
    given = settings(tmp_path, {"reminder_days": 5, "co_chairs": ["c@example.org"]})
    assert read_options(given, "committee-invites", Options) == Options(5, ("c@example.org",))


def test_a_bad_or_unknown_option_names_its_key(tmp_path):
    with pytest.raises(ConfigError, match=r"jobs\.committee-invites\.reminder_days"):
        read_options(settings(tmp_path, {"reminder_days": 99}), "committee-invites", Options)
    with pytest.raises(ConfigError, match="did you mean 'reminder_days'"):
        read_options(settings(tmp_path, {"reminder_day": 1}), "committee-invites", Options)
