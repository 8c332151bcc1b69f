"""Benchmark: one workbook write-back on a 75,000-row Staff tab, before and after.

Generates the PD workbook of bench/pd_reminders.py, then writes what a pd-reminders run
writes back (Status, Outstanding, Last Reminded and Reminders Sent for every staff row,
plus a Run Log row) twice, each in a child process that reports its wall time and peak
memory:

- before: the openpyxl write-back this project used until the XML patcher (load the whole
  workbook, set the cells, save a new file over it), kept here only to measure it;
- after: `WorkbookSpreadsheet.write` (patch the tool's cells, copy every other part).

Also prints a floor measured in the same run (the least any safe save of an .xlsx with
one tab changed costs with the standard library: every part read and written again with
zipfile, the file flushed to the disk) and the ratio to it, and the CPU of placing the
writes of 75,000 rows that are gone (a renamed key header, rows deleted while the job
ran) with its bound: placement is linear.

    python bench/write_back.py [--rows 75000] [--skip-before]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def writes_for(rows: int) -> tuple[list, dict, object]:
    """The cell writes of a pd-reminders run for every staff row, its specs and Run Log row.

    Keys are the generated workbook's Employee IDs, so nothing is read to plan them and
    the memory figure is the write-back's own.
    """
    from automations.jobs.pd_reminders import STAFF
    from automations.sheets.contract import CellWrite, RowRef, RunLogEntry

    writes = []
    for number in range(rows):
        ref = RowRef("Staff", f"E{100000 + number}")
        writes += [
            CellWrite("pd", ref, "Status", f"Reminder {number % 6 + 1} of 6 sent; owes 2 topics"),
            CellWrite("pd", ref, "Outstanding", "Safe Zones, Family Resources"),
            CellWrite("pd", ref, "Last Reminded", "2026-11-30"),
            CellWrite("pd", ref, "Reminders Sent", number % 6 + 1),
        ]
    when = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    entry = RunLogEntry(when, "pd-reminders", False, rows, 0, 0, "bench")
    return writes, {"Staff": STAFF}, entry


def _names():
    from automations.sheets.contract import Names

    return Names()


def after(path: Path, rows: int) -> None:
    """Today's write-back."""
    from automations.sheets.workbook import WorkbookSpreadsheet

    writes, specs, entry = writes_for(rows)
    setup = _peak()
    started, cpu = time.perf_counter(), time.process_time()
    WorkbookSpreadsheet("pd", path, _names()).write(writes, specs, entry)
    _report(time.perf_counter() - started, time.process_time() - cpu, len(writes), setup)


def before(path: Path, rows: int) -> None:
    """The openpyxl write-back the XML patcher replaced (same placement contract)."""
    import openpyxl

    from automations.sheets.contract import RUN_LOG_HEADERS, locate_header, place_writes

    writes, specs, entry = writes_for(rows)
    setup = _peak()
    started, cpu = time.perf_counter(), time.process_time()
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Staff"]
    grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    placement = place_writes(specs["Staff"], _names(), grid, writes)
    header_row = locate_header(grid, specs["Staff"], _names())[0] + 1
    for column, header in placement.new_headers.items():
        sheet.cell(row=header_row, column=column + 1, value=header)
    for (row, column), value in placement.cells.items():
        cell = sheet.cell(row=row + 1, column=column + 1, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
    log_sheet = workbook.create_sheet("Run Log")
    log_sheet.append(list(RUN_LOG_HEADERS))
    log_sheet.append(entry.cells())
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".xlsx.tmp")
    os.close(handle)
    workbook.save(temp)
    os.replace(temp, path)
    _report(time.perf_counter() - started, time.process_time() - cpu, len(writes), setup)


def _peak() -> int:
    """This process's peak resident memory in bytes.

    /proc's VmHWM is this program's own; ru_maxrss would also count the parent's memory
    at the moment it started this process (Linux carries it across exec).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _report(seconds: float, cpu: float, cells: int, setup: int) -> None:
    figures = {"seconds": seconds, "cpu": cpu, "peak": _peak(), "setup": setup, "cells": cells}
    print(json.dumps(figures))


def rezip_seconds(source: Path, target: Path) -> tuple[float, float]:
    """(wall, CPU) seconds to read every part of `source` and write it again into `target`."""
    import zipfile

    started, cpu = time.perf_counter(), time.process_time()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, old.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    with target.open("rb+") as stream:
        os.fsync(stream.fileno())
    return time.perf_counter() - started, time.process_time() - cpu


PLACEMENT_BOUND = 2.0  # CPU seconds for 75,000 dropped writes; a quadratic takes hours


def placement_cpu(rows: int) -> float:
    """CPU seconds of place_writes for `rows` writes none of whose rows is in the tab."""
    from automations.sheets.contract import place_writes

    writes, specs, _ = writes_for(rows)
    grid = [["Employee ID", "Name", "Email"], ["E-gone", "Nobody", "x@example.org"]]
    started = time.process_time()
    placement = place_writes(specs["Staff"], _names(), grid, writes)
    spent = time.process_time() - started
    assert len(placement.dropped) == len(writes)
    return spent


def child(mode: str, path: Path, rows: int) -> dict:
    """Run one write-back in a fresh process; its wall time and peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--path", str(path), "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    """Generate, write back before and after, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=75_000)
    parser.add_argument("--skip-before", action="store_true", help="only measure today's way")
    parser.add_argument("--child", choices=("before", "after"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        (before if args.child == "before" else after)(args.path, args.rows)
        return 0
    from pd_reminders import write_workbook

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        source = folder / "generated.xlsx"
        started = time.perf_counter()
        write_workbook(source, args.rows, dt.date(2026, 11, 30))
        size = source.stat().st_size
        print(
            f"generated {args.rows:,} staff rows ({size / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        copy, copy_cpu = rezip_seconds(source, folder / "copy.xlsx")
        print(
            f"floor: the file's parts read and written again with zipfile: CPU {copy_cpu:.2f} s, "
            f"wall {copy:.2f} s"
        )
        modes = ("after",) if args.skip_before else ("before", "after")
        for mode in modes:
            target = folder / f"{mode}.xlsx"
            shutil.copyfile(source, target)
            figures = child(mode, target, args.rows)
            label = (
                "before (openpyxl, whole file rebuilt)"
                if mode == "before"
                else ("after (XML patch, other parts copied)")
            )
            print(
                f"{label}: {figures['cells']:,} cells written: CPU {figures['cpu']:.1f} s, "
                f"wall {figures['seconds']:.1f} s, "
                f"peak memory {figures['peak'] / 1024**2:.0f} MiB (of which "
                f"{figures['setup'] / 1024**2:.0f} MiB before it started: Python and the "
                f"writes to make), file {target.stat().st_size / 1e6:.1f} MB; "
                f"{figures['cpu'] / copy_cpu:.1f}x the floor's CPU"
            )
    spent = placement_cpu(args.rows)
    print(
        f"placing {args.rows * 4:,} writes whose rows are gone: {spent:.2f} s CPU "
        f"(bound {PLACEMENT_BOUND:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
