"""Date cells for an .xlsx write: the number formats the tool's recorded times need.

A time the tool records (Invite Sent, Last Reminded, the Run Log's When) goes in as a
serial number with a cell format showing it like `Dec 1, 2026 4:58 PM`, so staff can
sort by it. The format is added to `styles.xml` once (a custom number format and a copy
of the cell's own format using it); later writes find and reuse both, so the part
changes only the first time. Every other part of the styles is kept byte for byte.
"""

from __future__ import annotations

import datetime as dt
import re

from automations.cells import DAY_FORMAT, STAMP_FORMAT, CellValue, serial_number, shown_time
from automations.sheets.xlsx_read import Package, _xml_prefix, attributes, unescape

_REL_TYPE_STYLES = "/styles"
# Custom number formats are numbered from 164 (below are Excel's built-in ones).
FIRST_CUSTOM_FORMAT = 164
# Days between the 1900 and the 1904 date systems.
_DAYS_1904 = 1462


class DateStyles:
    """Cell formats for recorded times in one package, added to its styles as needed."""

    def __init__(self, package: Package) -> None:
        self.part: str | None = None
        for rel in package.workbook_rels:
            if rel.type.endswith(_REL_TYPE_STYLES) and not rel.external and package.has(rel.target):
                self.part = package.name(rel.target)
        self.original = (package.read_part(self.part) if self.part else None) or b""
        self.data = self.original
        self.prefix = _xml_prefix(self.data, b"styleSheet") if self.data else b""
        self.offset = _DAYS_1904 if _is_1904(package) else 0
        self._styles: dict[tuple[str, bytes | None], bytes] = {}

    def cell(self, value: CellValue, style: bytes | None) -> tuple[CellValue, bytes | None]:
        """The value and style to write for `value` (a recorded time becomes a serial
        number in a date format based on the cell's `style`); others pass unchanged."""
        if not isinstance(value, dt.date):
            return value, style
        code = STAMP_FORMAT if isinstance(value, dt.datetime) else DAY_FORMAT
        if not self.data or b"cellXfs" not in self.data:
            # No styles to add a format to: text that still reads back as the same time.
            return shown_time(value), style
        key = (code, style)
        if key not in self._styles:
            self._styles[key] = self._style(code, style)
        return serial_number(value) - self.offset, self._styles[key]

    def changed(self) -> tuple[str, bytes] | None:
        """The styles part and its new content, when formats were added."""
        if self.part is None or self.data == self.original:
            return None
        return self.part, self.data

    def _style(self, code: str, base: bytes | None) -> bytes:
        number_format = self._number_format(code)
        p = re.escape(self.prefix)
        block = re.search(
            rb"<" + p + rb"cellXfs\b[^>]*?(?:/>|>(.*?)</" + p + rb"cellXfs>)", self.data, re.S
        )
        assert block is not None
        inner = block.group(1) or b""
        xfs = [
            m.group(0)
            for m in re.finditer(rb"<" + p + rb"xf\b[^>]*?(?:/>|>.*?</" + p + rb"xf>)", inner, re.S)
        ]
        index = int(base) if base and base.isdigit() else 0
        source = (
            xfs[index]
            if index < len(xfs)
            else b"<"
            + self.prefix
            + b'xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        )
        wanted = _with_attributes(source, numFmtId=str(number_format), applyNumberFormat="1")
        if wanted in xfs:
            return str(xfs.index(wanted)).encode()
        new_inner = inner + wanted
        opening = re.match(rb"<" + p + rb"cellXfs\b[^>]*?(?=/?>)", block.group(0))
        assert opening is not None
        tag = _with_attributes(opening.group(0) + b">", count=str(len(xfs) + 1))
        closing = b"</" + self.prefix + b"cellXfs>"
        self.data = (
            self.data[: block.start()] + tag + new_inner + closing + self.data[block.end() :]
        )
        return str(len(xfs)).encode()

    def _number_format(self, code: str) -> int:
        p = re.escape(self.prefix)
        taken = []
        for tag in re.findall(rb"<" + p + rb"numFmt\b[^>]*>", self.data):
            attrs = attributes(tag)
            if not attrs.get("numFmtId", "").isdigit():
                continue
            taken.append(int(attrs["numFmtId"]))
            if unescape(attrs.get("formatCode", "")) == code:
                return int(attrs["numFmtId"])
        ident = max([FIRST_CUSTOM_FORMAT - 1, *taken]) + 1
        entry = b"<" + self.prefix + f'numFmt numFmtId="{ident}" formatCode="{code}"/>'.encode()
        block = re.search(
            rb"<" + p + rb"numFmts\b[^>]*?(?:/>|>(.*?)</" + p + rb"numFmts>)", self.data, re.S
        )
        if block is None:
            # numFmts is the first child of styleSheet.
            sheet = re.search(rb"<" + p + rb"styleSheet\b[^>]*>", self.data)
            assert sheet is not None
            new = (
                b"<"
                + self.prefix
                + b'numFmts count="1">'
                + entry
                + b"</"
                + self.prefix
                + b"numFmts>"
            )
            self.data = self.data[: sheet.end()] + new + self.data[sheet.end() :]
            return ident
        inner = block.group(1) or b""
        count = len(re.findall(rb"<" + p + rb"numFmt\b", inner)) + 1
        opening = re.match(rb"<" + p + rb"numFmts\b[^>]*?(?=/?>)", block.group(0))
        assert opening is not None
        tag = _with_attributes(opening.group(0) + b">", count=str(count))
        closing = b"</" + self.prefix + b"numFmts>"
        self.data = (
            self.data[: block.start()] + tag + inner + entry + closing + self.data[block.end() :]
        )
        return ident


def _with_attributes(element: bytes, **values: str) -> bytes:
    """`element` with the attributes of its opening tag set to `values` (added if absent)."""
    end = element.index(b">")
    if element[end - 1 : end] == b"/":
        end -= 1
    head, rest = element[:end], element[end:]
    for name, value in values.items():
        pattern = re.compile(rb"""(\s""" + name.encode() + rb"""\s*=\s*)(["'])[^"']*\2""")
        found = pattern.search(head)
        if found:
            quoted = found.group(1) + b'"' + value.encode() + b'"'
            head = head[: found.start()] + quoted + head[found.end() :]
        else:
            head = head.rstrip() + b" " + name.encode() + b'="' + value.encode() + b'"'
    return head + rest


def _is_1904(package: Package) -> bool:
    tag = re.search(rb"<(?:\w+:)?workbookPr\b[^>]*>", package.workbook_xml)
    return bool(tag) and attributes(tag.group(0)).get("date1904", "") in {"1", "true"}
