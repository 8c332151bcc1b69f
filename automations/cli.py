"""The command line: parse, build the context, call the runner, turn errors into exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import logging
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from automations.backends import mail_limits, open_mailer, open_spreadsheet
from automations.backups import backup_folder
from automations.config import DEFAULT_CONFIG, Settings, load_settings
from automations.daemon import Daemon
from automations.demo import create_missing_workbooks, init_demo
from automations.errors import AutomationError, ConfigError, LockHeld
from automations.jobs import Job, registry
from automations.languages import Language
from automations.ledger import Ledger
from automations.lock import RunLock
from automations.mail.backend import check_mailer
from automations.render import Renderer
from automations.report import write_report
from automations.runner import Runner
from automations.secrets import exposed_secret_files
from automations.throttle import DAY, Throttle

log = logging.getLogger("automations")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75

DESCRIPTION = """\
Scheduled jobs for the LAUSD–UTLA MOU on support for immigrant students and families.
They read the staff spreadsheets, send invitations and reminders, and write the
outcome of every row back next to it."""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{value}" is not a date like 2026-03-04') from None


def _jobs_epilog() -> str:
    lines = ["jobs:"]
    lines += [f"  {job.name:<20} {job.summary}" for job in registry().values()]
    lines += [
        "",
        "exit codes: 0 all good; 1 some rows or messages failed; 2 usage or configuration "
        "error; 75 another run holds the lock",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for jobs.py."""
    parser = argparse.ArgumentParser(
        prog="jobs.py",
        description=DESCRIPTION,
        epilog=_jobs_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"configuration file (default: {DEFAULT_CONFIG})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every message sent")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="the jobs, their schedules, and when each last ran")

    run = commands.add_parser("run", help="plan and execute a job (or all)")
    run.add_argument("job", metavar="JOB|all", help="a job name or 'all'")
    run.add_argument(
        "--dry-run", action="store_true", help="print what would be sent and written; do neither"
    )
    run.add_argument("--today", type=_date, help="pretend today is YYYY-MM-DD")

    preview = commands.add_parser(
        "preview", help="write every message a job would send as .html/.txt/.eml + index.html"
    )
    preview.add_argument("job", metavar="JOB", help="a job name")
    preview.add_argument("--today", type=_date, help="pretend today is YYYY-MM-DD")
    preview.add_argument(
        "--out", type=Path, default=Path("preview"), help="folder for the files (default: preview)"
    )

    commands.add_parser(
        "schedule",
        help="run the configured schedules in one long-running process (instead of cron)",
    )

    commands.add_parser(
        "check",
        help="validate config, spreadsheets, tabs, columns and templates; one line per problem",
    )

    init = commands.add_parser(
        "init",
        help="write a self-contained demo setup (--demo DIR), or without --demo set up the "
        "configured Google spreadsheets (tabs, headers, frozen header row, dropdowns)",
    )
    init.add_argument(
        "--demo", type=Path, default=None, metavar="DIR", help="folder for jobs.toml + workbooks"
    )

    report = commands.add_parser(
        "report", help="write the MOU tracker's figures as one standalone HTML page"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=Path("mou-report.html"),
        metavar="FILE.html",
        help="where to write the page (default: mou-report.html)",
    )
    report.add_argument("--today", type=_date, help="pretend today is YYYY-MM-DD")
    return parser


def _select(name: str, settings: Settings) -> list[Job]:
    jobs = registry()
    if name == "all":
        return [job for job in jobs.values() if settings.job(job.name).enabled]
    if name not in jobs:
        raise ConfigError(f"unknown job '{name}'; jobs are: {', '.join(jobs)}, or 'all'")
    return [jobs[name]]


def _settings(path: Path, today: dt.date | None = None) -> Settings:
    settings = load_settings(path)
    for job in registry().values():
        if settings.job(job.name).enabled:
            job.options(settings)  # validate every job's options before anything runs
            for sheet in job.tabs(settings):
                if sheet not in settings.spreadsheets:
                    raise ConfigError(
                        f"{settings.path}: job {job.name} needs [sheets.spreadsheets.{sheet}]; "
                        f"add it, or set enabled = false under [jobs.{job.name}]"
                    )
    if settings.create_demo_when_missing and settings.sheets_backend == "workbook":
        create_missing_workbooks(settings, today or dt.datetime.now(settings.timezone).date())
    return settings


