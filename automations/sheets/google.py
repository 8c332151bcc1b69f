"""Google Sheets through gspread + google-auth: a constant number of API calls per run.

Per spreadsheet and run: one metadata request (cached on the object), one values
batchGet of every tab a job reads, and for the write-back one batchGet of the header
rows and key columns (rows re-located just before writing) plus one values
batchUpdate (RAW). A missing Run Log tab, or a grid too small for new columns or
Run Log rows, costs one structural batchUpdate.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gspread
import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from automations.cells import DAY_FORMAT, STAMP_FORMAT, CellValue, serial_number
from automations.config import Settings
from automations.errors import ConfigError, SheetError
from automations.sheets.contract import (
    HEADER_SEARCH_ROWS,
    RUN_LOG_HEADERS,
    RUN_LOG_TAB,
    CellWrite,
    Names,
    RunLogEntry,
    Table,
    TabSpec,
    build_table,
    columns_needed_for_placement,
    find_tab,
    locate_header,
    place_writes,
)
from automations.sheets.google_settings import (
    GOOGLE_API,
    GoogleSettings,
    google_settings,
    spreadsheet_key,
)
from automations.sheets.retry import RETRY_STATUSES, Retrier, RetriesExhausted, parse_retry_after

log = logging.getLogger("automations")

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
READ_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}
# Rows added at a time when the Run Log outgrows its grid (so it happens rarely).
GROW_ROWS = 1000


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def quote_tab(title: str) -> str:
    """A tab title as an A1 prefix: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


# -- HTTP --------------------------------------------------------------------------


def _classify(error: BaseException) -> tuple[bool, float | None]:
    """Which failures are worth retrying, and the server's Retry-After."""
    if isinstance(error, gspread.exceptions.APIError):
        response = error.response
        if response.status_code in RETRY_STATUSES:
            return True, parse_retry_after(response.headers.get("Retry-After"))
        return False, None
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return True, None
    return False, None


