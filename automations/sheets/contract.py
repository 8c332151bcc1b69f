"""The sheet contract: tabs and columns by human name, rows found by key, raw write-back.

Everything here is pure and shared by every backend. A backend only moves grids of
cell values in and out; matching headers, finding the header row, building rows and
re-locating rows by key just before a write all happen here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from automations.cells import CellValue, text
from automations.errors import SheetError

RUN_LOG_TAB = "Run Log"
RUN_LOG_HEADERS = ("When", "Job", "Dry Run", "Sent", "Skipped", "Failed", "Summary")
# How far down a tab the header row may start (title rows above it are common).
HEADER_SEARCH_ROWS = 10
# Header words that suggest immigration-status data, which the tool must never read: in
# English and in each shipped language (staff name columns in their own language too).
# Compiled on first use (sensitive_header): about 3 ms, the costliest pattern to compile
# when `jobs.py --help` imports the jobs, and only reading a tab needs it.
SENSITIVE_HEADER_PATTERN = (
    r"immigration\s*status|visa|citizen|a[\s-]?number|alien\s*(reg|no)|daca|undocumented|"
    r"legal\s*status|green\s*card|"
    # Spanish: Estatus migratorio, Situación migratoria, Estado migratorio, ciudadanía
    r"(estatus|status|estado|situaci[oó]n|condici[oó]n|calidad)\s+(migratori[oa]|"
    r"de\s+(inmigraci[oó]n|migraci[oó]n)|legal|de\s+residencia)|ciudadan[ií]a|"
    r"indocumentad[oa]|n[uú]mero\s+a\b|n[uú]mero\s+de\s+extranjero|tarjeta\s+verde|"
    r"residencia\s+permanente|"
    # Korean, Armenian, Chinese (simplified and traditional)
    r"이민\s*신분|체류\s*(자격|신분)|시민권|비자|영주권|"
    r"ներգաղթ|միգրացիոն\s*կարգավիճակ|քաղաքացիություն|վիզա|"
    r"移民(身份|身分|状态|狀態)|公民身[份分]|签证|簽證|绿卡|綠卡|无证|無證|"
    # Filipino, Vietnamese, Russian
    r"katayuan\s+(sa\s+)?imigrasyon|pagkamamamayan|"
    r"t[iì]nh\s+tr[aạ]ng\s+di\s+tr[uú]|\bdi\s+tr[uú]\b|qu[oố]c\s+t[iị]ch|"
    r"th[iị]\s+th[uự]c|th[eẻ]\s+xanh|"
    r"иммиграционн|миграционн\w*\s+статус|гражданств|\bвиз[аы]\b|грин[\s-]?карт|"
    # Farsi, Arabic
    r"وضعیت\s*(مهاجرت|اقامت)|شهروندی|تابعیت|ویزا|گرین\s*کارت|"
    r"(وضع|حالة)\s*(الهجرة|الإقامة)|الوضع\s+القانوني|الجنسية|تأشيرة|البطاقة\s+الخضراء"
)


@functools.cache
def sensitive_header() -> re.Pattern[str]:
    """The compiled SENSITIVE_HEADER_PATTERN (case-insensitive)."""
    return re.compile(SENSITIVE_HEADER_PATTERN, re.IGNORECASE)


# What staff write under their data for themselves: a totals row ("Total", "Subtotal:",
# "Grand total", "Total general") or a notes row ("Notes: ...", "Notas").
FOOTER_LABEL = re.compile(
    r"(?:grand\s+|sub\s*-?\s*)?totals?(?:\s+general)?\s*:?|sub-?totals?\s*:?|sum\s*:?|"
    r"count\s*:?|(?:notes?|notas?)\b.*",
    re.IGNORECASE | re.DOTALL,
)
# A formula's result under a totals label: a count, sum or percentage.
_FIGURE = re.compile(r"[-+]?[\d.,\s]*\d[\d.,\s]*%?")

# C0 controls and DEL, except tab, line feed and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fold(name: str) -> str:
    """Normalise a header or tab title: ignore case, surrounding and repeated spaces."""
    return " ".join(str(name).split()).casefold()


# How alike two headers must be (difflib ratio of their letters and digits) to count as
# one mistyped for the other: "Opt Out" ~ "Opted Out" (0.86), "Cancel" ~ "Cancelled" (0.8);
# "Start Date" ~ "Start Time" (0.78) and "Opted In" ~ "Opted Out" (0.67) are not.
CLOSE_RATIO = 0.8
# Below this a header is too unlike the missing one to be worth naming as the nearest.
NEAREST_RATIO = 0.6


def squash(name: str) -> str:
    """Letters and digits only, casefolded: 'Active?' and 'Opted-Out' lose their marks."""
    return re.sub(r"[\W_]+", "", str(name).casefold())


def likeness(found: str, expected: str) -> float:
    """How alike two headers are, 0 to 1 (1 when they differ only in punctuation)."""
    a, b = squash(found), squash(expected)
    if not a or not b:
        return 0.0
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b).ratio()


@dataclass(frozen=True)
class Column:
    """A column by its default header; required columns must exist, owned ones are ours.

    `controls` marks a column that decides whether someone is mailed (Opted Out, Active,
    Cancelled): when it is missing but a header close to it is there, the tab is refused
    rather than read as if nobody opted out. `aliases` are other spellings read as the
    same column (US and British: Canceled / Cancelled).
    """

    name: str
    required: bool = False
    owned: bool = False
    controls: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TabSpec:
    """What a job needs from one tab: its columns, the key column and row fingerprint."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None
    # Columns that identify a row whose key cell is still blank (IDs filled in by us).
    fingerprint: tuple[str, ...] = ()
    optional: bool = False
    # Keep the tab's other columns too, under their headers as typed (the Translations
    # tab has one column per language, whatever staff name them).
    open_columns: bool = False

    def column(self, name: str) -> Column:
        """Return the column spec named `name`."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def owns(self, name: str) -> bool:
        """True when the tool owns column `name` (never a staff column of an open tab)."""
        return any(c.name == name and c.owned for c in self.columns)


@dataclass(frozen=True)
class Names:
    """Staff-chosen titles for tabs and headers, overriding the defaults (from config)."""

    tabs: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def tab(self, spec_name: str) -> str:
        """The tab title staff use for the default tab `spec_name`."""
        return self.tabs.get(spec_name, spec_name)

    def header(self, spec_name: str, column: str) -> str:
        """The header staff use for the default column `column` of tab `spec_name`."""
        return self.columns.get(spec_name, {}).get(column, column)


@dataclass
class Row:
    """One non-blank data row: its sheet row number at read time and values by column."""

    number: int
    values: dict[str, CellValue]

    def __getitem__(self, column: str) -> CellValue:
        return self.values.get(column)

    def text(self, column: str) -> str:
        """The cell as trimmed text ('' when blank or the column is absent)."""
        return text(self.values.get(column))


@dataclass(frozen=True)
class NearMiss:
    """A header in the sheet that looks like a known column that is missing."""

    column: str  # the column's default name
    expected: str  # the header the tool looks for (renamed through config, if so)
    found: str  # the header as typed in the sheet
    controls: bool

    def describe(self) -> str:
        """'found 'Opt Out', expected 'Opted Out'' (for messages)."""
        return f"found '{self.found}', expected '{self.expected}'"


@dataclass
class Table:
    """The rows of one tab, keyed by the default column names of its spec."""

    spreadsheet: str
    title: str
    spec: TabSpec
    rows: list[Row]
    present: frozenset[str]
    sensitive_headers: tuple[str, ...] = ()
    # (row number, column) of cells whose control characters were removed on reading.
    cleaned: tuple[tuple[int, str], ...] = ()
    # Headers close to a known column that is missing ("did you mean", for `check`).
    near_misses: tuple[NearMiss, ...] = ()
    # Rows left out because a column the job reads holds a formula whose result was never
    # calculated (the file was last saved by a program that does not calculate): the row
    # and those columns. Such a cell is unknown, not blank, so the row is not planned.
    uncalculated: tuple[tuple[Row, tuple[str, ...]], ...] = ()
    # Headers of the other columns kept by an open tab (TabSpec.open_columns), in order.
    extra: tuple[str, ...] = ()
    # Totals and notes rows staff keep under the data (see is_footer): left alone.
    footers: tuple[Row, ...] = ()

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class RowRef:
    """Which row a write goes to: its key, or for a row whose key is blank, its fingerprint."""

    tab: str
    key: str
    fingerprint: tuple[tuple[str, str], ...] = ()
    # When no row has the key: add the row after the tab's last row (not drop the write).
    new: bool = False


@dataclass(frozen=True)
class CellWrite:
    """One value to write into a tool-owned (or key) column of the row `row` refers to."""

    spreadsheet: str
    row: RowRef
    column: str
    # A datetime or date is a time the tool records: written as a real date cell.
    value: str | int | float | dt.datetime | dt.date | None


@dataclass(frozen=True)
class RunLogEntry:
    """One line of the `Run Log` tab."""

    when: dt.datetime
    job: str
    dry_run: bool
    sent: int
    skipped: int
    failed: int
    summary: str

    def cells(self) -> list[str | int | dt.datetime]:
        """The row as written: the time (a date cell), job, Yes/No, counts, summary."""
        return [
            self.when.replace(microsecond=0),
            self.job,
            "Yes" if self.dry_run else "No",
            self.sent,
            self.skipped,
            self.failed,
            self.summary,
        ]


def find_tab(titles: Sequence[str], wanted: str) -> str | None:
    """Return the real title of the tab matching `wanted` (case and spacing ignored)."""
    folded = fold(wanted)
    return next((title for title in titles if fold(title) == folded), None)


def _wanted(spec: TabSpec, names: Names) -> dict[str, str]:
    """Folded header -> default column name, aliases included (the staff name wins)."""
    wanted: dict[str, str] = {}
    for column in spec.columns:
        for alias in column.aliases:
            wanted.setdefault(fold(alias), column.name)
    wanted.update({fold(names.header(spec.name, c.name)): c.name for c in spec.columns})
    return wanted


def locate_header(
    grid: Sequence[Sequence[CellValue]], spec: TabSpec, names: Names
) -> tuple[int, dict[str, int]]:
    """Find the header row (within the first rows) and map default column names to indexes.

    Returns (header row index, {column: index}) for the columns present. The header
    row is the first row holding every required header, else the first non-blank row.
    """
    wanted = _wanted(spec, names)
    required = {c.name for c in spec.columns if c.required}
    fallback: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for position, cell in enumerate(row):
            column = wanted.get(fold(text(cell)))
            if column is not None and column not in found:
                found[column] = position
        if required <= found.keys() and found:
            return index, found
        if fallback is None and any(text(cell) for cell in row):
            fallback = (index, found)
    return fallback or (0, {})


def near_misses(
    header_cells: Sequence[CellValue], spec: TabSpec, names: Names, positions: Mapping[str, int]
) -> list[NearMiss]:
    """Headers that look like a missing staff column ('Opt Out' for 'Opted Out').

    Only header cells that match no column are considered, and tool-owned columns are
    left out (the tool adds those itself).
    """
    wanted = _wanted(spec, names)
    loose = [
        text(cell)
        for position, cell in enumerate(header_cells)
        if text(cell) and position not in positions.values() and fold(text(cell)) not in wanted
    ]
    misses = []
    for column in spec.columns:
        if column.name in positions or column.owned:
            continue
        expected = names.header(spec.name, column.name)
        spellings = (expected, *column.aliases)
        scored = [(max(likeness(found, s) for s in spellings), found) for found in loose]
        best = max(scored, default=(0.0, ""))
        if best[0] >= CLOSE_RATIO:
            misses.append(NearMiss(column.name, expected, best[1], column.controls))
    return misses


def _nearest(header_cells: Sequence[CellValue], expected: str, taken: set[int]) -> str | None:
    """The unmatched header most like `expected`, when it is at all like it."""
    scored = [
        (likeness(text(cell), expected), text(cell))
        for position, cell in enumerate(header_cells)
        if text(cell) and position not in taken
    ]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] >= NEAREST_RATIO else None


def build_table(
    spreadsheet: str,
    title: str,
    spec: TabSpec,
    names: Names,
    grid: Sequence[Sequence[CellValue]],
    uncalculated: Collection[tuple[int, int]] = (),
) -> Table:
    """Turn a tab's raw grid into a Table.

    Raises SheetError when a required column is missing, or when a column that decides
    who is mailed is missing while a header close to it is there: reading that tab as if
    the column were blank could mail people who opted out. `uncalculated` holds the
    (row, column) grid indexes of formulas with no result yet.
    """
    header_index, positions = locate_header(grid, spec, names)
    header_row = grid[header_index] if grid else []
    missing = [c.name for c in spec.columns if c.required and c.name not in positions]
    if missing:
        taken = set(positions.values())
        parts = []
        for name in missing:
            header = names.header(spec.name, name)
            nearest = _nearest(header_row, header, taken)
            parts.append(
                f"'{header}' column" + (f" (nearest header: '{nearest}')" if nearest else "")
            )
        raise SheetError(
            f"the header row has no {' and no '.join(parts)}; add "
            f"{'it' if len(parts) == 1 else 'them'} (case and spacing do not matter, "
            "spelling does)",
            spreadsheet=spreadsheet,
            tab=title,
            column=names.header(spec.name, missing[0]),
        )
    misses = near_misses(header_row, spec, names, positions)
    for miss in misses:
        if miss.controls:
            raise SheetError(
                f"{miss.describe()} (that column decides who is mailed: nothing from this "
                "tab is used until it is fixed); rename the header (case and spacing do not "
                f'matter) or set [sheets.columns.{spec.name}] "{miss.column}" = "{miss.found}" '
                "in the config",
                spreadsheet=spreadsheet,
                tab=title,
            )
    sensitive = tuple(
        text(cell) for cell in header_row if text(cell) and sensitive_header().search(text(cell))
    )
    extra: dict[str, int] = {}
    if spec.open_columns:
        taken = set(positions.values())
        for position, cell in enumerate(header_row):
            header = " ".join(text(cell).split())
            if header and position not in taken and header not in sensitive:
                extra.setdefault(header, position)
    read = {**positions, **extra}
    rows: list[Row] = []
    cleaned: list[tuple[int, str]] = []
    held: list[tuple[Row, tuple[str, ...]]] = []
    footers: list[Row] = []
    unknown = {
        (row, position): column
        for row, position in uncalculated
        for column, at in read.items()
        if at == position and not spec.owns(column)
    }
    # Only the spec's columns (and an open tab's other columns) are kept: anything else,
    # sensitive columns included, is never read past the header. What is per tab is
    # worked out once, not per row.
    staff_columns = [c for c in read if not spec.owns(c)]
    items = list(read.items())
    width = max(read.values(), default=-1) + 1
    search_control = CONTROL_CHARACTERS.search
    for offset, raw in enumerate(grid[header_index + 1 :], start=header_index + 2):
        if len(raw) >= width:
            values = {column: raw[position] for column, position in items}
        else:
            values = {
                column: raw[position] if position < len(raw) else None for column, position in items
            }
        if unknown:
            waiting = tuple(
                column for column, position in read.items() if (offset - 1, position) in unknown
            )
            if waiting:
                held.append((Row(offset, values), waiting))
                continue
        # Control characters (pasted from other systems) never reach mail or statuses.
        # One search over the row's text first: almost every row has none.
        if search_control("".join([v for v in values.values() if isinstance(v, str)])):
            for column, value in values.items():
                if isinstance(value, str) and search_control(value):
                    values[column] = CONTROL_CHARACTERS.sub("", value)
                    cleaned.append((offset, column))
        # A staff cell counts when text() of it is not blank: only None and blank text are.
        staff = [
            value
            for name in staff_columns
            if (value := values[name]) is not None
            and not (isinstance(value, str) and not value.strip())
        ]
        if staff and spec.key is not None and not spec.open_columns and is_footer(staff):
            footers.append(Row(offset, values))
        elif staff:
            rows.append(Row(offset, values))
    return Table(
        spreadsheet,
        title,
        spec,
        rows,
        frozenset(positions),
        sensitive,
        tuple(cleaned),
        tuple(misses),
        tuple(held),
        tuple(extra),
        tuple(footers),
    )


def is_footer(values: Sequence[CellValue]) -> bool:
    """Whether a row's non-blank staff cells are a totals or notes row rather than data:
    one cell labelled Total/Subtotal/Notes..., every other one a figure (a formula's
    result) or nothing. A row holding an address, a date or any other text is data."""
    label = None
    for value in values:
        if isinstance(value, str) and FOOTER_LABEL.fullmatch(value.strip()):
            if label is not None:
                return False
            label = value
        elif not _is_figure(value):
            return False  # most rows stop here, at their first cell
    return label is not None


def _is_figure(value: CellValue) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_FIGURE.fullmatch(value.strip()))


def key_text(value: CellValue) -> str:
    """Compare keys the way staff would: trimmed, case-insensitive, controls ignored."""
    found = text(value)
    if found.isprintable():  # no control character to remove (the common case)
        return found.casefold()
    return CONTROL_CHARACTERS.sub("", found).casefold()


@dataclass
class CellPlacement:
    """Where a tab's writes land: cells by (row index, column index), and new headers."""

    cells: dict[tuple[int, int], str | int | float | None] = field(default_factory=dict)
    new_headers: dict[int, str] = field(default_factory=dict)
    dropped: list[CellWrite] = field(default_factory=list)


