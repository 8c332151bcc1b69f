"""The command line: parse, build the context, call the runner, turn errors into exit codes."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import gc
import logging
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from automations.backends import mail_limits, open_mailer, open_spreadsheet
from automations.cells import mask_addresses
from automations.config import DEFAULT_CONFIG, Settings, load_settings
from automations.crashes import crash_line, record_crash
from automations.errors import AutomationError, ConfigError, LockHeld
from automations.holds import agreement_ended, uncalculated_warnings
from automations.jobs import registry
from automations.jobs.rows import day_words
from automations.languages import Language, english_name
from automations.lock import RunLock
from automations.private import explain

# Everything else is imported by the command that needs it: `--help` and `list` must not
# pay for the sheet, mail, calendar and template libraries (about half a second).
if TYPE_CHECKING:
    from automations.catalogs import LanguageState
    from automations.jobs import Job
    from automations.ledger import Ledger
    from automations.runner import Runner
    from automations.sheets.contract import Table, TabSpec
    from automations.translations import TabRead

log = logging.getLogger("automations")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75
# `check` warns this many days before the agreement ends.
AGREEMENT_WARNING_DAYS = 60

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


class LogFormatter(logging.Formatter):
    """One line per event: time, level, message, with every address masked (servers quote
    them in their replies: 550 5.1.1 <a.b@example.org>); times in `zone` when given."""

    def __init__(self, zone: ZoneInfo | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time; in the configured zone and named when one is set."""
        if self.zone is None:
            return super().formatTime(record, datefmt)
        return f"{dt.datetime.fromtimestamp(record.created, self.zone):%Y-%m-%d %H:%M:%S %Z}"

    def format(self, record: logging.LogRecord) -> str:
        """The line, addresses masked."""
        return mask_addresses(super().format(record))


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
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="the jobs, their schedules, and when each last ran")

    run = commands.add_parser(
        "run",
        help="plan and execute a job, all of them now, or those whose scheduled time has passed",
    )
    run.add_argument(
        "job",
        metavar="JOB|all|due",
        help="a job name; 'all' (every enabled job, now); or 'due' (each job whose scheduled "
        "time passed since its last run, once: the cron line)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="print what would be sent and written; do neither"
    )
    run.add_argument("--today", type=_date, help="pretend today is YYYY-MM-DD")
    run.add_argument(
        "--resend",
        action="store_true",
        help="with a job name: send this month's tracker summary again (newer figures)",
    )

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

    translations = commands.add_parser(
        "translations",
        help="translations sync: write new and changed English into the family "
        "spreadsheet's Translations tab (never touching what translators typed)",
    )
    translations.add_argument("action", choices=["sync"], help="sync")
    translations.add_argument(
        "--dry-run", action="store_true", help="print what would change; write nothing"
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
    # `jobs.py run all --config x.toml` too: given after the command it wins, and
    # SUPPRESS keeps the default from overwriting one given before it.
    for command in commands.choices.values():
        command.add_argument(
            "--config", type=Path, default=argparse.SUPPRESS, help="configuration file"
        )

    resources = commands.add_parser(
        "resources",
        help="write a printable one-page flyer of the Resources tab per region and language",
    )
    resources.add_argument(
        "--out",
        type=Path,
        default=Path("flyers"),
        metavar="DIR",
        help="folder for the flyers (default: flyers)",
    )
    resources.add_argument("--today", type=_date, help="pretend today is YYYY-MM-DD")
    return parser


class _Version(argparse.Action):
    """--version, asking the package metadata only when given (importlib.metadata costs
    about a fifth of `--help`)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    """The installed package's version ('unknown' when run from a bare copy)."""
    import importlib.metadata

    try:
        return importlib.metadata.version("automations")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _select(name: str, settings: Settings) -> list[Job]:
    jobs = registry()
    if name == "all":
        return [job for job in jobs.values() if settings.job(job.name).enabled]
    if name not in jobs:
        raise ConfigError(f"unknown job '{name}'; jobs are: {', '.join(jobs)}, or 'all'")
    return [jobs[name]]


def _settings(path: Path, today: dt.date | None = None, *, create_demo: bool = True) -> Settings:
    """Load and validate the config; with `create_demo`, make a missing shipped demo."""
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
    if create_demo:
        from automations.demo import create_missing_workbooks

        create_missing_workbooks(settings, today or dt.datetime.now(settings.timezone).date())
    return settings


def _runner(settings: Settings, ledger: Ledger) -> Runner:
    from automations.render import Renderer
    from automations.runner import Runner
    from automations.throttle import DAY, Throttle

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
        Renderer(settings.templates_dir, use=settings.languages_use),
        clock=clock,
        throttle=throttle,
    )


