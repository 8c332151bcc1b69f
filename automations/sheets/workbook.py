"""The embedded default: a local .xlsx workbook that staff open in Excel or LibreOffice.

Staff files are theirs. A write-back patches only the tool's cells in the sheet XML and
copies everything else unchanged (xlsx_patch.py); it waits while Excel or LibreOffice
holds the file open (their lock file is beside it); and it never replaces a file that
changed since it was read: the new copy is checked against the file (size, time, content
hash) right before the rename, and on a change the writes are placed again on the newer
file, a few times at most.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from automations.cells import CellValue, text
from automations.durable import fsync_directory
from automations.errors import SheetError, WorkbookInUse
from automations.faults import fault_point, handoff
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
from automations.sheets.office_locks import office_lock
from automations.sheets.xlsx_patch import TabEdit, save_patched
from automations.sheets.xlsx_read import Grid, NotAWorkbook, Package, read_grid

if TYPE_CHECKING:
    from automations.config import Settings

log = logging.getLogger("automations")
T = TypeVar("T")

# A staff save while the tool writes makes it place its writes again on the new file;
# after this many changes in a row the statuses wait for the next run.
WRITE_ATTEMPTS = 5
TEMP_SUFFIX = ".xlsx.tmp"
_BAD_TAB_CHARACTERS = set("[]:*?/\\")


@dataclass(frozen=True)
class Snapshot:
    """The workbook's bytes as read, and what tells whether the file changed since."""

    data: bytes
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class Changes:
    """What one write-back does to the package: cells per tab and tabs to add."""

    edits: dict[str, TabEdit]
    new_tabs: dict[str, Sequence[Sequence[CellValue]]]

    def __bool__(self) -> bool:
        edited = any(e.cells or e.rows is not None for e in self.edits.values())
        return edited or bool(self.new_tabs)


