"""The tracker's emergency-contact figures (MOU 6.b): the share of families whose contacts
were updated this school year, overall and by school and region (pure, no I/O).

Kept apart from `automations.tracker` so the section can be read, tested and merged on
its own: `contacts_figure` computes it from the Families tab, `contacts_rows` shows it on
the MOU Tracker tab, `contacts_context` gives the report its values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from automations.cells import CellValue, CellValueError, parse_email
from automations.jobs.family import school_and_region
from automations.jobs.family_outreach import UPDATED, read_updated, school_year
from automations.sheets.contract import Row, Table

NO_SCHOOL = "(no school)"
NO_REGION = "(no region)"


def place_of(row: Row, schools: Mapping[str, str] | None = None) -> tuple[str, str]:
    """A family's (school, region): the row's Region, else its School's region on the
    Schools tab (`schools`: region by casefolded school), as the resources job reads it;
    blank ones named as such."""
    school, region = school_and_region(row, schools or {})
    return school or NO_SCHOOL, region or NO_REGION


@dataclass(frozen=True)
class ContactsGroup:
    """Families of one school or region: how many, how many updated this school year,
    and how many could not be counted (an unreadable date)."""

    name: str
    families: int
    updated: int
    uncounted: int = 0

    @property
    def counted(self) -> int:
        """Families whose row could be read."""
        return self.families - self.uncounted

    @property
    def percent(self) -> int | None:
        """Updated, in percent of the families counted (None when none)."""
        return round(100 * self.updated / self.counted) if self.counted else None

    def __str__(self) -> str:
        percent = "—" if self.percent is None else f"{self.percent}%"
        return f"{self.updated} / {self.counted} ({percent})"


@dataclass(frozen=True)
class ContactsFigure:
    """The school year's emergency-contact figures."""

    school_year: str
    overall: ContactsGroup
    schools: tuple[ContactsGroup, ...]
    regions: tuple[ContactsGroup, ...]


def _groups(tally: dict[str, list[int]]) -> tuple[ContactsGroup, ...]:
    return tuple(ContactsGroup(name, *tally[name]) for name in sorted(tally))


def contacts_figure(
    table: Table | None, today: dt.date, school_regions: Mapping[str, str] | None = None
) -> ContactsFigure | None:
    """The figures from the Families tab (None without one, or without the column); a
    family with a School and no Region counts in its school's region on `school_regions`
    (the Schools tab: region by casefolded school)."""
    if table is None or UPDATED not in table.present:
        return None
    year = school_year(today)
    seen: set[str] = set()
    overall = [0, 0, 0]
    schools: dict[str, list[int]] = {}
    regions: dict[str, list[int]] = {}
    for row in table:
        try:
            address = parse_email(row["Email"]).casefold()
        except CellValueError:
            continue  # not a family the jobs know: the Status column says why
        if address in seen:
            continue
        seen.add(address)
        mark = _mark(row[UPDATED], today, year.start)
        school, region = place_of(row, school_regions)
        for tally in (overall, schools.setdefault(school, [0, 0, 0])):
            _count(tally, mark)
        _count(regions.setdefault(region, [0, 0, 0]), mark)
    return ContactsFigure(
        year.id, ContactsGroup("All families", *overall), _groups(schools), _groups(regions)
    )


def _mark(value: CellValue, today: dt.date, start: dt.date) -> bool | None:
    """True: updated this school year; False: not; None: unreadable."""
    try:
        day = read_updated(value, today)
    except CellValueError:
        return None
    return day is not None and day >= start


def _count(tally: list[int], mark: bool | None) -> None:
    tally[0] += 1
    tally[1] += mark is True
    tally[2] += mark is None


def contacts_rows(figure: ContactsFigure | None) -> list[tuple[Any, ...]]:
    """The MOU Tracker tab's emergency-contact section (nothing without the column)."""
    if figure is None:
        return []
    overall = figure.overall
    rows: list[tuple[Any, ...]] = [
        (),
        (
            f"Emergency contacts (MOU 6.b), school year {figure.school_year}: families with "
            f"contacts updated this school year: {overall}.",
        ),
    ]
    if overall.uncounted:
        rows.append(
            (
                f"Note: {overall.uncounted} family row(s) with an unreadable Emergency Contacts "
                "Updated are left out (the Families tab's Contacts Status names each one)",
            )
        )
    for title, groups, blank in (
        ("School", figure.schools, NO_SCHOOL),
        ("Region", figure.regions, NO_REGION),
    ):
        if all(g.name == blank for g in groups):
            continue  # the column is not used: no breakdown to show
        rows.append((title, "Families", "Updated", "Percent"))
        rows.extend(_group_row(g) for g in groups)
    return rows


def _group_row(group: ContactsGroup) -> tuple[Any, ...]:
    percent = "" if group.percent is None else f"{group.percent}%"
    return (group.name, group.counted, group.updated, percent)


def contacts_context(figure: ContactsFigure | None) -> dict[str, Any] | None:
    """The report's values for the section (None without the column)."""
    if figure is None:
        return None

    def groups(found: Iterable[ContactsGroup], blank: str) -> list[dict[str, Any]]:
        found = list(found)
        if all(g.name == blank for g in found):
            return []
        return [
            {"name": g.name, "completed": g.updated, "active": g.counted, "percent": g.percent}
            for g in found
        ]

    overall = figure.overall
    return {
        "school_year": figure.school_year,
        "overall": {
            "completed": overall.updated,
            "active": overall.counted,
            "percent": overall.percent,
            "uncounted": overall.uncounted,
        },
        "schools": groups(figure.schools, NO_SCHOOL),
        "regions": groups(figure.regions, NO_REGION),
    }
