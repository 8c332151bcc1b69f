"""A loopback Google Sheets API v4 emulator: the part of the API the backend uses.

gspread talks real HTTP to it. It answers with the real API's response shapes,
records every request (kind, size, status), injects faults (429 with Retry-After,
5xx, delays) at chosen calls, and runs test hooks between requests so a test can
play a staff member editing the sheet while a job runs.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SERIAL_EPOCH = dt.date(1899, 12, 30)
DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26
SUPPORTED_REQUESTS = {
    "addSheet",
    "updateSheetProperties",
    "appendDimension",
    "setDataValidation",
    "repeatCell",
    "autoResizeDimensions",
    "updateCells",
}


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (only USER_ENTERED input creates one)."""

    text: str


@dataclass
class Sheet:
    """One tab: grid size, frozen rows, a ragged grid of values and number formats."""

    sheet_id: int
    title: str
    index: int
    row_count: int = DEFAULT_ROWS
    column_count: int = DEFAULT_COLUMNS
    frozen_rows: int = 0
    cells: list[list[Any]] = field(default_factory=list)
    # (row, column) -> "DATE" | "TIME" | "DATE_TIME" for cells holding serial numbers.
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    # (row, column) -> the numberFormat pattern set by repeatCell, e.g. "mmm d, yyyy".
    patterns: dict[tuple[int, int], str] = field(default_factory=dict)
    validations: list[tuple[tuple[int, int, int, int], dict]] = field(default_factory=list)
    bold_rows: set[int] = field(default_factory=set)

    def get(self, row: int, column: int) -> Any:
        """The stored value at 0-based (row, column), None when empty."""
        if row < len(self.cells) and column < len(self.cells[row]):
            return self.cells[row][column]
        return None

    def set(
        self,
        row: int,
        column: int,
        value: Any,
        number_format: str | None = None,
        *,
        keep_format: bool = False,
    ) -> None:
        """Store a value (None clears the cell); `keep_format` keeps the cell's number
        format unless the value brings its own (as values written through the API do)."""
        while len(self.cells) <= row:
            self.cells.append([])
        line = self.cells[row]
        while len(line) <= column:
            line.append(None)
        line[column] = value
        if number_format:
            self.formats[(row, column)] = number_format
            self.patterns.pop((row, column), None)
        elif not keep_format:
            self.formats.pop((row, column), None)
            self.patterns.pop((row, column), None)

    def values(self) -> list[list[Any]]:
        """The grid with trailing blanks trimmed (as the API returns it)."""
        return _trim([list(r) for r in self.cells])

    def shown(self, row: int, column: int) -> str:
        """What the Sheets UI shows in a cell (its FORMATTED_VALUE)."""
        return _formatted(
            self.get(row, column), self.formats.get((row, column)), self.patterns.get((row, column))
        )

    def validation_at(self, row: int, column: int) -> dict | None:
        """The data-validation rule covering a cell (the last one set wins)."""
        for (r1, r2, c1, c2), rule in reversed(self.validations):
            if r1 <= row < r2 and c1 <= column < c2:
                return rule
        return None


