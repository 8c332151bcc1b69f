"""Parsing what staff type into cells."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.cells import (
    CellValueError,
    is_placeholder,
    mask_email,
    parse_completion,
    parse_date,
    parse_email,
    parse_link,
    parse_time,
    parse_yes_no,
)


@pytest.mark.parametrize(
    "raw",
    [
        "3/4/2026",
        "2026-03-04",
        "March 4, 2026",
        "Mar 4 2026",
        "4 March 2026",
        " 03/04/2026 ",
        46085,
        46085.0,
        dt.datetime(2026, 3, 4, 0, 0),
        dt.date(2026, 3, 4),
        "2026-3-4",
    ],
)
def test_dates_are_read_the_way_staff_type_them(raw):
    assert parse_date(raw) == dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2/30/2027", '"2/30/2027" is not a real date'),
        ("2027-02-30", '"2027-02-30" is not a real date'),
        ("March", '"March" needs a day, a month and a year'),
        ("soon", '"soon" is not a date'),
        ("", "is blank"),
        (None, "is blank"),
        (True, "is not a date"),
    ],
)
def test_bad_dates_explain_themselves(raw, message):
    with pytest.raises(CellValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6 PM", dt.time(18, 0)),
        ("6pm", dt.time(18, 0)),
        ("6:30pm", dt.time(18, 30)),
        ("6:30 p.m.", dt.time(18, 30)),
        ("12 AM", dt.time(0, 0)),
        ("12:15 PM", dt.time(12, 15)),
        ("18:00", dt.time(18, 0)),
        ("9.45", dt.time(9, 45)),
        ("noon", dt.time(12, 0)),
        (0.75, dt.time(18, 0)),
        (dt.time(18, 0, 30), dt.time(18, 0)),
        (dt.datetime(1899, 12, 30, 18, 0), dt.time(18, 0)),
    ],
)
def test_times_are_read_the_way_staff_type_them(raw, expected):
    assert parse_time(raw) == expected


@pytest.mark.parametrize("raw", ["25:00", "13 PM", "6:75", "evening", "", 1.5e9])
def test_impossible_times_are_refused(raw):
    with pytest.raises(CellValueError):
        parse_time(raw)


@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_any_date_round_trips_through_every_written_form(day):
    for form in (day.isoformat(), f"{day.month}/{day.day}/{day.year}", day.strftime("%B %d, %Y")):
        assert parse_date(form) == day


@given(st.times())
def test_any_time_round_trips_through_24h_and_12h_forms(moment):
    expected = moment.replace(second=0, microsecond=0)
    assert parse_time(moment.strftime("%H:%M")) == expected
    assert parse_time(moment.strftime("%I:%M %p")) == expected


@given(st.text(max_size=30))
def test_date_parser_never_crashes_on_any_text(raw):
    with contextlib.suppress(CellValueError):
        parse_date(raw)


def test_yes_no_accepts_common_spellings_and_refuses_others():
    assert parse_yes_no("Sí", default=False) is True
    assert parse_yes_no("  ", default=True) is True
    assert parse_yes_no("n", default=True) is False
    with pytest.raises(CellValueError, match='"maybe" is not Yes or No'):
        parse_yes_no("maybe", default=False)


def test_emails_are_validated_with_a_message_for_the_sheet():
    assert parse_email(" maria@example.org ") == "maria@example.org"
    assert parse_email("josé@example.org") == "josé@example.org"
    for bad in ("maria@", "a@b@c.org", "two@x.org, three@x.org", "x@y.org\r\nBcc: z@q.org"):
        with pytest.raises(CellValueError, match="is not a valid email address"):
            parse_email(bad)


_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=70)


@given(st.lists(_LABEL, min_size=1, max_size=4), st.sampled_from(["org", "com", "net", "edu"]))
def test_addresses_read_without_email_validator_read_as_it_would_read_them(labels, tld):
    from email_validator import EmailNotValidError, validate_email

    domain = ".".join([*labels, tld])
    try:
        expected = validate_email(f"x@{domain}", check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    try:
        found = parse_email(f"x@{domain}")
    except CellValueError:
        found = None
    assert found == expected


def test_only_http_links_are_accepted():
    assert parse_link("https://example.org/j/1") == "https://example.org/j/1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "example.org", "ftp://x.org"):
        with pytest.raises(CellValueError, match="is not a web link"):
            parse_link(bad)


def test_masked_addresses_hide_the_person():
    assert mask_email("maria@example.org") == "m***@example.org"


COMPLETION_DAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("typed", "reading"),
    [
        ("2026-11-30", dt.date(2026, 11, 30)),
        ("3/4/2026", dt.date(2026, 3, 4)),
        (dt.date(2025, 9, 1), dt.date(2025, 9, 1)),
        (45000, dt.date(2023, 3, 15)),
        ("Yes", True),
        ("done", True),
        ("Completed", True),
        ("Sí", True),
        ("completado", True),
        ("✓", True),
        (True, True),
        ("", None),
        (None, None),
        (False, None),
    ],
)
def test_completion_is_a_past_date_or_an_explicit_completed_word(typed, reading):
    assert parse_completion(typed, COMPLETION_DAY) == reading


@pytest.mark.parametrize(
    "typed", ["no", "pending", "N/A", "registered 12/9", "12/9/2026", "x", "?", "1", 1]
)
def test_completion_refuses_anything_it_would_have_to_guess(typed):
    with pytest.raises(CellValueError) as raised:
        parse_completion(typed, COMPLETION_DAY)
    assert f'"{typed}"' in str(raised.value)


def test_a_future_completion_date_says_how_it_was_read():
    with pytest.raises(CellValueError, match=r'"12/9/2026" reads as Dec 9, 2026, which is after'):
        parse_completion("12/9/2026", COMPLETION_DAY)


@pytest.mark.parametrize(
    "typed",
    ["TBD", "tba", "N/A", "-", "?", "pending", "Coming soon", "por definir", "Pendiente.", "…"],
)
def test_placeholder_text_is_recognised(typed):
    assert is_placeholder(typed)


@pytest.mark.parametrize("typed", ["", "Know your rights at home", "TBD: ask Ana", "Plan 2"])
def test_real_agenda_text_is_not_a_placeholder(typed):
    assert not is_placeholder(typed)
