"""Sheets API calls per run against the emulator, at 100 / 1,000 / 10,000 / 75,000 staff rows.

    python bench/sheets_calls.py [--sizes 100,1000]

For each size it seeds the emulated spreadsheets (the demo data with the big tab grown
to N rows), then runs the job twice in a fresh process each: --dry-run, then for real
against the outbox. It prints HTTP requests by kind, bytes sent and received, wall time
and peak memory (max RSS of the job's process). Requests must not grow with N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script in bench/: make the project and its tests importable

from automations.demo import demo_workbooks, init_demo  # noqa: E402
from automations.jobs import registry  # noqa: E402
from tests.emulators.sheets_api import SheetsEmulator  # noqa: E402
from tests.fixtures.google import google_config_text  # noqa: E402

TODAY = dt.date(2026, 11, 30)
SIZES = (100, 1_000, 10_000, 75_000)


def choose_job() -> tuple[str, str, str]:
    """(job, spreadsheet, tab to grow): pd-reminders when it exists, else committee-invites."""
    if "pd-reminders" in registry():
        return "pd-reminders", "pd", "Staff"
    return "committee-invites", "committee", "Members"


def grow(rows: list[tuple], size: int, tab: str) -> list[list]:
    """The demo tab grown to `size` data rows: the demo rows, then people who are done."""
    header, *data = [list(r) for r in rows]
    extra = size - len(data)
    if tab == "Staff":
        template = next(r for r in data if all(r[6:10]))  # completed all four topics
    else:
        template = next(r for r in data if str(r[-1]).strip().casefold() == "no")  # inactive
    email = header.index("Email")
    for n in range(max(0, extra)):
        row = list(template)
        row[email] = f"person{n:06d}@example.org"
        if tab == "Staff":
            row[0] = f"{n:06d}"  # employee IDs with leading zeros, kept as text
            row[1] = f"Teacher {n}"
        else:
            row[0] = f"Former member {n}"
        data.append(row)
    return [header, *data[:size]]


def peak_kb() -> int:
    """This process's peak resident memory in KiB (VmHWM; ru_maxrss survives exec on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(config: str, job: str, dry_run: bool) -> None:
    """Run one job once (in this fresh process) and print timing, memory and write notes."""
    from google.oauth2.credentials import Credentials

    from automations.config import load_settings
    from automations.ledger import Ledger
    from automations.mail.outbox import OutboxMailer
    from automations.render import Renderer
    from automations.runner import Runner
    from automations.sheets.google import GoogleSpreadsheet, open_google_spreadsheet

    settings = load_settings(Path(config))
    credentials = Credentials(token="bench-offline-token")
    moment = dt.datetime.combine(TODAY, dt.time(7, 0), settings.timezone)
    baseline = peak_kb()
    opened: dict[str, GoogleSpreadsheet] = {}

    def open_sheet(name: str) -> GoogleSpreadsheet:
        opened[name] = open_google_spreadsheet(
            settings, name, settings.spreadsheets[name].id or "", credentials=credentials
        )
        return opened[name]

    runner = Runner(
        settings,
        open_sheet,
        OutboxMailer(settings.mail.outbox_dir),
        Ledger(settings.state_dir / "ledger.sqlite3"),
        Renderer(settings.templates_dir),
        clock=lambda: moment,
        out=lambda line: None,
    )
    started = time.perf_counter()
    result = runner.run(registry()[job], TODAY, dry_run=dry_run)
    wall = time.perf_counter() - started
    notes = []
    for name, sheet in opened.items():
        notes += [f"{name}: {n}" for n in sheet.last_write.notes]
    print(
        json.dumps(
            {
                "wall": wall,
                "peak_kb": peak_kb(),
                "baseline_kb": baseline,
                "summary": result.summary(),
                "error": result.error,
                "notes": notes,
            }
        )
    )


def bench(sizes: list[int]) -> None:
    """Seed, run and print one block per size."""
    job, sheet, tab = choose_job()
    print(f"job: {job} (growing tab '{tab}' of spreadsheet '{sheet}')")
    print(
        "each size starts from fresh spreadsheets, so the real run's one batchUpdate is the "
        "first-time creation of the Run Log tab"
    )
    if job != "pd-reminders":
        print("note: pd-reminders is not in the registry yet; using committee-invites")
    emulator = SheetsEmulator().start()
    try:
        for size in sizes:
            books = demo_workbooks(TODAY)
            books[sheet] = dict(books[sheet])
            books[sheet][tab] = grow(list(books[sheet][tab]), size, tab)
            ids = {name: emulator.add_spreadsheet(f"{name} {size}", t) for name, t in books.items()}
            folder = Path(tempfile.mkdtemp(prefix=f"sheets-bench-{size}-"))
            workbook_config = init_demo(folder, TODAY).read_text(encoding="utf-8")
            for book in folder.glob("*.xlsx"):
                book.unlink()
            config = folder / "jobs.toml"
            config.write_text(
                google_config_text(
                    workbook_config,
                    ids,
                    key_file=folder / "unused.json",
                    base_url=emulator.base_url,
                ),
                encoding="utf-8",
            )
            print(f"\n{size:,} rows in '{tab}'")
            for dry_run in (True, False):
                emulator.reset_log()
                command = [sys.executable, __file__, "--worker", str(config), job]
                if dry_run:
                    command.append("--dry-run")
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(done.stderr[-2000:])
                    raise SystemExit(f"the worker failed for {size} rows")
                report = json.loads(done.stdout.strip().splitlines()[-1])
                requests = [r for r in emulator.requests if r.kind != "token"]
                kinds = emulator.calls()
                shown = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
                print(
                    f"  {'dry run' if dry_run else 'real run':<8}  requests {len(requests)} "
                    f"({shown}); sent {sum(r.bytes_in for r in requests) / 1024:,.0f} KiB, "
                    f"received {sum(r.bytes_out for r in requests) / 1024:,.0f} KiB; "
                    f"wall {report['wall']:.2f} s; peak memory {report['peak_kb'] / 1024:,.0f} MiB "
                    f"(after imports {report['baseline_kb'] / 1024:,.0f} MiB)"
                )
                print(f"            {report['summary']}")
                for note in report["notes"]:
                    print(f"            {note}")
                if report["error"]:
                    print(f"            ERROR: {report['error']}")
            # Free the big spreadsheets before the next size.
            for ident in ids.values():
                emulator.spreadsheets.pop(ident, None)
    finally:
        emulator.stop()


def main() -> None:
    """Parse arguments: the bench itself, or one worker run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "JOB"), help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.dry_run)
    else:
        bench([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