def cmd_list(args: argparse.Namespace) -> int:
    """Print each job, its schedules and its last run (writes nothing)."""
    from automations.ledger import Ledger

    settings = _settings(args.config, create_demo=False)
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
    """Run one job, all of them, or those that are due."""
    if args.job == "due" and args.today is not None:
        raise ConfigError("run due follows the real clock; --today goes with a job name or all")
    if args.resend and args.job in ("all", "due"):
        raise ConfigError("--resend goes with a job name, e.g. run mou-tracker --resend")
    loaded = load_settings(args.config)  # without it there is nobody to alert
    try:
        settings = _settings(args.config, args.today)
        jobs = _select("all" if args.job == "due" else args.job, settings)
    except ConfigError as err:
        if not args.dry_run:
            _alert_startup(loaded, args.job, err)
        raise
    on_demand = args.job not in ("all", "due")
    if args.dry_run:
        from automations.ledger import Ledger

        ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
        if args.job == "due":
            jobs = _due(settings, jobs, ledger, record=False)
        runner = _runner(settings, ledger)
        results = [
            runner.run(job, args.today, dry_run=True, on_demand=on_demand, resend=args.resend)
            for job in jobs
        ]
        return max((r.exit_code for r in results), default=EXIT_OK)
    try:
        if args.job == "due":
            return run_jobs(
                settings, lambda ledger: _due(settings, jobs, ledger, record=True), None
            )
        return run_jobs(settings, jobs, args.today, on_demand=on_demand, resend=args.resend)
    except LockHeld:
        raise
    except AutomationError as err:  # the run stopped as a whole (ledger, state folder)
        _alert_startup(
            settings, args.job, err, "could not start" if err.exit_code == 2 else "stopped"
        )
        raise


def _due(settings: Settings, jobs: list[Job], ledger: Ledger, *, record: bool) -> list[Job]:
    """The jobs whose scheduled time has passed since their last run (notes printed)."""
    from automations.due import decide

    now = dt.datetime.now(settings.timezone)
    decisions = decide(settings, jobs, ledger, now, record=record)
    for decision in decisions:
        if decision.note:
            print(decision.note)
    chosen = [d.job for d in decisions if d.due_at is not None]
    for decision in decisions:
        if decision.due_at is not None:
            log.info("run due: %s (scheduled %s)", decision.job.name, decision.due_at.isoformat())
    return chosen


def run_jobs(
    settings: Settings,
    jobs: list[Job] | Callable[[Ledger], list[Job]],
    today: dt.date | None,
    *,
    on_demand: bool = False,
    resend: bool = False,
) -> int:
    """Run `jobs` for real under the run lock; the highest exit code wins.

    `jobs` may be a function of the ledger that picks them once the lock is held (`run
    due`), so two overlapping runs never both decide a job is due.
    """
    from automations.ledger import Ledger

    with RunLock(settings.state_dir / "jobs.lock"):
        ledger = Ledger(settings.state_dir / "ledger.sqlite3")
        try:
            chosen = jobs(ledger) if callable(jobs) else jobs
            if not chosen:
                return EXIT_OK
            runner = _runner(settings, ledger)
            try:
                # A job named on the command line runs "on demand".
                results = [
                    runner.run(job, today, on_demand=on_demand, resend=resend) for job in chosen
                ]
                rebuilt = runner.report_rebuilds()
                if rebuilt or any(r.sent for r in results):
                    _back_up(ledger)
            finally:
                runner.mailer.close()
        finally:
            ledger.close()
    print(runner.mailer.summary())
    return max((r.exit_code for r in results), default=EXIT_OK)


