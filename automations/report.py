"""`jobs.py report`: the tracker's figures as one standalone, printable HTML page.

The same figures as the `MOU Tracker` tab and the summary email, read the same way
(one read per spreadsheet, ledger read-only), rendered from templates/report/ with
CSS bars and no external assets, so the file can be published or attached as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date, format_datetime

from automations.config import Settings
from automations.jobs import mou_tracker
from automations.ledger import Ledger
from automations.plan import History, JobInput
from automations.render import Renderer
from automations.sheets.backend import Spreadsheet
from automations.tracker import compute

TEMPLATE = "mou_report.html"


def report_dir(settings: Settings) -> Path:
    """Where the report template lives: templates/report next to templates/email."""
    return settings.templates_dir.parent / "report"


def gather(
    settings: Settings,
    open_spreadsheet: Callable[[str], Spreadsheet],
    ledger: Ledger,
    now: dt.datetime,
) -> JobInput:
    """Read the tracker's tabs (one read per spreadsheet) and the other jobs' history."""
    job = mou_tracker.JOB
    tables = {
        sheet: open_spreadsheet(sheet).read(list(specs))
        for sheet, specs in job.tabs(settings).items()
    }
    return JobInput(
        tables=tables,
        today=now.date(),
        now=now,
        settings=settings,
        options=job.options(settings),
        history=History(),
        languages=Renderer(settings.templates_dir, use=settings.languages_use).languages,
        others={name: ledger.history(name) for name in job.histories},
    )


def render_report(templates: Path, context: Mapping[str, Any]) -> str:
    """The report page for summary `context` (see mou_tracker.summary_context)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = lambda value, form="long": format_date(value, form, locale="en_US")
    env.filters["datetime"] = lambda value: format_datetime(
        value, "long", tzinfo=value.tzinfo, locale="en_US"
    )
    return env.get_template(TEMPLATE).render(context)


def write_report(
    settings: Settings,
    open_spreadsheet: Callable[[str], Spreadsheet],
    ledger: Ledger,
    now: dt.datetime,
    out: Path,
) -> Path:
    """Compute the figures now and write the report page to `out`."""
    figures = compute(gather(settings, open_spreadsheet, ledger, now))
    page = render_report(report_dir(settings), mou_tracker.summary_context(figures))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
