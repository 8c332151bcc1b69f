"""`python jobs.py resources --out DIR`: a printable one-page flyer of the Resources tab per
region and language, for families without email (the same entries family mail shows)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from automations.config import Settings
from automations.jobs.directory import RESOURCES, SHEET, help_by_region, near, read_resources
from automations.jobs.resources import options
from automations.plan import History, JobInput
from automations.render import Renderer
from automations.sheets.backend import Spreadsheet

TEMPLATE = "resources_flyer"
# Entries one Letter page holds in two columns; the rest are left to the school office.
PAGE_ENTRIES = 12


def write_flyers(
    settings: Settings, spreadsheet: Spreadsheet, today: dt.date, out: Path
) -> list[Path]:
    """Write `<region>-<language>.html` for each region with entries to show; return them."""
    opts = options(settings)
    table = spreadsheet.read([RESOURCES]).get(RESOURCES.name)
    now = dt.datetime.combine(today, dt.time(12), settings.timezone)
    given = JobInput(
        {SHEET: {RESOURCES.name: table}} if table is not None else {},
        today,
        now,
        settings,
        opts,
        History(),
        frozenset(),
    )
    help = help_by_region(read_resources(given, opts.directory).items, today, opts.directory)
    renderer = Renderer(settings.templates_dir, use=settings.languages_use)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for region in opts.directory.regions:
        if region not in help:
            continue
        for language in opts.flyer_languages:
            groups, room = [], PAGE_ENTRIES
            for group in near(help[region], region, language.code):
                items = group["items"][:room]
                room -= len(items)
                if items:
                    groups.append({**group, "items": items})
            context = {
                "region": region,
                "help_near": groups,
                "left_out": len(help[region]) > PAGE_ENTRIES,
                "today": today,
            }
            page = renderer.render_page(TEMPLATE, language, context)
            slug = "-".join(region.casefold().split())
            path = out / f"{slug}-{language.code}.html"
            path.write_text(page, encoding="utf-8")
            written.append(path)
    return written
