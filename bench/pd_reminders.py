"""Benchmark: pd-reminders in --dry-run over 10,000 and 75,000 staff rows.

For each size it generates the PD workbook (Sessions, Staff, Registrations) in a temporary
folder, then measures, each in a fresh process:

- the tool: `jobs.py run pd-reminders --dry-run` on the workbook (read, plan, render);
- the same on the Google Sheets backend (the loopback emulator holds the same tabs);
- the floor: the same rows read with the bare reader (python-calamine) and the same
  number of digests rendered with bare Jinja2 (a dry run builds no message).

Each figure is the run with the least CPU of `--repeat` runs. It prints CPU, wall time,
peak memory and tool / floor per size, the CPU of reading the tabs and planning alone
(read + plan: the dry run before any message is rendered), and the fitted growth
exponent (1.0 is linear). Exits 1 when a run fails or takes more than 1 GiB.

    python bench/pd_reminders.py [--sizes 10000,75000] [--backends workbook,google]
                                 [--repeat 3] [--keep DIR] [--profile]

`--profile` also runs the largest size's workbook dry run under cProfile and prints the
top 25 functions by cumulative time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Figures, cli, exponent, measured, seed_google

MAX_MIB = 1024
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


def generate(folder: Path, rows: int, today: dt.date) -> Path:
    """The bench workbook and its config in `folder`; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_workbook(folder / "pd.xlsx", rows, today)
    (folder / "jobs.toml").write_text(config_text(), encoding="utf-8")
    print(f"generated {rows:,} staff rows in {time.perf_counter() - started:.1f} s")
    return folder / "jobs.toml"


def would_send(figures: Figures) -> int:
    """The digest count from the run line (pd-reminders: would send N, ...)."""
    match = re.search(r"pd-reminders: would send (\d+)", figures.output)
    if match is None:
        raise SystemExit(f"the run failed (exit {figures.code}):\n{figures.output[-3000:]}")
    return int(match.group(1))


def least(repeat: int, measure: Callable[[list[str]], Figures], arguments: list[str]) -> Figures:
    """The run with the least CPU of `repeat` runs: other work on a shared machine only
    ever adds time, so the least is the closest to the program's own cost."""
    return min((measure(arguments) for _ in range(max(repeat, 1))), key=lambda f: f.cpu)


def line(label: str, figures: Figures, floor: Figures | None = None) -> str:
    """One printed figure: CPU, wall, peak memory, the ratio to the floor, read + plan."""
    ratio = f"; {figures.cpu / floor.cpu:.2f}x the floor's CPU" if floor else ""
    read_plan = f"; read + plan {figures.read_plan:.2f} s" if figures.read_plan else ""
    return (
        f"  {label:<22} CPU {figures.cpu:6.2f} s, wall {figures.wall:6.2f} s, "
        f"peak {figures.peak_mib:5.0f} MiB{ratio}{read_plan}"
    )


def profile(folder: Path, arguments: list[str]) -> None:
    """Run jobs.py ARGUMENTS under cProfile; print the top 25 by cumulative time."""
    import pstats
    import subprocess

    out = folder / "dry-run.prof"
    jobs = str(Path(__file__).resolve().parent.parent / "jobs.py")
    command = [sys.executable, "-m", "cProfile", "-o", str(out), jobs, *arguments]
    subprocess.run(command, capture_output=True, check=False)
    print("cProfile, top 25 by cumulative time:")
    pstats.Stats(str(out), stream=sys.stdout).sort_stats("cumulative").print_stats(25)


def main() -> int:
    """Generate, run, measure, print; exit 1 on a failed run or over 1 GiB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,75000")
    parser.add_argument("--backends", default="workbook,google")
    parser.add_argument("--rows", type=int, help="one size only (same as --sizes N)")
    parser.add_argument("--keep", type=Path, help="build the workbooks under here and keep them")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest dry run")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each; the least CPU is kept (default 3)"
    )
    args = parser.parse_args()
    sizes = [args.rows] if args.rows else [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    today = dt.date.today()
    cpu: dict[str, list[float]] = {}
    failed = False
    with tempfile.TemporaryDirectory() as temp:
        for size in sizes:
            folder = (args.keep or Path(temp)) / f"pd-{size}"
            config = generate(folder, size, today)
            workbook = folder / "pd.xlsx"
            common = ["run", "pd-reminders", "--dry-run", "--today", today.isoformat()]
            results: dict[str, Figures] = {}
            if "workbook" in backends:
                results["workbook"] = least(args.repeat, cli, ["--config", str(config), *common])
                print(next(x for x in results["workbook"].output.splitlines() if "would" in x))
            if "google" in backends:
                (folder / "google").mkdir(exist_ok=True)
                emulator, google = seed_google(workbook, folder / "google", config_text())
                try:
                    results["google"] = least(
                        args.repeat,
                        measured,
                        [
                            *("--child", "google", "--config", str(google), "--dry-run"),
                            *("--today", today.isoformat()),
                        ],
                    )
                finally:
                    emulator.stop()  # type: ignore[attr-defined]
            messages = would_send(next(iter(results.values())))
            floor = least(
                args.repeat,
                measured,
                [
                    *("--child", "floor", "--workbook", str(workbook)),
                    *("--messages", str(messages), "--no-build"),
                ],
            )
            print(f"{size:,} staff rows, {messages:,} digests rendered")
            print(line("floor", floor))
            cpu.setdefault("floor", []).append(floor.cpu)
            for name, figures in results.items():
                print(line(f"tool ({name})", figures, floor))
                cpu.setdefault(name, []).append(figures.cpu)
                failed = failed or figures.code not in (0, 1) or figures.peak_mib > MAX_MIB
            if args.profile and size == max(sizes):
                profile(folder, ["--config", str(config), *common])
    if len(sizes) > 1:
        print(f"growth from {sizes[0]:,} to {sizes[-1]:,} rows (CPU = a * rows^b; 1.0 is linear):")
        for name, seconds in cpu.items():
            print(f"  {name:<10} b = {exponent(sizes, seconds):.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
