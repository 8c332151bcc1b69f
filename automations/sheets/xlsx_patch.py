"""Write to an .xlsx file by patching only the tool's cells in the sheet XML.

Every other part of the package (pictures, charts, styles, Excel extensions such as
cross-sheet dropdowns, other tabs) is copied unchanged, and inside a patched sheet only
the `<c>` elements the tool owns are replaced or added: formula results stay cached and
nothing staff made is rebuilt. Values go in raw: text as inline strings (so `=1+1` stays
text), numbers as numbers; a replaced cell keeps its style.

The one part that may go besides: Excel's calculation chain (`calcChain.xml`) when a
tool cell held a formula, since Excel reports a chain that names a cell without a formula
as damaged; Excel rebuilds the chain on its own.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from automations.cells import CellValue
from automations.sheets.xlsx_read import (
    Package,
    RowXml,
    attributes,
    cell_attributes,
    cell_start,
    column_letters,
    column_number,
    rels_part,
    stream_sheet,
)
from automations.sheets.xlsx_styles import DateStyles

# Excel refuses a file with a longer cell text.
MAX_CELL_TEXT = 32_767
SPOOL_BYTES = 32 << 20
# zlib level for the sheets the tool patched: a quarter of the default's CPU for a file
# about a third bigger.
PATCHED_COMPRESSION = 1
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class TabEdit:
    """Changes to one existing tab: cells by (row, column), 1-based; or all rows replaced."""

    cells: dict[tuple[int, int], CellValue] = field(default_factory=dict)
    # When set, the tab's rows are replaced by these (a tab the tool owns outright).
    rows: Sequence[Sequence[CellValue]] | None = None


# -- cell XML ------------------------------------------------------------------------------

_NEEDS_ESCAPE = re.compile(
    r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_(?=x[0-9A-Fa-f]{4}_)"
)


def _escape_character(match: re.Match[str]) -> str:
    found = match.group()
    if found == "&":
        return "&amp;"
    if found == "<":
        return "&lt;"
    if found == ">":
        return "&gt;"
    if found == "_":
        return "_x005F_"  # a literal "_x0041_" must not read back as "A"
    # Characters XML cannot hold (and CR, which XML turns into LF) in Excel's own escape.
    return f"_x{ord(found):04X}_"


def escape_text(text: str) -> str:
    """Cell text for an XML text node, in Excel's escaping."""
    return _NEEDS_ESCAPE.sub(_escape_character, text)


