"""Turn what staff type into cells into typed values, or a plain-language reason why not.

Pure functions: every parser takes the raw cell value (str, number, date, datetime,
time, bool or None, as a sheet backend returns it) and returns a typed value or
raises CellValueError whose message can go straight into a row's Status.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None

# Spreadsheet serial day 0 (Google Sheets and Excel since 1900-03-01 agree on it).
SERIAL_EPOCH = dt.date(1899, 12, 30)
_PLAUSIBLE_SERIALS = range(1, 2_958_466)  # up to 9999-12-31


class CellValueError(ValueError):
    """A cell holds something that cannot be read as the expected kind of value."""


def text(value: CellValue) -> str:
    """Return the cell as trimmed text ('' for blank); numbers keep their plain form."""
    if value.__class__ is str:  # most cells: called about 20 times per row of a big tab
        return value.strip()  # type: ignore[union-attr]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def is_blank(value: CellValue) -> bool:
    """True for an empty or whitespace-only cell."""
    return text(value) == ""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _quote(value: CellValue) -> str:
    # Control characters shown as \x07 so the status says what is wrong with the cell.
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text(value))
    return f'"{shown[:40]}…"' if len(shown) > 40 else f'"{shown}"'


def parse_date(value: CellValue) -> dt.date:
    """Read a date typed as 3/4/2026, 2026-03-04, March 4, 2026, or a sheet serial number."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellValueError(f"{_quote(value)} is not a date")
    if isinstance(value, int | float):
        if int(value) in _PLAUSIBLE_SERIALS:
            return SERIAL_EPOCH + dt.timedelta(days=int(value))
        raise CellValueError(f"{_quote(value)} is not a date")
    raw = text(value)
    if not raw:
        raise CellValueError("is blank")
    return _date_from_text(raw)


@functools.lru_cache(maxsize=4096)
def _date_from_text(raw: str) -> dt.date:
    """parse_date for typed text; 75,000 rows share a few hundred dates: each read once."""
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", raw):
        try:
            return dt.date.fromisoformat("-".join(part.zfill(2) for part in raw.split("-")))
        except ValueError:
            raise CellValueError(f"{_quote(raw)} is not a real date") from None
    from dateutil import parser as dateparser  # only for dates typed in words: import late

    # Parse twice with different defaults: a part that changes was not typed.
    try:
        first = dateparser.parse(raw, default=dt.datetime(2001, 1, 1), dayfirst=False)
        second = dateparser.parse(raw, default=dt.datetime(2002, 2, 2), dayfirst=False)
    except (ValueError, OverflowError):
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", raw):
            raise CellValueError(f"{_quote(raw)} is not a real date") from None
        raise CellValueError(
            f"{_quote(raw)} is not a date (write it like 3/4/2026 or 2026-03-04)"
        ) from None
    if first.date() != second.date():
        raise CellValueError(f"{_quote(raw)} needs a day, a month and a year")
    return first.date()


# How the tool writes the times and days it records (Invite Sent, Last Reminded, Run Log):
# a real date cell showing e.g. "Dec 1, 2026 4:58 PM", in the configured time zone.
STAMP_FORMAT = "mmm d, yyyy h:mm AM/PM"
DAY_FORMAT = "mmm d, yyyy"


def shown_time(value: dt.date) -> str:
    """A recorded time as its cell shows it: Dec 1, 2026 4:58 PM (a day: Dec 1, 2026)."""
    shown = f"{value:%b} {value.day}, {value.year}"
    if isinstance(value, dt.datetime):
        shown += f" {value.hour % 12 or 12}:{value:%M} {'AM' if value.hour < 12 else 'PM'}"
    return shown


def stamp_value(moment: dt.datetime) -> dt.datetime:
    """A time to record in a cell: to the minute, as the clock in its zone shows it."""
    return moment.replace(second=0, microsecond=0)


