"""Carry a run's write-back out: statuses and the Run Log row, one batch per spreadsheet.

What to write is decided in `automations.writeback` (pure); this module writes it, keeps
what a spreadsheet could not take in the ledger (statuses stay pending, Run Log rows
wait in a backlog), and rewrites tool-owned tabs whole.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from automations.cells import mask_email
from automations.errors import AutomationError, WorkbookInUse
from automations.ledger import Ledger, PendingWrite
from automations.plan import TabContent
from automations.planning import Planned
from automations.sheets.backend import Spreadsheet
from automations.sheets.contract import CellWrite, RunLogEntry, TabSpec
from automations.writeback import MAX_STATUS, last_per_cell, merge

log = logging.getLogger("automations")
# Run Log rows a spreadsheet could not take (open in Excel, unreachable) wait in the ledger;
# a few are written per run, and only the latest are kept.
LATE_RUN_LOG_ROWS_PER_RUN = 5
MAX_LATE_RUN_LOG_ROWS = 100


@dataclass
class Written:
    """What a write-back did: cells written, and what went wrong (for the run's summary).

    `problems` are notices (a workbook open in Excel: written next run); `error` is the
    first failure that leaves statuses waiting in the ledger.
    """

    cells: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None


class SheetWriter:
    """Writes one job's statuses, Run Log rows and tool-owned tabs to its spreadsheets.

    :param ledger: keeps Run Log rows a spreadsheet could not take, forgets pending
        write-backs once their spreadsheet has them
    :param spreadsheet: opens a spreadsheet by its config name
    """

    def __init__(self, ledger: Ledger, spreadsheet: Callable[[str], Spreadsheet]) -> None:
        self.ledger = ledger
        self.spreadsheet = spreadsheet

    def write_back(
        self,
        job: str,
        planned: Planned,
        earlier: Sequence[PendingWrite],
        after_sends: Sequence[CellWrite],
        run_log: RunLogEntry,
        specs: Mapping[str, Mapping[str, TabSpec]],
    ) -> Written:
        """A run's whole write-back: its cell writes (merged in `automations.writeback`),
        its Run Log row, and the tool-owned tabs its plan rewrites.

        :param job: the job's name
        :param planned: the plan and the tables it was made from
        :param earlier: write-backs pending before this run's sends: the plan was made with
            them applied, so the plan's writes follow them, and what this run's sends
            completed (pending now, not earlier) follows the plan
        :param after_sends: what rows say about this run's sends that did not all go
        :param run_log: the run's Run Log row
        :param specs: the job's tab specs by spreadsheet and tab name
        """
        pending = self.ledger.pending(job)
        before = {p.id for p in earlier}
        writes = merge(
            planned.tables,
            earlier=[p.write for p in pending if p.id in before],
            planned=planned.plan.writes,
            completed=[p.write for p in pending if p.id not in before],
            after_sends=after_sends,
        )
        done, held = self.write(job, writes, list(planned.tables), specs, run_log, pending)
        for content in planned.plan.tabs:
            if content.spreadsheet not in held:
                self.replace_tab(job, content, done)
        return done

    def write(
        self,
        job: str,
        writes: Sequence[CellWrite],
        sheets: Sequence[str],
        specs: Mapping[str, Mapping[str, TabSpec]],
        run_log: RunLogEntry,
        pending: Sequence[PendingWrite],
    ) -> tuple[Written, set[str]]:
        """Write `writes` and the Run Log row to each of `sheets`; return what was done
        and the spreadsheets held open by staff (not written now)."""
        done = Written()
        held: set[str] = set()
        for sheet in sheets:
            batch = last_per_cell(w for w in writes if w.spreadsheet == sheet)
            try:
                self._backlog(sheet, specs[sheet])
                dropped = self.spreadsheet(sheet).write(batch, specs[sheet], run_log)
            except WorkbookInUse as err:
                # Not a failure: staff have the file open. Nothing is written to it now.
                held.add(sheet)
                done.problems.insert(0, f"write-back: {err}")
                log.warning("%s: %s", job, err)
                self._keep_run_log(sheet, run_log, f"written by a later run: {err}")
                continue
            except AutomationError as err:
                done.error = done.error or f"write-back: {err}"
                log.error("%s: %s (statuses are kept and written next run)", job, err)
                self._keep_run_log(sheet, run_log, f"written by a later run: {err}")
                continue
            for write in dropped:
                where = write.row.key or "(new)"
                log.warning(
                    "%s: row %s of tab '%s' is gone; its %s was not written",
                    job,
                    mask_email(where) if "@" in where else where,
                    write.row.tab,
                    write.column,
                )
            done.cells += len(batch) - len(dropped)
            self.ledger.written(p.id for p in pending if p.write.spreadsheet == sheet)
        return done, held

    def replace_tab(self, job: str, content: TabContent, done: Written) -> None:
        """Rewrite one tool-owned tab whole, in one batch (e.g. `MOU Tracker`)."""
        spreadsheet = self.spreadsheet(content.spreadsheet)
        replace = getattr(spreadsheet, "replace_tab", None)
        if replace is None:
            done.error = done.error or (
                f"spreadsheet {spreadsheet.describe()}: this sheets backend cannot rewrite "
                f"the '{content.tab}' tab yet (it has no replace_tab)"
            )
            log.error("%s: %s", job, done.error)
            return
        try:
            replace(content.tab, content.rows)
        except WorkbookInUse as err:
            done.problems.insert(0, f"tab '{content.tab}': {err}")
            log.warning("%s: %s (rewritten on the next run)", job, err)
            return
        except AutomationError as err:
            done.error = done.error or f"tab '{content.tab}': {err}"
            log.error("%s: %s (rewritten on the next run)", job, err)
            return
        done.cells += 1

    def _backlog(self, sheet: str, specs: Mapping[str, TabSpec]) -> None:
        """Add the Run Log rows earlier runs could not write, oldest first (a few per run:
        each is one write of the whole spreadsheet)."""
        for ident, entry in self.ledger.run_log_backlog(sheet)[:LATE_RUN_LOG_ROWS_PER_RUN]:
            self.spreadsheet(sheet).write([], specs, entry)
            self.ledger.run_log_written(ident)

    def _keep_run_log(self, sheet: str, entry: RunLogEntry, why: str) -> None:
        """Keep a Run Log row for a later write-back to add, saying why it is late."""
        summary = f"{entry.summary}; {why}" if entry.summary else why
        kept = self.ledger.run_log_backlog(sheet)
        for ident, old in kept[: max(0, len(kept) - MAX_LATE_RUN_LOG_ROWS + 1)]:
            log.warning("Run Log row of %s at %s dropped: too many waiting", old.job, old.when)
            self.ledger.run_log_written(ident)
        self.ledger.keep_run_log(sheet, dataclasses.replace(entry, summary=summary[:MAX_STATUS]))
