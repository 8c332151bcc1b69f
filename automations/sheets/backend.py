"""The narrow interface every sheets backend implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from automations.cells import CellValue
from automations.sheets.contract import CellWrite, RunLogEntry, Table, TabSpec


class Spreadsheet(Protocol):
    """One spreadsheet: read several tabs in one go, write every change in one go."""

    name: str

    def describe(self) -> str:
        """A human name for messages: the config name and where the spreadsheet is."""
        ...

    def read(self, specs: Sequence[TabSpec]) -> dict[str, Table]:
        """Read the tabs named by `specs` (keyed by spec name); optional tabs may be absent."""
        ...

    def write(
        self,
        writes: Sequence[CellWrite],
        specs: Mapping[str, TabSpec],
        run_log: RunLogEntry | None,
    ) -> list[CellWrite]:
        """Write `writes` to rows re-located by key now, append the Run Log row.

        Returns the writes that were dropped because their row is gone.
        """
        ...

    def replace_tab(self, tab: str, rows: Sequence[Sequence[CellValue]]) -> None:
        """Replace everything on the tool-owned tab `tab` (created when missing) with `rows`.

        One batch, values written raw. Only for tabs the tool owns outright (e.g.
        `MOU Tracker`); staff tabs are only ever changed through `write`.
        """
        ...