def _back_up(ledger: Ledger) -> None:
    """Back the ledger up after a run that sent something; a failure is logged, not fatal."""
    from automations.backups import backup_folder

    try:
        path = ledger.back_up(dt.datetime.now(dt.UTC))
    except (OSError, sqlite3.Error) as err:
        log.error("ledger backup into %s failed: %s", backup_folder(ledger.path), err)
        return
    log.info("ledger backed up to %s", path)


def cmd_schedule(args: argparse.Namespace) -> int:
    """Run every enabled job at its configured times until SIGTERM or SIGINT."""
    from automations.daemon import Daemon

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
        except Exception as err:  # a bug in one job must not stop the schedule
            line = crash_line(err, record_crash(settings.state_dir, err, f"schedule: {name}"))
            log.error("schedule: %s: %s", name, line)
            _alert_startup(settings, name, line, "crashed")
            return EXIT_FAILED

    # The log speaks the configured time zone, named (the host's may differ).
    for handler in logging.getLogger("automations").handlers:
        if getattr(handler, "_jobs_cli", False):
            handler.setFormatter(LogFormatter(settings.timezone))
    daemon = Daemon(settings, run_job)
    names = [job.name for job in _select("all", settings)]
    for line in daemon.register(names):
        log.info("schedule: %s", line)
    if not daemon.entries:
        raise ConfigError(
            f'{settings.path}: no job has a schedule; add e.g. schedule = "daily at 07:00" '
            "under [jobs.<job>]"
        )
    daemon.run_forever()
    return EXIT_OK


def _alert_startup(
    settings: Settings, job: str, error: Exception | str, summary: str = "could not start"
) -> None:
    """Tell the admin a job could not start, stopped or crashed.

    When the state folder or the ledger is what broke, the alert goes unrecorded (it
    may then repeat on every run, which is the point: someone has to look).
    """
    from automations.ledger import Ledger

    try:
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(RunLock(settings.state_dir / "jobs.lock"))
                ledger = Ledger(settings.state_dir / "ledger.sqlite3")
            except LockHeld:
                raise
            except AutomationError:
                ledger = Ledger.in_memory()
            stack.callback(ledger.close)
            runner = _runner(settings, ledger)
            stack.callback(runner.mailer.close)
            runner.alert_admin(job, summary, [str(error)])
    except AutomationError as err:
        log.error("could not alert the admin: %s", err)