def serial_number(value: dt.datetime | dt.date) -> float | int:
    """The sheet serial of a wall time (a whole number for a day)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - dt.datetime.combine(SERIAL_EPOCH, dt.time())
        return round(delta.days + delta.seconds / 86400, 10)
    return (value - SERIAL_EPOCH).days


def wall_time(value: CellValue) -> dt.datetime | None:
    """The clock time a recorded-time cell shows, or None when it holds no time.

    Reads what the tool writes now (a date cell: a datetime from a workbook, a serial
    number from Google), what it wrote before (ISO text such as 2026-12-01T16:58-08:00,
    read as the clock in that offset) and what staff retype ("Dec 1, 2026 4:58 PM").
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, int | float):
        if not 0 < value < _PLAUSIBLE_SERIALS.stop:
            return None
        start = dt.datetime.combine(SERIAL_EPOCH, dt.time())
        return start + dt.timedelta(minutes=round(float(value) * 24 * 60))
    raw = text(value)
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw).replace(tzinfo=None)
    except ValueError:
        pass
    try:
        day = parse_date(raw)  # a whole day, month and year, or no time at all
    except CellValueError:
        return None
    from dateutil import parser as dateparser  # "Dec 1, 2026 4:58 PM": import late

    try:
        moment = dateparser.parse(raw, default=dt.datetime.combine(day, dt.time()))
    except (ValueError, OverflowError):
        return dt.datetime.combine(day, dt.time())
    return moment.replace(tzinfo=None)


def parse_stamp(value: CellValue, zone: dt.tzinfo) -> dt.datetime:
    """A recorded time (see `wall_time`) as an aware datetime in `zone`.

    ISO text with an offset keeps its instant; every other form is a clock time in `zone`.
    """
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(zone)
    found = wall_time(value)
    if found is None:
        raise CellValueError(f"{_quote(value)} is not a date and time")
    return found.replace(tzinfo=zone)


def same_stamp(held: CellValue, written: dt.datetime | dt.date) -> bool:
    """Whether a cell already shows the time (or day) `written` records, to the minute."""
    found = wall_time(held)
    if found is None:
        return False
    if isinstance(written, dt.datetime) and written.tzinfo is not None and isinstance(held, str):
        try:
            instant = dt.datetime.fromisoformat(held.strip())
        except ValueError:
            instant = None
        if instant is not None and instant.tzinfo is not None:  # ISO text with its offset
            return instant.replace(second=0, microsecond=0) == stamp_value(written)
    if isinstance(written, dt.datetime):
        return found.replace(second=0, microsecond=0) == stamp_value(written).replace(tzinfo=None)
    return found.date() == written and found.time() == dt.time()


_TIME_12H = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m?\.?", re.IGNORECASE)
_TIME_24H = re.compile(r"(\d{1,2})[:.h](\d{2})(?::(\d{2}))?")


