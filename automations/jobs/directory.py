"""The family spreadsheet's `Resources` tab: the directory of help families are pointed to
(MOU 3.0, 4.0, 5.d), shared by the resources job, the webinar agendas, the flyers and the
tracker.

Families see an entry only while it is true: verified within `verify_days`, with a phone
or website that is well formed. Everything else stays on the tab with a status saying why.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from automations.cells import CellValueError, parse_date, parse_email, parse_link
from automations.config import Options, Settings
from automations.errors import ConfigError, RowProblem
from automations.jobs.declare import columns
from automations.jobs.rows import (
    Reading,
    cell,
    day_words,
    duplicates,
    language_codes,
    row_ref,
    rows_phrase,
)
from automations.languages import Language, english_name
from automations.plan import JobInput
from automations.sheets.contract import Row, RowRef, TabSpec

SHEET = "family"
JOB_NAME = "resources"  # the config section that holds the directory's settings
KINDS = (
    "legal services",
    "resource center/SEPA",
    "health (FQHC)",
    "mental health",
    "adult education/ESL",
    "housing",
    "food",
    "other",
)
# Words staff type for a kind ("legal", "SEPA", "clinic", "ESL"), checked in this order.
KIND_WORDS = (
    ("mental", "mental health"),
    ("legal", "legal services"),
    ("sepa", "resource center/SEPA"),
    ("resource", "resource center/SEPA"),
    ("fqhc", "health (FQHC)"),
    ("health", "health (FQHC)"),
    ("clinic", "health (FQHC)"),
    ("esl", "adult education/ESL"),
    ("education", "adult education/ESL"),
    ("housing", "housing"),
    ("food", "food"),
    ("other", "other"),
)
COSTS = ("free", "low cost", "sliding scale")
# LAUSD's regions since 2022; the config's `regions` replaces them.
DEFAULT_REGIONS = ("North", "East", "South", "West")
DEFAULT_VERIFY_DAYS = 180
RESOURCES = TabSpec(
    "Resources",
    columns(
        *("Name*", "Kind*", "Region*", "Address", "Phone", "Hours", "Languages", "Cost"),
        *("Website", "Contact Email", "Verified On", "Confirm Asked+", "Status+"),
    ),
    key="Name",
)
# The webinar agendas and the tracker read the tab when it is there.
OPTIONAL_RESOURCES = TabSpec(RESOURCES.name, RESOURCES.columns, key="Name", optional=True)
PHONE_PUNCTUATION = re.compile(r"[\s().\-/]+")
EXTENSION = re.compile(r"\s*(?:ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Directory:
    """The directory's settings ([jobs.resources] regions and verify_days)."""

    regions: tuple[str, ...] = DEFAULT_REGIONS
    verify_days: int = DEFAULT_VERIFY_DAYS

    def region(self, value: str) -> str | None:
        """The configured region `value` names (case and spaces ignored), else None."""
        folded = " ".join(value.split()).casefold()
        return next((r for r in self.regions if r.casefold() == folded), None)


def read_directory(settings: Settings, reader: Options | None = None) -> Directory:
    """`regions` and `verify_days` of [jobs.resources] (other jobs read them too)."""
    reader = reader or Options(settings, JOB_NAME)
    raw = reader.raw("regions")
    regions = DEFAULT_REGIONS
    if raw is not None:
        if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
            raise ConfigError(
                f"{settings.path}: jobs.{JOB_NAME}.regions must be a list of names, e.g. "
                '["North", "East", "South", "West"]'
            )
        regions = tuple(dict.fromkeys(" ".join(r.split()) for r in raw if r.strip()))
    verify = reader.integer("verify_days", DEFAULT_VERIFY_DAYS, minimum=1, maximum=3650)
    return Directory(regions, verify)


