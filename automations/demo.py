"""A self-contained demo: workbooks dated relative to the day they are made, and a config."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

from automations import PROJECT_ROOT
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
create_when_missing = false        # the workbooks are here; `init --demo DIR` rewrites missing ones

[sheets]
backend = "workbook"

[sheets.spreadsheets.committee]
path = "committee.xlsx"

[sheets.spreadsheets.family]
path = "family.xlsx"

[sheets.spreadsheets.pd]
path = "pd.xlsx"

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

[jobs.committee-followup]
schedule = "daily at 07:15"
notice_days = 3
cooldown_days = 7

[jobs.pd-reminders]
schedule = "weekdays at 06:30"
cooldown_days = 14
reminder_limit = 6
pd_contact = "pd-office@example.org"

[jobs.webinar-agendas]
schedule = "daily at 07:30"
agenda_lead_days = 7
reminder_days = 1
owner = ["family-engagement@example.org"]

[jobs.family-outreach]
schedule = "weekdays at 08:00"
ask_month = 7
remind_days = 14
portal_link = "https://parents.example.org/portal"

[jobs.resources]
schedule = "daily at 07:45"
regions = ["North", "East", "South", "West"]
verify_days = 180
owner = ["family-engagement@example.org"]

[jobs.mou-tracker]
schedule = "monthly on day 1 at 07:00"
owners = ["cochair.district@example.org", "cochair.utla@example.org"]
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


def _recommendations(today: dt.date) -> list[tuple[object, ...]]:
    """Recommendations in every situation: due soon, overdue, later, done, none reminded yet."""

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).strftime("%-m/%-d/%Y")

    return [
        (
            *("Recommendation ID", "Raised On", "Recommendation", "Area", "Owner Email", "Due"),
            *("Progress", "Notes"),
        ),
        (
            "",
            day(-75),
            "Translate the Know Your Rights flyer into Zapotec, Mixteco and K'iche'",
            "Indigenous-language resources",
            "mj.hernandez@example.org",
            day(2),
            "In progress",
            "Two translators found through the Mixteco/Indígena Community Organizing Project",
        ),
        (
            "",
            day(-75),
            "Partner with a legal aid clinic for monthly Know Your Rights sessions at SEPA sites",
            "Legal partnerships",
            "t.aguilar@example.org",
            day(-10),
            "Open",
            "",
        ),
        (
            "",
            day(-30),
            "Open a family resource center in each region, with Spanish and Korean staff",
            "Resource centers",
            "a.ruiz@example.org",
            day(45),
            "",
            "",
        ),
        (
            "",
            day(-90),
            "Add a Family Resources PD session for classified staff",
            "PD",
            "d.washington@example.org",
            day(-20),
            "Done",
            "Held at three sites",
        ),
        (
            "",
            day(-20),
            "Interpretation into every family language at each webinar",
            "Family webinars",
            "h.park@example.org",
            day(30),
            "Open",
            "",
        ),
    ]


def _pd(today: dt.date) -> dict[str, list[tuple[object, ...]]]:
    """PD sessions around today, staff in every situation, and registrations."""

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).strftime("%-m/%-d/%Y")

    def done(offset: int) -> str:
        return (today - dt.timedelta(days=offset)).isoformat()

    zoom = "https://lausd.zoom.example.org/j/5550"
    signup = "https://pd.example.org/register?session="
    sessions: list[tuple[object, ...]] = [
        (
            "Session ID",
            "Topic",
            "Title",
            "Date",
            "Start Time",
            "End Time",
            "Location",
            "Join Link",
            "Registration Link",
        ),
        (
            "PD-101",
            "Safe Zones",
            "Safe Zones and Resource Centers",
            day(1),
            "3:30 PM",
            "5 PM",
            "Roosevelt HS Library",
            "",
            signup + "PD-101",
        ),
        (
            "PD-102",
            "5b",
            "Know the rights of immigrant students",
            day(8),
            "3:30 PM",
            "5 PM",
            "",
            zoom + "102",
            signup + "PD-102",
        ),
        (
            "PD-103",
            "enforcement and confidentiality",
            "",
            day(15),
            "4 PM",
            "5:30 PM",
            "Beaudry Building, Room 16-110",
            zoom + "103",
            "",
        ),
        (
            "PD-104",
            " SAFE  zones ",
            "Safe Zones (repeat)",
            day(22),
            "15:30",
            "17:00",
            "Garfield HS Auditorium",
            "",
            signup + "PD-104",
        ),
        (
            "PD-090",
            "Family Resources",
            "Resources for families",
            day(-10),
            "3:30 PM",
            "5 PM",
            "Online",
            zoom + "090",
            "",
        ),
        ("", "Parent outreach", "Not one of the four topics", day(9), "3:30 PM", "", "", "", ""),
        ("PD-105", "5d", "Family Resources fair", "sometime in spring", "3:30 PM", "", "", "", ""),
    ]
    staff: list[tuple[object, ...]] = [
        (
            "Employee ID",
            "Name",
            "Email",
            "Site",
            "Active",
            "Language",
            "Safe Zones",
            "Immigration Rights",
            "Enforcement & Confidentiality",
            "Family Resources",
            "Last Reminded",
            "Reminders Sent",
        ),
        (
            "E1001",
            "Ana Morales",
            "a.morales@example.org",
            "Roosevelt HS",
            "Yes",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ),
        (
            "E1002",
            "Luis Ortega",
            "l.ortega@example.org",
            "Garfield HS",
            "Yes",
            "Español",
            done(40),
            "",
            "",
            "",
            "",
            "",
        ),
        (
            "E1003",
            "Priya Raman",
            "p.raman@example.org",
            "Belmont HS",
            "",
            "",
            done(60),
            done(30),
            done(20),
            "",
            done(20),
            2,
        ),
        (
            "E1004",
            "James Carter",
            "j.carter@example.org",
            "Lincoln HS",
            "Yes",
            "",
            done(90),
            done(80),
            done(70),
            done(60),
            "",
            "",
        ),
        (
            "E1005",
            "Mei Chen",
            "m.chen@example.org",
            "Roosevelt HS",
            "Yes",
            "",
            "",
            done(10),
            "",
            "",
            done(3),
            1,
        ),
        (
            "E1006",
            "Oscar Villa",
            "o.villa@example.org",
            "Garfield HS",
            "Yes",
            "",
            "",
            "",
            "",
            "",
            done(30),
            6,
        ),
        ("E1007", "Maria Lopez", "maria@", "Belmont HS", "Yes", "", "", "", "", "", "", ""),
        (
            "E1008",
            "Former Teacher",
            "former@example.org",
            "Lincoln HS",
            "No",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ),
    ]
    registrations: list[tuple[object, ...]] = [
        ("Session ID", "Employee ID", "Email"),
        ("PD-101", "E1001", ""),
        ("PD-101", "", "substitute.teacher@example.org"),
        ("PD-102", "E1002", ""),
    ]
    return {"Sessions": sessions, "Staff": staff, "Registrations": registrations}


def _family(today: dt.date) -> dict[str, Sequence[Sequence[object]]]:
    """Webinars in every state and families in many languages."""

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).strftime("%-m/%-d/%Y")

    zoom = "https://lausd.zoom.example.org/j/7770"
    prepared = "Make a family plan: who picks up your children, important papers, phone numbers."
    one = "We Are One: free legal help, food banks and counseling near you."
    rights = "Know Your Rights: what to do if an officer comes to your door or your school."
    webinars: list[tuple[object, ...]] = [
        (
            "Webinar ID",
            "Title",
            "Date",
            "Start Time",
            "End Time",
            "Language",
            "Join Link",
            "Family Preparedness",
            "We Are One",
            "Know Your Rights",
            "Other Topics",
            "Cancelled",
        ),
        (
            "",
            "Keeping your family ready",
            day(3),
            "6 PM",
            "7 PM",
            "",
            zoom + "01",
            prepared,
            one,
            rights,
            "Questions and answers",
            "No",
        ),
        (
            "",
            "Conozca sus derechos en la escuela",
            day(5),
            "6:30 PM",
            "7:30 PM",
            "Español",
            zoom + "02",
            "Haga un plan familiar.",
            "Ayuda gratis cerca de usted.",
            "Qué hacer si un agente llega a su puerta.",
            "",
            "No",
        ),
        (
            "",
            "Family preparedness night",
            day(4),
            "5:30 PM",
            "6:30 PM",
            "",
            zoom + "03",
            prepared,
            one,
            "",
            "",
            "No",
        ),
        (
            "",
            "Spring family academy",
            day(30),
            "6 PM",
            "",
            "",
            zoom + "04",
            prepared,
            one,
            rights,
            "",
            "No",
        ),
        (
            "",
            "Back-to-school rights",
            day(6),
            "6 PM",
            "",
            "",
            zoom + "05",
            prepared,
            one,
            rights,
            "",
            "Yes",
        ),
    ]
    # School and the emergency-contact columns (family-outreach, MOU 6.b): updated this
    # school year, last year (asked again), never, a typo, and a preparedness plan.
    this_year = _school_year_start(today)
    updated = (this_year + dt.timedelta(days=20)).strftime("%-m/%-d/%Y")
    last_year = (this_year - dt.timedelta(days=100)).strftime("%-m/%-d/%Y")
    families: list[tuple[object, ...]] = [
        (
            *("Email", "Name", "Language", "Opted Out", "Region", "School"),
            *("Emergency Contacts Updated", "Preparedness Plan"),
        ),
        ("rosa.garcia@example.org", "Rosa García", "Spanish", "", "East", "", updated, "Yes"),
        ("jose.martinez@example.org", "José Martínez", "Español", "No", "", "Roosevelt HS", "", ""),
        ("carmen.diaz@example.org", "Carmen Díaz", "es", "", "South", "", last_year, ""),
        ("kim.family@example.org", "Kim family", "English", "", "", "Roosevelt HS", "", "No"),
        ("smith.household@example.org", "Smith household", "", "", "", "", "soon", ""),
        ("minjun.lee@example.org", "Min-jun Lee", "Korean", "", "West", "", "", ""),
        (
            "nguyen.family@example.org",
            "Nguyen family",
            "Vietnamese",
            "",
            "",
            "Banning HS",
            updated,
            updated,
        ),
        ("not.me@example.org", "Opted-out parent", "English", "Yes", "East", "", "", ""),
        ("ROSA.GARCIA@example.org", "Rosa García (second row)", "Spanish", "", "East", "", "", ""),
        ("tia@", "Typo family", "Spanish", "", "", "", "", ""),
    ]
    return {
        "Webinars": webinars,
        "Families": families,
        "Resources": _resources(today),
        "Schools": [("School", "Region"), ("Roosevelt HS", "East"), ("Banning HS", "South")],
        "Translations": _translations(),
    }


def _resources(today: dt.date) -> list[tuple[object, ...]]:
    """A directory in every state: shown, stale (asked to confirm), unreachable, bad rows."""

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).strftime("%-m/%-d/%Y")

    return [
        (
            *("Name", "Kind", "Region", "Address", "Phone", "Hours", "Languages", "Cost"),
            *("Website", "Contact Email", "Verified On"),
        ),
        (
            "Eastside Immigrant Legal Clinic",
            "Legal services",
            "East",
            "2130 E 1st St, Los Angeles, CA 90033",
            "(213) 555-0142",
            "Mon–Fri 9 AM–5 PM",
            "English, Spanish",
            "Free",
            "https://legal-east.example.org",
            "intake@legal-east.example.org",
            day(-30),
        ),
        (
            "Roosevelt Family Resource Center (SEPA)",
            "resource center/SEPA",
            "East",
            "456 S Mathews St, Los Angeles, CA 90033",
            "213-555-0177",
            "Mon–Thu 8 AM–4 PM",
            "English, Spanish",
            "Free",
            "",
            "",
            day(-60),
        ),
        (
            "Clínica Comunitaria del Este",
            "health (FQHC)",
            "East",
            "3945 Whittier Blvd, Los Angeles, CA 90023",
            "(323) 555-0190",
            "Mon–Sat 8 AM–7 PM",
            "Spanish, English",
            "Sliding scale",
            "www.clinica-este.example.org",
            "",
            day(-10),
        ),
        (
            "South LA Food Pantry",
            "food",
            "South",
            "8400 S Vermont Ave, Los Angeles, CA 90044",
            "(323) 555-0110",
            "Saturdays 9 AM–12 PM",
            "English, Spanish",
            "Free",
            "",
            "",
            day(-90),
        ),
        (
            "Westside Counseling Center",
            "mental health",
            "West",
            "11500 W Pico Blvd, Los Angeles, CA 90064",
            "(310) 555-0133",
            "Tue–Sat 10 AM–6 PM",
            "English, Korean",
            "Low cost",
            "https://counsel-west.example.org",
            "office@counsel-west.example.org",
            day(-400),
        ),
        (
            "Valley Adult School ESL",
            "adult education/ESL",
            "North",
            "6200 Van Nuys Blvd, Van Nuys, CA 91401",
            "",
            "Evenings",
            "English, Spanish, Armenian",
            "Free",
            "",
            "",
            day(-20),
        ),
        (
            "Harbor Housing Help",
            "housing",
            "South",
            "",
            "555-0199",
            "",
            "English",
            "Free",
            "",
            "",
            day(-5),
        ),
        (
            "Downtown Legal Aid",
            "legal",
            "Central",
            "",
            "(213) 555-0100",
            "",
            "",
            "",
            "",
            "",
            day(-5),
        ),
    ]


def _school_year_start(today: dt.date) -> dt.date:
    """July 1 of the school year `today` falls in."""
    return dt.date(today.year if today.month >= 7 else today.year - 1, 7, 1)


def _translations() -> list[list[str]]:
    """The Translations tab as `translations sync` makes it: every string, no translation
    typed yet (blank cells use the shipped catalogs)."""
    from automations import catalogs
    from automations.translations import new_tab

    return new_tab(catalogs.sources(), catalogs.shipped())


def _write_workbook(path: Path, tabs: dict[str, Sequence[Sequence[object]]]) -> None:
    # openpyxl (~0.1 s to import) only when a demo workbook is actually written.
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

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
    return {
        "committee": {
            "Members": MEMBERS,
            "Meetings": _meetings(today),
            "Recommendations": _recommendations(today),
        },
        "family": _family(today),
        "pd": _pd(today),
    }


# Where config/jobs.toml, as shipped, puts the demo (relative to the config file). Only
# these paths are ever filled with a demo: a mistyped production path must be an error,
# not a new demo workbook whose invitations then go out.
SHIPPED_DEMO_PATHS = {name: f"../var/demo/{name}.xlsx" for name in ("committee", "family", "pd")}


def is_shipped_demo_path(settings: Settings, name: str) -> bool:
    """True when spreadsheet `name` is configured at the shipped demo path, as typed."""
    sheets = settings.raw.get("sheets", {})
    entry = sheets.get("spreadsheets", {}).get(name, {}) if isinstance(sheets, dict) else {}
    typed = entry.get("path") if isinstance(entry, dict) else None
    return isinstance(typed, str) and Path(typed).as_posix() == SHIPPED_DEMO_PATHS.get(name)


def missing_demo_workbooks(settings: Settings) -> list[Path]:
    """Demo workbooks the first `run` would create (shipped paths, files not there yet)."""
    if not settings.create_demo_when_missing or settings.sheets_backend != "workbook":
        return []
    return [
        config.path
        for name, config in settings.spreadsheets.items()
        if config.path is not None
        and not config.path.exists()
        and is_shipped_demo_path(settings, name)
    ]


def create_missing_workbooks(settings: Settings, today: dt.date) -> list[Path]:
    """Create the demo workbooks that are missing at the shipped demo paths (only there)."""
    created = []
    missing = set(missing_demo_workbooks(settings))
    for name, tabs in demo_workbooks(today).items():
        config = settings.spreadsheets.get(name)
        if config is None or config.path not in missing:
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


def demo_files(folder: Path) -> list[Path]:
    """The files `init --demo` writes into `folder`: jobs.toml and one workbook per sheet."""
    return [folder / "jobs.toml"] + [folder / f"{name}.xlsx" for name in SHIPPED_DEMO_PATHS]


# Files that mark a folder as the project's own (a clone or an unpacked release).
_PROJECT_MARKERS = ("pyproject.toml", "jobs.py", "automations/__init__.py")


def holds_project(folder: Path) -> bool:
    """Whether `folder` holds the project's own files, where a demo must not be written."""
    return folder.resolve() == PROJECT_ROOT or any(
        (folder / marker).exists() for marker in _PROJECT_MARKERS
    )
