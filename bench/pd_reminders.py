"""Benchmark: pd-reminders in --dry-run over 75,000 staff rows, through the real CLI.

Generates the PD workbook (Sessions, Staff, Registrations) in a temporary folder, runs
`jobs.py run pd-reminders --dry-run` in a child process, prints its wall time and peak
memory, and exits 1 when either is over the bound (20 s, 1 GiB).

    python bench/pd_reminders.py [--rows 75000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 20.0
MAX_BYTES = 1024**3
TOPICS = ("Safe Zones", "Immigration Rights", "Enforcement & Confidentiality", "Family Resources")
SITES = ("Roosevelt HS", "Garfield HS", "Belmont HS", "Lincoln HS", "Hollenbeck MS", "Dena ES")
CONFIG = """\
timezone = "America/Los_Angeles"
state_dir = "state"
[sheets]
backend = "workbook"
[sheets.spreadsheets.pd]
path = "pd.xlsx"
[mail]
backend = "outbox"
outbox_dir = "outbox"
sender = "Immigrant Support <immigrant-support@example.org>"
organizer = "Immigrant Support <immigrant-support@example.org>"
reply_to = "immigrant-support@example.org"
[jobs.pd-reminders]
pd_contact = "pd-office@example.org"
"""


def config_text() -> str:
    """The bench config: only pd-reminders enabled (other jobs need other spreadsheets)."""
    from automations.jobs import registry

    others = [name for name in registry() if name != "pd-reminders"]
    return CONFIG + "".join(f"[jobs.{name}]\nenabled = false\n" for name in others)


def write_workbook(path: Path, rows: int, today: dt.date) -> None:
    """The PD workbook: 40 sessions, `rows` staff, a registration per 30 staff."""
    rng = random.Random(5)
    # A normal (not write-only) workbook keeps text in the shared-strings table, the way
    # Excel and LibreOffice save files staff edited.
    book = openpyxl.Workbook()
    book.remove(book.active)
    sessions = book.create_sheet("Sessions")
    sessions.append(
        [
            "Session ID",
            "Topic",
            "Title",
            "Date",
            "Start Time",
            "End Time",
            "Location",
            "Join Link",
            "Registration Link",
        ]
    )
    for number in range(40):
        day = today + dt.timedelta(days=number - 5)
        topic = TOPICS[number % 3]  # no Family Resources session: the "contact us" case
        sessions.append(
            [
                f"PD-{number:03d}",
                topic if number % 2 else f"5{'abc'[number % 3]}",
                f"{topic} workshop",
                day.strftime("%-m/%-d/%Y"),
                "3:30 PM",
                "5 PM",
                SITES[number % len(SITES)],
                f"https://zoom.example.org/j/{number}",
                f"https://pd.example.org/register/{number}",
            ]
        )
    staff = book.create_sheet("Staff")
    staff.append(
        [
            "Employee ID",
            "Name",
            "Email",
            "Site",
            "Active",
            "Language",
            *TOPICS,
            "Last Reminded",
            "Reminders Sent",
        ]
    )
    for number in range(rows):
        done = [
            (today - dt.timedelta(days=rng.randrange(30, 400))).isoformat()
            if rng.random() < 0.4
            else ""
            for _ in TOPICS
        ]
        reminded = rng.random()
        last = (
            (today - dt.timedelta(days=rng.randrange(1, 40))).isoformat() if reminded < 0.5 else ""
        )
        staff.append(
            [
                f"E{100000 + number}",
                f"Staff Member {number}",
                f"staff{number}@lausd.example.org",
                SITES[number % len(SITES)],
                "No" if number % 97 == 0 else "Yes",
                "Spanish" if number % 5 == 0 else "",
                *done,
                last,
                rng.randrange(1, 7) if last else "",
            ]
        )
    registrations = book.create_sheet("Registrations")
    registrations.append(["Session ID", "Employee ID", "Email"])
    for number in range(0, rows, 30):
        registrations.append([f"PD-{5 + number % 3:03d}", f"E{100000 + number}", ""])
    book.save(path)


def main() -> int:
    """Generate, run, measure, compare with the bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=75_000)
    parser.add_argument("--keep", type=Path, help="build the workbook here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        today = dt.date.today()
        started = time.perf_counter()
        write_workbook(folder / "pd.xlsx", args.rows, today)
        (folder / "jobs.toml").write_text(config_text(), encoding="utf-8")
        print(f"generated {args.rows:,} staff rows in {time.perf_counter() - started:.1f} s")
        command = [
            sys.executable,
            str(ROOT / "jobs.py"),
            "--config",
            str(folder / "jobs.toml"),
            "run",
            "pd-reminders",
            "--dry-run",
            "--today",
            today.isoformat(),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    summary = [line for line in done.stdout.splitlines() if line.startswith("pd-reminders:")]
    print(summary[-1] if summary else done.stdout[-2000:] + done.stderr[-2000:])
    print(f"wall time {wall:.1f} s (bound {MAX_SECONDS:.0f} s)")
    print(f"peak memory {peak / 1024**2:.0f} MiB (bound {MAX_BYTES / 1024**2:.0f} MiB)")
    if done.returncode not in (0, 1) or not summary:
        print(f"the run failed (exit {done.returncode})", file=sys.stderr)
        return 1
    if wall > MAX_SECONDS or peak > MAX_BYTES:
        print("over the bound", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
