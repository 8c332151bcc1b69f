"""Benchmark: real pd-reminders sends to the outbox at 5,000, 20,000 and 75,000 staff rows.

For each size it generates the PD workbook (bench/pd_reminders.py) and measures, each in a
fresh process:

- the tool: `jobs.py run pd-reminders` for real: read, plan, render, compose, ledger
  (intent before each send, outcome after), one .eml per digest, write-back of every
  status into the workbook and the Run Log row;
- the syncs: the same run again on a fresh copy under strace, counting fsync and
  fdatasync calls per message (at the first size unless --syncs-all; skipped when
  strace is not installed);
- the floor: the same rows read with the bare reader (python-calamine), the same number of
  digests rendered with bare Jinja2, built with `email.message.EmailMessage` and written
  to files (no ledger, no write-back, no sync);
- mailmerge (https://pypi.org/project/mailmerge/, a plain Jinja2 + CSV mail merge): the
  same recipients as a CSV database and a text + HTML template, `--dry-run --no-limit
  --output-format raw` to /dev/null (it renders and builds every message; it keeps no
  ledger and writes nothing back, so it is a yardstick, not a like-for-like rival).

mailmerge is not a project dependency. Install it once into the bench's own environment:

    python bench/send_outbox.py --install-mailmerge     (creates bench/.venv-mailmerge)

or pass `--mailmerge PATH` to an installed `mailmerge` executable; without one the
mailmerge column is left out.

    python bench/send_outbox.py [--sizes 5000,20000,75000] [--backend workbook|google]
                                [--no-syncs | --syncs-all]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import (
    FLOOR_HTML,
    FLOOR_TEXT,
    ROOT,
    Figures,
    cli,
    exponent,
    floor_topics,
    measured,
    run,
    seed_google,
    syncs,
    write_csv,
)
from pd_reminders import config_text, write_workbook

BENCH_VENV = Path(__file__).resolve().parent / ".venv-mailmerge"
TODAY = dt.date(2026, 11, 30)


def find_mailmerge(given: Path | None) -> Path | None:
    """The mailmerge executable: given, the bench's own venv, or on PATH."""
    for candidate in (given, BENCH_VENV / "bin" / "mailmerge"):
        if candidate is not None and candidate.exists():
            return candidate
    found = shutil.which("mailmerge")
    return Path(found) if found else None


def install_mailmerge() -> Path:
    """Create bench/.venv-mailmerge and install mailmerge into it (not into the project)."""
    venv.create(BENCH_VENV, with_pip=True)
    pip = BENCH_VENV / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", "mailmerge"], check=True)
    return BENCH_VENV / "bin" / "mailmerge"


def mailmerge_template() -> str:
    """A text + HTML template for mailmerge with the floor's wording and sessions."""
    sessions = {t["name"]: t["sessions"] for t in floor_topics()}
    text = FLOOR_TEXT.replace("{{ name }}", "{{name}}").replace("{{ number }}", "1")
    html = FLOOR_HTML.replace("{{ name }}", "{{name}}").replace("{{ number }}", "1")
    text = _unroll(text, sessions, escape=False)
    html = _unroll(html, sessions, escape=True)
    return (
        "TO: {{email}}\n"
        "SUBJECT: Your training: topics still to take\n"
        "FROM: Immigrant Support <immigrant-support@example.org>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="boundary"\n\n'
        "--boundary\nContent-Type: text/plain; charset=utf-8\n\n"
        f"{text}\n"
        "--boundary\nContent-Type: text/html; charset=utf-8\n\n"
        f"{html}\n"
        "--boundary--\n"
    )


def _unroll(template: str, sessions: dict, *, escape: bool) -> str:
    """Replace the topic loop by one `{% if topicN %}` block per topic (flat CSV fields)."""
    import html as html_module

    import jinja2

    start, end = "{% for topic in topics %}", "{% endfor %}"
    before, _, rest = template.partition(start)
    loop, _, after = rest.rpartition(end)
    body = jinja2.Environment(autoescape=escape).from_string(start + loop + end)
    blocks = []
    for number, (name, listed) in enumerate(sessions.items()):
        rendered = body.render(topics=[{"name": name, "sessions": listed}])
        if escape:
            rendered = rendered.replace(html_module.escape(name), f"{{{{topic{number}}}}}")
        else:
            rendered = rendered.replace(name, f"{{{{topic{number}}}}}")
        blocks.append(f"{{% if topic{number} %}}{rendered}{{% endif %}}")
    return before + "".join(blocks) + after


def mailmerge_figures(mailmerge: Path, workbook: Path, messages: int, folder: Path) -> Figures:
    """mailmerge over the same recipients: dry run, raw output thrown away."""
    database = folder / "mailmerge_database.csv"
    write_csv(workbook, messages, database)
    template = folder / "mailmerge_template.txt"
    template.write_text(mailmerge_template(), encoding="utf-8")
    server = folder / "mailmerge_server.conf"
    server.write_text("[smtp_server]\nhost = 127.0.0.1\nport = 25\nratelimit = 0\n")
    command = [
        str(mailmerge),
        "--template",
        str(template),
        "--database",
        str(database),
        "--config",
        str(server),
        "--dry-run",
        "--no-limit",
        "--output-format",
        "raw",
    ]
    figures = run(command, cwd=folder, quiet=True)
    if figures.code != 0:
        raise SystemExit(f"mailmerge failed (exit {figures.code}); run it by hand in {folder}")
    return figures


