"""Read an .xlsx package straight from its XML: tab names, parts, and one tab's cell values.

The workbook backend reads and writes through this module instead of loading the whole
workbook into openpyxl. A whole tab's values are read with python-calamine (Rust; 75,000
rows in about a second), turned into the values openpyxl's read-only, cached-values mode
gives; a formula cell is told apart from a plain one by a scan of the sheet XML, so a
formula whose result was never calculated (no cached value) is reported instead of being
read as blank. Reading a few columns (to place write-backs) streams the sheet part row
by row instead, as does everything when python-calamine is not installed.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import posixpath
import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, Any

from automations.cells import CellValue

# openpyxl (~0.1 s to import) is used only for date formats and serial dates when a tab is
# streamed; a whole-tab read with python-calamine needs neither.

CHUNK = 1 << 20
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_TYPE_OFFICE_DOCUMENT = "/officeDocument"
_REL_TYPE_SHARED_STRINGS = "/sharedStrings"
_REL_TYPE_STYLES = "/styles"
_REL_TYPE_WORKSHEET = "/worksheet"


class NotAWorkbook(Exception):
    """The file is not a readable .xlsx package; the message says what it looks like."""


# -- small XML helpers (the parts are machine-written; a full parser is not needed) --------

_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ESCAPED_CHARACTER = re.compile(r"_x([0-9A-Fa-f]{4})_")


def attributes(tag: bytes) -> dict[str, str]:
    """The attributes of a start tag (names with their prefix, values unescaped)."""
    return {
        name.decode(): unescape((double if double is not None else single).decode("utf-8"))
        for name, double, single in _ATTRIBUTE.findall(tag)
    }


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return _ENTITIES[name]


def unescape(raw: str) -> str:
    """XML character data as a parser gives it: line ends normalised, entities replaced."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


def unescape_text(raw: str) -> str:
    """Cell text: XML unescaped, then Excel's `_xHHHH_` escapes (e.g. `_x000D_` for CR)."""
    text = unescape(raw)
    if "_x" in text:
        text = _ESCAPED_CHARACTER.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def resolve(source_part: str, target: str) -> str:
    """The zip name a relationship target points at, from the part that holds the link."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    base = posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join(base, target))


def rels_part(part: str) -> str:
    """The relationships part of `part` (xl/workbook.xml -> xl/_rels/workbook.xml.rels)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


@dataclass(frozen=True)
class Relationship:
    """One <Relationship> of a .rels part, its target resolved to a zip name."""

    id: str
    type: str
    target: str
    external: bool


def relationships(data: bytes, source_part: str) -> list[Relationship]:
    """Parse a .rels part."""
    found = []
    for tag in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>", data):
        attrs = attributes(tag)
        external = attrs.get("TargetMode", "") == "External"
        target = attrs.get("Target", "")
        found.append(
            Relationship(
                attrs.get("Id", ""),
                attrs.get("Type", ""),
                target if external else resolve(source_part, target),
                external,
            )
        )
    return found


# -- the package ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetPart:
    """A tab: its title as staff see it and the zip part that holds its cells."""

    title: str
    part: str
    sheet_id: int
    rel_id: str


def _xml_prefix(data: bytes, element: bytes) -> bytes:
    """The namespace prefix of the first `element` tag ('' or e.g. 'x:')."""
    match = re.search(rb"<(?:([\w.-]+):)?" + element + rb"\b", data)
    return (match.group(1) + b":") if match and match.group(1) else b""