@dataclass(frozen=True)
class Resource:
    """One entry of the directory, read and checked."""

    name: str
    kind: str
    region: str
    ref: RowRef
    address: str = ""
    phone: str = ""
    tel: str = ""  # the phone as a tel: link ("tel:+12135550100")
    hours: str = ""
    languages: tuple[str, ...] = ()  # codes
    cost: str = ""
    website: str = ""
    contact: str = ""
    verified_on: dt.date | None = None
    asked: str = ""  # the Confirm Asked cell

    def due(self, directory: Directory) -> dt.date | None:
        """The last day the entry counts as verified (None: never verified)."""
        if self.verified_on is None:
            return None
        return self.verified_on + dt.timedelta(days=directory.verify_days)

    def stale(self, today: dt.date, directory: Directory) -> bool:
        """True when families must not be pointed to it until someone confirms it."""
        due = self.due(directory)
        return due is None or today > due

    def on_file(self) -> dict[str, str]:
        """What the directory says, as a confirmation request lists it."""
        return {
            "Name": self.name,
            "Kind": self.kind,
            "Region": self.region,
            "Address": self.address,
            "Phone": self.phone,
            "Hours": self.hours,
            "Languages": ", ".join(english_name(c) for c in self.languages),
            "Cost": self.cost,
            "Website": self.website,
        }

    def context(self) -> dict[str, Any]:
        """Template values of the entry shown to families."""
        maps = ""
        if self.address:
            maps = f"https://www.google.com/maps/search/?api=1&query={quote_plus(self.address)}"
        return {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "map_link": maps,
            "phone": self.phone,
            "tel": self.tel,
            "hours": self.hours,
            "languages": list(self.languages),
            "cost": self.cost,
            "website": self.website,
        }


def parse_phone(value: str) -> tuple[str, str]:
    """A phone number as shown and as a tel: link; a US number needs its area code."""
    raw = " ".join(value.split())
    extension = EXTENSION.search(raw)
    number = raw[: extension.start()] if extension else raw
    plus = number.strip().startswith("+")
    digits = PHONE_PUNCTUATION.sub("", number.strip().lstrip("+"))
    if not digits.isdigit():
        raise CellValueError(f'"{raw}" is not a phone number (e.g. (213) 555-0100)')
    if not plus and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not plus and len(digits) != 10:
        raise CellValueError(
            f'"{raw}" is not a full phone number: give the area code too, e.g. (213) 555-0100'
        )
    if plus and not 8 <= len(digits) <= 15:
        raise CellValueError(f'"{raw}" is not a phone number (e.g. +1 213 555 0100)')
    shown = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if not plus else f"+{digits}"
    tel = f"tel:+1{digits}" if not plus else f"tel:+{digits}"
    if extension:
        shown += f" ext. {extension.group(1)}"
        tel += f";ext={extension.group(1)}"
    return shown, tel


def parse_website(value: str) -> str:
    """An http(s) link; a bare "www.clinic.org" is taken as https://www.clinic.org."""
    raw = value.strip()
    if raw and "://" not in raw and "." in raw and " " not in raw and ":" not in raw:
        raw = f"https://{raw}"
    return parse_link(raw)


def _kind(row: Row) -> str:
    folded = row.text("Kind").casefold()
    for kind in KINDS:
        if folded == kind.casefold():
            return kind
    for word, kind in KIND_WORDS:
        if word in folded:
            return kind
    raise RowProblem(f'Kind "{row.text("Kind")}" is not one of: {", ".join(KINDS)}')


def _cost(row: Row) -> str:
    folded = " ".join(row.text("Cost").replace("-", " ").split()).casefold()
    if not folded:
        return ""
    for cost in COSTS:
        if folded == cost or folded.startswith(cost.split()[0]):
            return cost
    raise RowProblem(f'Cost "{row.text("Cost")}" is not free, low cost or sliding scale')


def _languages(row: Row) -> tuple[str, ...]:
    return language_codes(
        row.text("Languages"), "Languages", 'list them like "English, Spanish, Korean"'
    )


def _resource(row: Row, ref: RowRef, directory: Directory, today: dt.date) -> Resource:
    kind = _kind(row)
    region = directory.region(row.text("Region"))
    if region is None:
        raise RowProblem(
            f'Region "{row.text("Region")}" is not one of: {", ".join(directory.regions)} '
            "(jobs.resources.regions in the config lists them)"
        )
    phone = tel = website = ""
    if row.text("Phone"):
        phone, tel = cell(row, "Phone", parse_phone)
    if row.text("Website"):
        website = cell(row, "Website", parse_website)
    verified = cell(row, "Verified On", parse_date) if row.text("Verified On") else None
    if verified is not None and verified > today:
        raise RowProblem(f"Verified On {day_words(verified)} is after today")
    contact = cell(row, "Contact Email", parse_email) if row.text("Contact Email") else ""
    return Resource(
        name=row.text("Name"),
        kind=kind,
        region=region,
        ref=ref,
        address=" ".join(row.text("Address").split()),
        phone=phone,
        tel=tel,
        hours=row.text("Hours"),
        languages=_languages(row),
        cost=_cost(row),
        website=website,
        contact=contact,
        verified_on=verified,
        asked=row.text("Confirm Asked"),
    )


