"""Helpers every planner shares: message keys, row references, statuses, languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import NamedTuple, TypeVar
from urllib.parse import quote, unquote

from automations.cells import CellValueError, parse_date, parse_time
from automations.errors import RowProblem
from automations.languages import ENGLISH, Language, parse_language
from automations.plan import History, Plan
from automations.sheets.contract import CellWrite, Row, RowRef, Table, TabSpec, key_text
from automations.wording import refused_status

T = TypeVar("T")


def message_key(*parts: object) -> str:
    """A stable message key from its parts (job, entity, occasion, recipient)."""
    return "/".join(quote(str(part), safe="@.:-_") for part in parts)


def key_part(key: str, index: int) -> str:
    """Part `index` of a key made by message_key (unquoted)."""
    return unquote(key.split("/")[index])


def row_ref(spec: TabSpec, row: Row, key: str | None = None) -> RowRef:
    """Refer to `row` by its key; a row whose key is blank also carries a fingerprint."""
    assert spec.key is not None
    value = key if key is not None else row.text(spec.key)
    fingerprint: tuple[tuple[str, str], ...] = ()
    if not row.text(spec.key):
        fingerprint = tuple((column, row.text(column)) for column in spec.fingerprint)
    return RowRef(spec.name, value, fingerprint)


def write(sheet: str, ref: RowRef, column: str, value: str | int | float | None) -> CellWrite:
    """A cell write for column `column` of the row `ref`."""
    return CellWrite(sheet, ref, column, value)


def field(row: Row, column: str, parse: Callable[..., T], **kwargs: object) -> T:
    """Parse one cell, turning a parse error into a RowProblem that names the column."""
    try:
        return parse(row[column], **kwargs)
    except CellValueError as err:
        raise RowProblem(f"{column} {err}") from None


def standing_refusal(history: History, ref: RowRef) -> str:
    """The status a row keeps once a mail server refused its address ('' if none did)."""
    reason = history.refused.get(key_text(ref.key))
    return refused_status(ref.key, reason) if reason else ""


def unless_refused(status: str, standing: str) -> str:
    """`status`, or the row's standing refusal instead unless `status` is an Error."""
    return standing if standing and not status.startswith("Error") else status


def error_status(problem: object) -> str:
    """The status for a row skipped because of `problem`."""
    return f"Error: {problem}"


@dataclass(frozen=True)
class LanguageChoice:
    """The language a recipient asked for and the one their mail will be written in."""

    wanted: Language | None
    used: Language
    raw: str

    @property
    def note(self) -> str:
        """Plain words for the row status when the wish could not be met ('' when it was)."""
        if self.raw and self.wanted is None:
            return f'sent in English: "{self.raw}" is not a language we recognise'
        if self.wanted is not None and self.wanted.code != self.used.code:
            return f"sent in English: no {self.wanted.name} template yet"
        return ""


def choose_language(
    raw: str, available: Iterable[str], template: str | None = None
) -> LanguageChoice:
    """Pick the recipient's language when templates exist for it, else English."""
    del template  # the language folders are complete sets; kept for call-site clarity
    raw = raw.strip()
    if not raw:
        return LanguageChoice(ENGLISH, ENGLISH, raw)
    wanted = parse_language(raw)
    if wanted is None:
        return LanguageChoice(None, ENGLISH, raw)
    used = wanted if wanted.code in set(available) else ENGLISH
    return LanguageChoice(wanted, used, raw)


def duplicates(rows: Iterable[Row], value: Callable[[Row], str]) -> dict[str, list[int]]:
    """Values (case-insensitive) used by more than one row, with their row numbers."""
    seen: dict[str, list[int]] = {}
    for row in rows:
        key = value(row).casefold()
        if key:
            seen.setdefault(key, []).append(row.number)
    return {key: numbers for key, numbers in seen.items() if len(numbers) > 1}


def rows_phrase(numbers: list[int]) -> str:
    """'rows 3 and 7' / 'rows 3, 7 and 9'."""
    shown = [str(n) for n in numbers]
    return "rows " + (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0])