class Package:
    """An .xlsx file opened from its bytes: parts by name, tabs, shared strings, date styles."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calamine: Any = None  # a python_calamine.CalamineWorkbook once a tab is read
        if not data:
            raise NotAWorkbook("the file is empty (0 bytes)")
        if data.startswith(OLE2_MAGIC):
            raise NotAWorkbook("the file is password-protected or an old Excel 97-2003 file")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            names = self.zip.namelist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as err:
            raise NotAWorkbook("the file is damaged or incomplete") from err
        # Part names are case-insensitive in a package (ECMA-376 Part 2).
        self._names = {name.casefold(): name for name in names}
        root = self.read_part("_rels/.rels")
        if root is None:
            raise NotAWorkbook(
                "the file is not an Excel workbook (another format with an .xlsx name?)"
            )
        office = [r for r in relationships(root, "") if r.type.endswith(_REL_TYPE_OFFICE_DOCUMENT)]
        self.workbook_part = self.name(office[0].target) if office else None
        workbook = self.read_part(self.workbook_part) if self.workbook_part else None
        if workbook is None or b"sheet" not in workbook:
            raise NotAWorkbook(
                "the file is not an Excel workbook (another format with an .xlsx name?)"
            )
        assert self.workbook_part is not None
        self.workbook_xml = workbook
        rels = self.read_part(rels_part(self.workbook_part)) or b""
        self.workbook_rels = relationships(rels, self.workbook_part)
        self.sheets = self._sheets()

    def name(self, part: str) -> str:
        """The zip member's real name for `part` (compared without case)."""
        return self._names.get(part.casefold(), part)

    def has(self, part: str) -> bool:
        """Whether the package holds `part`."""
        return part.casefold() in self._names

    def read_part(self, part: str) -> bytes | None:
        """A part's bytes, or None when the package has no such part."""
        if not self.has(part):
            return None
        try:
            return self.zip.read(self.name(part))
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
            raise NotAWorkbook("the file is damaged or incomplete") from err

    def open_part(self, part: str) -> IO[bytes]:
        """A part as a stream (decompressed while read)."""
        try:
            return self.zip.open(self.name(part))
        except (zipfile.BadZipFile, OSError, ValueError) as err:
            raise NotAWorkbook("the file is damaged or incomplete") from err

    def _sheets(self) -> list[SheetPart]:
        targets = {r.id: r.target for r in self.workbook_rels}
        sheets = []
        for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", self.workbook_xml):
            attrs = attributes(tag)
            rel_id = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), "")
            title = attrs.get("name", "")
            part = targets.get(rel_id)
            if not title or part is None:
                continue
            sheet_id = int(attrs["sheetId"]) if attrs.get("sheetId", "").isdigit() else 0
            sheets.append(SheetPart(title, self.name(part), sheet_id, rel_id))
        return sheets

    def titles(self) -> list[str]:
        """Tab titles in workbook order."""
        return [sheet.title for sheet in self.sheets]

    def sheet(self, title: str) -> SheetPart:
        """The tab titled exactly `title`."""
        return next(sheet for sheet in self.sheets if sheet.title == title)

    def _related(self, kind: str) -> str | None:
        for rel in self.workbook_rels:
            if rel.type.endswith(kind) and not rel.external and self.has(rel.target):
                return self.name(rel.target)
        return None

    @cached_property
    def shared_strings(self) -> list[str]:
        """The shared-strings table (text of each <si>, formatting runs joined)."""
        part = self._related(_REL_TYPE_SHARED_STRINGS)
        data = self.read_part(part) if part else None
        if not data:
            return []
        prefix = _xml_prefix(data, b"sst")
        xml = SheetXml(prefix)
        return [
            inline_text(item, xml)
            for item in re.findall(
                rb"<" + prefix + rb"si\b[^>]*?(?:/>|>(.*?)</" + prefix + rb"si>)", data, re.S
            )
        ]

    @cached_property
    def date_styles(self) -> tuple[frozenset[int], frozenset[int]]:
        """Indexes of cell formats that show dates, and of those that show durations."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

        part = self._related(_REL_TYPE_STYLES)
        data = self.read_part(part) if part else None
        if not data:
            return frozenset(), frozenset()
        custom = {}
        for tag in re.findall(rb"<(?:\w+:)?numFmt\b[^>]*>", data):
            attrs = attributes(tag)
            if attrs.get("numFmtId", "").isdigit():
                custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
        cell_xfs = re.search(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", data, re.S)
        dates, durations = set(), set()
        if cell_xfs:
            tags = re.findall(rb"<(?:\w+:)?xf\b[^>]*>", cell_xfs.group(1))
            for index, tag in enumerate(tags):
                number_format = attributes(tag).get("numFmtId", "0")
                ident = int(number_format) if number_format.isdigit() else 0
                code = custom.get(ident, BUILTIN_FORMATS.get(ident))
                if is_date_format(code):
                    dates.add(index)
                if is_timedelta_format(code):
                    durations.add(index)
        return frozenset(dates), frozenset(durations)

    @cached_property
    def epoch(self) -> object:
        """The workbook's date system (1900, or 1904 for old Mac workbooks)."""
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        tag = re.search(rb"<(?:\w+:)?workbookPr\b[^>]*>", self.workbook_xml)
        date1904 = attributes(tag.group(0)).get("date1904", "") if tag else ""
        return CALENDAR_MAC_1904 if date1904 in {"1", "true"} else CALENDAR_WINDOWS_1900