def place_writes(
    spec: TabSpec,
    names: Names,
    grid: Sequence[Sequence[CellValue]],
    writes: Sequence[CellWrite],
) -> CellPlacement:
    """Re-locate every write's row by key in the grid as it is *now*, just before writing.

    `grid` needs only the header row and the key and fingerprint columns to be filled;
    indexes in the result are 0-based into that grid. Owned columns missing from the
    header are appended after the last header cell. A write whose row is gone is dropped.
    """
    header_index, positions = locate_header(grid, spec, names)
    placement = CellPlacement()
    # Membership is tested against a set: a list made placing 75,000 writes whose rows are
    # gone (a renamed key header, rows deleted meanwhile) take hours.
    dropped: set[CellWrite] = set()

    def drop(write: CellWrite) -> None:
        placement.dropped.append(write)
        dropped.add(write)

    header = grid[header_index] if grid else []
    next_free = max((i + 1 for i, cell in enumerate(header) if text(cell)), default=0)
    for write in writes:
        if write.column not in positions:
            if not spec.owns(write.column):
                drop(write)
                continue
            positions[write.column] = next_free
            placement.new_headers[next_free] = names.header(spec.name, write.column)
            next_free += 1
    if spec.key is None or spec.key not in positions:
        placement.dropped.extend(w for w in writes if w not in dropped)
        return placement
    key_position = positions[spec.key]
    by_key: dict[str, list[int]] = {}
    blank_key_rows: list[int] = []
    for index in range(header_index + 1, len(grid)):
        row = grid[index]
        cell = row[key_position] if key_position < len(row) else None
        if text(cell):
            by_key.setdefault(key_text(cell), []).append(index)
        else:
            blank_key_rows.append(index)
    # Rows with a blank key by the text of their fingerprint columns, built once per set
    # of columns (not once per write).
    by_fingerprint: dict[tuple[str, ...], dict[tuple[str, ...], list[int]]] = {}

    def fingerprint_rows(fingerprint: tuple[tuple[str, str], ...]) -> list[int]:
        columns = tuple(column for column, _ in fingerprint)
        index = by_fingerprint.get(columns)
        if index is None:
            index = by_fingerprint[columns] = {}
            places = [positions.get(column) for column in columns]
            for number in blank_key_rows:
                row = grid[number]
                found = tuple(
                    text(row[at] if at is not None and at < len(row) else None) for at in places
                )
                index.setdefault(found, []).append(number)
        return index.get(tuple(expected for _, expected in fingerprint), [])

    keys: dict[str, str] = {}  # a row's writes share its key: fold it once
    # Rows added for writes whose key no row has (RowRef.new), after the last used row.
    added: dict[str, int] = {}
    last = max(
        (i for i in range(header_index + 1, len(grid)) if any(text(c) for c in grid[i])),
        default=header_index,
    )
    for write in writes:
        if dropped and write in dropped:
            continue
        key = keys.get(write.row.key)
        if key is None:
            key = keys[write.row.key] = key_text(write.row.key)
        targets = by_key.get(key, [])
        if not targets and write.row.fingerprint:
            targets = fingerprint_rows(write.row.fingerprint)
            if len(targets) > 1:
                targets = []  # ambiguous: never guess which row
        if not targets and write.row.new and key:
            index = added.get(key)
            if index is None:
                index = added[key] = last + 1 + len(added)
            targets = [index]
        if not targets:
            drop(write)
            continue
        for index in targets:
            placement.cells[(index, positions[write.column])] = write.value
    return placement


def columns_needed_for_placement(spec: TabSpec) -> tuple[str, ...]:
    """The columns a backend must re-read before writing: key and fingerprint columns."""
    return tuple(dict.fromkeys(([spec.key] if spec.key else []) + list(spec.fingerprint)))