class WorkbookSpreadsheet:
    """A spreadsheet stored as an .xlsx file; the whole file is one batch read and write."""

    def __init__(self, name: str, path: Path, names: Names) -> None:
        self.name = name
        self.path = path
        self.names = names

    @property
    def _file(self) -> Path:
        """The file itself: a symlinked workbook is written where it really lives."""
        return self.path.resolve()

    def describe(self) -> str:
        """The config name and the file path."""
        return f"'{self.name}' ({self.path})"

    # -- reading ----------------------------------------------------------------------------

    def _snapshot(self) -> Snapshot:
        try:
            with self.path.open("rb") as stream:
                stat = os.fstat(stream.fileno())
                data = stream.read()
        except FileNotFoundError:
            raise SheetError(
                f"there is no workbook at {self.path}; fix the path in the config "
                "or run `python jobs.py init --demo DIR` for a demo set",
                spreadsheet=self.describe(),
            ) from None
        except IsADirectoryError:
            raise SheetError(
                f"{self.path} is a folder, not a workbook; set path to the .xlsx file",
                spreadsheet=self.describe(),
            ) from None
        except OSError as err:
            raise SheetError(
                f"cannot read the workbook ({err.strerror}); check the file's permissions",
                spreadsheet=self.describe(),
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        return Snapshot(data, stat.st_size, stat.st_mtime_ns, digest)

    def _package(self, snapshot: Snapshot) -> Package:
        try:
            return Package(snapshot.data)
        except NotAWorkbook as err:
            raise self._unreadable(str(err)) from None

    def _unreadable(self, reason: str) -> SheetError:
        """A one-line error for a file that is not a usable .xlsx, saying what to do."""
        suffix = self.path.suffix.casefold()
        if suffix in {".xls", ".xlsb", ".ods", ".csv", ".numbers"}:
            advice = (
                f"this is a {suffix} file: open it in Excel or LibreOffice, save it as an "
                "Excel Workbook (.xlsx) and point the config at the .xlsx file"
            )
        elif "empty" in reason:
            advice = (
                f"{reason}: is it still syncing (OneDrive, Dropbox, Google Drive)? "
                "Wait for the sync or restore the file, then run again"
            )
        elif "password" in reason:
            advice = (
                f"{reason}: remove the password (Excel: File > Info > Protect Workbook) "
                "and save it as an Excel Workbook (.xlsx)"
            )
        else:
            advice = (
                f"{reason}: is it still syncing? is it password-protected? Open it in Excel "
                "or LibreOffice and save it as an Excel Workbook (.xlsx)"
            )
        return SheetError(advice, spreadsheet=self.describe())

    def _grid(self, package: Package, title: str, **options: Any) -> Grid:
        try:
            return read_grid(package, title, **options)
        except NotAWorkbook as err:
            raise self._unreadable(str(err)) from None

    def titles(self) -> list[str]:
        """The tab titles in the workbook."""
        return self._package(self._snapshot()).titles()

    def read(self, specs: Sequence[TabSpec]) -> dict[str, Table]:
        """Read every requested tab from one copy of the file (formulas give their results)."""
        package = self._package(self._snapshot())
        titles = package.titles()
        tables: dict[str, Table] = {}
        for spec in specs:
            wanted = self.names.tab(spec.name)
            title = find_tab(titles, wanted)
            if title is None:
                if spec.optional:
                    continue
                raise SheetError(
                    f"there is no tab named '{wanted}' (tabs: {', '.join(titles)})",
                    spreadsheet=self.describe(),
                )
            grid = self._grid(package, title)
            tables[spec.name] = build_table(
                self.describe(), title, spec, self.names, grid.values, grid.uncalculated
            )
        return tables

    def in_use(self) -> WorkbookInUse | None:
        """Why the workbook cannot be written now (open in Excel or LibreOffice), if so."""
        lock = office_lock(self._file)
        if lock is None:
            return None
        return WorkbookInUse(
            f"{lock.describe()}; statuses will be written next run (if nobody has it "
            f"open, delete the lock file {lock.path.name})",
            spreadsheet=self.describe(),
        )

    # -- writing ----------------------------------------------------------------------------

    def write(
        self,
        writes: Sequence[CellWrite],
        specs: Mapping[str, TabSpec],
        run_log: RunLogEntry | None,
    ) -> list[CellWrite]:
        """Place writes by key in the file as it is now and patch those cells in."""
        if not writes and run_log is None:
            return []
        by_tab: dict[str, list[CellWrite]] = {}
        for write in writes:
            by_tab.setdefault(write.row.tab, []).append(write)

        def changes(package: Package) -> tuple[Changes, list[CellWrite]]:
            titles = package.titles()
            found = Changes({}, {})
            dropped: list[CellWrite] = []
            for tab, tab_writes in by_tab.items():
                title = find_tab(titles, self.names.tab(tab))
                if title is None:
                    dropped.extend(tab_writes)
                    continue
                grid = self._placement_grid(package, title, specs[tab])
                placement = place_writes(specs[tab], self.names, grid, tab_writes)
                header_row = locate_header(grid, specs[tab], self.names)[0] + 1
                edit = found.edits.setdefault(title, TabEdit())
                for column, header in placement.new_headers.items():
                    edit.cells[(header_row, column + 1)] = header
                cells = placement.cells
                while cells:  # moved, not copied: 300,000 cells are not held twice
                    (row, column), value = cells.popitem()
                    edit.cells[(row + 1, column + 1)] = value
                dropped.extend(placement.dropped)
                del grid, placement, cells
            if run_log is not None:
                self._append_run_log(package, found, run_log)
            return found, dropped

        return self._commit(changes)

    def _placement_grid(self, package: Package, title: str, spec: TabSpec) -> list[list]:
        """What placing writes needs, read fast: the rows where the header may be, and the
        key and fingerprint columns of every row (see `place_writes`)."""
        top = self._grid(package, title, max_rows=HEADER_SEARCH_ROWS).values
        _, positions = locate_header(top, spec, self.names)
        needed = [positions[c] for c in columns_needed_for_placement(spec) if c in positions]
        return self._grid(package, title, columns=needed, full_rows=HEADER_SEARCH_ROWS).values

    def _append_run_log(self, package: Package, changes: Changes, entry: RunLogEntry) -> None:
        title = find_tab(package.titles(), RUN_LOG_TAB)
        if title is None:
            changes.new_tabs[RUN_LOG_TAB] = [list(RUN_LOG_HEADERS), entry.cells()]
            return
        grid = self._grid(package, title).values
        used = max((i + 1 for i, row in enumerate(grid) if any(text(v) for v in row)), default=0)
        edit = changes.edits.setdefault(title, TabEdit())
        rows = [list(RUN_LOG_HEADERS)] if used == 0 else []
        for number, cells in enumerate([*rows, entry.cells()], start=used + 1):
            for column, value in enumerate(cells, start=1):
                edit.cells[(number, column)] = value

    def replace_tab(self, tab: str, rows: Sequence[Sequence[CellValue]]) -> None:
        """Replace the tool-owned tab `tab` (created at the end when missing) with `rows`."""
        wanted = self.names.tab(tab)

        def changes(package: Package) -> tuple[Changes, None]:
            title = find_tab(package.titles(), wanted)
            if title is None:
                self._check_new_title(wanted)
                return Changes({}, {wanted: rows}), None
            return Changes({title: TabEdit(rows=rows)}, {}), None

        self._commit(changes)

    def _check_new_title(self, title: str) -> None:
        if not title.strip() or len(title) > 31 or _BAD_TAB_CHARACTERS & set(title):
            raise SheetError(
                f"cannot add a tab named '{title}': Excel tab names have 1 to 31 characters "
                "and none of [ ] : * ? / \\; rename it in the config",
                spreadsheet=self.describe(),
            )

    # -- the safe save ----------------------------------------------------------------------

    def _commit(self, changes: Callable[[Package], tuple[Changes, T]]) -> T:
        """Apply `changes` to the file as it is now, and replace the file only if nobody
        changed it meanwhile (else place them again on the new file)."""
        self._remove_leftovers()
        for _attempt in range(WRITE_ATTEMPTS):
            self._refuse_if_open()
            snapshot = self._snapshot()
            package = self._package(snapshot)
            todo, result = changes(package)
            if not todo:
                return result
            temp = self._save_temp(package, todo)
            try:
                fault_point("before-replace")
                handoff("before-replace", str(self.path))
                if self._changed_since(snapshot):
                    log.info(
                        "%s changed while statuses were being written; placing them again "
                        "on the saved file",
                        self.path.name,
                    )
                    continue
                self._refuse_if_open()
                os.replace(temp, self._file)
                fsync_directory(self._file.parent)
            except OSError as err:
                raise self._save_error(err) from err
            finally:
                if os.path.exists(temp):
                    Path(temp).unlink(missing_ok=True)
            return result
        raise SheetError(
            f"the workbook was saved by someone else {WRITE_ATTEMPTS} times while statuses "
            "were being written; nothing was overwritten and statuses will be written next run",
            spreadsheet=self.describe(),
        )

    def _refuse_if_open(self) -> None:
        in_use = self.in_use()
        if in_use is not None:
            raise in_use

    def _changed_since(self, snapshot: Snapshot) -> bool:
        """Whether the file differs from `snapshot`: size, modification time, content."""
        try:
            stat = self._file.stat()
        except FileNotFoundError:
            return True
        if (stat.st_size, stat.st_mtime_ns) != (snapshot.size, snapshot.mtime_ns):
            return True
        digest = hashlib.sha256()
        with self._file.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest() != snapshot.sha256

    def _save_temp(self, package: Package, changes: Changes) -> str:
        """Write the patched copy beside the file and flush it to the disk."""
        handle, temp = tempfile.mkstemp(
            dir=self._file.parent, prefix=f".{self._file.name}.", suffix=TEMP_SUFFIX
        )
        try:
            with os.fdopen(handle, "wb") as out:
                save_patched(package, changes.edits, changes.new_tabs, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, self._file.stat().st_mode & 0o777)
        except NotAWorkbook as err:
            Path(temp).unlink(missing_ok=True)
            raise self._unreadable(str(err)) from None
        except OSError as err:
            Path(temp).unlink(missing_ok=True)
            raise self._save_error(err) from err
        return temp

    def _save_error(self, err: OSError) -> SheetError:
        # EFBIG: a file size limit, which is how tests (and some quotas) fill a disk.
        if err.errno in {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}:
            reason = f"the disk is full (saving {self.path.name} needs room for a copy of it)"
            reason += "; free some space"
        elif err.errno in {errno.EACCES, errno.EPERM}:
            reason = (
                f"no permission to write {self.path.name} or its folder; let the user that "
                "runs the jobs write there"
            )
        elif err.errno == errno.EROFS:
            reason = f"the folder of {self.path.name} is read-only"
        elif err.errno in {errno.EBUSY, errno.ETXTBSY}:
            reason = "the file is busy: is it open in another program?"
        else:
            reason = f"cannot save the workbook ({err.strerror or err})"
        return SheetError(
            f"{reason}; statuses will be written next run", spreadsheet=self.describe()
        )

    def _remove_leftovers(self) -> None:
        """Remove temporary copies left by a run that was killed while saving."""
        folder = self._file.parent
        patterns = (f".{self._file.name}.*{TEMP_SUFFIX}", f"tmp*{TEMP_SUFFIX}")
        for pattern in patterns:
            for leftover in folder.glob(pattern):
                try:
                    leftover.unlink()
                except OSError:
                    continue
                log.info("removed %s, left by a run that stopped while saving", leftover.name)


def open_spreadsheet(settings: Settings, name: str) -> WorkbookSpreadsheet:
    """The workbook configured as [sheets.spreadsheets.<name>] path."""
    path = settings.spreadsheets[name].path
    assert path is not None
    return WorkbookSpreadsheet(name, path, settings.names)
