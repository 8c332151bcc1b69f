"""Benchmark: how much CPU `jobs.py --help`, `list` and a run with nothing to send cost.

Each command runs in a fresh process a few times (the least CPU is kept, so other work on
the machine counts less); the floor is a bare `python -c pass` measured the same way.
Also prints which heavy libraries each command imported (none of them is needed to print
help or list the jobs) and, with --importtime, the slowest imports by cumulative time.

    python bench/startup.py [--repeat 5] [--importtime] [--root DIR]

`--root DIR` measures the jobs.py of another checkout (e.g. `git archive 400ecd0 | tar -x
-C DIR`, the code before the speed work) with this environment's libraries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import ROOT, run

HEAVY = ("openpyxl", "icalendar", "jinja2", "email_validator", "babel", "gspread", "O365")
JOBS = str(ROOT / "jobs.py")
TODAY = dt.date(2026, 11, 30)


def least_cpu(command: list[str], repeat: int) -> float:
    """The least CPU seconds of `repeat` runs of `command`."""
    return min(run(command).cpu for _ in range(repeat))


def imports(command: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """(heavy libraries imported, [(cumulative microseconds, module)] slowest first)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command], capture_output=True, text=True, check=False
    )
    timed = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            timed.append((int(match.group(1)), match.group(2), match.group(3)))
    loaded = {name for _, _, name in timed}
    heavy = [name for name in HEAVY if name in loaded]
    slowest = sorted(((us, f"{indent}{name}") for us, indent, name in timed), reverse=True)
    return heavy, slowest


def main() -> int:
    """Measure and print one line per command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--importtime", action="store_true", help="print the slowest imports")
    parser.add_argument("--root", type=Path, help="the checkout whose jobs.py to measure")
    args = parser.parse_args()
    jobs = str(args.root.resolve() / "jobs.py") if args.root else JOBS
    # Startup as users see it: modules compiled once and cached (.pyc), not every run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as temp:
        demo = Path(temp) / "demo"
        done = subprocess.run(
            [sys.executable, jobs, "init", "--demo", str(demo)], capture_output=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr.decode())
        config = str(demo / "jobs.toml")
        run_all = [jobs, "--config", config, "run", "all", "--today", TODAY.isoformat()]
        run([sys.executable, *run_all])  # the first run sends; the ones measured send nothing
        floor = least_cpu([sys.executable, "-c", "pass"], args.repeat)
        print(f"floor: python -c pass            {floor:.3f} s CPU")
        commands = {
            "jobs.py --help": [jobs, "--help"],
            "jobs.py list": [jobs, "--config", config, "list"],
            "jobs.py run all (demo, 2nd run)": run_all,
        }
        for label, command in commands.items():
            repeat = args.repeat if "run all" not in label else max(1, args.repeat // 2)
            cpu = least_cpu([sys.executable, *command], repeat)
            heavy, slowest = imports(command)
            print(
                f"{label:<32} {cpu:.3f} s CPU ({cpu / floor:.1f}x the floor); heavy libraries "
                f"imported: {', '.join(heavy) or 'none'}"
            )
            if args.importtime:
                for microseconds, name in slowest[:15]:
                    print(f"    {microseconds / 1000:7.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