def plural(count: int, word: str) -> str:
    """'1 member' / '3 members'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def derived_id(prefix: str, day: dt.date, start: dt.time, taken: set[str]) -> str:
    """A staff-readable ID from the row's date (and time when the date is taken).

    Derived from the row rather than random so a run that stopped before writing it
    picks the same ID again. `taken` holds casefolded IDs already used and is updated.
    """
    base = f"{prefix}-{day:%Y%m%d}"
    if base.casefold() in taken:
        base = f"{base}-{start:%H%M}"
    candidate, number = base, 2
    while candidate.casefold() in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate.casefold())
    return candidate


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` cut into consecutive pieces of at most `size`."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def address_of(value: str) -> str:
    """The bare address of 'Name <a@b.org>' (or of a bare address)."""
    return parseaddr(value)[1] or value.strip()


# A date further than this outside the agreement is a typo (2062 for 2026), not a plan.
FAR_FROM_AGREEMENT = dt.timedelta(days=366)


def day_words(day: dt.date) -> str:
    """A date as statuses name it, 'Dec 10, 2026': unlike 10/12/2026, it cannot be misread."""
    return f"{day:%b} {day.day}, {day.year}"


def _clock(moment: dt.time) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _change(delta: dt.timedelta) -> str:
    minutes = abs(int(delta.total_seconds())) // 60
    return "an hour" if minutes == 60 else f"{minutes} minutes"


def local_moment(row: Row, column: str, day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """`day` at `at` in `zone`; a time the clocks skip or repeat that night is a RowProblem.

    Without this, 2:30 AM on the night the clocks go forward silently becomes 3:30 AM
    and 1:30 AM on the night they go back is one of two moments an hour apart, which
    shifts meetings and stretches or shrinks them (a 30-minute or 2.5-hour meeting).
    """
    moment = dt.datetime.combine(day, at, zone)
    place = getattr(zone, "key", str(zone))
    shown = f'{column} "{row.text(column)}"'
    back = moment.astimezone(dt.UTC).astimezone(zone)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        later = moment.replace(fold=1).utcoffset() or dt.timedelta()
        earlier = moment.utcoffset() or dt.timedelta()
        raise RowProblem(
            f"{shown} does not exist on {day_words(day)} in {place}: the clocks go forward "
            f"{_change(later - earlier)} that night; type the time as the clock will show it "
            f"(e.g. {_clock(back.time())})"
        )
    first, second = moment.utcoffset(), moment.replace(fold=1).utcoffset()
    if first != second:
        raise RowProblem(
            f"{shown} happens twice on {day_words(day)} in {place}: the clocks go back "
            f"{_change((first or dt.timedelta()) - (second or dt.timedelta()))} that night; "
            "type a time outside the repeated hour"
        )
    return moment


def event_times(
    row: Row, zone: dt.tzinfo, minutes: int, *, agreement: tuple[dt.date, dt.date]
) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of an event row (Date, Start Time, End Time defaulting to +minutes).

    A date far outside the `agreement` (start, end), or a local time the clocks skip
    or repeat, is a RowProblem: both are misreadings a person must settle.
    """
    day = field(row, "Date", parse_date)
    start_of, end_of = agreement
    if not start_of - FAR_FROM_AGREEMENT <= day <= end_of + FAR_FROM_AGREEMENT:
        raise RowProblem(
            f'Date "{row.text("Date")}" reads as {day_words(day)}, far outside the agreement '
            f"({day_words(start_of)} to {day_words(end_of)}); check the year"
        )
    start = local_moment(row, "Start Time", day, field(row, "Start Time", parse_time), zone)
    if not row.text("End Time"):
        # Elapsed time, not clock time: 90 minutes stay 90 on the night the clocks change.
        end = (start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(zone)
        if end.replace(fold=0).utcoffset() != end.replace(fold=1).utcoffset():
            raise RowProblem(
                f"End Time is blank and {minutes} minutes after the start is "
                f"{_clock(end.time())} on {day_words(end.date())}, which happens twice that "
                "night (the clocks go back); type an End Time outside the repeated hour"
            )
        return start, end
    end = local_moment(row, "End Time", day, field(row, "End Time", parse_time), zone)
    if end <= start:
        raise RowProblem(f'End Time "{row.text("End Time")}" is not after the Start Time')
    return start, end


class Identified(NamedTuple):
    """A row with its ID; `pending` is why the ID is not in the sheet yet ('' when it is)."""

    row: Row
    ref: RowRef
    id: str
    # "assigned" (new) or "recovered" (the ledger's ID for this date and time): either way
    # the row is not acted on until a read shows the ID stored in the sheet.
    pending: str = ""


def known_events(history: History, kind: str) -> dict[str, tuple[str, str]]:
    """IDs of events the ledger knows (entity `<kind>:<id>`), with their date and start."""
    known: dict[str, tuple[str, str]] = {}
    for entity, state in history.states.items():
        if entity.startswith(f"{kind}:") and "date" in state and "start" in state:
            known[entity[len(kind) + 1 :]] = (str(state["date"]), str(state["start"]))
    return known


def identified_rows(
    table: Table,
    spec: TabSpec,
    sheet: str,
    plan: Plan,
    prefix: str | Callable[[Row], str],
    noun: str,
    known: Mapping[str, tuple[str, str]] | None = None,
) -> Iterator[Identified]:
    """Each row with its ID, filling blank IDs in (written back, see Identified.pending).

    A blank ID is the ledger's ID for an event of this tab at the same date and start
    whose ID is on no row (`known`: ID -> (ISO date, HH:MM)), else one derived from the
    date; a row whose date or start time cannot be read gets no ID, only its Error.
    Rows sharing an ID get an Error status and are skipped: neither is sent.
    """
    assert spec.key is not None
    column = spec.key
    doubled = duplicates(table, lambda r: r.text(column))
    on_tab = {row.text(column).casefold() for row in table if row.text(column)}
    known = known or {}
    # An ID the ledger has used is never given to another event (its UID is taken).
    taken = on_tab | {ident.casefold() for ident in known}
    lost: dict[tuple[str, str], list[str]] = {}
    for ident, when in sorted(known.items()):
        if ident.casefold() not in on_tab:
            lost.setdefault(when, []).append(ident)
    for row in table:
        ident = row.text(column)
        ref = row_ref(spec, row)
        pending = ""
        if not ident:
            try:
                day = field(row, "Date", parse_date)
                start = field(row, "Start Time", parse_time)
            except RowProblem as problem:
                plan.writes.append(write(sheet, ref, "Status", error_status(problem)))
                plan.skipped += 1
                continue
            matches = lost.get((day.isoformat(), f"{start:%H:%M}"), [])
            if len(matches) > 1:
                problem = (
                    f"{column} is blank and {len(matches)} {noun}s already sent for this date and "
                    f"time are on no row ({', '.join(matches)}); type the right one into {column}"
                )
                plan.writes.append(write(sheet, ref, "Status", error_status(problem)))
                plan.skipped += 1
                continue
            if matches:
                ident, pending = matches.pop(), "recovered"
                plan.problems.append(
                    f"{spec.name} row {row.number} had lost its {column}; {ident} (the {noun} "
                    "the ledger knows at this date and time) is written back"
                )
            else:
                name = prefix if isinstance(prefix, str) else prefix(row)
                ident, pending = derived_id(name, day, start, taken), "assigned"
            ref = row_ref(spec, row, ident)
            assigned = write(sheet, ref, column, ident)
            plan.writes.append(assigned)
            plan.assigned.append(assigned)
        if ident.casefold() in doubled:
            where = rows_phrase(doubled[ident.casefold()])
            problem = (
                f"{column} {ident} is on {where}; give each {noun} its own ID (neither was sent)"
            )
            plan.writes.append(write(sheet, ref, "Status", error_status(problem)))
            plan.skipped += 1
            continue
        yield Identified(row, ref, ident, pending)


def pending_status(column: str, ident: str, pending: str, then: str) -> str:
    """The status of a row whose ID is not stored yet: what happens once it is."""
    how = "recovered from the ledger" if pending == "recovered" else "assigned"
    return f"{column} {ident} {how}; {then} once it is saved in the sheet"