class SheetsHTTPClient(gspread.HTTPClient):
    """gspread's HTTP client pointed at `base_url`, with bounded retries.

    Passed to gspread.Client(http_client=...), the supported hook: gspread builds
    absolute googleapis.com URLs, and this rewrites their host in one place.
    """

    def __init__(
        self,
        auth: Credentials | None,
        session: requests.Session | None = None,
        *,
        base_url: str = GOOGLE_API,
        retrier: Retrier | None = None,
        timeout: float = 60.0,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(auth, session)  # type: ignore[arg-type]
        self.base_url = base_url.rstrip("/")
        self.retrier = retrier or Retrier()
        self.on_request = on_request
        # Connect quickly or retry; the API itself may take up to its 180 s deadline.
        self.set_timeout((min(10.0, timeout), timeout))

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one API request, retrying 429/5xx/timeouts within the policy's bounds."""
        if endpoint.startswith(GOOGLE_API):
            endpoint = self.base_url + endpoint[len(GOOGLE_API) :]

        def attempt() -> requests.Response:
            if self.on_request is not None:
                self.on_request(method, endpoint)
            return super(SheetsHTTPClient, self).request(method, endpoint, *args, **kwargs)

        return self.retrier.call(attempt, _classify)


def build_session(credentials: Credentials, *, trust_env: bool) -> requests.Session:
    """An authorized session; trust_env=False keeps proxy variables off a custom endpoint."""
    plain = requests.Session()
    plain.trust_env = trust_env
    session = AuthorizedSession(credentials, auth_request=Request(plain))
    session.trust_env = trust_env
    return session


def load_credentials(config: GoogleSettings) -> Credentials:
    """The service account from its key file (a path from config or the environment)."""
    path = config.key_file()
    try:
        return service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
    except FileNotFoundError:
        raise ConfigError(
            f"the Google service-account key file {path} does not exist; download a JSON key "
            "for the service account (see docs/google-sheets.md)"
        ) from None
    except (ValueError, KeyError, OSError) as err:
        raise ConfigError(
            f"{path} is not a Google service-account JSON key ({err}); download a new key "
            "(see docs/google-sheets.md)"
        ) from None


def open_google_spreadsheet(
    settings: Settings,
    name: str,
    ident: str,
    *,
    credentials: Credentials | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GoogleSpreadsheet:
    """The configured spreadsheet `name` (ID or URL `ident`) with a client built from config."""
    config = google_settings(settings)
    key = spreadsheet_key(ident, f"{settings.path}: sheets.spreadsheets.{name}")
    credentials = credentials or load_credentials(config)
    session = build_session(credentials, trust_env=not config.custom_endpoint)
    factory = functools.partial(
        SheetsHTTPClient,
        base_url=config.api_base_url,
        retrier=Retrier(config.retry, sleep=sleep),
        timeout=config.timeout_seconds,
    )
    client = gspread.Client(None, session=session, http_client=factory)  # type: ignore[arg-type]
    account = getattr(credentials, "service_account_email", None) or "the service account"
    return GoogleSpreadsheet(
        name,
        key,
        settings.names,
        client.http_client,
        account=account,
        max_request_bytes=config.max_request_bytes,
    )


# -- the backend -------------------------------------------------------------------


@dataclass
class _Tab:
    """A tab as the metadata describes it."""

    sheet_id: int
    title: str
    rows: int
    columns: int
    frozen_rows: int = 0


@dataclass
class WriteStats:
    """What the last write sent: requests by kind and how the payload was split."""

    structural: int = 0
    value_requests: int = 0
    ranges: int = 0
    payload_bytes: int = 0
    notes: list[str] = field(default_factory=list)


class GoogleSpreadsheet:
    """One Google spreadsheet behind the Spreadsheet protocol."""

    def __init__(
        self,
        name: str,
        key: str,
        names: Names,
        http: gspread.HTTPClient,
        *,
        account: str = "the service account",
        max_request_bytes: int = 2_000_000,
    ) -> None:
        self.name = name
        self.key = key
        self.names = names
        self.http = http
        self.account = account
        self.max_request_bytes = max_request_bytes
        self.title: str | None = None
        self._tabs: dict[str, _Tab] | None = None
        # Header rows as last read, by tab title: where the key columns were.
        self._headers: dict[str, list[list[CellValue]]] = {}
        self.last_write = WriteStats()

    def describe(self) -> str:
        """The config name and the spreadsheet's title (or its ID before the first read)."""
        where = f"'{self.title}'" if self.title else f"ID {self.key}"
        return f"'{self.name}' (Google Sheets {where})"

    # -- calls ----------------------------------------------------------------

    def call(self, what: str, operation: Callable[[], Any]) -> Any:
        """Run one API call and turn its failures into messages a person can act on."""
        try:
            return operation()
        except RetriesExhausted as err:
            cause = err.last
            if isinstance(cause, gspread.exceptions.APIError):
                reason = f"kept answering HTTP {cause.response.status_code}"
            else:
                reason = f"could not be reached ({type(cause).__name__})"
            raise SheetError(
                f"the Google Sheets API {reason} to the {what} after {err.attempts} attempts "
                f"over {err.waited:.0f} s; wait a few minutes and run again (statuses not yet "
                "written are kept and written on the next run)",
                spreadsheet=self.describe(),
            ) from err
        except gspread.exceptions.APIError as err:
            raise self._api_error(err, what) from err
        except requests.RequestException as err:
            raise SheetError(
                f"cannot reach the Google Sheets API for the {what} ({err})",
                spreadsheet=self.describe(),
            ) from err
        except GoogleAuthError as err:
            raise SheetError(
                f"cannot get an access token for {self.account} ({err}); check the "
                "service-account key file",
                spreadsheet=self.describe(),
            ) from err

    def _api_error(self, err: gspread.exceptions.APIError, what: str) -> SheetError:
        status = err.response.status_code
        if status == 403:
            return SheetError(
                f"The spreadsheet {self.title or self.key} is not shared with {self.account}; "
                "share it as Editor"
            )
        if status == 404:
            return SheetError(
                f"No spreadsheet with ID {self.key} (sheets.spreadsheets.{self.name}); "
                "check the ID or URL in the config"
            )
        if status == 401:
            return SheetError(
                f"Google did not accept the credentials of {self.account}; check the "
                "service-account key file",
                spreadsheet=self.describe(),
            )
        try:
            message = err.response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = err.response.text[:200]
        return SheetError(
            f"the Google Sheets API refused the {what} (HTTP {status}: {message})",
            spreadsheet=self.describe(),
        )

    def tabs(self) -> dict[str, _Tab]:
        """Tab titles, IDs and grid sizes: one request, cached for the rest of the run."""
        if self._tabs is None:
            meta = self.call(
                "metadata request",
                lambda: self.http.fetch_sheet_metadata(
                    self.key,
                    params={
                        "includeGridData": "false",
                        "fields": "properties.title,sheets.properties",
                    },
                ),
            )
            self.title = meta.get("properties", {}).get("title") or self.title
            self._tabs = {}
            for sheet in meta.get("sheets", []):
                props = sheet.get("properties", {})
                grid = props.get("gridProperties", {})
                self._tabs[props["title"]] = _Tab(
                    int(props.get("sheetId", 0)),
                    props["title"],
                    int(grid.get("rowCount", 0)),
                    int(grid.get("columnCount", 0)),
                    int(grid.get("frozenRowCount", 0)),
                )
        return self._tabs

    def titles(self) -> list[str]:
        """The tab titles in the spreadsheet."""
        return list(self.tabs())

    def batch_get(
        self, ranges: Sequence[str], what: str = "values read", major: str = "ROWS"
    ) -> list[list[list[CellValue]]]:
        """One values batchGet (unformatted, serial dates); '' cells come back as None."""
        params = {**READ_PARAMS, "majorDimension": major}
        answer = self.call(
            what, lambda: self.http.values_batch_get(self.key, list(ranges), params=dict(params))
        )
        return [
            [[None if cell == "" else cell for cell in row] for row in item.get("values", [])]
            for item in answer.get("valueRanges", [])
        ]

    # -- the protocol ------------------------------------------------------------

    def read(self, specs: Sequence[TabSpec]) -> dict[str, Table]:
        """Read every requested tab in one batchGet (after at most one metadata request)."""
        tabs = self.tabs()
        found: list[tuple[TabSpec, str]] = []
        for spec in specs:
            wanted = self.names.tab(spec.name)
            title = find_tab(list(tabs), wanted)
            if title is None:
                if spec.optional:
                    continue
                raise SheetError(
                    f"there is no tab named '{wanted}' (tabs: {', '.join(tabs)})",
                    spreadsheet=self.describe(),
                )
            found.append((spec, title))
        if not found:
            return {}
        titles = list(dict.fromkeys(title for _, title in found))
        grids = dict(zip(titles, self.batch_get([quote_tab(t) for t in titles]), strict=True))
        tables: dict[str, Table] = {}
        for spec, title in found:
            grid = grids[title]
            self._headers[title] = grid[:HEADER_SEARCH_ROWS]
            tables[spec.name] = build_table(self.describe(), title, spec, self.names, grid)
        return tables

    def write(
        self,
        writes: Sequence[CellWrite],
        specs: Mapping[str, TabSpec],
        run_log: RunLogEntry | None,
    ) -> list[CellWrite]:
        """Re-read key columns, place writes by key, send one structural + one values batch."""
        self.last_write = WriteStats()
        if not writes and run_log is None:
            return []
        try:
            return self._write(writes, specs, run_log, self.last_write)
        except SheetError:
            # The cached tab list and grid sizes may now be wrong: fetch them again.
            self._tabs = None
            raise

    def _write(
        self,
        writes: Sequence[CellWrite],
        specs: Mapping[str, TabSpec],
        run_log: RunLogEntry | None,
        stats: WriteStats,
    ) -> list[CellWrite]:
        tabs = self.tabs()
        dropped: list[CellWrite] = []
        by_tab: dict[str, list[CellWrite]] = {}
        for write in writes:
            by_tab.setdefault(write.row.tab, []).append(write)
        targets: list[tuple[TabSpec, str, list[CellWrite]]] = []
        for tab, tab_writes in by_tab.items():
            title = find_tab(list(tabs), self.names.tab(tab))
            if title is None:
                dropped.extend(tab_writes)
            else:
                targets.append((specs[tab], title, tab_writes))

        # One batchGet: header rows and key/fingerprint columns of every tab, Run Log column A.
        log_title = find_tab(list(tabs), RUN_LOG_TAB)
        plans = [self._key_ranges(spec, title) for spec, title, _ in targets]
        ranges = [r for plan in plans for r in plan[1]]
        if run_log is not None and log_title is not None:
            ranges.append(f"{quote_tab(log_title)}!A:A")
        fetched = self.batch_get(ranges, "re-read of key columns") if ranges else []
        cursor = 0
        data: list[dict[str, Any]] = []
        structural: list[dict[str, Any]] = []
        # Number formats of the recorded times written (after any growth of the grid).
        formats: list[dict[str, Any]] = []
        for (spec, title, tab_writes), (columns, tab_ranges) in zip(targets, plans, strict=True):
            parts = fetched[cursor : cursor + len(tab_ranges)]
            cursor += len(tab_ranges)
            grid = self._placement_grid(spec, title, columns, parts)
            placement = place_writes(spec, self.names, grid, tab_writes)
            dropped.extend(placement.dropped)
            header_index = locate_header(grid, spec, self.names)[0]
            cells = dict(placement.cells)
            for column, header in placement.new_headers.items():
                cells[(header_index, column)] = header
            if not cells:
                continue
            data.extend(_ranges(title, cells))
            tab = tabs[title]
            need_rows = max(r for r, _ in cells) + 1
            need_columns = max(c for _, c in cells) + 1
            structural.extend(_grow(tab, need_rows, need_columns))
            formats.extend(_date_formats(tab.sheet_id, cells))
        if run_log is not None:
            if log_title is None:
                new_id = max((t.sheet_id for t in tabs.values()), default=0) + 1
                structural.append(_add_run_log(new_id))
                tabs[RUN_LOG_TAB] = _Tab(new_id, RUN_LOG_TAB, GROW_ROWS, len(RUN_LOG_HEADERS), 1)
                log_title, next_row = RUN_LOG_TAB, 0
            else:
                next_row = len(fetched[cursor]) if cursor < len(fetched) else 0
            column_a = fetched[cursor] if cursor < len(fetched) else []
            rows: list[list[Any]] = [] if next_row else [list(RUN_LOG_HEADERS)]
            rows.append([_raw(v) for v in run_log.cells()])
            first = next_row or 0
            data.append(
                {
                    "range": f"{quote_tab(log_title)}!A{first + 1}:"
                    f"{column_letters(len(RUN_LOG_HEADERS) - 1)}{first + len(rows)}",
                    "values": rows,
                }
            )
            grown = _grow(tabs[log_title], first + len(rows), len(RUN_LOG_HEADERS), GROW_ROWS)
            structural.extend(grown)
            # The When column is formatted from the new row to the end of the grid, once:
            # a later row whose previous When is a number (a date cell) needs nothing.
            last = column_a[-1][0] if column_a and column_a[-1] else None
            if grown or structural or formats or not _is_number(last):
                formats.append(_when_format(tabs[log_title].sheet_id, first + len(rows) - 1))
        if structural or formats:
            requests_ = [*structural, *formats]
            try:
                self.call(
                    "change to the tabs",
                    lambda: self.http.batch_update(self.key, {"requests": requests_}),
                )
            except SheetError as err:
                # A retried addSheet whose first attempt did arrive (the answer was lost):
                # the Run Log exists now, which is all that was asked for.
                if "already exists" not in str(err) or len(structural) != 1:
                    raise
            stats.structural = 1
        for body in _split(data, self.max_request_bytes, stats):
            self.call("write-back", lambda body=body: self.http.values_batch_update(self.key, body))
            stats.value_requests += 1
        if stats.value_requests > 1:
            stats.notes.append(
                f"write split into {stats.value_requests} requests of at most "
                f"{self.max_request_bytes:,} bytes"
            )
            log.info("%s: %s", self.describe(), stats.notes[-1])
        return dropped

    def replace_tab(self, tab: str, rows: Sequence[Sequence[CellValue]]) -> None:
        """Replace everything on the tool-owned tab `tab` in one spreadsheet batchUpdate.

        updateCells over the whole tab clears what `rows` do not cover; a missing tab is
        added, and a grid too small is grown, in the same request.
        """
        tabs = self.tabs()
        wanted = self.names.tab(tab)
        title = find_tab(list(tabs), wanted)
        height = len(rows)
        width = max((len(r) for r in rows), default=0)
        requests_: list[dict[str, Any]] = []
        if title is None:
            sheet_id = max((t.sheet_id for t in tabs.values()), default=0) + 1
            target = _Tab(sheet_id, wanted, max(GROW_ROWS, height), max(26, width))
            requests_.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": wanted,
                            "gridProperties": {
                                "rowCount": target.rows,
                                "columnCount": target.columns,
                            },
                        }
                    }
                }
            )
        else:
            target = tabs[title]
            requests_.extend(_grow(target, height, width))
        requests_.append(
            {
                "updateCells": {
                    "range": {"sheetId": target.sheet_id},
                    "rows": [{"values": [_cell_data(v) for v in row]} for row in rows],
                    "fields": "userEnteredValue",
                }
            }
        )
        self.call(
            f"rewrite of tab '{wanted}'",
            lambda: self.http.batch_update(self.key, {"requests": requests_}),
        )
        tabs[target.title] = target

    # -- write helpers ------------------------------------------------------------

    def _key_ranges(self, spec: TabSpec, title: str) -> tuple[dict[str, int], list[str]]:
        """Ranges to re-read for placing writes: header rows plus each key column."""
        header = self._headers.get(title)
        quoted = quote_tab(title)
        if header is None:  # written without a read in this run: re-read the whole tab
            return {}, [quoted]
        _, positions = locate_header(header, spec, self.names)
        columns = {c: positions[c] for c in columns_needed_for_placement(spec) if c in positions}
        ranges = [f"{quoted}!1:{HEADER_SEARCH_ROWS}"]
        ranges += [f"{quoted}!{column_letters(p)}:{column_letters(p)}" for p in columns.values()]
        return columns, ranges

    def _placement_grid(
        self,
        spec: TabSpec,
        title: str,
        columns: dict[str, int],
        parts: list[list[list[CellValue]]],
    ) -> list[list[CellValue]]:
        """Assemble header rows and key columns into a grid place_writes understands."""
        if not columns and len(parts) == 1 and title not in self._headers:
            return parts[0]
        header, column_parts = parts[0], parts[1:]
        _, now = locate_header(header, spec, self.names)
        if any(now.get(name) != position for name, position in columns.items()):
            # Staff moved a key column since the read: re-read the whole tab (rare).
            log.info("%s: columns of tab '%s' moved; re-reading it", self.describe(), title)
            return self.batch_get([quote_tab(title)], "re-read of a rearranged tab")[0]
        height = max([len(header), *(len(p) for p in column_parts)])
        width = max([len(r) for r in header] + [p + 1 for p in columns.values()] + [0])
        grid: list[list[CellValue]] = [
            list(header[r]) + [None] * (width - len(header[r]))
            if r < len(header)
            else [None] * width
            for r in range(height)
        ]
        for position, values in zip(columns.values(), column_parts, strict=True):
            for r, row in enumerate(values):
                if r >= len(header):
                    grid[r][position] = row[0] if row else None
        return grid