def parse_time(value: CellValue) -> dt.time:
    """Read a time typed as 6 PM, 6:30pm, 18:00, or a sheet day fraction."""
    if isinstance(value, dt.datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, bool):
        raise CellValueError(f"{_quote(value)} is not a time")
    if isinstance(value, int | float):
        # A sheet serial date-time carries the time of day as its fraction.
        fraction = float(value) % 1
        if 0 <= value < _PLAUSIBLE_SERIALS.stop:
            minutes = round(fraction * 24 * 60)
            if minutes < 24 * 60:
                return dt.time(minutes // 60, minutes % 60)
        raise CellValueError(f"{_quote(value)} is not a time")
    raw = text(value)
    if not raw:
        raise CellValueError("is blank")
    lowered = raw.lower()
    if lowered in {"noon", "12 noon"}:
        return dt.time(12, 0)
    if match := _TIME_12H.fullmatch(raw):
        hour, minute = int(match[1]), int(match[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise CellValueError(f"{_quote(raw)} is not a real time")
        hour = hour % 12 + (12 if match[3].lower() == "p" else 0)
        return dt.time(hour, minute)
    if match := _TIME_24H.fullmatch(raw):
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            raise CellValueError(f"{_quote(raw)} is not a real time")
        return dt.time(hour, minute)
    raise CellValueError(f"{_quote(raw)} is not a time (write it like 6 PM, 6:30pm or 18:00)")


_YES = {"yes", "y", "true", "x", "✓", "✔", "si", "sí", "1", "cancelled", "canceled"}
_NO = {"no", "n", "false", "0", "-"}


# Words staff type instead of Yes/No in the columns that decide who is mailed (English,
# Spanish): the meaning is plain, so they are read; anything else stays an error.
ACTIVE_WORDS = {
    "Active": True,
    "Activo": True,
    "Activa": True,
    "Inactive": False,
    "Inactivo": False,
    "Inactiva": False,
    "Retired": False,
    "Jubilado": False,
    "Jubilada": False,
}
OPTED_OUT_WORDS = {
    "Unsubscribed": True,
    "Opted out": True,
    "Dado de baja": True,
    "Dada de baja": True,
    "Baja": True,
    "Subscribed": False,
    "Suscrito": False,
    "Suscrita": False,
}


def parse_yes_no(
    value: CellValue, *, default: bool, words: Mapping[str, bool] | None = None
) -> bool:
    """Read Yes/No (also y/n, true/false, x, sí, and `words` such as Inactive); blank
    gives the default. Anything else is an error listing what is accepted."""
    if isinstance(value, bool):
        return value
    raw = " ".join(text(value).lower().split())
    if not raw:
        return default
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    for word, meaning in (words or {}).items():
        if raw == word.casefold():
            return meaning
    also = ", ".join(["Sí", *(words or {})])
    raise CellValueError(
        f"{_quote(value)} is not Yes or No (accepted: Yes, No, {also}; blank means "
        f"{'Yes' if default else 'No'})"
    )


def parse_active(value: CellValue, *, default: bool = True) -> bool:
    """An Active cell: Yes/No, or Active/Inactive/Retired (and Spanish)."""
    return parse_yes_no(value, default=default, words=ACTIVE_WORDS)


def parse_opted_out(value: CellValue, *, default: bool = False) -> bool:
    """An Opted Out cell: Yes/No, or Unsubscribed/Subscribed (and Spanish)."""
    return parse_yes_no(value, default=default, words=OPTED_OUT_WORDS)


# Words that say a PD topic was completed when no date was written (English, Spanish).
COMPLETED_WORDS = ("Yes", "Done", "Completed", "Sí", "Completado", "✓")
_COMPLETED = {w.casefold() for w in COMPLETED_WORDS} | {
    "complete",
    "si",
    "completada",
    "✔",
    "✔️",
    "☑",
}
# Completion dates before this are typos or stray numbers (a serial 1 is 1899-12-31).
_EARLIEST_COMPLETION = dt.date(1990, 1, 1)
COMPLETION_HINT = (
    "a date on or before today, or " + "/".join(COMPLETED_WORDS) + "; blank while it is owed"
)


def parse_completion(value: CellValue, today: dt.date) -> dt.date | bool | None:
    """Read a PD completion cell: a date on or before today, True for a completed word,
    None when blank (still owed). Anything else raises: it must not be guessed.

    An unticked checkbox (False) is blank; "no", "pending", "N/A", "registered 12/9",
    a future date or any other text is an error naming the value.
    """
    if value is False or is_blank(value):
        return None
    if value is True:
        return True
    raw = text(value)
    if raw.casefold().rstrip(".!") in _COMPLETED:
        return True
    if isinstance(value, dt.time):
        raise CellValueError(f"{_quote(value)} is not a completion date ({COMPLETION_HINT})")
    try:
        day = parse_date(value)
    except CellValueError:
        raise CellValueError(
            f"{_quote(value)} is not a completion date ({COMPLETION_HINT})"
        ) from None
    if day > today:
        raise CellValueError(
            f"{_quote(value)} reads as {day:%b} {day.day}, {day.year}, which is after today "
            "(a completion date is the day it was done, on or before today)"
        )
    if day < _EARLIEST_COMPLETION:
        raise CellValueError(f"{_quote(value)} is not a completion date ({COMPLETION_HINT})")
    return day


# Agenda text that only holds a place for content still to come.
_PLACEHOLDERS = {
    "tbd",
    "tba",
    "tbc",
    "na",
    "n a",
    "none",
    "pending",
    "coming soon",
    "to be determined",
    "to be announced",
    "to be confirmed",
    "por definir",
    "pendiente",
    "por confirmar",
    "próximamente",
    "proximamente",
}


def is_placeholder(value: CellValue) -> bool:
    """True for text that holds a place instead of content: TBD, N/A, -, ?, pending, ..."""
    raw = text(value)
    if not raw:
        return False
    words = " ".join(re.sub(r"[\W_]+", " ", raw.casefold()).split())
    return not words or words in _PLACEHOLDERS


# A plain ASCII dot-atom local part needs no more checking than this; anything else
# (quoted, internationalised) goes through the full validator.
_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


# A lowercase ASCII domain under a common top-level domain, labels of letters and digits
# joined by single hyphens: email-validator accepts each such domain exactly as it is
# (tests/test_cells.py checks this), so reading the config need not import it (~30 ms).
_PLAIN_DOMAIN = re.compile(r"(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)+(?:com|edu|gov|net|org|us)")


@functools.lru_cache(maxsize=1024)
def _email_domain(domain: str) -> str | None:
    """Validate and normalise a domain once: a district's 75,000 staff share a few.

    None when the domain is not valid.
    """
    if (
        len(domain) <= 253
        and _PLAIN_DOMAIN.fullmatch(domain)
        and all(len(label) <= 63 for label in domain.split("."))
    ):
        return domain
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(f"x@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


_NOT_IN_ADDRESS = re.compile(r"[\r\n\t,;<>]")


def parse_email(value: CellValue) -> str:
    """Return a normalised email address or explain why it is not one."""
    raw = text(value)
    if not raw:
        raise CellValueError("is blank")
    if _NOT_IN_ADDRESS.search(raw):
        raise CellValueError(f"{_quote(raw)} is not a valid email address")
    local, at, domain = raw.rpartition("@")
    if at and len(local) <= 64 and len(raw) <= 254 and _SIMPLE_LOCAL.fullmatch(local):
        normalised = _email_domain(domain)
        if normalised is None:
            raise CellValueError(f"{_quote(raw)} is not a valid email address")
        return f"{local}@{normalised}"
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise CellValueError(f"{_quote(raw)} is not a valid email address") from None
    return result.normalized


# "Name <address>", as mail programs show and copy an address.
_NAMED_ADDRESS = re.compile(r'\s*"?([^"<>]*?)"?\s*<([^<>]+)>\s*')
# Characters staff put between two addresses in one cell.
_SEPARATORS = re.compile(r"\s*(?:[;,/|\n]|\s+(?:and|y|or|o)\s+|\s)\s*")


def parse_recipient(value: CellValue, *, who: str = "person") -> tuple[str, str]:
    """The address of a person's Email cell, and the name typed with it ('' when none).

    `Name <address>` gives the address and the name. Two addresses in one cell or a
    `mailto:` link are errors saying how to fix the cell (`who` names the second person
    a row is needed for: "parent").
    """
    raw = text(value)
    if raw.casefold().startswith("mailto:"):
        bare = raw[len("mailto:") :].split("?")[0].strip()
        raise CellValueError(
            f"{_quote(raw)} is a mailto: link; type the address alone ({bare}), without mailto:"
        )
    parts = [p for p in _SEPARATORS.split(raw) if "@" in p]
    if len(parts) > 1:
        raise CellValueError(
            f"{_quote(raw)} holds {len(parts)} addresses; "
            f"one address per row: add a row for the second {who}"
        )
    named = _NAMED_ADDRESS.fullmatch(raw)
    if named:
        return parse_email(named[2].strip()), " ".join(named[1].split())
    return parse_email(raw), ""


def parse_link(value: CellValue) -> str:
    """Return an http(s) link; anything else (javascript:, data:, typos) is refused."""
    raw = text(value)
    if not raw:
        raise CellValueError("is blank")
    parts = urlsplit(raw)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or " " in raw:
        raise CellValueError(f"{_quote(raw)} is not a web link (it must start with https://)")
    return raw


def mask_email(address: str) -> str:
    """Hide most of an address for logs: maria@example.org -> m***@example.org."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


# An address as servers quote it in replies ("550 5.1.1 <maria.bad@example.org>").
_ADDRESS = re.compile(r"[^\s<>()\[\]{},;:\"'@]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def mask_addresses(text: str) -> str:
    """Every address inside `text` masked, e.g. a server's refusal quoted in a log line."""
    return _ADDRESS.sub(lambda match: mask_email(match.group(0)), text)


# Bidirectional embedding/override and isolate controls (U+202A-U+202E, U+2066-U+2069):
# in a subject or a name they reorder what is shown ("FDP.exe" reads "exe.PDF").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_bidi(value: str) -> str:
    """`value` without bidirectional override characters (for subjects and names)."""
    return BIDI_CONTROLS.sub("", value)
