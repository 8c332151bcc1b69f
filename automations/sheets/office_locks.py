"""Whether a workbook is open in Excel or LibreOffice, from the lock files they leave beside it.

Excel writes `~$<name>` (its first byte is the length of the user's name, the name
follows; a UTF-16 copy sits at byte 55). LibreOffice writes `.~lock.<name>#` holding
`<name>,<system user>,<host>,<time>,<profile>;` (recent versions write both). Both
files can be left behind by a crash, so messages name the file to delete.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_NAME = 52  # Excel's limit on the user name it records
_UTF16_AT = 55


@dataclass(frozen=True)
class OfficeLock:
    """A lock file beside a workbook: which program, who and where when it says so."""

    program: str
    path: Path
    user: str = ""
    host: str = ""

    def describe(self) -> str:
        """'open in LibreOffice on STAFF-PC (Maria Lopez)' or 'open in Excel'."""
        text = f"open in {self.program}"
        if self.host:
            text += f" on {self.host}"
        if self.user:
            text += f" ({self.user})"
        return text


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable()).strip()[:MAX_NAME]


def excel_user(data: bytes) -> str:
    """The user name in an Excel owner file ('' when it cannot be read)."""
    if not data or not 0 < data[0] <= MAX_NAME:
        return ""
    length = data[0]
    if len(data) >= _UTF16_AT + 2:
        wide = data[_UTF16_AT]
        start = _UTF16_AT + 2
        if wide == length and len(data) >= start + 2 * wide:
            try:
                name = _printable(data[start : start + 2 * wide].decode("utf-16-le"))
            except UnicodeDecodeError:
                name = ""
            if name:
                return name
    return _printable(data[1 : 1 + length].decode("cp1252", errors="replace"))


def libreoffice_fields(data: bytes) -> list[str]:
    """The comma-separated fields of a LibreOffice lock file (backslash escapes undone)."""
    text = data.decode("utf-8", errors="replace")
    fields, current, escaped = [], "", False
    for ch in text:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",;":
            fields.append(current)
            current = ""
            if ch == ";":
                break
        else:
            current += ch
    return [_printable(f) for f in fields]


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(4096)
    except OSError:
        return b""


def office_lock(workbook: Path) -> OfficeLock | None:
    """The lock file Excel or LibreOffice keeps beside `workbook` while it is open, if any."""
    try:
        names = {entry.casefold(): entry for entry in os.listdir(workbook.parent)}
    except OSError:
        return None
    libreoffice = names.get(f".~lock.{workbook.name}#".casefold())
    if libreoffice is not None:
        path = workbook.parent / libreoffice
        fields = [*libreoffice_fields(_read(path)), "", "", ""]
        return OfficeLock("LibreOffice", path, fields[0] or fields[1], fields[2])
    excel = names.get(f"~${workbook.name}".casefold())
    if excel is not None:
        path = workbook.parent / excel
        return OfficeLock("Excel", path, excel_user(_read(path)))
    return None