def _ranges(title: str, cells: Mapping[tuple[int, int], Any]) -> list[dict[str, Any]]:
    """Cells as A1 ranges: one per run of consecutive rows in a column."""
    by_column: dict[int, list[int]] = {}
    for row, column in cells:
        by_column.setdefault(column, []).append(row)
    quoted = quote_tab(title)
    result = []
    for column, rows in sorted(by_column.items()):
        rows.sort()
        start = previous = rows[0]
        for row in [*rows[1:], None]:
            if row is not None and row == previous + 1:
                previous = row
                continue
            letters = column_letters(column)
            result.append(
                {
                    "range": f"{quoted}!{letters}{start + 1}:{letters}{previous + 1}",
                    "values": [[_raw(cells[(r, column)])] for r in range(start, previous + 1)],
                }
            )
            if row is not None:
                start = previous = row
    return result


def _cell_data(value: CellValue) -> dict[str, Any]:
    """A cell for updateCells, entered raw: text is stringValue, so never a formula."""
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    if isinstance(value, dt.date | dt.time):
        return {"userEnteredValue": {"stringValue": value.isoformat()}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def _raw(value: Any) -> Any:
    # null would mean "leave the cell as it is"; an empty string clears it.
    if isinstance(value, dt.date):
        return serial_number(value)  # a recorded time: its format comes from _date_formats
    return "" if value is None else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_format(value: dt.date) -> dict[str, Any]:
    """The cell format of a recorded time: Dec 1, 2026 4:58 PM (or Dec 1, 2026)."""
    if isinstance(value, dt.datetime):
        return {"numberFormat": {"type": "DATE_TIME", "pattern": STAMP_FORMAT}}
    return {"numberFormat": {"type": "DATE", "pattern": DAY_FORMAT}}


def _date_formats(sheet_id: int, cells: Mapping[tuple[int, int], Any]) -> list[dict[str, Any]]:
    """repeatCell requests giving the recorded times among `cells` their date format,
    one per run of consecutive rows of a column (values keep a cell's format)."""
    runs: list[tuple[int, int, int, dict[str, Any]]] = []
    for (row, column), value in sorted(cells.items(), key=lambda item: (item[0][1], item[0][0])):
        if not isinstance(value, dt.date):
            continue
        fmt = _number_format(value)
        if runs and runs[-1][0] == column and runs[-1][2] == row and runs[-1][3] == fmt:
            runs[-1] = (column, runs[-1][1], row + 1, fmt)
        else:
            runs.append((column, row, row + 1, fmt))
    return [
        {
            "repeatCell": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": start,
                    "endRowIndex": end,
                    "startColumnIndex": column,
                    "endColumnIndex": column + 1,
                },
                "cell": {"userEnteredFormat": fmt},
                "fields": "userEnteredFormat.numberFormat",
            }
        }
        for column, start, end, fmt in runs
    ]


