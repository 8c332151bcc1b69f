"""What every bench shares: run a command in a child process and measure it, the floor.

A figure from a 2-core machine shared with other work means little alone, so each bench
also measures a *floor* in the same run: the same rows read with the bare reader,
rendered with bare Jinja2, built with `email.message.EmailMessage` (and, for real sends,
written to files), with none of this tool's checks, ledger or write-back. The bench then
prints tool / floor.

    python bench/measure.py --child cli -- run pd-reminders --dry-run   (one measured run)
    python bench/measure.py --child floor --workbook pd.xlsx --messages 56052 [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
START = time.perf_counter()


@dataclass(frozen=True)
class Figures:
    """One measured child process: CPU seconds (user + system), wall seconds, peak MiB."""

    cpu: float
    wall: float
    peak_mib: float
    output: str = ""
    code: int = 0
    # CPU seconds spent reading the tabs and planning (the job's own work, before any
    # message is rendered or sent), when the child timed them.
    read_plan: float | None = None

    def per_cpu_second(self, count: int) -> float:
        """`count` things per CPU second."""
        return count / self.cpu if self.cpu else math.inf


def own_peak_mib() -> float:
    """This process's peak resident memory (VmHWM: this program's own, not its parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def own_cpu() -> float:
    """CPU seconds this process has used so far (interpreter start and imports included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_READ_PLAN = [0.0]


def time_read_and_plan() -> None:
    """Count the CPU of every Planning.read and Planning.plan in this process (reported as
    read_plan): the part of a dry run the issue's "read + plan" figure means."""
    from automations.planning import Planning

    for name in ("read", "plan"):
        method = getattr(Planning, name)

        def timed(*args: object, _method=method, **kwargs: object) -> object:
            started = time.process_time()
            try:
                return _method(*args, **kwargs)
            finally:
                _READ_PLAN[0] += time.process_time() - started

        setattr(Planning, name, timed)


def report(**extra: object) -> None:
    """Print this child's figures as the last line of its output (read by `measured`)."""
    figures = {"cpu": own_cpu(), "peak_mib": own_peak_mib(), "wall": time.perf_counter() - START}
    if _READ_PLAN[0]:
        figures["read_plan"] = _READ_PLAN[0]
    print("BENCH " + json.dumps(figures | extra), flush=True)