# -- streaming a sheet part ----------------------------------------------------------------


@dataclass
class SheetXml:
    """The regular expressions for one sheet part's namespace prefix."""

    prefix: bytes

    def __post_init__(self) -> None:
        p = re.escape(self.prefix)
        self.sheet_data = re.compile(rb"<" + p + rb"sheetData\b[^>]*?(/?)>")
        self.row_open = b"<" + self.prefix + b"row"
        self.row_close = b"</" + self.prefix + b"row>"
        self.end = re.compile(rb"\s*</" + p + rb"sheetData\s*>")
        self.cell = re.compile(rb"<" + p + rb"c\b([^>]*?)(?:/>|>(.*?)</" + p + rb"c>)", re.S)
        self.value = re.compile(rb"<" + p + rb"v\b[^>]*?(?:/>|>(.*?)</" + p + rb"v>)", re.S)
        self.formula = re.compile(rb"<" + p + rb"f\b([^>]*?)(?:/>|>(.*?)</" + p + rb"f>)", re.S)
        self.inline = re.compile(rb"<" + p + rb"is\b[^>]*?(?:/>|>(.*?)</" + p + rb"is>)", re.S)
        # The shapes Excel, LibreOffice and openpyxl write; anything else takes the long way.
        self.plain_inline = re.compile(
            rb"<"
            + p
            + rb"is><"
            + p
            + rb'(?:t|t xml:space="preserve")>([^<]*)</'
            + p
            + rb"t></"
            + p
            + rb"is>"
        )
        self.text_run = re.compile(rb"<" + p + rb"t\b[^>]*?(?:/>|>(.*?)</" + p + rb"t>)", re.S)
        self.phonetic = re.compile(rb"<" + p + rb"rPh\b.*?</" + p + rb"rPh>", re.S)


@dataclass
class RowXml:
    """One <row> element of sheetData: its number, its start tag's attributes, its bytes."""

    number: int
    attrs: bytes
    body: bytes | None  # None for a self-closing <row/>
    raw: bytes  # the whole element, with any whitespace before it
    numbered: bool  # whether the start tag says its number (r="...")


@dataclass
class SheetStream:
    """A sheet part cut into: everything before sheetData, its rows, and everything after."""

    head: bytes
    open_tag: bytes
    rows: Iterator[RowXml]
    xml: SheetXml
    # Filled in once `rows` is exhausted: the closing tag and the rest of the part.
    tail: list[bytes] = field(default_factory=list)


_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Za-z]{1,3})(\d+)["']""")
_CELL_TYPE = re.compile(rb"""\bt\s*=\s*["'](\w+)["']""")
_CELL_STYLE = re.compile(rb"""\bs\s*=\s*["'](\d+)["']""")