def _when_format(sheet_id: int, first_row: int) -> dict[str, Any]:
    """The Run Log's When column as date cells from `first_row` to the end of the grid."""
    return {
        "repeatCell": {
            "range": {
                "sheetId": sheet_id,
                "startRowIndex": first_row,
                "startColumnIndex": 0,
                "endColumnIndex": 1,
            },
            "cell": {"userEnteredFormat": _number_format(dt.datetime(2000, 1, 1))},
            "fields": "userEnteredFormat.numberFormat",
        }
    }


def _grow(tab: _Tab, rows: int, columns: int, extra_rows: int = 0) -> list[dict[str, Any]]:
    """appendDimension requests when a write would fall outside the tab's grid."""
    requests_: list[dict[str, Any]] = []
    if rows > tab.rows:
        length = rows - tab.rows + extra_rows
        requests_.append(
            {"appendDimension": {"sheetId": tab.sheet_id, "dimension": "ROWS", "length": length}}
        )
        tab.rows += length
    if columns > tab.columns:
        length = columns - tab.columns
        requests_.append(
            {
                "appendDimension": {
                    "sheetId": tab.sheet_id,
                    "dimension": "COLUMNS",
                    "length": length,
                }
            }
        )
        tab.columns += length
    return requests_


def _add_run_log(sheet_id: int) -> dict[str, Any]:
    return {
        "addSheet": {
            "properties": {
                "sheetId": sheet_id,
                "title": RUN_LOG_TAB,
                "gridProperties": {
                    "rowCount": GROW_ROWS,
                    "columnCount": len(RUN_LOG_HEADERS),
                    "frozenRowCount": 1,
                },
            }
        }
    }