def cmd_preview(args: argparse.Namespace) -> int:
    """Write a job's messages to files without sending anything."""
    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(
            f"preview --out {args.out.absolute()} is a file; give a folder for the preview files "
            "(it is created when missing)"
        )
    settings = _settings(args.config, args.today)
    jobs = _select(args.job, settings)
    from automations.ledger import Ledger
    from automations.preview import LOOKAHEAD_DAYS

    ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
    runner = _runner(settings, ledger)
    for job in jobs:
        # `preview all`: one folder per job under --out.
        folder = args.out / job.name if args.job == "all" else args.out
        try:
            previewed = runner.preview(job, args.today, folder)
        except OSError as err:
            if not _about(err, args.out):
                raise
            raise ConfigError(
                f"preview --out {args.out.absolute()}: cannot write the preview there "
                f"({explain(err)}); give a folder this user can write"
            ) from None
        index = folder / "index.html"
        if previewed.due_on is not None:
            print(
                f"{job.name}: nothing is due today; the next {previewed.messages} message(s) "
                f"are due on {day_words(previewed.due_on)}, previewed; open {index.absolute()}"
            )
        elif not previewed.messages:
            print(
                f"{job.name}: nothing is due in the next {LOOKAHEAD_DAYS} days; "
                f"open {index.absolute()}"
            )
        else:
            print(f"{job.name}: {previewed.messages} message(s) previewed; open {index.absolute()}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Report every problem with config, spreadsheets and templates; exit 1 if any.

    Writes nothing: no demo workbooks, no state folder, no ledger.
    """
    from automations.demo import missing_demo_workbooks
    from automations.mail.backend import check_mailer
    from automations.render import Renderer
    from automations.secrets import exposed_secret_files, exposed_state_files
    from automations.sheets.workbook import WorkbookSpreadsheet
    from automations.translations import TAB as TRANSLATIONS_TAB
    from automations.translations import from_tables

    settings = _settings(args.config, create_demo=False)
    problems: list[str] = []
    warnings: list[str] = []
    notice = agreement_notice(settings, dt.datetime.now(settings.timezone).date())
    if notice:
        warnings.append(notice)
    not_yet = missing_demo_workbooks(settings)
    for path in not_yet:
        warnings.append(f"the demo workbook {path} is not there yet; the first `run` creates it")
    jobs = [j for j in registry().values() if settings.job(j.name).enabled]
    tab: TabRead | None = None
    wanted: dict[str, dict[str, TabSpec]] = {}
    for job in jobs:
        for sheet, specs in job.tabs(settings).items():
            for spec in specs:
                known = wanted.setdefault(sheet, {}).get(spec.name)
                # A tab one job needs is checked as needed, though another reads it if any.
                if not (spec.optional and known is not None and not known.optional):
                    wanted[sheet][spec.name] = spec
    for sheet, specs in wanted.items():
        if settings.spreadsheets[sheet].path in not_yet:
            continue
        try:
            spreadsheet = open_spreadsheet(settings, sheet)
            tables = spreadsheet.read(list(specs.values()))
        except AutomationError as err:
            problems.append(str(err))
            continue
        if TRANSLATIONS_TAB in tables:
            tab = from_tables({sheet: tables})
        for table in tables.values():
            warnings.extend(header_warnings(spreadsheet.describe(), table))
            for header in table.sensitive_headers:
                warnings.append(
                    f"spreadsheet {spreadsheet.describe()}, tab '{table.title}': column "
                    f"'{header}' looks like immigration-status data; remove it from shared "
                    "sheets (the jobs never read it)"
                )
            warnings.extend(uncalculated_warnings(spreadsheet.describe(), table))
        if isinstance(spreadsheet, WorkbookSpreadsheet) and (busy := spreadsheet.in_use()):
            warnings.append(str(busy))
    checked, mail_ok = None, False
    try:
        mailer = open_mailer(settings)
        try:
            checked = check_mailer(mailer)
            mail_ok = True
        finally:
            mailer.close()
        if checked:
            print(f"mail: {checked}")
    except AutomationError as err:
        problems.append(f"mail: {err}")
    warnings.extend(exposed_secret_files(settings))
    warnings.extend(exposed_state_files(settings))
    state = _state_dir_problem(settings)
    if state:
        problems.append(state)
    renderer = Renderer(settings.templates_dir, use=settings.languages_use)
    renderer.use_translations(tab.overrides if tab is not None else None)
    if tab is not None:
        warnings.extend(tab.problems)
    states = renderer.languages.states
    # Every message in every language with strings (drafts too: they must render).
    every = Renderer(settings.templates_dir, use=states)
    every.use_translations(renderer.overrides)
    for state in states.values():
        if state.problem:
            problems.append(f"languages: {state.problem}")
    from automations.sensitive_terms import (
        configured_terms,
        family_facing,
        mentions,
        rendered_texts,
    )

    terms = configured_terms(settings)
    for job in jobs:
        options = job.options(settings)
        problems.extend(job.config_problems(settings, options))
        for message in job.samples(settings, options):
            if not renderer.has("en", message.template):
                problems.append(f"templates: {message.template} is missing")
                continue
            for code in states:
                language = Language(code, english_name(code))
                try:
                    rendered = every.render(message.template, language, message.context)
                except AutomationError as err:
                    problems.append(f"templates: {err}")
                    continue
                if family_facing(message):
                    for term in mentions(rendered_texts(rendered), terms):
                        warnings.append(
                            f'templates: {message.template} in {language.name} says "{term}": '
                            "family mail must never mention immigration status (change the "
                            "text, or jobs.family-outreach.never_mention)"
                        )
    for line in warnings:
        print(f"warning: {line}")
    for line in problems:
        print(f"problem: {line}")
    for line in languages_table(states.values()):
        print(line)
    print(
        check_summary(
            problems,
            spreadsheets=len(wanted),
            jobs=len(jobs),
            languages=len(renderer.languages),
            mail=f"mail backend {settings.mail.backend} "
            + ("reachable" if checked else "ready" if mail_ok else "not reachable"),
        )
    )
    return EXIT_FAILED if problems else EXIT_OK


def check_summary(
    problems: Sequence[str], *, spreadsheets: int, jobs: int, languages: int, mail: str
) -> str:
    """`check`'s last line: what was checked when all is well, else how many problems."""
    if problems:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        return f"{count} found, each on a 'problem:' line above"
    return f"OK: {spreadsheets} spreadsheets, {jobs} jobs, {languages} languages, {mail}"


def languages_table(states: Iterable[LanguageState]) -> list[str]:
    """`check`'s table of languages: strings translated, review state, whether mail uses it."""
    ordered = sorted(states, key=lambda s: (s.code != "en", not s.sendable, s.code))
    total = max((s.total for s in ordered), default=0)
    lines = [
        f"languages ({total} strings in the messages recipients read; staff alerts are "
        "English only):"
    ]
    for state in ordered:
        name = english_name(state.code)
        where = "templates" if state.code == "en" else "catalog" if state.shipped else ""
        if state.tab_strings:
            where = f"{where} + tab" if where else "tab"
        review = "source" if state.code == "en" else state.review
        if state.sendable:
            used = "sent" + (f"; {state.missing} strings in English" if state.missing else "")
        elif state.problem:
            used = "not sent: the catalog cannot be read"
        elif state.code == "en":
            used = "sent"
        else:
            used = (
                f'not sent: list "{state.code}" in [languages] use, or mark {name} reviewed '
                "in the Translations tab"
            )
        counts = f"{state.translated:>3}/{state.total} {state.percent:>3}%"
        lines.append(f"  {state.code:<8} {name:<20} {counts}  {review:<9} {where:<13} {used}")
    return lines


def agreement_notice(settings: Settings, today: dt.date) -> str | None:
    """A warning from AGREEMENT_WARNING_DAYS before the agreement ends, and after it."""
    end = settings.agreement_end
    left = (end - today).days
    if left < 0:
        return agreement_ended(end)
    if left <= AGREEMENT_WARNING_DAYS:
        return (
            f"the agreement ends on {day_words(end)} (in {left} days); after "
            "that no job sends anything. If it is renewed, set the new end under "
            "[agreement] end in the config"
        )
    return None


def _state_dir_problem(settings: Settings) -> str | None:
    """Why the state folder (ledger, lock file, errors.log) cannot be written, or None.

    `check` writes nothing that stays: it probes the state folder, or the nearest folder
    above it that exists, with a temporary file it removes at once.
    """
    folder = settings.state_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
        import tempfile

        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        return (
            f"{settings.path}: state_dir {settings.state_dir} cannot be used ({explain(err)}); "
            "point state_dir at a folder this user can write"
        )
    return None


def header_warnings(spreadsheet: str, table: Table) -> list[str]:
    """Headers that look like a known column the tab lacks ("did you mean"), and absent
    columns that decide who is mailed (every row then reads as if the cell were blank)."""
    where = f"spreadsheet {spreadsheet}, tab '{table.title}'"
    lines = [
        f"{where}: header '{miss.found}': did you mean '{miss.expected}'? Until it is "
        "renamed (case and spacing do not matter) that column is not read"
        for miss in table.near_misses
    ]
    lines += [
        f"{where} has no '{column.name}' column, which decides who is mailed; every row "
        "is read as if it were blank"
        for column in table.spec.columns
        if column.controls and column.name not in table.present
    ]
    return lines


def cmd_init(args: argparse.Namespace) -> int:
    """Write a demo setup into a folder, or set up the configured Google spreadsheets."""
    if args.demo is None:
        from automations.sheets.google_init import init_configured

        for line in init_configured(_settings(args.config)):
            print(line)
        return EXIT_OK
    from automations.demo import demo_files, holds_project, init_demo

    folder = args.demo.absolute()
    if holds_project(folder):
        raise ConfigError(
            f"init --demo {folder}: this folder holds the project's own files; nothing was "
            f"written. Give a new or empty folder, e.g. init --demo {folder / 'demo'}"
        )
    existed = [path for path in demo_files(folder) if path.exists()]
    next_step = f"Next: python jobs.py --config {folder / 'jobs.toml'} run all"
    if len(existed) == len(demo_files(folder)):
        raise ConfigError(
            f"init --demo {folder}: a demo is already there "
            f"({', '.join(p.name for p in existed)}); nothing was changed. Use it "
            f"(python jobs.py --config {folder / 'jobs.toml'} run all), or give a new folder"
        )
    try:
        init_demo(folder, dt.date.today())
    except OSError as err:
        raise ConfigError(
            f"init --demo {folder}: cannot write the demo there ({explain(err)}); "
            "give a new or empty folder this user can write"
        ) from None
    if existed:
        print(
            f"Demo completed in {folder}: {', '.join(p.name for p in existed)} already "
            "there and left unchanged; the missing files were written. " + next_step
        )
    else:
        print(f"Demo written to {folder}. {next_step}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Write the tracker's figures as a standalone HTML page (reads only)."""
    from automations.ledger import Ledger
    from automations.report import write_report

    _check_report_path(args.out)
    settings = _settings(args.config, args.today)
    ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
    now = dt.datetime.now(settings.timezone)
    if args.today is not None:
        now = dt.datetime.combine(args.today, now.time(), settings.timezone)
    try:
        out = write_report(
            settings, lambda name: open_spreadsheet(settings, name), ledger, now, args.out
        )
    except OSError as err:
        if not _about(err, args.out):
            raise
        raise ConfigError(
            f"report --out {args.out.absolute()}: cannot write the page there ({explain(err)}); "
            "give a file name this user can write, e.g. mou-report.html"
        ) from None
    print(f"MOU tracker report written to {out}")
    return EXIT_OK


def cmd_translations(args: argparse.Namespace) -> int:
    """`translations sync`: bring the Translations tab's English up to date."""
    from automations import catalogs, translations
    from automations.translations import TAB as TRANSLATIONS_TAB

    settings = _settings(args.config)
    if "family" not in settings.spreadsheets:
        raise ConfigError(
            f"{settings.path}: the Translations tab lives in the family spreadsheet; "
            "add [sheets.spreadsheets.family]"
        )
    spreadsheet = open_spreadsheet(settings, "family")
    sources = catalogs.sources()
    with RunLock(settings.state_dir / "jobs.lock"):
        table = spreadsheet.read([translations.TRANSLATIONS]).get(TRANSLATIONS_TAB)
        plan = translations.plan_sync(table, "family", sources)
        for line in plan.problems:
            print(f"warning: {line}")
        where = f"{spreadsheet.describe()}, tab '{settings.names.tab(TRANSLATIONS_TAB)}'"
        if args.dry_run:
            print(f"{where}: would write {plan.summary()} (dry run: nothing written)")
            return EXIT_OK
        if table is None:
            shipped = catalogs.shipped()
            spreadsheet.replace_tab(TRANSLATIONS_TAB, translations.new_tab(sources, shipped))
            print(f"{where}: created with {len(plan.new_rows)} strings and a column per language")
            return EXIT_OK
        dropped = spreadsheet.write(
            plan.writes, {TRANSLATIONS_TAB: translations.TRANSLATIONS}, None
        )
    print(f"{where}: {plan.summary()}")
    if dropped:
        print(f"warning: {len(dropped)} cell(s) not written: rows changed meanwhile; run again")
        return EXIT_FAILED
    return EXIT_OK


def _about(err: OSError, out: Path) -> bool:
    """Whether `err` is about `out` or a path under or above it (not, say, a workbook)."""
    if err.filename is None:
        return False
    failed = Path(err.filename).absolute()
    target = out.absolute()
    return failed == target or target in failed.parents or failed in target.parents


def _check_report_path(out: Path) -> None:
    """Refuse a folder, and never overwrite a file that is not an HTML page."""
    if out.is_dir():
        raise ConfigError(
            f"report --out {out.absolute()} is a folder; give a file name, e.g. "
            f"{out.absolute() / 'mou-report.html'}"
        )
    if out.exists() and out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(
            f"report --out {out.absolute()} is an existing file that is not an .html page; "
            "it is left alone: give a name ending in .html"
        )


def cmd_resources(args: argparse.Namespace) -> int:
    """Write the flyers (reads only)."""
    from automations.flyers import write_flyers

    settings = _settings(args.config, args.today)
    if "family" not in settings.spreadsheets:
        raise ConfigError(
            f"{settings.path}: the Resources tab lives in the family spreadsheet; "
            "add [sheets.spreadsheets.family]"
        )
    today = args.today or dt.datetime.now(settings.timezone).date()
    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"resources --out {args.out} is a file; give a folder, e.g. flyers")
    try:
        paths = write_flyers(settings, open_spreadsheet(settings, "family"), today, args.out)
    except OSError as err:
        if not _about(err, args.out):
            raise
        raise ConfigError(
            f"resources --out {args.out}: cannot write there ({explain(err)}); "
            "give a folder this user can write"
        ) from None
    if not paths:
        print("No flyers: no region has a verified entry with a phone or website to show")
        return EXIT_OK
    print(f"{len(paths)} flyer(s) written to {args.out}: {', '.join(p.name for p in paths)}")
    return EXIT_OK


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "preview": cmd_preview,
    "check": cmd_check,
    "init": cmd_init,
    "schedule": cmd_schedule,
    "report": cmd_report,
    "translations": cmd_translations,
    "resources": cmd_resources,
}


