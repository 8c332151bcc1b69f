"""What to write back: the pure merge of pending, planned and completed cell writes.

Three sources write a row's tool-owned cells in one run: write-backs earlier runs could
not deliver (kept in the ledger), the plan's own writes (statuses worded from the rows
as read, those pending writes applied), and what this run's sends completed or did not.
They are merged in that order, the last word per cell kept, then writes that would
change nothing are dropped (except writes the ledger still owes) and every value is made
fit for a cell. No I/O here: `automations.sheet_writer` carries the result out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence

from automations.cells import CellValue, same_stamp, text
from automations.sheets.contract import CellWrite, Table, TabSpec, key_text

Tables = Mapping[str, Mapping[str, Table]]
CellId = tuple[str, str, str, str]

# Statuses are for people: a quoted 50,000-character cell must not fill a column.
MAX_STATUS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(write: CellWrite) -> CellWrite:
    """A status fit for a cell: no control characters, at most MAX_STATUS characters."""
    value = write.value
    if not isinstance(value, str):
        return write
    clean = _CONTROL.sub("\ufffd", value)
    if len(clean) > MAX_STATUS:
        clean = clean[: MAX_STATUS - 1] + "…"
    return write if clean == value else dataclasses.replace(write, value=clean)


def cell_id(write: CellWrite, folded: dict[str, str] | None = None) -> CellId:
    """Which cell a write goes to: spreadsheet, tab, row key (compared as staff would),
    column. Rows with a blank key are told apart by their fingerprint, never merged.
    `folded` memoises keys across calls: a row's writes share its key."""
    raw = write.row.key
    key = folded.get(raw) if folded is not None else None
    if key is None:
        key = key_text(raw)
        if folded is not None:
            folded[raw] = key
    return (write.spreadsheet, write.row.tab, key or repr(write.row.fingerprint), write.column)


def last_by_cell(writes: Iterable[CellWrite]) -> dict[CellId, CellWrite]:
    """The last write to each cell (later knowledge wins) by cell, in last-seen order."""
    last: dict[CellId, CellWrite] = {}
    folded: dict[str, str] = {}
    pop = last.pop
    for write in writes:
        cell = cell_id(write, folded)
        pop(cell, None)
        last[cell] = write
    return last


def last_per_cell(writes: Iterable[CellWrite]) -> list[CellWrite]:
    """Keep the last write to each cell (later knowledge wins), in last-seen order."""
    return list(last_by_cell(writes).values())


def _index(tables: Tables) -> dict[tuple[str, str, str], list[dict[str, CellValue]]]:
    rows: dict[tuple[str, str, str], list[dict[str, CellValue]]] = {}
    for sheet, by_tab in tables.items():
        for tab, table in by_tab.items():
            key = table.spec.key
            if key is None:
                continue
            for row in table.rows:
                if row.text(key):
                    rows.setdefault((sheet, tab, key_text(row[key])), []).append(row.values)
    return rows


class CurrentValues:
    """Cell values as read (plus earlier pending writes), for dropping no-op writes.

    Looked up per write through the rows' own dicts: a table of every cell of 75,000 rows
    would hold over a million entries (~150 MB) at the run's peak.
    """

    def __init__(self, tables: Tables) -> None:
        self.rows = _index(tables)

    def unchanged(self, write: CellWrite, cell: CellId | None = None) -> bool:
        """Whether the cell `write` goes to (`cell`, when known) already holds its value (a
        recorded time compared as the time it shows, so old ISO text or a retyped time is
        not churned)."""
        value = write.value
        sheet, tab, key, column = cell or cell_id(write)
        rows = self.rows.get((sheet, tab, key), ())
        if len(rows) != 1 or column not in rows[0]:
            return False  # a new cell, or duplicate keys: always write
        if isinstance(value, dt.date):
            return same_stamp(rows[0][column], value)
        return text(rows[0][column]) == text(value)


def current_values(tables: Tables) -> CurrentValues:
    """Cell values as read (plus earlier pending writes), for dropping no-op writes."""
    return CurrentValues(tables)


def apply(tables: Tables, writes: Iterable[CellWrite]) -> None:
    """Apply write-backs to rows in memory, as if the sheet already showed them."""
    writes = list(writes)
    if not writes:  # the usual run: nothing pending, no index of every row to build
        return
    index = _index(tables)
    specs: dict[tuple[str, str], TabSpec] = {
        (sheet, tab): table.spec
        for sheet, by_tab in tables.items()
        for tab, table in by_tab.items()
    }
    for write in writes:
        if (write.spreadsheet, write.row.tab) not in specs:
            continue
        for values in index.get((write.spreadsheet, write.row.tab, key_text(write.row.key)), []):
            values[write.column] = write.value


def merge(
    tables: Tables,
    *,
    earlier: Sequence[CellWrite],
    planned: Sequence[CellWrite],
    completed: Sequence[CellWrite],
    after_sends: Sequence[CellWrite] = (),
) -> list[CellWrite]:
    """The writes to make, in order, once a run's sends are done.

    :param tables: the rows as read (with `earlier` applied): a write equal to what a
        cell holds is dropped, unless the ledger owes it
    :param earlier: write-backs of earlier runs still pending in the ledger
    :param planned: the plan's writes
    :param completed: write-backs this run's completed actions kept in the ledger
    :param after_sends: what rows say about this run's sends that did not all go
    """
    owed = {cell_id(w) for w in (*earlier, *completed)}
    current = current_values(tables)
    # The last word on each cell first, then drop no-ops: a status already in the sheet
    # (e.g. "Check: ...") must not lose to an earlier, different write to the same cell.
    last = last_by_cell([*earlier, *planned, *completed, *after_sends])
    kept = []
    for cell, write in last.items():
        write = printable(write)
        if cell in owed or not current.unchanged(write, cell):
            kept.append(write)
    return kept
