"""The embedded default: a local .xlsx workbook that staff open in Excel or LibreOffice."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from automations.cells import CellValue
from automations.errors import SheetError
from automations.sheets.contract import (
    RUN_LOG_HEADERS,
    RUN_LOG_TAB,
    CellWrite,
    Names,
    RunLogEntry,
    Table,
    TabSpec,
    build_table,
    find_tab,
    locate_header,
    place_writes,
)


class WorkbookSpreadsheet:
    """A spreadsheet stored as an .xlsx file; the whole file is one batch read and write."""

    def __init__(self, name: str, path: Path, names: Names) -> None:
        self.name = name
        self.path = path
        self.names = names

    def describe(self) -> str:
        """The config name and the file path."""
        return f"'{self.name}' ({self.path})"

    def _load(self, *, read_only: bool) -> openpyxl.Workbook:
        if not self.path.exists():
            raise SheetError(
                f"there is no workbook at {self.path}; fix the path in the config "
                "or run `python jobs.py init --demo DIR` for a demo set",
                spreadsheet=self.describe(),
            )
        try:
            return openpyxl.load_workbook(self.path, read_only=read_only, data_only=read_only)
        except (InvalidFileException, OSError, KeyError, ValueError) as err:
            raise SheetError(
                f"cannot open the workbook ({err}); is it an .xlsx file?",
                spreadsheet=self.describe(),
            ) from err

    def titles(self) -> list[str]:
        """The tab titles in the workbook."""
        workbook = self._load(read_only=True)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()

    def read(self, specs: Sequence[TabSpec]) -> dict[str, Table]:
        """Read every requested tab in one pass over the file (read-only, cached values)."""
        workbook = self._load(read_only=True)
        try:
            tables: dict[str, Table] = {}
            for spec in specs:
                wanted = self.names.tab(spec.name)
                title = find_tab(workbook.sheetnames, wanted)
                if title is None:
                    if spec.optional:
                        continue
                    raise SheetError(
                        f"there is no tab named '{wanted}' "
                        f"(tabs: {', '.join(workbook.sheetnames)})",
                        spreadsheet=self.describe(),
                    )
                grid = [list(row) for row in workbook[title].iter_rows(values_only=True)]
                tables[spec.name] = build_table(self.describe(), title, spec, self.names, grid)
            return tables
        finally:
            workbook.close()

    def write(
        self,
        writes: Sequence[CellWrite],
        specs: Mapping[str, TabSpec],
        run_log: RunLogEntry | None,
    ) -> list[CellWrite]:
        """Re-open the file as it is now, place writes by key, save atomically."""
        if not writes and run_log is None:
            return []
        workbook = self._load(read_only=False)
        dropped: list[CellWrite] = []
        by_tab: dict[str, list[CellWrite]] = {}
        for write in writes:
            by_tab.setdefault(write.row.tab, []).append(write)
        for tab, tab_writes in by_tab.items():
            title = find_tab(workbook.sheetnames, self.names.tab(tab))
            if title is None:
                dropped.extend(tab_writes)
                continue
            sheet = workbook[title]
            grid = [list(row) for row in sheet.iter_rows(values_only=True)]
            if any(isinstance(v, str) and v.startswith("=") for row in grid for v in row):
                grid = self._values(title)  # formulas: place by the values `read` saw
            placement = place_writes(specs[tab], self.names, grid, tab_writes)
            header_row = _header_row_number(grid, specs[tab], self.names)
            for column, header in placement.new_headers.items():
                _set_text(sheet, header_row, column + 1, header)
            for (row, column), value in placement.cells.items():
                _set_text(sheet, row + 1, column + 1, value)
            dropped.extend(placement.dropped)
        if run_log is not None:
            _append_run_log(workbook, run_log)
        self._save(workbook)
        return dropped

    def _values(self, title: str) -> list[list[object]]:
        """A tab's cell values as `read` sees them (formulas give their cached results)."""
        workbook = self._load(read_only=True)
        try:
            return [list(row) for row in workbook[title].iter_rows(values_only=True)]
        finally:
            workbook.close()

    def replace_tab(self, tab: str, rows: Sequence[Sequence[CellValue]]) -> None:
        """Replace the tool-owned tab `tab` (created at the end when missing) with `rows`."""
        workbook = self._load(read_only=False)
        wanted = self.names.tab(tab)
        title = find_tab(workbook.sheetnames, wanted)
        if title is None:
            sheet = workbook.create_sheet(wanted)
        else:
            # A fresh sheet in the same place: no stale rows or cells left behind.
            index = workbook.sheetnames.index(title)
            workbook.remove(workbook[title])
            sheet = workbook.create_sheet(title, index)
        for row_number, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):
                if value is not None and value != "":
                    _set_text(sheet, row_number, column, value)
        self._save(workbook)

    def _save(self, workbook: openpyxl.Workbook) -> None:
        # Temp file then rename, so a crash never leaves a half-written workbook.
        handle, temp = tempfile.mkstemp(dir=self.path.parent, suffix=".xlsx.tmp")
        os.close(handle)
        try:
            workbook.save(temp)
            if self.path.exists():
                os.chmod(temp, self.path.stat().st_mode & 0o777)
            os.replace(temp, self.path)
        except OSError as err:
            Path(temp).unlink(missing_ok=True)
            raise SheetError(
                f"cannot save the workbook ({err.strerror}); is it open in another program?",
                spreadsheet=self.describe(),
            ) from err


def _header_row_number(grid: list[list[object]], spec: TabSpec, names: Names) -> int:
    return locate_header(grid, spec, names)[0] + 1


def _set_text(sheet: Worksheet, row: int, column: int, value: object) -> None:
    """Write a value raw: text stays text even when it starts with '='."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(cell, MergedCell):
        # Staff merged cells where the tool must write (e.g. a new Status header): unmerge.
        for merged in list(sheet.merged_cells.ranges):
            if cell.coordinate in merged:
                sheet.unmerge_cells(str(merged))
        cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _append_run_log(workbook: openpyxl.Workbook, entry: RunLogEntry) -> None:
    title = find_tab(workbook.sheetnames, RUN_LOG_TAB)
    if title is None:
        sheet = workbook.create_sheet(RUN_LOG_TAB)
        sheet.append(list(RUN_LOG_HEADERS))
    else:
        sheet = workbook[title]
    row = sheet.max_row + 1
    for column, value in enumerate(entry.cells(), start=1):
        _set_text(sheet, row, column, value)