@dataclass
class SpreadsheetState:
    """One spreadsheet in the emulator."""

    id: str
    title: str
    sheets: list[Sheet]
    denied: bool = False

    def sheet(self, title: str) -> Sheet:
        """The sheet named `title` (exact)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(title)


@dataclass
class Recorded:
    """One request as the emulator saw it."""

    method: str
    path: str
    kind: str
    spreadsheet: str | None
    params: dict[str, list[str]]
    body: Any
    bytes_in: int
    bytes_out: int = 0
    status: int = 0


@dataclass
class Fault:
    """Answer `times` requests of `kind` (after skipping `skip`) with `status`, or delay them."""

    kind: str | None
    status: int | None
    retry_after: str | None
    times: int | None
    skip: int
    delay: float
    seen: int = 0
    fired: int = 0


@dataclass
class Hook:
    """Run `callback(emulator)` right before the `nth` request of `kind` is handled."""

    kind: str
    nth: int
    callback: Callable[[SheetsEmulator], None]
    seen: int = 0
    done: bool = False


class ApiError(Exception):
    """An error answer with the real API's JSON shape."""

    def __init__(self, code: int, message: str, status: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _bad(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


# -- A1 notation -----------------------------------------------------------------


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - 64
    return value - 1


def quote_title(title: str) -> str:
    """Quote a tab title the way the API does in the ranges it returns."""
    if re.fullmatch(r"[A-Za-z0-9_]+", title) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", title):
        return title
    return "'" + title.replace("'", "''") + "'"


_REF = re.compile(r"^([A-Za-z]*)(\d*)$")


def split_a1(a1: str) -> tuple[str | None, str | None]:
    """Split 'Tab'!A1:B2 into (tab title, cell part); either may be None."""
    a1 = a1.strip()
    if a1.startswith("'"):
        index, title = 1, ""
        while index < len(a1):
            ch = a1[index]
            if ch == "'":
                if a1[index + 1 : index + 2] == "'":
                    title += "'"
                    index += 2
                    continue
                rest = a1[index + 1 :]
                if rest and not rest.startswith("!"):
                    raise _bad(f"Unable to parse range: {a1}")
                return title, rest[1:] or None
            title += ch
            index += 1
        raise _bad(f"Unable to parse range: {a1}")
    if "!" in a1:
        title, _, cells = a1.partition("!")
        return title, cells or None
    return a1, None  # a tab title or a cell range; resolved against the sheets


def parse_cells(part: str) -> tuple[int, int, int | None, int | None]:
    """A1:B2 / A:A / 1:10 / A5:C / A1 -> (row1, col1, row2, col2), 0-based, None = open."""
    start, _, end = part.partition(":")
    first, second = _REF.match(start), _REF.match(end or start)
    if not first or not second or not (start and (first[1] or first[2])):
        raise _bad(f"Unable to parse range: {part}")
    r1 = int(first[2]) - 1 if first[2] else 0
    c1 = _column_index(first[1]) if first[1] else 0
    r2 = int(second[2]) - 1 if second[2] else None
    c2 = _column_index(second[1]) if second[1] else None
    if not end and first[1] and not first[2]:
        r2 = None  # "A" alone is not valid A1, but be lenient: whole column
    return r1, c1, r2, c2


# -- value conversions -------------------------------------------------------------


def _serial(value: dt.date | dt.datetime) -> float | int:
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(SERIAL_EPOCH, dt.time())
        return delta.total_seconds() / 86400
    return (value - SERIAL_EPOCH).days


def _fraction(value: dt.time) -> float:
    return (value.hour * 3600 + value.minute * 60 + value.second) / 86400


def python_cell(value: Any) -> tuple[Any, str | None]:
    """Store a Python value the way a typed cell holds it: dates become serial numbers."""
    if isinstance(value, dt.datetime):
        return _serial(value), "DATE_TIME"
    if isinstance(value, dt.date):
        return _serial(value), "DATE"
    if isinstance(value, dt.time):
        return _fraction(value), "TIME"
    if value == "":
        return None, None
    return value, None


_DATE_FORMS = ("%m/%d/%Y", "%Y-%m-%d")
_TIME_FORMS = ("%I:%M %p", "%I %p", "%H:%M", "%I:%M:%S %p", "%H:%M:%S")


def user_entered(value: Any) -> tuple[Any, str | None]:
    """Interpret input the way the Sheets UI does (USER_ENTERED): numbers, dates, formulas."""
    if not isinstance(value, str):
        return python_cell(value)
    if value == "":
        return None, None
    if value.startswith("'"):
        return value[1:], None
    if value.startswith("="):
        return Formula(value), None
    if value.upper() in {"TRUE", "FALSE"}:
        return value.upper() == "TRUE", None
    if re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value), None
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)", value.strip()):
        return float(value), None
    for form in _DATE_FORMS:
        try:
            return _serial(dt.datetime.strptime(value.strip(), form).date()), "DATE"
        except ValueError:
            pass
    for form in _TIME_FORMS:
        try:
            return _fraction(dt.datetime.strptime(value.strip().upper(), form).time()), "TIME"
        except ValueError:
            pass
    return value, None


_PATTERN_TOKENS = re.compile(
    r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|AM/PM|am/pm|A/P|\"[^\"]*\"|.", re.S
)


