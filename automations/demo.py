"""A self-contained demo: workbooks dated relative to the day they are made, and a config."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

import openpyxl
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from automations.config import Settings

log = logging.getLogger("automations")

DEMO_CONFIG = """\
# Demo configuration written by `python jobs.py init --demo`. Paths are relative to this file.
timezone = "America/Los_Angeles"
state_dir = "state"

[agreement]
start = "2025-07-01"
end = "2028-06-30"
quarters = "calendar"

[demo]
create_when_missing = true

[sheets]
backend = "workbook"

[sheets.spreadsheets.committee]
path = "committee.xlsx"

[mail]
backend = "outbox"
outbox_dir = "outbox"
sender = "Immigrant Support <immigrant-support@example.org>"
organizer = "Immigrant Support Committee <immigrant-support@example.org>"
reply_to = "immigrant-support@example.org"
admin = "mou-admin@example.org"

[jobs.committee-invites]
schedule = "daily at 07:00"
invite_lead_days = 21
reminder_days = 2
co_chairs = ["cochair.district@example.org", "cochair.utla@example.org"]
"""

MEMBERS = [
    ("Name", "Email", "Group", "Appointed By", "Language", "Active"),
    ("Alberto Carvalho-Ruiz", "a.ruiz@example.org", "District", "", "English", "Yes"),
    ("Denise Washington", "d.washington@example.org", "District", "", "", "Yes"),
    ("Hyun-woo Park", "h.park@example.org", "District", "", "English", "Yes"),
    ("Cecily Myart-Cruz Jr.", "c.cruz@example.org", "UTLA", "", "English", "Yes"),
    ("Tomás Aguilar", "t.aguilar@example.org", "UTLA", "", "English", "Yes"),
    ("Nguyễn Thị Lan", "l.nguyen@example.org", "UTLA", "", "English", "Yes"),
    ("María José Hernández", "mj.hernandez@example.org", "Parent", "District", "Español", "Yes"),
    ("Grace Okafor", "g.okafor@example.org", "Parent", "UTLA", "English", "Yes"),
    ("Robert Lee (former member)", "r.lee@example.org", "District", "", "English", "No"),
]


def _meetings(today: dt.date) -> list[tuple[object, ...]]:
    # The first meeting falls inside the 21-day invite window, on a Thursday.
    first = today + dt.timedelta(days=10 + (3 - (today + dt.timedelta(days=10)).weekday()) % 7)
    rows: list[tuple[object, ...]] = [
        (
            "Meeting ID",
            "Date",
            "Start Time",
            "End Time",
            "Location",
            "Online Link",
            "Agenda",
            "Cancelled",
        )
    ]
    agendas = [
        "1. Welcome and introductions\n2. Safe Zones bulletin update\n3. PD completion by site"
        "\n4. Family webinar calendar",
        "1. Review of last quarter\n2. Know Your Rights workshops\n3. Open questions",
        "1. Rapid response procedures\n2. Family resource centers",
        "1. Year in review\n2. Planning next year's webinars",
    ]
    for number, agenda in enumerate(agendas):
        day = first + dt.timedelta(days=91 * number)
        rows.append(
            (
                "",
                day.strftime("%-m/%-d/%Y"),  # typed the way staff type dates
                "4:30 PM" if number % 2 == 0 else "17:00",
                "6 PM" if number % 2 == 0 else "18:30",
                "Beaudry Building, 333 S. Beaudry Ave, Room 16-110",
                "https://lausd.zoom.example.org/j/5550100" if number != 2 else "",
                agenda,
                "No",
            )
        )
    return rows


def _write_workbook(path: Path, tabs: dict[str, Sequence[Sequence[object]]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in tabs.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.freeze_panes = "A2"
        for index, _ in enumerate(rows[0], start=1):
            width = max(len(str(r[index - 1])) for r in rows if len(r) >= index)
            sheet.column_dimensions[get_column_letter(index)].width = min(max(12, width + 2), 48)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def demo_workbooks(today: dt.date) -> dict[str, dict[str, Sequence[Sequence[object]]]]:
    """The demo's spreadsheets by config name, as tab -> rows (header first)."""
    return {"committee": {"Members": MEMBERS, "Meetings": _meetings(today)}}


def create_missing_workbooks(settings: Settings, today: dt.date) -> list[Path]:
    """Create the demo workbooks the config points at but that do not exist yet."""
    created = []
    for name, tabs in demo_workbooks(today).items():
        config = settings.spreadsheets.get(name)
        if config is None or config.path is None or config.path.exists():
            continue
        _write_workbook(config.path, tabs)
        created.append(config.path)
    if created:
        log.info(
            "created demo workbooks (dated from %s): %s",
            today.isoformat(),
            ", ".join(str(p) for p in created),
        )
    return created


def init_demo(folder: Path, today: dt.date) -> Path:
    """Write DIR/jobs.toml and the demo workbooks; return the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "jobs.toml"
    if not config.exists():
        config.write_text(DEMO_CONFIG, encoding="utf-8")
    for name, tabs in demo_workbooks(today).items():
        path = folder / f"{name}.xlsx"
        if not path.exists():
            _write_workbook(path, tabs)
    return config
