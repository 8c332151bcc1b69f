"""Event rows (meetings, webinars, sessions): ID, date, times, cancelled, read strictly.

An event is acted on only under an ID stored in its sheet: a blank ID is given one
(derived from the row's date, or recovered from the ledger when a row lost the ID of an
event already sent) and the row waits until a read shows it stored. Times the clocks skip
or repeat, and dates far outside the agreement, are row errors, never guesses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from automations.cells import parse_date, parse_link, parse_time, parse_yes_no
from automations.errors import RowProblem
from automations.jobs.rows import Reading, cell, day_words, duplicates, row_ref, rows_phrase
from automations.plan import History, JobInput
from automations.sheets.contract import CellWrite, Row, RowRef, Table, TabSpec

E = TypeVar("E")


@dataclass(frozen=True, kw_only=True)
class Event:
    """An event row read and checked; jobs add their own fields in a subclass."""

    row: Row
    ref: RowRef
    id: str
    start: dt.datetime
    end: dt.datetime
    cancelled: bool = False
    # Why the ID is not in the sheet yet ('' when it is): not acted on until it is.
    pending: str = ""

    @property
    def day(self) -> dt.date:
        """The event's date."""
        return self.start.date()

    def identity(self) -> dict[str, str]:
        """What the ledger keeps to know the event again: its date and start."""
        return {"date": self.start.date().isoformat(), "start": self.start.strftime("%H:%M")}


@dataclass(frozen=True)
class EventRow:
    """One event row being read: its ID, and readers that raise RowProblem naming the column."""

    row: Row
    ref: RowRef
    id: str
    pending: str
    zone: dt.tzinfo
    minutes: int
    agreement: tuple[dt.date, dt.date]

    @property
    def base(self) -> dict[str, Any]:
        """The fields every Event takes from the row itself (for a subclass's constructor)."""
        return {"row": self.row, "ref": self.ref, "id": self.id, "pending": self.pending}

    def text(self, column: str) -> str:
        """The cell as trimmed text."""
        return self.row.text(column)

    def times(self) -> tuple[dt.datetime, dt.datetime]:
        """Start and end (End Time defaulting to `minutes` after the start)."""
        return event_times(self.row, self.zone, self.minutes, agreement=self.agreement)

    def link(self, column: str, *, required: bool = False) -> str:
        """A web link ('' when blank, unless it is `required`)."""
        if not required and not self.row.text(column):
            return ""
        return cell(self.row, column, parse_link)

    def cancelled(self) -> bool:
        """Whether the Cancelled column says yes (blank: no)."""
        return cell(self.row, "Cancelled", parse_yes_no, default=False)


def read_events(
    given: JobInput,
    sheet: str,
    spec: TabSpec,
    *,
    kind: str,
    prefix: str | Callable[[Row], str],
    minutes: int,
    parse: Callable[[EventRow], E],
) -> Reading[E]:
    """Read an event tab: each row with its ID, made into the job's event by `parse`.

    :param job: the planner's input (the table, the time zone, the agreement, and the
        ledger's events of this `kind`, to recover lost IDs)
    :param sheet: the spreadsheet's config name
    :param spec: the tab
    :param kind: the ledger's name for these events ("meeting", as in `meeting:<ID>`)
    :param prefix: the start of a new ID ("CM"), or a function of the row
    :param minutes: how long an event lasts when End Time is blank
    :param parse: makes the job's event from the row; a RowProblem it raises becomes the
        row's Error status and the row is skipped
    """
    table = given.table(sheet, spec.name)
    assert table is not None
    reading: Reading[E] = Reading()
    settings = given.settings
    window = (settings.agreement_start, settings.agreement_end)
    known = known_events(given.history, kind)
    for row, ref, ident, pending in identified_rows(
        table, spec, sheet, reading, prefix, kind, known
    ):
        slot = EventRow(row, ref, ident, pending, settings.timezone, minutes, window)
        try:
            reading.items.append(parse(slot))
        except RowProblem as problem:
            reading.error(sheet, ref, problem)
    return reading


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


# A date further than this outside the agreement is a typo (2062 for 2026), not a plan.
FAR_FROM_AGREEMENT = dt.timedelta(days=366)


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
    day = cell(row, "Date", parse_date)
    start_of, end_of = agreement
    if not start_of - FAR_FROM_AGREEMENT <= day <= end_of + FAR_FROM_AGREEMENT:
        raise RowProblem(
            f'Date "{row.text("Date")}" reads as {day_words(day)}, far outside the agreement '
            f"({day_words(start_of)} to {day_words(end_of)}); check the year"
        )
    start = local_moment(row, "Start Time", day, cell(row, "Start Time", parse_time), zone)
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
    end = local_moment(row, "End Time", day, cell(row, "End Time", parse_time), zone)
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
    reading: Reading[Any],
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
                day = cell(row, "Date", parse_date)
                start = cell(row, "Start Time", parse_time)
            except RowProblem as problem:
                reading.error(sheet, ref, problem)
                continue
            matches = lost.get((day.isoformat(), f"{start:%H:%M}"), [])
            if len(matches) > 1:
                problem = (
                    f"{column} is blank and {len(matches)} {noun}s already sent for this date and "
                    f"time are on no row ({', '.join(matches)}); type the right one into {column}"
                )
                reading.error(sheet, ref, problem)
                continue
            if matches:
                ident, pending = matches.pop(), "recovered"
                reading.problems.append(
                    f"{spec.name} row {row.number} had lost its {column}; {ident} (the {noun} "
                    "the ledger knows at this date and time) is written back"
                )
            else:
                name = prefix if isinstance(prefix, str) else prefix(row)
                ident, pending = derived_id(name, day, start, taken), "assigned"
            ref = row_ref(spec, row, ident)
            assigned = CellWrite(sheet, ref, column, ident)
            reading.writes.append(assigned)
            reading.assigned.append(assigned)
        if ident.casefold() in doubled:
            where = rows_phrase(doubled[ident.casefold()])
            problem = (
                f"{column} {ident} is on {where}; give each {noun} its own ID (neither was sent)"
            )
            reading.error(sheet, ref, problem)
            continue
        yield Identified(row, ref, ident, pending)


def pending_status(column: str, ident: str, pending: str, then: str) -> str:
    """The status of a row whose ID is not stored yet: what happens once it is."""
    how = "recovered from the ledger" if pending == "recovered" else "assigned"
    return f"{column} {ident} {how}; {then} once it is saved in the sheet"