def stream_sheet(source: IO[bytes]) -> SheetStream:
    """Cut a sheet part into head, rows and tail, reading it a chunk at a time."""
    buffer = b""
    eof = False

    def more() -> bool:
        nonlocal buffer, eof
        if eof:
            return False
        chunk = source.read(CHUNK)
        if not chunk:
            eof = True
            return False
        buffer += chunk
        return True

    # The head is small (sheet properties, views, column widths): read until sheetData opens.
    prefix_found: bytes | None = None
    while True:
        if prefix_found is None and b"worksheet" in buffer:
            prefix_found = _xml_prefix(buffer, b"worksheet")
        if prefix_found is not None:
            xml = SheetXml(prefix_found)
            opening = xml.sheet_data.search(buffer)
            if opening:
                break
        if not more():
            raise NotAWorkbook("the file is damaged or incomplete (a tab has no cells part)")
    head = buffer[: opening.start()]
    open_tag = opening.group(0)
    buffer = buffer[opening.end() :]
    stream = SheetStream(head, open_tag, iter(()), xml)

    def drain(rest: bytes) -> None:
        stream.tail.append(rest)
        while chunk := source.read(CHUNK):
            stream.tail.append(chunk)

    def rows() -> Iterator[RowXml]:
        nonlocal buffer
        if opening.group(1):  # <sheetData/>: no rows
            drain(buffer)
            return
        position = 0
        previous = 0
        while True:
            found = _next_row(buffer, position, xml)
            if found is None:
                if xml.end.match(buffer, position) is not None:
                    drain(buffer[position:])
                    return
                buffer = buffer[position:]
                position = 0
                if not more():
                    raise NotAWorkbook("the file is damaged or incomplete (a tab is cut short)")
                continue
            attrs, body, end = found
            number = _ROW_NUMBER.search(attrs)
            previous = int(number.group(1)) if number else previous + 1
            yield RowXml(previous, attrs, body, buffer[position:end], number is not None)
            position = end

    stream.rows = rows()
    return stream


_SPACE = re.compile(rb"\s*")


def _next_row(
    buffer: bytes, position: int, xml: SheetXml
) -> tuple[bytes, bytes | None, int] | None:
    """(attributes, body or None, end) of the <row> element starting at `position` (after
    any whitespace), or None when none starts there or it is not all in `buffer` yet.

    Found with `bytes.find`: a lazy regex scan for `</row>` over every row's cells cost
    more than the rest of patching a big tab.
    """
    start = _SPACE.match(buffer, position).end()  # type: ignore[union-attr]
    if not buffer.startswith(xml.row_open, start):
        return None
    name_end = start + len(xml.row_open)
    if name_end >= len(buffer) or buffer[name_end] not in b" \t\r\n/>":
        return None
    tag_end = buffer.find(b">", name_end)
    if tag_end < 0:
        return None
    if buffer[tag_end - 1] == 0x2F:  # "/>": a row without cells
        return buffer[name_end : tag_end - 1], None, tag_end + 1
    closing = buffer.find(xml.row_close, tag_end)
    if closing < 0:
        return None
    return buffer[name_end:tag_end], buffer[tag_end + 1 : closing], closing + len(xml.row_close)


_COLUMNS: dict[bytes | str, int] = {}


def column_number(letters: bytes | str) -> int:
    """A column's number from its letters (A -> 1, AA -> 27)."""
    known = _COLUMNS.get(letters)
    if known is not None:
        return known
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(letter) - 64
    if len(_COLUMNS) < 20_000:
        _COLUMNS[letters] = number
    return number


# A cell's attributes in the order every common writer uses: r, then s, then t.
_PLAIN_ATTRIBUTES = re.compile(rb' r="([A-Z]{1,3})\d+"(?: s="(\d+)")?(?: t="(\w+)")?\s*')


def cell_attributes(attrs: bytes) -> tuple[bytes | None, bytes | None, bytes]:
    """(column letters, style index, type) of a cell's start tag; type 'n' when not said."""
    plain = _PLAIN_ATTRIBUTES.fullmatch(attrs)
    if plain is not None:
        return plain.group(1), plain.group(2), plain.group(3) or b"n"
    ref = _CELL_REF.search(attrs)
    style = _CELL_STYLE.search(attrs)
    kind = _CELL_TYPE.search(attrs)
    return (
        ref.group(1).upper() if ref else None,
        style.group(1) if style else None,
        kind.group(1) if kind else b"n",
    )


def _reference(column: int, row: int) -> bytes:
    return f"{column_letters(column)}{row}".encode()