def _runner(settings: Settings, ledger: Ledger) -> Runner:
    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    limits = mail_limits(settings)
    throttle = None
    if limits is not None:
        # Sends of the last day (earlier runs too) count against the daily limit.
        throttle = Throttle(limits, clock, time.sleep, ledger.sent_since(clock() - DAY))
    return Runner(
        settings,
        lambda name: open_spreadsheet(settings, name),
        open_mailer(settings),
        ledger,
        Renderer(settings.templates_dir),
        clock=clock,
        throttle=throttle,
    )


def cmd_list(args: argparse.Namespace) -> int:
    """Print each job, its schedules and its last run."""
    settings = _settings(args.config)
    ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
    for job in registry().values():
        config = settings.job(job.name)
        schedules = ", ".join(str(s) for s in config.schedules) or "not scheduled"
        last = ledger.last_run(job.name)
        ran = f"last ran {last.finished_at}: {last.summary}" if last else "never ran"
        state = "" if config.enabled else " (disabled)"
        print(f"{job.name}{state}\n  {job.summary}\n  schedule: {schedules}\n  {ran}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run one job or all of them."""
    loaded = load_settings(args.config)  # without it there is nobody to alert
    try:
        settings = _settings(args.config, args.today)
        jobs = _select(args.job, settings)
    except ConfigError as err:
        if not args.dry_run:
            _alert_startup(loaded, args.job, err)
        raise
    if args.dry_run:
        ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
        runner = _runner(settings, ledger)
        results = [
            runner.run(job, args.today, dry_run=True, on_demand=args.job != "all") for job in jobs
        ]
        return max((r.exit_code for r in results), default=EXIT_OK)
    return run_jobs(settings, jobs, args.today, on_demand=args.job != "all")


def run_jobs(
    settings: Settings, jobs: list[Job], today: dt.date | None, *, on_demand: bool = False
) -> int:
    """Run `jobs` for real under the run lock; the highest exit code wins."""
    with RunLock(settings.state_dir / "jobs.lock"):
        ledger = Ledger(settings.state_dir / "ledger.sqlite3")
        runner = _runner(settings, ledger)
        try:
            # A job named on the command line runs "on demand" (the tracker resends then).
            results = [runner.run(job, today, on_demand=on_demand) for job in jobs]
            rebuilt = runner.report_rebuilds()
            if rebuilt or any(r.sent for r in results):
                _back_up(ledger)
        finally:
            runner.mailer.close()
            ledger.close()
    print(runner.mailer.summary())
    return max((r.exit_code for r in results), default=EXIT_OK)


def _back_up(ledger: Ledger) -> None:
    """Back the ledger up after a run that sent something; a failure is logged, not fatal."""
    try:
        path = ledger.back_up(dt.datetime.now(dt.UTC))
    except (OSError, sqlite3.Error) as err:
        log.error("ledger backup into %s failed: %s", backup_folder(ledger.path), err)
        return
    log.info("ledger backed up to %s", path)


def cmd_schedule(args: argparse.Namespace) -> int:
    """Run every enabled job at its configured times until SIGTERM or SIGINT."""
    settings = _settings(args.config)

    def run_job(name: str) -> int:
        # Re-read the config each time, so edits take effect without a restart.
        try:
            current = _settings(args.config)
            return run_jobs(current, _select(name, current), None)
        except AutomationError as err:
            log.error("schedule: %s: %s", name, err)
            if not isinstance(err, LockHeld):
                _alert_startup(settings, name, err)
            return err.exit_code

    daemon = Daemon(settings, run_job)
    names = [job.name for job in _select("all", settings)]
    for line in daemon.register(names):
        log.info("schedule: %s", line)
    if not daemon.scheduler.jobs:
        raise ConfigError(
            f'{settings.path}: no job has a schedule; add e.g. schedule = "daily at 07:00" '
            "under [jobs.<job>]"
        )
    daemon.run_forever()
    return EXIT_OK


def _alert_startup(settings: Settings, job: str, error: AutomationError) -> None:
    """Tell the admin a job could not start (bad configuration, lock trouble)."""
    try:
        with RunLock(settings.state_dir / "jobs.lock"):
            ledger = Ledger(settings.state_dir / "ledger.sqlite3")
            try:
                _runner(settings, ledger).alert_admin(job, "could not start", [str(error)])
            finally:
                ledger.close()
    except AutomationError as err:
        log.error("could not alert the admin: %s", err)


def cmd_preview(args: argparse.Namespace) -> int:
    """Write a job's messages to files without sending anything."""
    settings = _settings(args.config, args.today)
    (job,) = _select(args.job, settings)
    ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
    files = _runner(settings, ledger).preview(job, args.today, args.out)
    messages = sum(1 for f in files if f.suffix == ".eml")
    print(f"{job.name}: {messages} message(s) previewed; open {args.out / 'index.html'}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Report every problem with config, spreadsheets and templates; exit 1 if any."""
    settings = _settings(args.config)
    problems: list[str] = []
    warnings: list[str] = []
    jobs = [j for j in registry().values() if settings.job(j.name).enabled]
    wanted: dict[str, dict[str, object]] = {}
    for job in jobs:
        for sheet, specs in job.tabs(settings).items():
            for spec in specs:
                wanted.setdefault(sheet, {})[spec.name] = spec
    for sheet, specs in wanted.items():
        try:
            spreadsheet = open_spreadsheet(settings, sheet)
            tables = spreadsheet.read(list(specs.values()))  # type: ignore[arg-type]
        except AutomationError as err:
            problems.append(str(err))
            continue
        for table in tables.values():
            for header in table.sensitive_headers:
                warnings.append(
                    f"spreadsheet {spreadsheet.describe()}, tab '{table.title}': column "
                    f"'{header}' looks like immigration-status data; remove it from shared "
                    "sheets (the jobs never read it)"
                )
    try:
        mailer = open_mailer(settings)
        try:
            checked = check_mailer(mailer)
        finally:
            mailer.close()
        if checked:
            print(f"mail: {checked}")
    except AutomationError as err:
        problems.append(f"mail: {err}")
    warnings.extend(exposed_secret_files(settings))
    renderer = Renderer(settings.templates_dir)
    if "en" not in renderer.languages:
        problems.append(f"templates: no English folder in {settings.templates_dir}")
    for job in jobs:
        for message in job.samples(settings, job.options(settings)):
            for code in sorted(renderer.languages):
                if not renderer.has(code, message.template):
                    if code != "en":
                        warnings.append(
                            f"templates: {code}/{message.template} is missing; "
                            f"{code} recipients get English"
                        )
                    else:
                        problems.append(f"templates: en/{message.template} is missing")
                    continue
                try:
                    renderer.render(message.template, Language(code, code), message.context)
                except AutomationError as err:
                    problems.append(f"templates: {err}")
    for line in warnings:
        print(f"warning: {line}")
    for line in problems:
        print(f"problem: {line}")
    if not problems:
        print(
            f"OK: {settings.path} ({len(jobs)} jobs, {len(wanted)} spreadsheets, templates in "
            f"{', '.join(sorted(renderer.languages))})"
        )
    return EXIT_FAILED if problems else EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Write a demo setup into a folder, or set up the configured Google spreadsheets."""
    if args.demo is None:
        from automations.sheets.google_init import init_configured

        for line in init_configured(_settings(args.config)):
            print(line)
        return EXIT_OK
    config = init_demo(args.demo, dt.date.today())
    print(f"Demo written to {args.demo}. Next: python jobs.py --config {config} run all")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Write the tracker's figures as a standalone HTML page (reads only)."""
    settings = _settings(args.config, args.today)
    ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
    now = dt.datetime.now(settings.timezone)
    if args.today is not None:
        now = dt.datetime.combine(args.today, now.time(), settings.timezone)
    out = write_report(
        settings, lambda name: open_spreadsheet(settings, name), ledger, now, args.out
    )
    print(f"MOU tracker report written to {out}")
    return EXIT_OK


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "preview": cmd_preview,
    "check": cmd_check,
    "init": cmd_init,
    "schedule": cmd_schedule,
    "report": cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the process exit code."""
    args = build_parser().parse_args(argv)
    # A run reads tens of thousands of rows that live until it ends; with the default
    # thresholds the collector rescans them hundreds of times. Collect far less often.
    gc.set_threshold(100_000, 50, 1000)
    # Our own handler on our logger: one line per event on the current stderr (cron mails it).
    logger = logging.getLogger("automations")
    for handler in [h for h in logger.handlers if getattr(h, "_jobs_cli", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    handler._jobs_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    logger.propagate = False
    try:
        return COMMANDS[args.command](args)
    except AutomationError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