def render_pattern(moment: dt.datetime, pattern: str) -> str:
    """A date-time shown with a Sheets date pattern (the tokens the API documents:
    d, dd, ddd, dddd, m, mm, mmm, mmmm, yy, yyyy, h, hh, mm as minutes after h or before
    s, ss, AM/PM)."""
    tokens = _PATTERN_TOKENS.findall(pattern)
    twelve = any(t.upper() in {"AM/PM", "A/P"} for t in tokens)
    shown = []
    for index, token in enumerate(tokens):
        lower = token.lower()
        before = next((t.lower() for t in reversed(tokens[:index]) if t.strip(" :")), "")
        after = next((t.lower() for t in tokens[index + 1 :] if t.strip(" :")), "")
        minutes = lower in {"m", "mm"} and (before in {"h", "hh"} or after in {"s", "ss"})
        hour = moment.hour % 12 or 12 if twelve else moment.hour
        shown.append(
            {
                "yyyy": f"{moment.year:04d}",
                "yy": f"{moment.year % 100:02d}",
                "mmmm": moment.strftime("%B"),
                "mmm": moment.strftime("%b"),
                "mm": f"{moment.minute:02d}" if minutes else f"{moment.month:02d}",
                "m": str(moment.minute) if minutes else str(moment.month),
                "dddd": moment.strftime("%A"),
                "ddd": moment.strftime("%a"),
                "dd": f"{moment.day:02d}",
                "d": str(moment.day),
                "hh": f"{hour:02d}",
                "h": str(hour),
                "ss": f"{moment.second:02d}",
                "s": str(moment.second),
                "am/pm": "AM" if moment.hour < 12 else "PM",
                "a/p": "A" if moment.hour < 12 else "P",
            }.get(lower, token.strip('"'))
        )
    return "".join(shown)


def _formatted(value: Any, number_format: str | None, pattern: str | None = None) -> str:
    if value is None:
        return ""
    if (
        pattern
        and number_format in {"DATE", "DATE_TIME", "TIME"}
        and not isinstance(value, bool | str | Formula)
    ):
        moment = dt.datetime.combine(SERIAL_EPOCH, dt.time()) + dt.timedelta(days=value)
        return render_pattern(
            moment.replace(microsecond=0) + dt.timedelta(seconds=round(moment.microsecond / 1e6)),
            pattern,
        )
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if number_format in {"DATE", "DATE_TIME"} and isinstance(value, int | float):
        moment = dt.datetime.combine(SERIAL_EPOCH, dt.time()) + dt.timedelta(days=value)
        shown = f"{moment.month}/{moment.day}/{moment.year}"
        if number_format == "DATE_TIME":
            shown += " " + moment.strftime("%-I:%M:%S %p")
        return shown
    if number_format == "TIME" and isinstance(value, int | float):
        moment = dt.datetime.combine(SERIAL_EPOCH, dt.time()) + dt.timedelta(days=value)
        return moment.strftime("%-I:%M:%S %p")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _render(
    value: Any, number_format: str | None, option: str, date_option: str, pattern: str | None = None
) -> Any:
    if option == "FORMATTED_VALUE":
        return _formatted(value, number_format, pattern)
    if isinstance(value, Formula):
        return value.text  # no evaluation here; FORMULA and the rest show the formula
    if number_format and date_option == "FORMATTED_STRING":
        return _formatted(value, number_format, pattern)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    for row in rows:
        while row and (row[-1] is None or row[-1] == ""):
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


# -- the emulator ------------------------------------------------------------------