def run(command: Sequence[str], cwd: Path = ROOT, *, quiet: bool = False) -> Figures:
    """Run `command` and measure it from outside (CPU of that process and its children).

    `quiet` sends its output to /dev/null (a large output would cost this process).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = process.communicate()
    output = output or b""
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Figures(cpu, wall, 0.0, output.decode("utf-8", "replace"), process.returncode)


def measured(arguments: Sequence[str], cwd: Path = ROOT) -> Figures:
    """Run `python bench/measure.py --child ...` and read the figures it reports itself.

    A child reports its own peak memory: the ru_maxrss a parent sees would include the
    parent's memory at the moment it started the child.
    """
    outside = run([sys.executable, str(Path(__file__).resolve()), *arguments], cwd=cwd)
    lines = [line for line in outside.output.splitlines() if line.startswith("BENCH ")]
    if outside.code not in (0, 1) or not lines:
        raise SystemExit(f"{' '.join(arguments)} failed (exit {outside.code}):\n{outside.output}")
    inside = json.loads(lines[-1].removeprefix("BENCH "))
    return Figures(
        inside["cpu"],
        outside.wall,
        inside["peak_mib"],
        outside.output,
        outside.code,
        inside.get("read_plan"),
    )


def cli(arguments: Sequence[str], cwd: Path = ROOT) -> Figures:
    """`python jobs.py ARGUMENTS` in a child, measured (CPU, wall, its own peak memory)."""
    return measured(["--child", "cli", "--", *arguments], cwd=cwd)


def exponent(sizes: Sequence[int], seconds: Sequence[float]) -> float:
    """The fitted growth exponent b of seconds = a * size**b (least squares, log-log)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-9)) for t in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def syncs(command: Sequence[str], cwd: Path = ROOT) -> int | None:
    """How many fsync/fdatasync calls `command` makes (strace), or None without strace."""
    import shutil
    import tempfile

    strace = shutil.which("strace")
    if strace is None:
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as summary:
        done = subprocess.run(
            [strace, "-f", "-c", "-o", summary.name, "-e", "trace=fsync,fdatasync", *command],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            return None
        total = 0
        for line in Path(summary.name).read_text().splitlines():
            parts = line.split()
            if parts and parts[-1] in {"fsync", "fdatasync"}:
                total += int(parts[3] if len(parts) >= 6 else parts[-2])
        return total


# -- the floor -------------------------------------------------------------------------------

FLOOR_TEXT = """\
Hello {{ name }},

Under the LAUSD-UTLA agreement (MOU 5.0) all staff take training on four topics.
Our records show you still need the ones below, with the next sessions for each.
{% for topic in topics %}
{{ topic.name }}
{% for session in topic.sessions %}  - {{ session.title }}, {{ session.when }}, {{ session.where }}
    {{ session.link }}
{% endfor %}{% endfor %}
This is reminder {{ number }} of at most 6.
"""
FLOOR_HTML = """\
<!doctype html><html><body style="font-family:Arial,sans-serif;color:#1a1a1a">
<p style="margin:0 0 12px">Hello {{ name }},</p>
<p style="margin:0 0 12px">Under the LAUSD-UTLA agreement (MOU 5.0) all staff take training on
four topics. Our records show you still need the ones below, with the next sessions.</p>
{% for topic in topics %}<h2 style="font-size:16px;margin:16px 0 8px">{{ topic.name }}</h2>
<ul style="margin:0;padding-left:20px">{% for session in topic.sessions %}
<li style="margin:0 0 6px">{{ session.title }}, {{ session.when }}, {{ session.where }}
<a href="{{ session.link }}" style="color:#0b5cad">Join</a></li>{% endfor %}</ul>{% endfor %}
<p style="margin:12px 0;color:#555;font-size:13px">This is reminder {{ number }} of at most 6.</p>
</body></html>
"""
TOPICS = ("Safe Zones", "Immigration Rights", "Enforcement & Confidentiality", "Family Resources")


def floor_topics() -> list[dict]:
    """Four topics with three sessions each, as a digest lists them."""
    return [
        {
            "name": name,
            "sessions": [
                {
                    "title": f"{name} workshop",
                    "when": f"Tuesday, December {day}, 2026, 3:30 PM",
                    "where": "Roosevelt HS",
                    "link": f"https://zoom.example.org/j/{day}",
                }
                for day in (1, 8, 15)
            ],
        }
        for name in TOPICS
    ]


def read_rows(path: Path) -> list[list]:
    """Every row of the Staff tab with the bare reader: python-calamine, else openpyxl."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        return [list(row) for row in book["Staff"].iter_rows(values_only=True)]
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name("Staff").to_python(skip_empty_area=False)


def floor(workbook: Path, messages: int, out: Path | None, build: bool = True) -> None:
    """Read every row, then render, build (and write) `messages` digests; report figures.

    Without `build` the digests are only rendered, as a dry run does.
    """
    from email.message import EmailMessage
    from email.policy import SMTP

    import jinja2

    rows = read_rows(workbook)
    header, data = rows[0], rows[1:]
    name_at, email_at = header.index("Name"), header.index("Email")
    topic_at = [header.index(t) for t in TOPICS]
    environment = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    text_template = environment.from_string(FLOOR_TEXT)
    html_template = jinja2.Environment(autoescape=True).from_string(FLOOR_HTML)
    topics = floor_topics()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    made = 0
    while made < messages and data:
        for row in data:
            if made >= messages:
                break
            owed = [t for t, at in zip(topics, topic_at, strict=True) if not row[at]]
            context = {"name": row[name_at], "topics": owed or topics[:1], "number": 1}
            if not build:
                text_template.render(context), html_template.render(context)
                made += 1
                continue
            message = EmailMessage(policy=SMTP)
            message["Subject"] = f"Your training: {len(context['topics'])} topics still to take"
            message["From"] = "Immigrant Support <immigrant-support@example.org>"
            message["To"] = str(row[email_at])
            message["Message-ID"] = f"<{made}@example.org>"
            message.set_content(text_template.render(context))
            message.add_alternative(html_template.render(context), subtype="html")
            data_bytes = message.as_bytes()
            if out is not None:
                (out / f"{made}.eml").write_bytes(data_bytes)
            made += 1
    report(messages=made, rows=len(data))


def write_csv(workbook: Path, messages: int, path: Path) -> int:
    """The first `messages` staff who owe a topic as a CSV database (for mailmerge)."""
    rows = read_rows(workbook)
    header, data = rows[0], rows[1:]
    name_at, email_at = header.index("Name"), header.index("Email")
    topic_at = [header.index(t) for t in TOPICS]
    written = 0
    with path.open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(["email", "name", *(f"topic{n}" for n in range(4))])
        while written < messages and data:
            for row in data:
                if written >= messages:
                    break
                owed = [t if not row[at] else "" for t, at in zip(TOPICS, topic_at, strict=True)]
                out.writerow([row[email_at], row[name_at], *owed])
                written += 1
    return written


# -- the Google Sheets backend, against the loopback emulator --------------------------------


def seed_google(workbook: Path, folder: Path, config_text: str) -> tuple[object, Path]:
    """Start the Sheets API emulator holding `workbook`'s tabs; a config pointing at it.

    The emulator runs in this (the parent) process, so its CPU and memory are not the
    measured child's.
    """
    import openpyxl

    from tests.emulators.sheets_api import SheetsEmulator
    from tests.fixtures.google import google_config_text

    book = openpyxl.load_workbook(workbook, read_only=True)
    tabs = {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book}
    book.close()
    emulator = SheetsEmulator().start()
    ident = emulator.add_spreadsheet("pd bench", tabs, typed=False)
    config = folder / "google.toml"
    config.write_text(
        google_config_text(
            config_text, {"pd": ident}, key_file=folder / "unused.json", base_url=emulator.base_url
        ),
        encoding="utf-8",
    )
    return emulator, config


def google_child(config: Path, job: str, today: str, dry_run: bool) -> None:
    """Run one job on the Google backend (offline token, emulator) and report figures."""
    import datetime as dt

    from google.oauth2.credentials import Credentials

    from automations.cli import collect_less_often
    from automations.config import load_settings
    from automations.jobs import registry
    from automations.ledger import Ledger
    from automations.mail.outbox import OutboxMailer
    from automations.render import Renderer
    from automations.runner import Runner
    from automations.sheets.google import open_google_spreadsheet

    collect_less_often()  # as `jobs.py` does before any run
    settings = load_settings(config)
    credentials = Credentials(token="bench-offline-token")
    day = dt.date.fromisoformat(today)
    runner = Runner(
        settings,
        lambda name: open_google_spreadsheet(
            settings, name, settings.spreadsheets[name].id or "", credentials=credentials
        ),
        OutboxMailer(settings.mail.outbox_dir),
        Ledger(settings.state_dir / "ledger.sqlite3", read_only=dry_run),
        Renderer(settings.templates_dir),
        clock=lambda: dt.datetime.combine(day, dt.time(7, 0), settings.timezone),
    )
    result = runner.run(registry()[job], day, dry_run=dry_run)
    report(code=result.exit_code)


def main() -> int:
    """A measured child: the CLI, the Google backend, or the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("cli", "floor", "google"), required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--today")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--workbook", type=Path)
    parser.add_argument("--messages", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-build", action="store_true", help="floor: render only")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    if args.child == "floor":
        floor(args.workbook, args.messages, args.out, build=not args.no_build)
        return 0
    time_read_and_plan()
    if args.child == "google":
        google_child(args.config, "pd-reminders", args.today, args.dry_run)
        return 0
    from automations.cli import main as jobs_main

    code = jobs_main(args.rest)
    report(code=code)
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