@functools.lru_cache(maxsize=4096)
def column_letters(number: int) -> str:
    """A column's letters from its number (1 -> A, 27 -> AA)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def inline_text(body: bytes | None, xml: SheetXml) -> str:
    """The text of an <is> or <si> element: its <t> runs joined, phonetic guides left out."""
    if not body:
        return ""
    if b"rPh" in body:
        body = xml.phonetic.sub(b"", body)
    return unescape_text(b"".join(xml.text_run.findall(body)).decode("utf-8"))


def cell_start(body: bytes, prefix: bytes, reference: bytes) -> int | None:
    """Where the <c> element of a row whose r attribute is `reference` (e.g. b"K12")
    begins, if the row has it.

    Looks for the attribute text and checks it sits in a cell's start tag (`<` cannot
    appear in text or attribute values, so the nearest `<` before it opens the tag it is
    in), so a cell text that happens to contain it is never taken for the cell.
    """
    marker = b' r="' + reference + b'"'
    opening_tag = b"<" + prefix + b"c"
    at = body.find(marker)
    while at >= 0:
        opening = body.rfind(b"<", 0, at)
        if (
            opening >= 0
            and body.startswith(opening_tag, opening)
            and body[opening + len(opening_tag)] in b" \t\r\n"
            and body.find(b">", opening, at) < 0
        ):
            return opening
        at = body.find(marker, at + 1)
    return None


def find_cell(body: bytes, xml: SheetXml, reference: bytes) -> re.Match[bytes] | None:
    """The <c> element of a row whose r attribute is `reference` (e.g. b"K12"), if any."""
    start = cell_start(body, xml.prefix, reference)
    return None if start is None else xml.cell.match(body, start)


# -- reading a tab's values ----------------------------------------------------------------


@dataclass
class Grid:
    """A tab's values (rows of cells, 0-based) and the cells holding uncalculated formulas."""

    values: list[list[CellValue]]
    uncalculated: set[tuple[int, int]]


def _number(raw: str) -> int | float:
    return float(raw) if "." in raw or "E" in raw or "e" in raw else int(raw)


def read_grid(
    package: Package,
    title: str,
    *,
    columns: Collection[int] | None = None,
    full_rows: int = 0,
    max_rows: int | None = None,
) -> Grid:
    """Cell values of tab `title` as rows, the way a person sees the saved file.

    With `columns` (0-based), rows after the first `full_rows` hold only those columns;
    `max_rows` stops reading after that many rows.
    """
    if max_rows is None:  # python-calamine reads the whole tab faster than picking cells
        whole = _calamine_grid(package, title, columns, full_rows)
        if whole is not None:
            return whole
    return _streamed_grid(package, title, columns=columns, full_rows=full_rows, max_rows=max_rows)


def _streamed_grid(
    package: Package,
    title: str,
    *,
    columns: Collection[int] | None = None,
    full_rows: int = 0,
    max_rows: int | None = None,
) -> Grid:
    """read_grid by streaming the sheet XML (no python-calamine, or only some cells)."""
    shared = package.shared_strings
    values: list[list[CellValue]] = []
    uncalculated: set[tuple[int, int]] = set()
    wanted = None if columns is None else {c + 1 for c in columns}
    with package.open_part(package.sheet(title).part) as source:
        stream = stream_sheet(source)
        xml = stream.xml
        for row in stream.rows:
            if max_rows is not None and row.number > max_rows:
                break
            if not row.body:
                continue
            while len(values) < row.number:
                values.append([])
            cells = values[row.number - 1]
            only = wanted if row.number > full_rows else None
            if only is not None and row.numbered:
                found_cells = [
                    cell
                    for c in sorted(only)
                    if (cell := find_cell(row.body, xml, _reference(c, row.number))) is not None
                ]
            else:
                found_cells = list(xml.cell.finditer(row.body))
            column = 0
            for match in found_cells:
                letters, style, kind = cell_attributes(match.group(1))
                column = column_number(letters) if letters else column + 1
                body = match.group(2)
                if not body or (only is not None and column not in only):
                    continue
                value: CellValue = None
                if kind == b"inlineStr":
                    plain = xml.plain_inline.fullmatch(body)
                    if plain is not None:
                        value = unescape_text(plain.group(1).decode("utf-8"))
                    else:
                        inline = xml.inline.search(body)
                        value = inline_text(inline.group(1), xml) if inline else None
                else:
                    found = xml.value.search(body)
                    raw = found.group(1).decode("utf-8") if found and found.group(1) else ""
                    if not raw and kind not in (b"str", b"s") and xml.formula.search(body):
                        uncalculated.add((row.number - 1, column - 1))
                    elif raw:
                        value = _convert(raw, kind, style, shared, package)
                if value is not None:
                    if len(cells) < column:
                        cells.extend([None] * (column - len(cells)))
                    cells[column - 1] = value
    return Grid(values, uncalculated)


