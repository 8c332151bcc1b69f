"""`python jobs.py init` for Google Sheets: missing tabs and headers, frozen header, dropdowns.

Idempotent and additive: it never changes a cell that holds data. A second run finds
everything in place and sends no write at all (two reads: metadata, then the first
rows of each tab with their data-validation rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from automations.cells import CellValue, text
from automations.config import Settings
from automations.errors import ConfigError
from automations.jobs.directory import COSTS, KINDS
from automations.jobs.recommendations import AREAS, PROGRESS
from automations.mou import APPOINTERS, GROUPS, TOPICS
from automations.sheets.contract import (
    HEADER_SEARCH_ROWS,
    RUN_LOG_HEADERS,
    RUN_LOG_TAB,
    Column,
    TabSpec,
    fold,
    locate_header,
)
from automations.sheets.google import GROW_ROWS, GoogleSpreadsheet, column_letters, quote_tab

YES_NO = ("Yes", "No")
# Dropdowns by default column name. Not strict: staff may still type another value
# (a job reads it and says in the Status column what it did with it).
DROPDOWNS: Mapping[str, tuple[str, ...]] = {
    "Group": GROUPS,
    "Appointed By": APPOINTERS,
    "Language": (
        "English",
        "Español",
        "한국어",
        "Հայերեն",
        "中文",
        "Tiếng Việt",
        "Tagalog",
        "Русский",
        "فارسی",
        "العربية",
    ),
    # The four PD topics of MOU 5.a–d (docs/architecture.md: the sheet contract).
    "Topic": tuple(topic.name for topic in TOPICS),
    "Cancelled": YES_NO,
    # The Resources tab's kinds and costs (automations/jobs/directory.py).
    "Kind": KINDS,
    "Cost": COSTS,
    "Opted Out": YES_NO,
    "Active": YES_NO,
    # The committee's Recommendations tab (MOU 2.0).
    "Area": AREAS,
    "Progress": PROGRESS,
}
RUN_LOG_SPEC = TabSpec(RUN_LOG_TAB, tuple(Column(h) for h in RUN_LOG_HEADERS))


@dataclass
class InitReport:
    """What init changed in one spreadsheet (empty lists: nothing to do)."""

    spreadsheet: str
    created: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    dropdowns: list[str] = field(default_factory=list)
    requests: int = 0

    def lines(self) -> list[str]:
        """Human lines for the CLI."""
        parts = [
            ("created tabs", self.created),
            ("added headers", self.headers),
            ("froze the header row of", self.frozen),
            ("added dropdowns to", self.dropdowns),
        ]
        done = [f"  {label}: {', '.join(items)}" for label, items in parts if items]
        if not done:
            return [f"{self.spreadsheet}: already set up; nothing changed"]
        return [f"{self.spreadsheet}:", *done]


def merge_specs(specs: Iterable[TabSpec]) -> list[TabSpec]:
    """One spec per tab: the union of the columns every job needs from it, in order."""
    merged: dict[str, dict[str, Column]] = {}
    for spec in specs:
        columns = merged.setdefault(spec.name, {})
        for column in spec.columns:
            known = columns.get(column.name)
            if known is None or (column.required and not known.required):
                columns[column.name] = column
    return [TabSpec(name, tuple(columns.values())) for name, columns in merged.items()]


def _cell_value(cell: Mapping[str, Any]) -> CellValue:
    entered = cell.get("userEnteredValue") or {}
    for kind in ("stringValue", "numberValue", "boolValue", "formulaValue"):
        if kind in entered:
            return entered[kind]
    return None


def _rule(choices: Sequence[str]) -> dict[str, Any]:
    return {
        "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in choices]},
        "showCustomUi": True,
        "strict": False,
    }


def _same_rule(existing: Mapping[str, Any] | None, choices: Sequence[str]) -> bool:
    if not existing:
        return False
    condition = existing.get("condition") or {}
    values = [v.get("userEnteredValue") for v in condition.get("values") or []]
    return condition.get("type") == "ONE_OF_LIST" and values == list(choices)


def initialise(sheet: GoogleSpreadsheet, specs: Sequence[TabSpec]) -> InitReport:
    """Create missing tabs and headers, freeze header rows, add dropdowns; touch no data."""
    tabs = sheet.tabs()
    report = InitReport(sheet.describe())
    wanted = [*merge_specs(specs), RUN_LOG_SPEC]
    existing = {}
    for spec in wanted:
        title = next((t for t in tabs if fold(t) == fold(sheet.names.tab(spec.name))), None)
        if title is not None:
            existing[spec.name] = title
    grids = _first_rows(sheet, list(dict.fromkeys(existing.values())))
    structural: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    next_id = max((t.sheet_id for t in tabs.values()), default=0) + 1
    for spec in wanted:
        headers = [sheet.names.header(spec.name, c.name) for c in spec.columns]
        title = existing.get(spec.name)
        if title is None:
            title = sheet.names.tab(spec.name)
            sheet_id, next_id = next_id, next_id + 1
            structural.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": title,
                            "gridProperties": {
                                "rowCount": GROW_ROWS,
                                "columnCount": max(26, len(headers)),
                                "frozenRowCount": 1,
                            },
                        }
                    }
                }
            )
            structural.append(_bold_row(sheet_id, 0))
            report.created.append(title)
            values.append(_row_range(title, 0, 0, headers))
            header_index, positions = 0, {c.name: i for i, c in enumerate(spec.columns)}
            validations: dict[tuple[int, int], Any] = {}
        else:
            tab = tabs[title]
            sheet_id = tab.sheet_id
            grid, validations = grids[title]
            header_index, positions = locate_header(grid, spec, sheet.names)
            header = grid[header_index] if grid else []
            if not any(text(cell) for cell in header):
                positions = {}
            next_free = max((i + 1 for i, cell in enumerate(header) if text(cell)), default=0)
            added = []
            for column, name in zip(spec.columns, headers, strict=True):
                if column.name not in positions:
                    positions[column.name] = next_free
                    added.append((next_free, name))
                    next_free += 1
            if added:
                if next_free > tab.columns:
                    structural.append(
                        {
                            "appendDimension": {
                                "sheetId": sheet_id,
                                "dimension": "COLUMNS",
                                "length": next_free - tab.columns,
                            }
                        }
                    )
                    tab.columns = next_free
                for position, name in added:
                    values.append(_row_range(title, header_index, position, [name]))
                report.headers.append(f"{title} ({', '.join(n for _, n in added)})")
            if tab.frozen_rows < header_index + 1:
                structural.append(
                    {
                        "updateSheetProperties": {
                            "properties": {
                                "sheetId": sheet_id,
                                "gridProperties": {"frozenRowCount": header_index + 1},
                            },
                            "fields": "gridProperties.frozenRowCount",
                        }
                    }
                )
                structural.append(_bold_row(sheet_id, header_index))
                tab.frozen_rows = header_index + 1
                report.frozen.append(title)
        with_dropdowns = []
        for column in spec.columns:
            choices = DROPDOWNS.get(column.name)
            position = positions.get(column.name)
            if choices is None or position is None:
                continue
            if _same_rule(validations.get((header_index + 1, position)), choices):
                continue
            structural.append(
                {
                    "setDataValidation": {
                        # No endRowIndex: the rule covers every row below the header.
                        "range": {
                            "sheetId": sheet_id,
                            "startRowIndex": header_index + 1,
                            "startColumnIndex": position,
                            "endColumnIndex": position + 1,
                        },
                        "rule": _rule(choices),
                    }
                }
            )
            with_dropdowns.append(sheet.names.header(spec.name, column.name))
        if with_dropdowns:
            report.dropdowns.append(f"{title} ({', '.join(with_dropdowns)})")
    if structural:
        sheet.call(
            "set-up of tabs",
            lambda: sheet.http.batch_update(sheet.key, {"requests": structural}),
        )
        report.requests += 1
    if values:
        body = {"valueInputOption": "RAW", "data": values}
        sheet.call("header write", lambda: sheet.http.values_batch_update(sheet.key, body))
        report.requests += 1
    return report


def _row_range(title: str, row: int, column: int, cells: list[str]) -> dict[str, Any]:
    end = column_letters(column + len(cells) - 1)
    return {
        "range": f"{quote_tab(title)}!{column_letters(column)}{row + 1}:{end}{row + 1}",
        "values": [cells],
    }


def _bold_row(sheet_id: int, row: int) -> dict[str, Any]:
    return {
        "repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": row, "endRowIndex": row + 1},
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
            "fields": "userEnteredFormat.textFormat.bold",
        }
    }


def _first_rows(
    sheet: GoogleSpreadsheet, titles: Sequence[str]
) -> dict[str, tuple[list[list[CellValue]], dict[tuple[int, int], Any]]]:
    """The first rows of each tab with their validation rules, in one request."""
    if not titles:
        return {}
    ranges = [f"{quote_tab(t)}!1:{HEADER_SEARCH_ROWS + 1}" for t in titles]
    answer = sheet.call(
        "read of header rows",
        lambda: sheet.http.fetch_sheet_metadata(
            sheet.key,
            params={
                "includeGridData": "true",
                "ranges": ranges,
                "fields": "sheets(properties.title,data(startRow,startColumn,"
                "rowData.values(userEnteredValue,dataValidation)))",
            },
        ),
    )
    result: dict[str, tuple[list[list[CellValue]], dict[tuple[int, int], Any]]] = {}
    for entry in answer.get("sheets", []):
        title = entry.get("properties", {}).get("title")
        grid: list[list[CellValue]] = []
        rules: dict[tuple[int, int], Any] = {}
        for block in entry.get("data", []):
            top, left = block.get("startRow", 0), block.get("startColumn", 0)
            for r, row in enumerate(block.get("rowData", [])):
                cells = row.get("values", [])
                while len(grid) <= top + r:
                    grid.append([])
                line = grid[top + r]
                line.extend([None] * (left + len(cells) - len(line)))
                for c, cell in enumerate(cells):
                    line[left + c] = _cell_value(cell)
                    if cell.get("dataValidation"):
                        rules[(top + r, left + c)] = cell["dataValidation"]
        result[title] = (grid, rules)
    for title in titles:
        result.setdefault(title, ([], {}))
    return result


def init_configured(settings: Settings) -> list[str]:
    """Set up every configured Google spreadsheet for the enabled jobs; report lines."""
    if settings.sheets_backend != "google":
        raise ConfigError(
            f"{settings.path}: init without --demo sets up Google spreadsheets, but sheets.backend "
            f'is "{settings.sheets_backend}"; for workbooks run `python jobs.py init --demo DIR`'
        )
    from automations.backends import open_spreadsheet
    from automations.jobs import registry

    wanted: dict[str, list[TabSpec]] = {}
    for job in registry().values():
        if settings.job(job.name).enabled:
            for name, specs in job.tabs(settings).items():
                wanted.setdefault(name, []).extend(specs)
    lines: list[str] = []
    for name, specs in wanted.items():
        sheet = open_spreadsheet(settings, name)
        assert isinstance(sheet, GoogleSpreadsheet)
        lines.extend(initialise(sheet, specs).lines())
    return lines