def read_resources(given: JobInput[Any], directory: Directory) -> Reading[Resource]:
    """Entries whose rows are usable (an absent tab reads as none); bad rows get an Error
    status. Whether an entry is shown is the resources job's to say."""
    reading: Reading[Resource] = Reading()
    table = given.table(SHEET, RESOURCES.name)
    if table is None:
        return reading
    doubled = duplicates(table, lambda r: r.text("Name"))
    for row in table:
        ref = row_ref(RESOURCES, row)
        try:
            if not row.text("Name"):
                raise RowProblem("Name is blank")
            if row.text("Name").casefold() in doubled:
                raise RowProblem(
                    f"the same Name is on {rows_phrase(doubled[row.text('Name').casefold()])}; "
                    'give each entry its own name (e.g. "Legal Aid Clinic – East")'
                )
            reading.items.append(_resource(row, ref, directory, given.today))
        except RowProblem as problem:
            reading.error(SHEET, ref, problem)
    return reading


def reachable(resource: Resource) -> bool:
    """An entry families can reach: a well-formed phone or website."""
    return bool(resource.tel or resource.website)


def shown(resources: Iterable[Resource], today: dt.date, directory: Directory) -> list[Resource]:
    """The entries families may be pointed to: verified lately and reachable."""
    return [r for r in resources if reachable(r) and not r.stale(today, directory)]


def near(resources: Sequence[Resource], region: str, language: str = "") -> list[dict[str, Any]]:
    """The shown entries of `region` by kind (in KINDS order) for the templates; within a
    kind, those that speak `language` first."""
    by_kind: dict[str, list[Resource]] = {}
    for resource in resources:
        if resource.region == region:
            by_kind.setdefault(resource.kind, []).append(resource)
    return [
        {
            "kind": kind,
            "items": [
                r.context()
                for r in sorted(by_kind[kind], key=lambda r: (language not in r.languages, r.name))
            ],
        }
        for kind in KINDS
        if kind in by_kind
    ]


def help_by_region(
    resources: Sequence[Resource], today: dt.date, directory: Directory
) -> Mapping[str, list[Resource]]:
    """The shown entries by region (regions with none left out)."""
    found: dict[str, list[Resource]] = {}
    for resource in shown(resources, today, directory):
        found.setdefault(resource.region, []).append(resource)
    return found


def help_near(
    help: Mapping[str, Sequence[Resource]],
) -> Callable[[JobInput[Any], str, Language], dict[str, Any]]:
    """A batch's "Help near you" values (Announcements.per_group) from the shown entries
    by region: its region's entries by kind, those in the batch's language first."""

    def values(given: JobInput[Any], region: str, language: Language) -> dict[str, Any]:
        found = near(help.get(region, ()), region, language.code) if region else []
        return {"region": region, "help_near": found}

    return values


def region_group(help: Mapping[str, Sequence[Resource]]) -> Callable[[JobInput[Any], Any], str]:
    """A family's batch group (Announcements.group): its region when that region has help
    to show, else "" (families of regions with nothing to list share their batches)."""

    def group(given: JobInput[Any], person: Any) -> str:
        region = person.fields.get("region", "")
        return region if region in help else ""

    return group


# -- the tracker's figures -------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFigure:
    """The directory as the tracker shows it: shown entries by region and kind, how many
    are stale or unreachable, and the regions with no legal service shown."""

    regions: tuple[str, ...]
    counts: Mapping[str, Mapping[str, int]]  # region -> kind -> shown entries
    stale: int
    unreachable: int
    errors: int
    without_legal: tuple[str, ...]

    @property
    def shown(self) -> int:
        """Entries families see."""
        return sum(sum(kinds.values()) for kinds in self.counts.values())


def directory_figure(given: JobInput[Any], directory: Directory) -> DirectoryFigure | None:
    """The tracker's figure of the Resources tab (None when the tab is not there)."""
    if given.table(SHEET, RESOURCES.name) is None:
        return None
    reading = read_resources(given, directory)
    entries = reading.items
    counts: dict[str, dict[str, int]] = {region: {} for region in directory.regions}
    for resource in shown(entries, given.today, directory):
        kinds = counts[resource.region]
        kinds[resource.kind] = kinds.get(resource.kind, 0) + 1
    return DirectoryFigure(
        regions=directory.regions,
        counts=counts,
        stale=sum(r.stale(given.today, directory) for r in entries),
        unreachable=sum(not reachable(r) for r in entries),
        errors=reading.skipped,
        without_legal=tuple(r for r in directory.regions if not counts[r].get("legal services")),
    )