def sent(figures: Figures) -> int:
    """The count from the run line (pd-reminders: sent N, ...)."""
    match = re.search(r"pd-reminders: sent (\d+)", figures.output)
    if match is None:
        raise SystemExit(f"the run failed (exit {figures.code}):\n{figures.output[-3000:]}")
    return int(match.group(1))


def main() -> int:
    """Generate, send, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,75000")
    parser.add_argument("--backend", choices=("workbook", "google"), default="workbook")
    parser.add_argument("--no-syncs", action="store_true", help="do not count syncs (strace)")
    parser.add_argument(
        "--syncs-all",
        action="store_true",
        help="count syncs at every size (default: the first only; the count per message "
        "does not depend on the size, and a traced run costs a run)",
    )
    parser.add_argument("--mailmerge", type=Path, help="a mailmerge executable")
    parser.add_argument("--install-mailmerge", action="store_true")
    parser.add_argument("--tool-only", action="store_true", help="no floor, no mailmerge")
    args = parser.parse_args()
    if args.install_mailmerge:
        print(f"installed {install_mailmerge()}")
        return 0
    mailmerge = None if args.tool_only else find_mailmerge(args.mailmerge)
    if mailmerge is None and not args.tool_only:
        print(
            "mailmerge: not installed, column left out (python bench/send_outbox.py "
            "--install-mailmerge)"
        )
    sizes = [int(s) for s in args.sizes.split(",")]
    cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as temp:
        for size in sizes:
            folder = Path(temp) / f"send-{size}"
            folder.mkdir()
            started = time.perf_counter()
            write_workbook(folder / "pd.xlsx", size, TODAY)
            (folder / "jobs.toml").write_text(config_text(), encoding="utf-8")
            print(f"\n{size:,} staff rows (generated in {time.perf_counter() - started:.0f} s)")
            traced = folder / "traced"
            shutil.copytree(folder, traced)
            today = ["--today", TODAY.isoformat()]
            emulator = None
            if args.backend == "google":
                emulator, google = seed_google(folder / "pd.xlsx", folder, config_text())
                tool = measured(["--child", "google", "--config", str(google), *today])
            else:
                tool = cli(["--config", str(folder / "jobs.toml"), "run", "pd-reminders", *today])
            messages = sent(tool) if args.backend == "workbook" else _count(folder / "outbox")
            if emulator is not None:
                emulator.stop()  # type: ignore[attr-defined]
            counted = None
            if (
                not args.no_syncs
                and args.backend == "workbook"
                and (args.syncs_all or size == sizes[0])
            ):
                command = [sys.executable, str(ROOT / "jobs.py"), "--config"]
                command += [str(traced / "jobs.toml"), "run", "pd-reminders", *today]
                counted = syncs(command)
            floor = (
                None
                if args.tool_only
                else measured(
                    [
                        *("--child", "floor", "--workbook", str(folder / "pd.xlsx")),
                        *("--messages", str(messages), "--out", str(folder / "floor-out")),
                    ]
                )
            )
            peer = (
                mailmerge_figures(mailmerge, folder / "pd.xlsx", messages, folder)
                if (mailmerge)
                else None
            )
            per_message = f"{counted / messages:.2f}" if counted is not None and messages else "-"
            print(
                f"  tool ({args.backend}): {messages:,} messages; CPU {tool.cpu:.1f} s, wall "
                f"{tool.wall:.1f} s, peak {tool.peak_mib:.0f} MiB, "
                f"{tool.per_cpu_second(messages):.0f} messages per CPU-second, "
                f"{per_message} syncs per message"
            )
            cpu.setdefault("tool", []).append(tool.cpu)
            if floor is None:
                shutil.rmtree(folder)
                continue
            print(
                f"  floor: CPU {floor.cpu:.1f} s, wall {floor.wall:.1f} s, peak "
                f"{floor.peak_mib:.0f} MiB, {floor.per_cpu_second(messages):.0f} messages per "
                f"CPU-second; tool / floor = {tool.cpu / floor.cpu:.2f}"
            )
            cpu.setdefault("floor", []).append(floor.cpu)
            if peer is not None:
                print(
                    f"  mailmerge: CPU {peer.cpu:.1f} s, wall {peer.wall:.1f} s, "
                    f"{peer.per_cpu_second(messages):.0f} messages per CPU-second; "
                    f"tool / mailmerge = {tool.cpu / peer.cpu:.2f}"
                )
                cpu.setdefault("mailmerge", []).append(peer.cpu)
            shutil.rmtree(folder)
    if len(sizes) > 1:
        print(
            f"\ngrowth from {sizes[0]:,} to {sizes[-1]:,} rows (CPU = a * rows^b; 1.0 is linear):"
        )
        for name, seconds in cpu.items():
            print(f"  {name:<10} b = {exponent(sizes, seconds):.2f}")
    return 0


def _count(outbox: Path) -> int:
    return sum(1 for _ in outbox.glob("*.eml")) if outbox.exists() else 0


if __name__ == "__main__":
    sys.exit(main())
