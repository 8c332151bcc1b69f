"""The family-engagement spreadsheet: its Families and Webinars tabs, how their rows
are read, and how family mail is signed.

Family mail is read on shared phones: the name it comes from and its footer must not
label the family. Jobs that mail families share the tab, its reading (one status per
address, an opt-out on any row wins) and the signature (a neutral `sender_name`, a
`footer` per language).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automations.cells import is_placeholder, strip_bidi
from automations.config import Options, Settings
from automations.errors import ConfigError, RowProblem
from automations.jobs.declare import columns
from automations.jobs.directory import Directory
from automations.jobs.events import Event, EventRow, read_events
from automations.jobs.people import Fields, Person, read_people
from automations.jobs.rows import Reading, day_words, language_codes, row_ref
from automations.languages import Language, parse_language
from automations.mou import REQUIRED_SECTIONS
from automations.plan import JobInput
from automations.sheets.contract import CellWrite, Column, Row, TabSpec
from automations.unsubscribe import UNSUBSCRIBES, requests

SHEET = "family"
# The optional columns of where a family is and of emergency-contact outreach: its School
# and Region (help near them, job resources; the tracker's breakdown), the day contacts
# were last updated, a preparedness plan (a date or Yes/No), and what family-outreach did
# (its own status column, so it never fights the webinar job over Status).
OUTREACH_COLUMNS = columns(
    "School",
    "Region",
    "Emergency Contacts Updated",
    "Preparedness Plan",
    "Contacts Reminded+",
    "Contacts Status+",
)
FAMILIES = TabSpec(
    "Families",
    columns("Email*", "Name", "Language", "Opted Out!", *OUTREACH_COLUMNS, "Status+"),
    key="Email",
    fingerprint=("Name",),
)
# Optional: each school's region, so staff can fill in a family's School instead.
SCHOOLS = TabSpec("Schools", columns("School*", "Region*"), key="School", optional=True)
DEFAULT_SENDER_NAME = "LAUSD Family Engagement"
WEBINARS = TabSpec(
    "Webinars",
    columns(
        *("Webinar ID", "Title*", "Date*", "Start Time*", "End Time", "Language", "Join Link*"),
        *(f"{column}*" for column, _ in REQUIRED_SECTIONS),
        "Other Topics",
        # Languages interpreted live ("Spanish, Korean"): each of those batches says so
        # in its own language, the others list them.
        "Interpretation",
        Column("Cancelled", controls=True, aliases=("Canceled",)),
        *("Agenda Sent+", "Reminder Sent+", "Recipients+", "Status+"),
    ),
    key="Webinar ID",
    fingerprint=("Title", "Date", "Start Time"),
)


def read_families(given: JobInput[Any], directory: Directory | None = None) -> Reading[Person]:
    """Families to mail (one per address, by address); `opted_out` holds those who asked
    not to be mailed, on the tab or by replying to stop (automations/unsubscribe.py). With
    the `directory`, each family's `fields["region"]` says where it lives ("" when unknown;
    a value that is no region is a note in its status)."""
    reading = read_people(
        given,
        SHEET,
        FAMILIES,
        consent="Opted Out",
        mailed="Receives mail in {language}",
        not_mailed="Opted out: never mailed",
        who="parent",
        fields=family_regions(given, directory) if directory is not None else None,
    )
    asked = requests(given.others.get(UNSUBSCRIBES))
    if not asked:
        return reading
    table = given.table(SHEET, FAMILIES.name)
    assert table is not None
    for person in [p for p in reading.items if p.address in asked]:
        request = asked[person.address]
        rows = [r for r in table if r.text("Email").casefold() == person.address]
        if any(r.text("Opted Out").casefold() in ("no", "n", "false") for r in rows):
            continue  # a person set No: staff decided this family keeps getting mail
        reading.items.remove(person)
        reading.opted_out.add(person.address)
        received = request.received.astimezone(given.settings.timezone)
        status = (
            f'Opted out: replied "{request.word}" on {day_words(received.date())} at '
            f"{received:%-I:%M %p}; never mailed (set Opted Out to No to mail them again)"
        )
        for row in rows:
            ref = row_ref(FAMILIES, row)
            reading.writes.append(CellWrite(SHEET, ref, "Opted Out", "Yes"))
            reading.status(SHEET, ref, status)
    return reading


def read_schools(given: JobInput[Any]) -> dict[str, str]:
    """The optional Schools tab: region by school (casefolded); rows missing either skipped."""
    table = given.table(SHEET, SCHOOLS.name)
    found: dict[str, str] = {}
    for row in table or ():
        school = " ".join(row.text("School").split()).casefold()
        if school and row.text("Region") and school not in found:
            found[school] = row.text("Region")
    return found


def school_and_region(row: Row, schools: Mapping[str, str]) -> tuple[str, str]:
    """A family row's School (spacing tidied) and Region as typed, else its School's region
    on the Schools tab (`schools`, as `read_schools` gives it); '' for either not known."""
    school = " ".join(row.text("School").split())
    region = row.text("Region") or (schools.get(school.casefold(), "") if school else "")
    return school, region


def family_regions(given: JobInput[Any], directory: Directory) -> Fields:
    """Reads a family row's `region` (its Region, else its School's on the Schools tab) and
    `school`; a region that is not configured, or a school not on the tab, is a note."""
    schools = read_schools(given)

    def fields(row: Row) -> tuple[dict[str, str], list[str]]:
        school, raw = school_and_region(row, schools)
        notes = []
        if not raw and school:
            notes.append(f'School "{school}" is not on the Schools tab, so no region')
        region = directory.region(raw) if raw else ""
        if region is None:
            region = ""
            notes.append(f'Region "{raw}" is not one of: {", ".join(directory.regions)}')
        return {"region": region, "school": school}, notes

    return fields


@dataclass(frozen=True, kw_only=True)
class Webinar(Event):
    """A webinar row read and checked (coverage is checked separately)."""

    title: str
    language: Language | None
    join_link: str
    sections: dict[str, str]
    other_topics: str
    # Codes of the languages interpreted live (the Interpretation column).
    interpretation: tuple[str, ...] = ()

    @property
    def missing(self) -> list[str]:
        """The required sections (column names) with no agenda text. Placeholder text
        (TBD, N/A, -, pending, por definir, ...) does not cover a topic MOU 7.0 requires."""
        return [
            column
            for column, key in REQUIRED_SECTIONS
            if not self.sections[key] or is_placeholder(self.sections[key])
        ]

    @property
    def missing_words(self) -> str:
        """The missing sections for a status: 'Know Your Rights ("TBD" is a placeholder)'."""
        words = []
        for column, key in REQUIRED_SECTIONS:
            if column in self.missing:
                held = self.sections[key]
                words.append(f'{column} ("{held}" is a placeholder)' if held else column)
        return ", ".join(words)

    def identity(self) -> dict[str, str]:
        """What the ledger keeps about a webinar whose agenda went out: enough to find its
        row again if the Webinar ID is lost, and to name it if the row disappears."""
        return {**super().identity(), "title": self.title}

    def context(self) -> dict[str, Any]:
        """Template variables describing the webinar."""
        return {
            "id": self.id,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "join_link": self.join_link,
            "sections": dict(self.sections),
            "other_topics": self.other_topics,
            "interpretation": list(self.interpretation),
            # The language the session is given in: a blank Language means English.
            "language": self.language.code if self.language is not None else "en",
        }


def _webinar(row: EventRow) -> Webinar:
    if not row.text("Title"):
        raise RowProblem("Title is blank")
    start, end = row.times()
    language = None
    if row.text("Language"):
        language = parse_language(row.text("Language"))
        if language is None:
            raise RowProblem(
                f'Language "{row.text("Language")}" is not a language we recognise '
                "(leave it blank to invite every family in their own language)"
            )
    link = row.link("Join Link", required=True)
    return Webinar(
        **row.base,
        start=start,
        end=end,
        title=row.text("Title"),
        language=language,
        join_link=link,
        sections={key: row.text(column) for column, key in REQUIRED_SECTIONS},
        other_topics=row.text("Other Topics"),
        interpretation=read_interpretation(row.text("Interpretation")),
        cancelled=row.cancelled(),
    )


def read_interpretation(value: str) -> tuple[str, ...]:
    """Codes of the languages in an Interpretation cell ("Spanish, Korean"; "es / ko")."""
    return language_codes(
        value, "Interpretation", 'list the interpreted languages, e.g. "Spanish, Korean"'
    )


def read_webinars(given: JobInput[Any], minutes: int) -> Reading[Webinar]:
    """Webinars whose rows are usable; bad rows get an Error status."""
    return read_events(
        given, SHEET, WEBINARS, kind="webinar", prefix="WB", minutes=minutes, parse=_webinar
    )


@dataclass(frozen=True)
class Signature:
    """The From and visible To name of family mail, and its footer line by language code
    ("*": every language; none: the template's own line in the family's language)."""

    sender_name: str = DEFAULT_SENDER_NAME
    footers: Mapping[str, str] | None = None

    def family(self, language: Language) -> dict[str, str]:
        """What family templates need to sign a message in `language`."""
        footers = self.footers or {}
        return {
            "sender": self.sender_name,
            "footer": footers.get(language.code, footers.get("*", "")),
        }


def read_signature(settings: Settings, job_name: str, reader: Options) -> Signature:
    """`sender_name` and `footer` of [jobs.<job>] (a footer per language, or one for all)."""
    name, footers = _sender_name(settings, job_name, reader), _footers(settings, job_name, reader)
    return Signature(name, footers)


def _sender_name(settings: Settings, job_name: str, reader: Options) -> str:
    name = " ".join(strip_bidi(reader.string("sender_name", DEFAULT_SENDER_NAME)).split())
    if not name:
        raise ConfigError(
            f"{settings.path}: jobs.{job_name}.sender_name must not be blank, "
            f'e.g. "{DEFAULT_SENDER_NAME}"'
        )
    return name


def _footers(settings: Settings, job_name: str, reader: Options) -> dict[str, str]:
    """`footer = "..."` (every language) or `footer = { en = "...", es = "..." }`."""
    value = reader.raw("footer")
    where = f"{settings.path}: jobs.{job_name}.footer"
    if value is None:
        return {}
    if isinstance(value, str):
        return {"*": " ".join(value.split())}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(
            f'{where} must be text in quotes, or one per language: {{ en = "...", es = "..." }}'
        )
    footers = {}
    for key, text in value.items():
        language = parse_language(str(key))
        if language is None:
            raise ConfigError(f'{where}.{key}: "{key}" is not a language we recognise')
        footers[language.code] = " ".join(text.split())
    return footers