def escape_attribute(text: str) -> str:
    """Text for an XML attribute value in double quotes."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def cell_xml(prefix: bytes, row: int, column: int, value: CellValue, style: bytes | None) -> bytes:
    """A <c> element holding `value` raw; None gives an empty (still styled) cell."""
    # Byte formatting throughout: a write-back builds 300,000 of these.
    ref = b"%s%d" % (_letters(column), row)
    styled = b' s="%s"' % style if style else b""
    kind = type(value)
    if value is None or value == "":
        return b'<%sc r="%s"%s/>' % (prefix, ref, styled)
    if kind is bool:
        return b'<%sc r="%s"%s t="b"><%sv>%d</%sv></%sc>' % (
            prefix,
            ref,
            styled,
            prefix,
            value,
            prefix,
            prefix,
        )
    if isinstance(value, int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    ):
        return b'<%sc r="%s"%s><%sv>%s</%sv></%sc>' % (
            prefix,
            ref,
            styled,
            prefix,
            repr(value).encode(),
            prefix,
            prefix,
        )
    text = (
        value
        if kind is str
        else (value.isoformat() if isinstance(value, dt.date | dt.time) else str(value))
    )
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    space = b' xml:space="preserve"' if text != text.strip() else b""
    return b'<%sc r="%s"%s t="inlineStr"><%sis><%st%s>%s</%st></%sis></%sc>' % (
        prefix,
        ref,
        styled,
        prefix,
        prefix,
        space,
        escape_text(text).encode(),
        prefix,
        prefix,
        prefix,
    )


@functools.lru_cache(maxsize=4096)
def _letters(column: int) -> bytes:
    return column_letters(column).encode()


# -- ranges --------------------------------------------------------------------------------

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def parse_range(text: str) -> tuple[int, int, int, int] | None:
    """'B2:D9' -> (2, 2, 9, 4) as (first row, first column, last row, last column)."""
    corners = [_REF.fullmatch(part) for part in text.split(":")]
    if not corners or len(corners) > 2 or any(c is None for c in corners):
        return None
    rows = [int(c.group(2)) for c in corners if c]
    columns = [column_number(c.group(1)) for c in corners if c]
    return min(rows), min(columns), max(rows), max(columns)


def format_range(bounds: tuple[int, int, int, int]) -> str:
    """(2, 2, 9, 4) -> 'B2:D9'."""
    top, left, bottom, right = bounds
    first, last = f"{column_letters(left)}{top}", f"{column_letters(right)}{bottom}"
    return first if first == last else f"{first}:{last}"


def _bounds(cells: Iterable[tuple[int, int]]) -> tuple[int, int, int, int] | None:
    cells = list(cells)
    if not cells:
        return None
    return (
        min(r for r, _ in cells),
        min(c for _, c in cells),
        max(r for r, _ in cells),
        max(c for _, c in cells),
    )


def _union(a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None):
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


# -- patching one sheet part ---------------------------------------------------------------

_STYLE = re.compile(rb"""\bs\s*=\s*["'](\d+)["']""")
_SPANS = re.compile(rb"""\bspans\s*=\s*["'](\d+):(\d+)["']""")
_CUSTOM_FORMAT = re.compile(rb"""\bcustomFormat\s*=\s*["'](1|true)["']""")


@dataclass
class _SharedFormula:
    """A shared formula whose defining cell the tool overwrote: its other cells keep values."""

    index: bytes
    bounds: tuple[int, int, int, int]


@dataclass
class SheetPatch:
    """What patching one sheet did that matters to the rest of the package."""

    formulas_removed: bool = False


def _cell_span(body: bytes, start: int, prefix: bytes) -> tuple[int, int, int] | None:
    """(start, end of the start tag, end) of the <c> element that begins at `start`."""
    tag_end = body.find(b">", start)
    if tag_end < 0:
        return None
    if body[tag_end - 1] == 0x2F:  # "/>": an empty cell
        return start, tag_end - 1, tag_end + 1
    closing = body.find(b"</" + prefix + b"c>", tag_end)
    if closing < 0:
        return None
    return start, tag_end, closing + len(prefix) + 4


class _SheetPatcher:
    """Streams one sheet part to `out`, replacing or adding the edited cells."""

    def __init__(self, edit: TabEdit, out: IO[bytes], dates: DateStyles) -> None:
        self.edit = edit
        self.dates = dates
        self.out = out
        self.report = SheetPatch()
        self.by_row: dict[int, dict[int, CellValue]] = {}
        for (row, column), value in edit.cells.items():
            self.by_row.setdefault(row, {})[column] = value
        self.pending_rows = collections.deque(sorted(self.by_row))
        self.orphans: list[_SharedFormula] = []
        self.column_styles: list[tuple[int, int, bytes]] = []

    def run(self, source: IO[bytes]) -> SheetPatch:
        stream = stream_sheet(source)
        self.xml = stream.xml
        self.out.write(self._head(stream.head))
        replacing = self.edit.rows is not None
        if stream.open_tag.endswith(b"/>"):
            opening = stream.open_tag[:-2].rstrip() + b">"
            closing = b"</" + self.xml.prefix + b"sheetData>"
        else:
            opening, closing = stream.open_tag, b""
        self.out.write(opening)
        if replacing:
            for row in stream.rows:
                if row.body and self.xml.formula.search(row.body):
                    self.report.formulas_removed = True
            for number, cells in enumerate(self.edit.rows or (), start=1):
                values = {c: v for c, v in enumerate(cells, start=1) if v is not None and v != ""}
                if values:
                    self.out.write(self._new_row(number, values))
        else:
            for row in stream.rows:
                while self.pending_rows and self.pending_rows[0] < row.number:
                    number = self.pending_rows.popleft()
                    self.out.write(self._new_row(number, self.by_row[number]))
                if self.pending_rows and self.pending_rows[0] == row.number:
                    self.pending_rows.popleft()
                    self.out.write(self._patched_row(row, self.by_row[row.number]))
                elif self._orphaned_in(row.number):
                    self.out.write(self._patched_row(row, {}))
                elif not row.numbered:
                    # New rows may go in before it: say its number so it keeps it.
                    self.out.write(self._numbered(row))
                else:
                    self.out.write(row.raw)
            for number in self.pending_rows:
                self.out.write(self._new_row(number, self.by_row[number]))
        self.out.write(closing)
        tail = b"".join(stream.tail)
        self.out.write(self._tail(tail))
        return self.report

    # -- before and after the rows --

    def _written(self) -> tuple[int, int, int, int] | None:
        if self.edit.rows is not None:
            cells = [
                (r, c)
                for r, row in enumerate(self.edit.rows, start=1)
                for c, v in enumerate(row, start=1)
                if v is not None and v != ""
            ]
            return _bounds(cells)
        return _bounds(k for k, v in self.edit.cells.items() if v is not None)

    def _head(self, head: bytes) -> bytes:
        p = re.escape(self.xml.prefix)
        for tag in re.findall(rb"<" + p + rb"col\b[^>]*>", head):
            attrs = attributes(tag)
            if attrs.get("style", "").isdigit() and attrs.get("min", "").isdigit():
                last = int(attrs.get("max", attrs["min"]))
                self.column_styles.append((int(attrs["min"]), last, attrs["style"].encode()))
        written = self._written()
        dimension = re.search(
            rb"""(<""" + p + rb"""dimension\b[^>]*?\bref\s*=\s*["'])([^"']*)""", head
        )
        if dimension is None:
            return head
        if self.edit.rows is not None:
            bounds = written or (1, 1, 1, 1)
        else:
            old = parse_range(dimension.group(2).decode())
            if written is None or old is None:
                return head
            bounds = _union(old, written)
        ref = format_range(bounds).encode()
        return head[: dimension.start(2)] + ref + head[dimension.end(2) :]

    def _tail(self, tail: bytes) -> bytes:
        p = re.escape(self.xml.prefix)
        block = re.search(
            rb"<" + p + rb"mergeCells\b[^>]*?(?:/>|>(.*?)</" + p + rb"mergeCells>)", tail, re.S
        )
        if block is None:
            return tail
        if self.edit.rows is not None:
            return tail[: block.start()] + tail[block.end() :]
        written = [k for k in self.edit.cells]
        kept = []
        for tag in re.findall(rb"<" + p + rb"mergeCell\b[^>]*>", block.group(1) or b""):
            bounds = parse_range(attributes(tag).get("ref", ""))
            # A merged range hides every cell but its first: one the tool writes to is unmerged.
            if bounds is not None and any(
                bounds[0] <= r <= bounds[2]
                and bounds[1] <= c <= bounds[3]
                and (r, c) != (bounds[0], bounds[1])
                for r, c in written
            ):
                continue
            kept.append(tag)
        if len(kept) == len(re.findall(rb"<" + p + rb"mergeCell\b", block.group(1) or b"")):
            return tail
        if not kept:
            return tail[: block.start()] + tail[block.end() :]
        prefix = self.xml.prefix
        rebuilt = (
            b"<"
            + prefix
            + b'mergeCells count="'
            + str(len(kept)).encode()
            + b'">'
            + b"".join(kept)
            + b"</"
            + prefix
            + b"mergeCells>"
        )
        return tail[: block.start()] + rebuilt + tail[block.end() :]

    # -- rows --

    def _style_for(self, column: int, row_attrs: bytes | None) -> bytes | None:
        """The style Excel gives a new cell: the row's format, else the column's."""
        if row_attrs and _CUSTOM_FORMAT.search(row_attrs):
            style = _STYLE.search(row_attrs)
            if style:
                return style.group(1)
        for first, last, style in self.column_styles:
            if first <= column <= last:
                return style
        return None

    def _cell(self, row: int, column: int, value: CellValue, style: bytes | None) -> bytes:
        """A written cell; a recorded time becomes a date cell (see `DateStyles`)."""
        value, style = self.dates.cell(value, style)
        return cell_xml(self.xml.prefix, row, column, value, style)

    def _new_row(self, number: int, values: Mapping[int, CellValue]) -> bytes:
        cells = [
            self._cell(number, column, value, self._style_for(column, None))
            for column, value in sorted(values.items())
            if value is not None and value != ""
        ]
        if not cells:
            return b""
        p = self.xml.prefix
        return (
            b"<"
            + p
            + b'row r="'
            + str(number).encode()
            + b'">'
            + b"".join(cells)
            + b"</"
            + p
            + b"row>"
        )

    def _numbered(self, row: RowXml) -> bytes:
        start = row.raw.index(b"<") + len(self.xml.prefix) + 4  # after "<row"
        return row.raw[:start] + b' r="' + str(row.number).encode() + b'"' + row.raw[start:]

    def _orphaned_in(self, row: int) -> bool:
        return any(o.bounds[0] <= row <= o.bounds[2] for o in self.orphans)

    def _patched_row(self, row: RowXml, values: Mapping[int, CellValue]) -> bytes:
        quick = self._patched_in_place(row, values) if values and not self.orphans else None
        return quick if quick is not None else self._rebuilt_row(row, values)

    def _patched_in_place(self, row: RowXml, values: Mapping[int, CellValue]) -> bytes | None:
        """The common case, without parsing every cell of the row: each written cell either
        exists (replaced where it stands) or goes after the row's last cell. None when the
        row needs the full treatment (cells without numbers, a formula, a cell between)."""
        p, body = self.xml.prefix, row.body
        if body is None or not row.numbered:
            return None
        # The row must end with a cell that says its column: new cells go after it.
        last = body.rfind(b"<" + p + b"c ")
        span = _cell_span(body, last, p) if last >= 0 else None
        if span is None or (span[2] != len(body) and body[span[2] :].strip()):
            return None
        letters, _, _ = cell_attributes(body[last + len(p) + 2 : span[1]])
        if letters is None:
            return None
        last_column = column_number(letters)
        number = row.number
        suffix = b"%d" % number
        dates, formula = self.dates.cell, b"<" + p + b"f"
        items = sorted(values.items())
        pieces: list[bytes] = []
        appended: list[bytes] = []
        position = 0
        for column, value in items:
            at = cell_start(body, p, _letters(column) + suffix)
            found = _cell_span(body, at, p) if at is not None else None
            if found is None:
                if value is None or value == "":
                    continue  # nothing there, nothing to write
                if column < last_column:
                    return None
                value, style = dates(value, self._style_for(column, row.attrs))
                appended.append(cell_xml(p, number, column, value, style))
                continue
            start, tag_end, end = found
            if start < position:
                return None  # cells out of column order: the slow path sorts them
            if body.find(formula, tag_end, end) >= 0:
                return None  # a formula goes: the slow path keeps the package consistent
            style = _STYLE.search(body, start, tag_end)
            value, style = dates(value, style.group(1) if style else None)
            pieces += (body[position:start], cell_xml(p, number, column, value, style))
            position = end
        pieces.append(body[position:])
        pieces += appended
        attrs = self._spans(row.attrs, items[0][0], items[-1][0])
        lead = row.raw[: row.raw.index(b"<")]
        return lead + b"<" + p + b"row" + attrs + b">" + b"".join(pieces) + b"</" + p + b"row>"

    def _spans(self, attrs: bytes, first: int, last: int) -> bytes:
        """The row's spans hint widened to cover columns first..last, when it has one."""
        spans = _SPANS.search(attrs)
        if spans is None:
            return attrs
        low = min(int(spans.group(1)), first)
        high = max(int(spans.group(2)), last)
        return attrs[: spans.start()] + f'spans="{low}:{high}"'.encode() + attrs[spans.end() :]

    def _rebuilt_row(self, row: RowXml, values: Mapping[int, CellValue]) -> bytes:
        xml = self.xml
        p = xml.prefix
        todo = dict(values)
        pieces: list[tuple[int, bytes]] = []
        column = 0
        for match in xml.cell.finditer(row.body or b""):
            letters, style, _kind = cell_attributes(match.group(1))
            body = match.group(2)
            column = column_number(letters) if letters else column + 1
            if column in todo:
                if body and b"<" + p + b"f" in body and xml.formula.search(body):
                    self._forget_formula(row.number, column, body)
                value = todo.pop(column)
                pieces.append((column, self._cell(row.number, column, value, style)))
                continue
            raw = match.group(0)
            if body and self.orphans and b"shared" in body:
                raw = self._without_orphaned_formula(row.number, column, raw, body)
            if letters is None:
                cut = len(p) + 2  # after "<c"
                raw = raw[:cut] + f' r="{column_letters(column)}{row.number}"'.encode() + raw[cut:]
            pieces.append((column, raw))
        for new_column, value in todo.items():
            if value is not None and value != "":
                style = self._style_for(new_column, row.attrs)
                pieces.append((new_column, self._cell(row.number, new_column, value, style)))
        pieces.sort(key=lambda piece: piece[0])
        attrs = row.attrs
        if not row.numbered:
            attrs = b' r="' + str(row.number).encode() + b'"' + attrs
        if pieces:
            attrs = self._spans(attrs, pieces[0][0], pieces[-1][0])
        lead = row.raw[: row.raw.index(b"<")]
        if not pieces:
            return lead + b"<" + p + b"row" + attrs.rstrip(b"/").rstrip() + b"/>"
        return (
            lead
            + b"<"
            + p
            + b"row"
            + attrs.rstrip(b"/").rstrip()
            + b">"
            + b"".join(piece for _, piece in pieces)
            + b"</"
            + p
            + b"row>"
        )

    def _forget_formula(self, row: int, column: int, body: bytes) -> None:
        """A formula cell is overwritten: the chain goes, and a shared formula's other
        cells keep their values (they cannot keep a formula defined by this cell)."""
        self.report.formulas_removed = True
        match = self.xml.formula.search(body)
        assert match is not None
        attrs = attributes(match.group(1) or b"")
        if attrs.get("t") == "shared" and "ref" in attrs and "si" in attrs:
            bounds = parse_range(attrs["ref"])
            if bounds is not None:
                self.orphans.append(_SharedFormula(attrs["si"].encode(), bounds))

    def _without_orphaned_formula(self, row: int, column: int, raw: bytes, body: bytes) -> bytes:
        match = self.xml.formula.search(body)
        if match is None:
            return raw
        attrs = attributes(match.group(1) or b"")
        for orphan in self.orphans:
            top, left, bottom, right = orphan.bounds
            if (
                attrs.get("t") == "shared"
                and attrs.get("si", "").encode() == orphan.index
                and top <= row <= bottom
                and left <= column <= right
            ):
                self.report.formulas_removed = True
                return raw.replace(match.group(0), b"", 1)
        return raw


# -- the package ---------------------------------------------------------------------------


def _zip_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    stamp = info.date_time if info.date_time[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
    copy = zipfile.ZipInfo(info.filename, stamp)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy


@dataclass
class _NewTab:
    title: str
    part: str
    rel_id: str
    sheet_id: int
    xml: bytes


def _new_sheet_xml(rows: Sequence[Sequence[CellValue]], dates: DateStyles) -> bytes:
    edit = TabEdit(rows=rows)
    body = bytearray()
    for number, cells in enumerate(rows, start=1):
        values = {c: v for c, v in enumerate(cells, start=1) if v is not None and v != ""}
        if values:
            body += b'<row r="%d">' % number
            body += b"".join(
                cell_xml(b"", number, c, *dates.cell(v, None)) for c, v in sorted(values.items())
            )
            body += b"</row>"
    bounds = _bounds(
        (r, c)
        for r, row in enumerate(edit.rows or (), start=1)
        for c, v in enumerate(row, start=1)
        if v is not None and v != ""
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'.encode()
        + f'<dimension ref="{format_range(bounds or (1, 1, 1, 1))}"/>'.encode()
        + b"<sheetData>"
        + bytes(body)
        + b"</sheetData></worksheet>"
    )


def _insert_before_close(data: bytes, element: bytes, addition: bytes) -> bytes:
    closing = list(re.finditer(rb"</(?:[\w.-]+:)?" + element + rb"\s*>", data))
    if not closing:
        raise ValueError(f"no </{element.decode()}> in the part")
    at = closing[-1].start()
    return data[:at] + addition + data[at:]


def _plan_new_tabs(
    package: Package, tabs: Mapping[str, Sequence[Sequence[CellValue]]], dates: DateStyles
) -> list[_NewTab]:
    taken = {name.casefold() for name in package.zip.namelist()}
    rel_numbers = [
        int(r.id[3:])
        for r in package.workbook_rels
        if r.id.startswith("rId") and r.id[3:].isdigit()
    ]
    next_rel = max(rel_numbers, default=0) + 1
    next_id = max((s.sheet_id for s in package.sheets), default=0) + 1
    folder = package.workbook_part.rpartition("/")[0] if package.workbook_part else "xl"
    planned = []
    number = 1
    for title, rows in tabs.items():
        while f"{folder}/worksheets/sheet{number}.xml".casefold() in taken:
            number += 1
        part = f"{folder}/worksheets/sheet{number}.xml".lstrip("/")
        taken.add(part.casefold())
        planned.append(_NewTab(title, part, f"rId{next_rel}", next_id, _new_sheet_xml(rows, dates)))
        next_rel += 1
        next_id += 1
    return planned


def _rels_prefix(workbook_xml: bytes) -> str | None:
    match = re.search(
        rb'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(REL_NS.encode()) + rb'["\']', workbook_xml
    )
    return match.group(1).decode() if match else None


def save_patched(
    package: Package,
    edits: Mapping[str, TabEdit],
    new_tabs: Mapping[str, Sequence[Sequence[CellValue]]],
    out: IO[bytes],
) -> None:
    """Write `package` to `out` with `edits` applied to existing tabs and `new_tabs` added
    at the end; every part not named here is copied unchanged."""
    with contextlib.ExitStack() as stack:
        patched: dict[str, IO[bytes]] = {}
        formulas_removed = False
        dates = DateStyles(package)
        for title, edit in edits.items():
            part = package.sheet(title).part
            spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
            with package.open_part(part) as source:
                formulas_removed |= _SheetPatcher(edit, spool, dates).run(source).formulas_removed
            spool.seek(0)
            patched[part] = spool
        parts = _package_parts(package, _plan_new_tabs(package, new_tabs, dates), formulas_removed)
        if (styles := dates.changed()) is not None:
            parts.replaced[styles[0]] = styles[1]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in package.zip.infolist():
                name = info.filename
                if name in parts.dropped:
                    continue
                copy = _zip_info(info)
                if name in patched:
                    # The big part of a big write, deflated at the fastest level (ZipInfo has
                    # no public level before Python 3.13's compress_level).
                    copy._compresslevel = PATCHED_COMPRESSION  # type: ignore[attr-defined]
                    with target.open(copy, "w", force_zip64=True) as sink:
                        shutil.copyfileobj(patched[name], sink, 1 << 20)
                elif name in parts.replaced:
                    target.writestr(copy, parts.replaced[name])
                else:
                    big = info.file_size > (1 << 30)
                    with (
                        package.zip.open(info) as source,
                        target.open(copy, "w", force_zip64=big) as sink,
                    ):
                        shutil.copyfileobj(source, sink, 1 << 20)
            for name, data in parts.added.items():
                stamp = (1980, 1, 1, 0, 0, 0)
                target.writestr(zipfile.ZipInfo(name, stamp), data, zipfile.ZIP_DEFLATED)
            target.comment = package.zip.comment


@dataclass
class _PackageParts:
    """Parts other than sheets that a write changes: replaced, left out, added."""

    replaced: dict[str, bytes] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    added: dict[str, bytes] = field(default_factory=dict)


def _package_parts(package: Package, tabs: list[_NewTab], formulas_removed: bool) -> _PackageParts:
    """The workbook list, its relationships and the content types, with new tabs added
    (and the calculation chain left out when a formula was overwritten)."""
    parts = _PackageParts()
    workbook_part = package.workbook_part
    assert workbook_part is not None
    workbook_rels = package.name(rels_part(workbook_part))
    types_name = package.name("[Content_Types].xml")
    workbook = package.workbook_xml
    rels = package.read_part(workbook_rels) or b""
    types = package.read_part(types_name) or b""
    if tabs:
        prefix = _rels_prefix(workbook)
        sheets_tag = re.search(rb"<([\w.-]+:)?sheets\b", workbook)
        element = (sheets_tag.group(1) or b"").decode() + "sheet" if sheets_tag else "sheet"
        entries = b""
        for tab in tabs:
            rel = (
                f'{prefix}:id="{tab.rel_id}"'
                if prefix
                else f'xmlns:r="{REL_NS}" r:id="{tab.rel_id}"'
            )
            entries += (
                f'<{element} name="{escape_attribute(tab.title)}" sheetId="{tab.sheet_id}" {rel}/>'
            ).encode()
            parts.added[tab.part] = tab.xml
        workbook = _insert_before_close(workbook, b"sheets", entries)
        folder = workbook_part.rpartition("/")[0]
        relationships = b"".join(
            (
                f'<Relationship Id="{tab.rel_id}" Type="{WORKSHEET_REL}" '
                f'Target="{tab.part[len(folder) + 1 :] if folder else tab.part}"/>'
            ).encode()
            for tab in tabs
        )
        rels = _insert_before_close(rels, b"Relationships", relationships)
        overrides = b"".join(
            f'<Override PartName="/{tab.part}" ContentType="{WORKSHEET_TYPE}"/>'.encode()
            for tab in tabs
        )
        types = _insert_before_close(types, b"Types", overrides)
    if formulas_removed:
        chain = next(
            (r for r in package.workbook_rels if r.type.endswith("/calcChain") and not r.external),
            None,
        )
        if chain is not None:
            rels = re.sub(
                rb"<(?:\w+:)?Relationship\b[^>]*?\bId\s*=\s*[\"']"
                + re.escape(chain.id.encode())
                + rb"[\"'][^>]*>",
                b"",
                rels,
            )
            types = re.sub(
                rb"<(?:\w+:)?Override\b[^>]*?PartName\s*=\s*[\"']/"
                + re.escape(chain.target.encode())
                + rb"[\"'][^>]*>",
                b"",
                types,
                flags=re.IGNORECASE,
            )
            if package.has(chain.target):
                parts.dropped.add(package.name(chain.target))
    if workbook != package.workbook_xml:
        parts.replaced[workbook_part] = workbook
    if rels != (package.read_part(workbook_rels) or b""):
        parts.replaced[workbook_rels] = rels
    if types != (package.read_part(types_name) or b""):
        parts.replaced[types_name] = types
    return parts