def _convert(
    raw: str,
    kind: bytes,
    style: bytes | None,
    shared: list[str],
    package: Package,
) -> CellValue:
    if kind == b"n":
        number = _number(raw)
        index = int(style) if style else 0
        # Styles (and openpyxl, which reads date formats) only once a number is met: header
        # rows are text.
        dates, durations = package.date_styles
        if index in dates:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(number, package.epoch, timedelta=index in durations)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if kind == b"s":
        try:
            return shared[int(raw)]
        except (ValueError, IndexError):
            raise NotAWorkbook("the workbook's shared text table is damaged") from None
    if kind == b"b":
        return raw.strip() not in {"0", "false", ""}
    if kind == b"d":
        from openpyxl.utils.datetime import from_ISO8601

        return from_ISO8601(raw)
    if kind == b"str":
        return unescape_text(raw)
    return unescape(raw)  # e: an error value such as #N/A


# -- reading a whole tab with python-calamine ------------------------------------------------


def _calamine_grid(
    package: Package, title: str, columns: Collection[int] | None = None, full_rows: int = 0
) -> Grid | None:
    """A tab read by python-calamine, as `_streamed_grid` reads it; None without it."""
    try:
        from python_calamine import CalamineError, CalamineWorkbook
    except ImportError:
        return None
    uncalculated = _uncalculated(package, title)
    try:
        book = package.calamine
        if book is None:
            book = package.calamine = CalamineWorkbook.from_filelike(io.BytesIO(package.data))
        rows = book.get_sheet_by_name(title).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as err:
        raise NotAWorkbook("the file is damaged or incomplete") from err
    values: list[list[CellValue]] = []
    wanted = sorted(columns) if columns is not None else None
    for number, raw in enumerate(rows):
        if wanted is not None and number >= full_rows:
            # Only what was asked for is kept: the rest of a big tab is let go at once.
            row: list[CellValue] = [None] * (wanted[-1] + 1 if wanted else 0)
            for column in wanted:
                if column < len(raw):
                    row[column] = _from_calamine(raw[column])
        else:
            row = [_from_calamine(value) for value in raw]
        while row and row[-1] is None:
            row.pop()
        values.append(row)
    while values and not values[-1]:
        values.pop()
    for row_index, column_index in uncalculated:
        if row_index < len(values) and column_index < len(values[row_index]):
            values[row_index][column_index] = None
    if wanted is not None:
        keep = set(wanted)
        uncalculated = {(r, c) for r, c in uncalculated if r < full_rows or c in keep}
    return Grid(values, uncalculated)


def _from_calamine(value: object) -> CellValue:
    """A calamine value as openpyxl gives it: whole numbers as int, dates as datetimes,
    blanks as None."""
    kind = type(value)
    if kind is str:
        return value or None  # type: ignore[return-value]
    if kind is float:
        number: float = value  # type: ignore[assignment]
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind is dt.date:
        return dt.datetime.combine(value, dt.time())  # type: ignore[arg-type]
    return value  # type: ignore[return-value]


def _uncalculated(package: Package, title: str) -> set[tuple[int, int]]:
    """(row, column) of each formula cell saved without a result (0-based)."""
    data = package.read_part(package.sheet(title).part) or b""
    prefix = _xml_prefix(data, b"worksheet")
    formula = b"<" + prefix + b"f"
    found: set[tuple[int, int]] = set()
    if formula not in data:  # most tabs hold no formula at all: no scan
        return found
    stream = stream_sheet(io.BytesIO(data))
    xml = stream.xml
    for row in stream.rows:
        if not row.body or formula not in row.body:
            continue
        column = 0
        for match in xml.cell.finditer(row.body):
            letters, _, kind = cell_attributes(match.group(1))
            column = column_number(letters) if letters else column + 1
            body = match.group(2)
            if not body or formula not in body or kind in (b"str", b"s", b"inlineStr"):
                continue
            value = xml.value.search(body)
            if not (value and value.group(1)) and xml.formula.search(body):
                found.add((row.number - 1, column - 1))
    return found