def _split(data: list[dict[str, Any]], limit: int, stats: WriteStats) -> list[dict[str, Any]]:
    """Pack ranges into values batchUpdate bodies of at most `limit` bytes each.

    Everything goes in one body when it fits; otherwise bodies are filled up in turn,
    cutting a long column range into row blocks at the point where a body is full.
    """
    bodies: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    budget = limit - len('{"valueInputOption": "RAW", "data": []}')
    room = budget

    def flush() -> None:
        nonlocal current, room
        if current:
            bodies.append({"valueInputOption": "RAW", "data": current})
        current, room = [], budget

    for item in data:
        size = _size(item)
        if size > room and len(item["values"]) > 1 and size > budget // 8:
            for piece in _cut(item, room, budget):
                if _size(piece) > room:
                    flush()
                current.append(piece)
                room -= _size(piece)
            continue
        if size > room:
            flush()
        current.append(item)
        room -= size
    flush()
    stats.ranges = len(data)
    stats.payload_bytes = sum(_size(b) for b in bodies)
    return bodies


def _size(value: Any) -> int:
    """Bytes of `value` as JSON in a request body (plus a separator)."""
    return len(json.dumps(value, ensure_ascii=False).encode()) + 2


def _cut(item: dict[str, Any], first: int, limit: int) -> list[dict[str, Any]]:
    """Split a column range 'Tab'!K2:K75001 into row blocks: the first under `first`
    bytes (what is left in the current body), the rest under `limit`."""
    prefix, _, cells = item["range"].rpartition("!")
    start_ref, _, end_ref = cells.partition(":")
    letters = "".join(ch for ch in start_ref if ch.isalpha())
    last_letters = "".join(ch for ch in (end_ref or start_ref) if ch.isalpha())
    row = int("".join(ch for ch in start_ref if ch.isdigit()))
    overhead = len(prefix) + 60  # the range string and keys of one piece
    pieces: list[dict[str, Any]] = []
    block: list[list[Any]] = []
    size = 0
    room = first
    for values in item["values"]:
        value_size = len(json.dumps(values, ensure_ascii=False).encode()) + 2
        if block and size + value_size + overhead > room:
            pieces.append(
                {
                    "range": f"{prefix}!{letters}{row}:{last_letters}{row + len(block) - 1}",
                    "values": block,
                }
            )
            row += len(block)
            block, size, room = [], 0, limit
        block.append(values)
        size += value_size
    if block:
        pieces.append(
            {
                "range": f"{prefix}!{letters}{row}:{last_letters}{row + len(block) - 1}",
                "values": block,
            }
        )
    return pieces


def open_spreadsheet(settings: Settings, name: str) -> GoogleSpreadsheet:
    """The Google spreadsheet configured as [sheets.spreadsheets.<name>] id or url."""
    ident = settings.spreadsheets[name].id
    assert ident is not None
    return open_google_spreadsheet(settings, name, ident)
