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
from automations.planning import Planning, Request
from automations.render import Renderer
from automations.sheets.backend import Spreadsheet
from automations.tracker import compute
from automations.tracker_views import summary_context

TEMPLATE = "mou_report.html"


def report_dir(settings: Settings) -> Path:
    """Where the report template lives: templates/report next to templates/email."""
    return settings.templates_dir.parent / "report"


def gather(
    settings: Settings,
    open_spreadsheet: Callable[[str], Spreadsheet],
    ledger: Ledger,
    now: dt.datetime,
) -> JobInput[mou_tracker.TrackerOptions]:
    """The tracker's input as a run reads it (one read per spreadsheet, the other jobs'
    history), without its own history: the report sends nothing."""
    job = mou_tracker.JOB
    renderer = Renderer(settings.templates_dir, use=settings.languages_use)
    planning = Planning(settings, open_spreadsheet, ledger, renderer, None, lambda: now)
    return planning.job_input(Request(job, now), planning.read(job), History())


def render_report(templates: Path, context: Mapping[str, Any]) -> str:
    """The report page for summary `context` (see tracker_views.summary_context)."""
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
    page = render_report(report_dir(settings), summary_context(figures))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