def collect_less_often() -> None:
    """Tune the garbage collector for a run: it reads tens of thousands of rows that live
    until it ends, and with the default thresholds the collector rescans them hundreds of
    times (2 of a 75,000-row dry run's 6 CPU seconds on Google Sheets)."""
    gc.set_threshold(100_000, 50, 1000)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    collect_less_often()
    # Our own handler on our logger: one line per event on the current stderr (cron mails it).
    logger = logging.getLogger("automations")
    for handler in [h for h in logger.handlers if getattr(h, "_jobs_cli", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
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
    except Exception as err:  # the one last-resort guard: a bug becomes one line
        return _crashed(args, argv, err)


def _crashed(args: argparse.Namespace, argv: list[str], error: Exception) -> int:
    """One line on stderr, the traceback in errors.log, and the admin told if a run crashed."""
    try:
        settings: Settings | None = load_settings(args.config)
    except Exception:  # the configuration may be what is broken
        settings = None
    command = "jobs.py " + " ".join(argv)
    log_file = record_crash(settings.state_dir if settings else None, error, command)
    line = crash_line(error, log_file)
    print(f"error: {line}", file=sys.stderr)
    if log_file is None:
        traceback.print_exception(error)
    started = args.command == "schedule" or (
        args.command == "run" and not getattr(args, "dry_run", False)
    )
    if settings is not None and started:
        try:
            _alert_startup(settings, getattr(args, "job", args.command), line, "crashed")
        except Exception as again:  # never a second traceback
            record_crash(settings.state_dir, again, f"{command} (alerting the admin)")
    return EXIT_FAILED