class SheetsEmulator:
    """The Sheets API v4 on 127.0.0.1; start() it, point api_base_url at `base_url`."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, SpreadsheetState] = {}
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.hooks: list[Hook] = []
        self.tokens_issued: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> SheetsEmulator:
        """Listen on a free loopback port in a background thread."""
        emulator = self

        class Handler(_Handler):
            owner = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """What api_base_url should be set to."""
        assert self._server is not None, "start() the emulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        """OAuth token endpoint for test service-account keys."""
        return f"{self.base_url}/token"

    # test set-up

    def add_spreadsheet(
        self,
        title: str,
        tabs: Mapping[str, Sequence[Sequence[Any]]],
        *,
        spreadsheet_id: str | None = None,
        typed: bool = True,
    ) -> str:
        """Create a spreadsheet from tab -> rows. `typed` enters text the way staff type it
        (numbers, dates, times become numbers); otherwise strings stay text."""
        number = next(self._ids)
        ident = spreadsheet_id or (
            "1" + hashlib.sha256(f"{title}{number}".encode()).hexdigest()[:39] + "Emu0"
        )
        state = SpreadsheetState(ident, title, [])
        for tab, rows in tabs.items():
            self._add_sheet(state, tab, rows=max(DEFAULT_ROWS, len(rows) + 1), columns=None)
            sheet = state.sheets[-1]
            sheet.column_count = max(DEFAULT_COLUMNS, *(len(r) for r in rows)) if rows else 26
            convert = user_entered if typed else python_cell
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    stored, number_format = convert(value)
                    if stored is not None:
                        sheet.set(r, c, stored, number_format)
        with self.lock:
            self.spreadsheets[ident] = state
        return ident

    def sheet(self, spreadsheet_id: str, title: str) -> Sheet:
        """Direct access to a tab's state (for hooks that edit between requests)."""
        return self.spreadsheets[spreadsheet_id].sheet(title)

    def values(self, spreadsheet_id: str, title: str) -> list[list[Any]]:
        """A tab's stored values, trailing blanks trimmed."""
        return self.sheet(spreadsheet_id, title).values()

    def deny(self, spreadsheet_id: str) -> None:
        """Answer 403 for this spreadsheet (not shared with the caller)."""
        self.spreadsheets[spreadsheet_id].denied = True

    def fail(
        self,
        kind: str | None,
        status: int | None = 429,
        *,
        retry_after: str | None = None,
        times: int | None = 1,
        skip: int = 0,
        delay: float = 0.0,
    ) -> Fault:
        """Inject a fault into requests of `kind` (None = any; times None = forever)."""
        fault = Fault(kind, status, retry_after, times, skip, delay)
        with self.lock:
            self.faults.append(fault)
        return fault

    def before(
        self, kind: str, callback: Callable[[SheetsEmulator], None], *, nth: int = 1
    ) -> None:
        """Call `callback(self)` right before the nth request of `kind` is handled."""
        with self.lock:
            self.hooks.append(Hook(kind, nth, callback))

    # observation

    def calls(self, *, spreadsheet: str | None = None, include_token: bool = False) -> Counter:
        """Requests by kind (token requests left out unless asked for)."""
        return Counter(
            r.kind
            for r in self.requests
            if (include_token or r.kind != "token")
            and (spreadsheet is None or r.spreadsheet == spreadsheet)
        )

    def reset_log(self) -> None:
        """Forget recorded requests (keeps data, faults and hooks)."""
        with self.lock:
            self.requests.clear()

    # request handling (called by the handler)

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        params = parse_qs(parts.query, keep_blank_values=True)
        kind, ident, tail = _classify(method, parts.path)
        try:
            decoded: Any = json.loads(body) if body and kind != "token" else None
        except ValueError:
            decoded = None
        record = Recorded(
            method, unquote(parts.path), kind, ident, params, decoded, len(raw_path) + len(body)
        )
        with self.lock:
            self.requests.append(record)
            fault = self._fault_for(kind)
            hooks = [h for h in self.hooks if h.kind == kind and not h.done]
            for hook in hooks:
                hook.seen += 1
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        for hook in hooks:
            if hook.seen == hook.nth:
                hook.done = True
                hook.callback(self)
        extra: dict[str, str] = {}
        try:
            if fault is not None and fault.status is not None:
                if fault.retry_after is not None:
                    extra["Retry-After"] = fault.retry_after
                raise ApiError(fault.status, _FAULT_MESSAGES.get(fault.status, "Error"), "")
            if kind == "token":
                payload = self._token(body)
            else:
                if not headers.get("authorization", "").startswith("Bearer "):
                    raise ApiError(
                        401,
                        "Request is missing required authentication credential.",
                        "UNAUTHENTICATED",
                    )
                with self.lock:
                    payload = self._dispatch(kind, ident, tail, params, decoded)
            status = 200
        except ApiError as err:
            status = err.code
            payload = {
                "error": {
                    "code": err.code,
                    "message": err.message,
                    "status": err.status or _STATUS_NAMES.get(err.code, "UNKNOWN"),
                }
            }
        out = json.dumps(payload).encode()
        record.bytes_out, record.status = len(out), status
        return status, extra, out

    def _fault_for(self, kind: str) -> Fault | None:
        for fault in self.faults:
            if fault.kind not in (None, kind):
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            fault.seen += 1
            if fault.seen <= fault.skip:
                continue
            fault.fired += 1
            return fault
        return None

    def _token(self, body: bytes) -> dict[str, Any]:
        form = parse_qs(body.decode())
        assertion = form.get("assertion", [""])[0]
        try:
            claims_part = assertion.split(".")[1]
            claims = json.loads(
                base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4))
            )
        except (IndexError, ValueError) as err:
            raise ApiError(400, f"invalid_grant: {err}", "INVALID_ARGUMENT") from None
        self.tokens_issued.append(claims)
        return {
            "access_token": f"emulator-token-{len(self.tokens_issued)}",
            "expires_in": 3600,
            "token_type": "Bearer",
        }

    def _dispatch(
        self,
        kind: str,
        ident: str | None,
        tail: str,
        params: dict[str, list[str]],
        body: Any,
    ) -> Any:
        if kind == "unknown" or ident is None:
            raise ApiError(404, "Method not found.", "NOT_FOUND")
        state = self.spreadsheets.get(ident)
        if state is None:
            raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
        if state.denied:
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
        if kind == "metadata":
            return self._metadata(state, params)
        if kind == "values.batchGet":
            return {
                "spreadsheetId": state.id,
                "valueRanges": [
                    self._value_range(state, r, params) for r in params.get("ranges", [])
                ],
            }
        if kind == "values.get":
            return self._value_range(state, unquote(tail), params)
        if kind == "values.batchUpdate":
            return self._values_batch_update(state, body or {})
        if kind == "values.update":
            option = (params.get("valueInputOption") or [None])[0]
            body = {"valueInputOption": option, "data": [{**(body or {}), "range": unquote(tail)}]}
            return self._values_batch_update(state, body)["responses"][0]
        if kind == "batchUpdate":
            return self._batch_update(state, body or {})
        raise ApiError(404, "Method not found.", "NOT_FOUND")

    # reading

    def _metadata(self, state: SpreadsheetState, params: dict[str, list[str]]) -> Any:
        sheets = []
        with_data = (params.get("includeGridData") or ["false"])[0] == "true"
        wanted_ranges = params.get("ranges", [])
        data_by_sheet: dict[int, list[dict]] = {}
        if with_data:
            for a1 in wanted_ranges:
                sheet, r1, c1, r2, c2 = self._resolve(state, a1)
                data_by_sheet.setdefault(sheet.sheet_id, []).append(
                    _grid_data(sheet, r1, c1, r2, c2)
                )
        for sheet in state.sheets:
            grid: dict[str, Any] = {
                "rowCount": sheet.row_count,
                "columnCount": sheet.column_count,
            }
            if sheet.frozen_rows:
                grid["frozenRowCount"] = sheet.frozen_rows
            entry: dict[str, Any] = {
                "properties": {
                    "sheetId": sheet.sheet_id,
                    "title": sheet.title,
                    "index": sheet.index,
                    "sheetType": "GRID",
                    "gridProperties": grid,
                }
            }
            if with_data:
                if wanted_ranges and sheet.sheet_id not in data_by_sheet:
                    continue
                entry["data"] = data_by_sheet.get(sheet.sheet_id, [])
            sheets.append(entry)
        return {
            "spreadsheetId": state.id,
            "properties": {
                "title": state.title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "America/Los_Angeles",
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{state.id}/edit",
        }

    def _resolve(
        self, state: SpreadsheetState, a1: str
    ) -> tuple[Sheet, int, int, int | None, int | None]:
        title, cells = split_a1(a1)
        names = {s.title: s for s in state.sheets}
        if cells is None:
            if title in names:
                return names[title], 0, 0, None, None
            if title and _REF.match(title.split(":")[0]):
                first = min(state.sheets, key=lambda s: s.index)
                return (first, *parse_cells(title))
            raise _bad(f"Unable to parse range: {a1}")
        if title not in names:
            raise _bad(f"Unable to parse range: {a1}")
        return (names[title], *parse_cells(cells))

    def _value_range(
        self, state: SpreadsheetState, a1: str, params: dict[str, list[str]]
    ) -> dict[str, Any]:
        sheet, r1, c1, r2, c2 = self._resolve(state, a1)
        option = (params.get("valueRenderOption") or ["FORMATTED_VALUE"])[0]
        date_option = (params.get("dateTimeRenderOption") or ["SERIAL_NUMBER"])[0]
        major = (params.get("majorDimension") or ["ROWS"])[0]
        last_row = min(sheet.row_count - 1, r2 if r2 is not None else sheet.row_count - 1)
        last_col = min(sheet.column_count - 1, c2 if c2 is not None else sheet.column_count - 1)
        rows = []
        for r in range(r1, min(last_row, len(sheet.cells) - 1) + 1):
            line = sheet.cells[r]
            rows.append(
                [
                    _render(
                        line[c],
                        sheet.formats.get((r, c)),
                        option,
                        date_option,
                        sheet.patterns.get((r, c)),
                    )
                    if c < len(line)
                    else None
                    for c in range(c1, min(last_col, len(line) - 1) + 1)
                ]
            )
        rows = _trim(rows)
        if major == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            rows = _trim([[r[c] if c < len(r) else None for r in rows] for c in range(width)])
        result: dict[str, Any] = {
            "range": f"{quote_title(sheet.title)}!{column_letters(c1)}{r1 + 1}:"
            f"{column_letters(last_col)}{last_row + 1}",
            "majorDimension": major,
        }
        if rows:
            result["values"] = [["" if v is None else v for v in r] for r in rows]
        return result

    # writing

    def _values_batch_update(self, state: SpreadsheetState, body: Mapping[str, Any]) -> Any:
        option = body.get("valueInputOption")
        if option not in {"RAW", "USER_ENTERED"}:
            raise _bad("'valueInputOption' is required but not specified")
        planned = []
        for item in body.get("data") or []:
            a1 = item.get("range", "")
            sheet, r1, c1, r2, c2 = self._resolve(state, a1)
            values = item.get("values") or []
            if (item.get("majorDimension") or "ROWS") == "COLUMNS":
                width = max((len(v) for v in values), default=0)
                values = [[v[i] if i < len(v) else None for v in values] for i in range(width)]
            height = len(values)
            width = max((len(v) for v in values), default=0)
            anchor_only = ":" not in (split_a1(a1)[1] or "")  # 'Tab'!A1 anchors, like the API
            if not anchor_only and (
                (r2 is not None and r1 + height - 1 > r2)
                or (c2 is not None and c1 + width - 1 > c2)
            ):
                raise _bad(
                    f"Requested writing within range [{a1}], but tried writing "
                    f"{height} rows and {width} columns"
                )
            if r1 + height > sheet.row_count or c1 + width > sheet.column_count:
                raise _bad(
                    f"Range ({quote_title(sheet.title)}!{column_letters(c1)}"
                    f"{r1 + height}) exceeds grid limits. Max rows: {sheet.row_count}, "
                    f"max columns: {sheet.column_count}"
                )
            planned.append((sheet, r1, c1, values, a1))
        responses = []
        cells_total = 0
        convert = user_entered if option == "USER_ENTERED" else python_cell
        for sheet, r1, c1, values, _a1 in planned:
            count = 0
            for r, row in enumerate(values):
                for c, value in enumerate(row):
                    if value is None:
                        continue  # null means "leave as is"; "" clears
                    stored, number_format = convert(value)
                    # Values never change a cell's number format (a date format stays).
                    sheet.set(r1 + r, c1 + c, stored, number_format, keep_format=True)
                    count += 1
            cells_total += count
            width = max((len(v) for v in values), default=0)
            responses.append(
                {
                    "spreadsheetId": state.id,
                    "updatedRange": f"{quote_title(sheet.title)}!{column_letters(c1)}{r1 + 1}:"
                    f"{column_letters(c1 + max(width, 1) - 1)}{r1 + max(len(values), 1)}",
                    "updatedRows": len(values),
                    "updatedColumns": width,
                    "updatedCells": count,
                }
            )
        return {
            "spreadsheetId": state.id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
            "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
            "totalUpdatedCells": cells_total,
            "totalUpdatedSheets": len({p[0].sheet_id for p in planned}),
            "responses": responses,
        }

    def _add_sheet(
        self,
        state: SpreadsheetState,
        title: str,
        *,
        rows: int,
        columns: int | None,
        sheet_id: int | None = None,
        frozen: int = 0,
    ) -> Sheet:
        if any(s.title.casefold() == title.casefold() for s in state.sheets):
            raise _bad(
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" already '
                "exists. Please enter another name."
            )
        used = {s.sheet_id for s in state.sheets}
        if sheet_id is None:
            sheet_id = 0 if not used else max(used) + 1 + next(self._ids) * 7919 % 100000
        elif sheet_id in used:
            raise _bad(f"Invalid requests[0].addSheet: Sheet with id {sheet_id} already exists.")
        sheet = Sheet(sheet_id, title, len(state.sheets), rows, columns or DEFAULT_COLUMNS, frozen)
        state.sheets.append(sheet)
        return sheet

    def _batch_update(self, state: SpreadsheetState, body: Mapping[str, Any]) -> Any:
        requests = body.get("requests") or []
        for number, request in enumerate(requests):
            names = [k for k, v in request.items() if v is not None]
            if len(names) != 1 or names[0] not in SUPPORTED_REQUESTS:
                raise _bad(f"Invalid requests[{number}]: unsupported request {names}")
        rewrites = any(request.get("updateCells") for request in requests)
        formats = rewrites or any(request.get("repeatCell") for request in requests)
        # All or nothing, like the real API: apply to a copy, keep it only if all succeed.
        trial = SpreadsheetState(
            state.id,
            state.title,
            [
                dataclasses.replace(
                    s,
                    validations=list(s.validations),
                    bold_rows=set(s.bold_rows),
                    # Only updateCells touches cells: copy them only then (big sheets).
                    cells=[list(r) for r in s.cells] if rewrites else s.cells,
                    formats=dict(s.formats) if formats else s.formats,
                    patterns=dict(s.patterns) if formats else s.patterns,
                )
                for s in state.sheets
            ],
        )
        replies = [self._apply(trial, request) for request in requests]
        state.sheets = trial.sheets
        return {"spreadsheetId": state.id, "replies": replies}

    def _apply(self, state: SpreadsheetState, request: Mapping[str, Any]) -> dict[str, Any]:
        ((name, spec),) = ((k, v) for k, v in request.items() if v is not None)
        by_id = {s.sheet_id: s for s in state.sheets}

        def target(sheet_id: Any) -> Sheet:
            sheet = by_id.get(int(sheet_id or 0))
            if sheet is None:
                raise _bad(f"Invalid requests[0].{name}: No grid with id: {sheet_id}")
            return sheet

        if name == "addSheet":
            props = spec.get("properties") or {}
            grid = props.get("gridProperties") or {}
            sheet = self._add_sheet(
                state,
                props.get("title") or f"Sheet{len(state.sheets) + 1}",
                rows=grid.get("rowCount") or DEFAULT_ROWS,
                columns=grid.get("columnCount"),
                sheet_id=props.get("sheetId"),
                frozen=grid.get("frozenRowCount") or 0,
            )
            return {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet.sheet_id,
                        "title": sheet.title,
                        "index": sheet.index,
                        "sheetType": "GRID",
                        "gridProperties": {
                            "rowCount": sheet.row_count,
                            "columnCount": sheet.column_count,
                            **({"frozenRowCount": sheet.frozen_rows} if sheet.frozen_rows else {}),
                        },
                    }
                }
            }
        if name == "updateSheetProperties":
            props = spec.get("properties") or {}
            sheet = target(props.get("sheetId"))
            fields = {f.strip() for f in (spec.get("fields") or "").split(",")}
            grid = props.get("gridProperties") or {}
            if "title" in fields:
                sheet.title = props["title"]
            if "gridProperties.frozenRowCount" in fields:
                sheet.frozen_rows = grid.get("frozenRowCount") or 0
            if "gridProperties.rowCount" in fields:
                sheet.row_count = grid["rowCount"]
            if "gridProperties.columnCount" in fields:
                sheet.column_count = grid["columnCount"]
            return {}
        if name == "appendDimension":
            sheet = target(spec.get("sheetId"))
            length = int(spec.get("length") or 0)
            if spec.get("dimension") == "COLUMNS":
                sheet.column_count += length
            else:
                sheet.row_count += length
            return {}
        if name == "setDataValidation":
            grid_range = spec.get("range") or {}
            sheet = target(grid_range.get("sheetId"))
            bounds = (
                int(grid_range.get("startRowIndex") or 0),
                int(grid_range.get("endRowIndex") or 10**9),  # missing = unbounded
                int(grid_range.get("startColumnIndex") or 0),
                int(grid_range.get("endColumnIndex") or 10**9),
            )
            sheet.validations = [v for v in sheet.validations if v[0] != bounds]
            if spec.get("rule"):
                sheet.validations.append((bounds, spec["rule"]))
            return {}
        if name == "repeatCell":
            grid_range = spec.get("range") or {}
            sheet = target(grid_range.get("sheetId"))
            start = int(grid_range.get("startRowIndex") or 0)
            end = int(grid_range.get("endRowIndex") or start + 1)
            fields = {f.strip() for f in (spec.get("fields") or "").split(",")}
            entered = (spec.get("cell") or {}).get("userEnteredFormat") or {}
            if fields & {"userEnteredFormat.numberFormat", "userEnteredFormat", "*"}:
                number = entered.get("numberFormat") or {}
                kind = number.get("type")
                if kind not in {
                    None,
                    "TEXT",
                    "NUMBER",
                    "PERCENT",
                    "CURRENCY",
                    "DATE",
                    "TIME",
                    "DATE_TIME",
                    "SCIENTIFIC",
                }:
                    raise _bad(f"Invalid requests[0].repeatCell: unknown number format {kind}")
                c1 = int(grid_range.get("startColumnIndex") or 0)
                c2 = int(grid_range.get("endColumnIndex") or sheet.column_count)
                r2 = int(grid_range.get("endRowIndex") or sheet.row_count)
                if r2 > sheet.row_count or c2 > sheet.column_count:
                    raise _bad("Invalid requests[0].repeatCell: range exceeds grid limits")
                for row in range(start, r2):
                    for column in range(c1, c2):
                        if kind in {"DATE", "TIME", "DATE_TIME"}:
                            sheet.formats[(row, column)] = kind
                            if number.get("pattern"):
                                sheet.patterns[(row, column)] = number["pattern"]
                            else:
                                sheet.patterns.pop((row, column), None)
                        else:
                            sheet.formats.pop((row, column), None)
                            sheet.patterns.pop((row, column), None)
                return {}
            bold = (entered.get("textFormat") or {}).get("bold")
            for row in range(start, end):
                (sheet.bold_rows.add if bold else sheet.bold_rows.discard)(row)
            return {}
        if name == "updateCells":
            grid_range = spec.get("range")
            if not grid_range or "userEnteredValue" not in (spec.get("fields") or ""):
                raise _bad("Invalid requests[0].updateCells: needs range and fields")
            sheet = target(grid_range.get("sheetId"))
            r1 = int(grid_range.get("startRowIndex") or 0)
            c1 = int(grid_range.get("startColumnIndex") or 0)
            r2 = int(grid_range.get("endRowIndex") or sheet.row_count)
            c2 = int(grid_range.get("endColumnIndex") or sheet.column_count)
            rows = spec.get("rows") or []
            width = max((len(r.get("values") or []) for r in rows), default=0)
            if r1 + len(rows) > min(r2, sheet.row_count) or c1 + width > min(
                c2, sheet.column_count
            ):
                raise _bad(
                    f"Invalid requests[0].updateCells: range ({quote_title(sheet.title)}!"
                    f"{column_letters(c1)}{r1 + len(rows)}) exceeds grid limits"
                )
            for r in range(r1, min(r2, len(sheet.cells))):
                for c in range(c1, min(c2, len(sheet.cells[r]))):
                    sheet.set(r, c, None)
            for r, row in enumerate(rows):
                for c, cell in enumerate(row.get("values") or []):
                    entered = (cell or {}).get("userEnteredValue") or {}
                    value = next(iter(entered.values()), None)
                    if "formulaValue" in entered:
                        value = Formula(entered["formulaValue"])
                    if value is not None:
                        sheet.set(r1 + r, c1 + c, value)
            return {}
        return {}  # autoResizeDimensions: nothing to keep


