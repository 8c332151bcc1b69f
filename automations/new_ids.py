"""IDs given to rows are stored before any row is acted on under them (a step of the run).

A planner gives a blank-ID row an ID (Meeting ID, Webinar ID) and plans nothing for it
yet: an ID that never reaches the sheet could be derived differently next time and the
same meeting sent again under a new calendar UID. This step decides what to do with
those IDs: when nothing would go out under them this run they simply ride along with
the statuses; otherwise they are written first and the job is planned again from a read
that shows them stored. Dry runs and previews plan as if they were stored.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping

from automations.cells import CellValue, text
from automations.errors import AutomationError
from automations.plan import History, Plan
from automations.planning import Planned, Tables
from automations.sheets.backend import Spreadsheet
from automations.sheets.contract import CellWrite, RowRef, TabSpec, key_text

log = logging.getLogger("automations")

Replan = Callable[[Tables, History], Plan]


@dataclasses.dataclass
class Settled:
    """The plan to carry out once new IDs are settled, and what storing them met.

    `error` is the run's error when an ID could not be written (nothing is sent for its
    row); `notes` name IDs whose row changed while the job ran (they come next run).
    """

    planned: Planned
    error: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def settle_ids(
    job: str,
    planned: Planned,
    replan: Replan,
    store: Callable[[str, list[CellWrite]], list[CellWrite]] | None,
    fresh: Callable[[], Planned],
) -> Settled:
    """The plan to carry out once the IDs `planned` gives to rows are settled.

    :param job: the job's name (for the log)
    :param planned: the plan as first made, with the tables and history it saw
    :param replan: plans again from given tables and history (nothing read)
    :param store: writes the ID cells of one spreadsheet and returns the writes whose row
        was gone; None for a dry run or a preview (the IDs are taken as stored)
    :param fresh: reads and plans the job again from scratch (once the IDs are stored)
    """
    if not planned.plan.assigned:
        return Settled(planned)
    assumed = assume_stored(planned, replan)
    if store is None or _sends(assumed.plan) == _sends(planned.plan):
        # Nothing would go out under the new IDs this run: they are written with the
        # statuses, without a round trip of their own.
        return Settled(assumed)
    return store_ids(job, planned, store, fresh)


def assume_stored(planned: Planned, replan: Replan) -> Planned:
    """The plan once the IDs given to rows are stored, made from the same rows (in
    memory; `planned.tables` are left as read)."""
    assigned = planned.plan.assigned
    undo = _apply_ids(planned.tables, assigned)
    try:
        plan = replan(planned.tables, planned.history)
    finally:
        # As read again: the ID writes must not look like no-ops at write-back.
        for values, key, old in undo:
            values[key] = old
    # Until the sheet has the IDs, these rows are found by their fingerprint.
    refs = {(w.spreadsheet, w.row.tab, key_text(w.row.key)): w.row for w in assigned}
    plan = dataclasses.replace(
        plan,
        writes=[*assigned, *_found_by(plan.writes, refs)],
        problems=_kept(planned.plan.problems, plan.problems),
    )
    return Planned(plan, planned.tables, planned.history, planned.rebuilt)


def store_ids(
    job: str,
    planned: Planned,
    store: Callable[[str, list[CellWrite]], list[CellWrite]],
    fresh: Callable[[], Planned],
) -> Settled:
    """Write the IDs given to rows that had none, and plan again once a read shows them.

    Until then those rows are not acted on (their plan holds nothing for them). A write
    that fails is the run's error (its line says so); a row that changed meanwhile a note.
    """
    assigned = planned.plan.assigned
    settled = Settled(planned)
    stored = False
    for sheet in dict.fromkeys(w.spreadsheet for w in assigned):
        writes = [w for w in assigned if w.spreadsheet == sheet]
        ids = ", ".join(text(w.value) for w in writes)
        column = writes[0].column
        try:
            dropped = store(sheet, writes)
        except AutomationError as err:
            settled.error = settled.error or (
                f"{column} {ids} not saved ({err}); nothing is sent for "
                f"{'that row' if len(writes) == 1 else 'those rows'} until the ID is in "
                "the sheet"
            )
            log.error("%s: new IDs not saved: %s", job, err)
            continue
        if dropped:
            settled.notes.append(
                f"{column} {', '.join(text(w.value) for w in dropped)} not saved: the row "
                "changed while the job ran; it gets its ID on the next run"
            )
        stored = stored or len(dropped) < len(writes)
    if stored:
        again = fresh()
        again.plan = dataclasses.replace(
            again.plan, problems=_kept(planned.plan.problems, again.plan.problems)
        )
        settled.planned = again
    return settled


def storer(
    spreadsheet: Callable[[str], Spreadsheet], specs: Mapping[str, Mapping[str, TabSpec]]
) -> Callable[[str, list[CellWrite]], list[CellWrite]]:
    """A `store` for settle_ids: the ID cells written alone, without a Run Log row."""
    return lambda sheet, writes: spreadsheet(sheet).write(writes, specs[sheet], None)


def _kept(first: list[str], again: list[str]) -> list[str]:
    """What the first plan noticed (e.g. a recovered ID), kept ahead of the plan after it."""
    return [*(p for p in first if p not in again), *again]


def _found_by(
    writes: Iterable[CellWrite], refs: Mapping[tuple[str, str, str], RowRef]
) -> list[CellWrite]:
    """`writes` whose row is known by a new ID, pointed at the row's fingerprint too."""
    found = []
    for write in writes:
        ref = refs.get((write.spreadsheet, write.row.tab, key_text(write.row.key)))
        found.append(dataclasses.replace(write, row=ref) if ref is not None else write)
    return found


def _sends(plan: Plan) -> tuple[frozenset[str], dict[str, object]]:
    """What a plan would send and record: message keys and entity snapshots."""
    keys = frozenset(m.key for m in plan.messages)
    return keys, {a.state[0]: a.state[1] for a in plan.actions if a.state is not None}


def _apply_ids(
    tables: Tables, writes: Iterable[CellWrite]
) -> list[tuple[dict[str, CellValue], str, CellValue]]:
    """Put IDs given to blank-ID rows into those rows in memory, found by fingerprint.

    Returns (row values, key column, value before) of each row changed, to undo it.
    """
    changed: list[tuple[dict[str, CellValue], str, CellValue]] = []
    for write in writes:
        table = tables.get(write.spreadsheet, {}).get(write.row.tab)
        if table is None or table.spec.key is None:
            continue
        key = table.spec.key
        rows = [
            row
            for row in table.rows
            if not row.text(key)
            and all(row.text(column) == value for column, value in write.row.fingerprint)
        ]
        if len(rows) == 1:
            changed.append((rows[0].values, key, rows[0].values.get(key)))
            rows[0].values[key] = write.value
    return changed