def _grid_data(sheet: Sheet, r1: int, c1: int, r2: int | None, c2: int | None) -> dict:
    last_row = min(sheet.row_count - 1, r2 if r2 is not None else sheet.row_count - 1)
    last_col = min(sheet.column_count - 1, c2 if c2 is not None else sheet.column_count - 1)
    row_data = []
    for r in range(r1, last_row + 1):
        values = []
        for c in range(c1, last_col + 1):
            cell: dict[str, Any] = {}
            value = sheet.get(r, c)
            if value is not None:
                if isinstance(value, bool):
                    cell["userEnteredValue"] = {"boolValue": value}
                elif isinstance(value, int | float):
                    cell["userEnteredValue"] = {"numberValue": value}
                elif isinstance(value, Formula):
                    cell["userEnteredValue"] = {"formulaValue": value.text}
                else:
                    cell["userEnteredValue"] = {"stringValue": value}
                cell["formattedValue"] = _formatted(
                    value, sheet.formats.get((r, c)), sheet.patterns.get((r, c))
                )
            rule = sheet.validation_at(r, c)
            if rule is not None:
                cell["dataValidation"] = rule
            values.append(cell)
        while values and not values[-1]:
            values.pop()
        row_data.append({"values": values} if values else {})
    while row_data and not row_data[-1]:
        row_data.pop()
    return {"startRow": r1, "startColumn": c1, "rowData": row_data}


_FAULT_MESSAGES = {
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
    "minute per user' of service 'sheets.googleapis.com'.",
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _classify(method: str, path: str) -> tuple[str, str | None, str]:
    """Name the API method a path calls: (kind, spreadsheet ID, rest of the path)."""
    if path == "/token":
        return "token", None, ""
    prefix = "/v4/spreadsheets/"
    if not path.startswith(prefix):
        return "unknown", None, ""
    rest = path[len(prefix) :]
    if rest.endswith(":batchUpdate") and "/" not in rest:
        return "batchUpdate", rest[: -len(":batchUpdate")], ""
    ident, _, tail = rest.partition("/")
    if not tail:
        return ("metadata" if method == "GET" else "unknown"), ident, ""
    if tail == "values:batchGet":
        return "values.batchGet", ident, ""
    if tail == "values:batchUpdate":
        return "values.batchUpdate", ident, ""
    if tail.startswith("values/"):
        value_range = tail[len("values/") :]
        if method == "GET":
            return "values.get", ident, value_range
        if method == "PUT":
            return "values.update", ident, value_range
    return "unknown", ident, ""


class _Handler(BaseHTTPRequestHandler):
    owner: SheetsEmulator
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, extra, payload = self.owner.handle(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
