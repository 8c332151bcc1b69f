"""The committee spreadsheet's Recommendations tab (MOU 2.0), and how its rows are read.

Shared by the job that chases them (`committee_followup`), the meeting invitations that
list the open ones under the Agenda (`committee_invites`) and the tracker's figures.
A recommendation is open while its Progress is Open or In progress (blank is Open); the
tool stamps Closed On the first day it reads it Done or Dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from automations.cells import parse_date, parse_email
from automations.errors import RowProblem
from automations.jobs.declare import columns
from automations.jobs.rows import Reading, cell, duplicates, one_of, row_ref, rows_phrase
from automations.plan import JobInput
from automations.sheets.contract import CellWrite, Column, Row, RowRef, TabSpec

SHEET = "committee"
AREAS = (
    "Indigenous-language resources",
    "Legal partnerships",
    "Resource centers",
    "PD",
    "Family webinars",
    "Other",
)
OPEN, IN_PROGRESS, DONE, DROPPED = "Open", "In progress", "Done", "Dropped"
PROGRESS = (OPEN, IN_PROGRESS, DONE, DROPPED)
RECOMMENDATIONS = TabSpec(
    "Recommendations",
    columns(
        *("Recommendation ID", "Raised On*", "Recommendation*", "Area", "Owner Email*", "Due*"),
        # Progress decides whether an owner is chased: a near-miss header fails closed
        # rather than reading every row as Open. (The row's Status is the tool's, as on
        # every tab: staff say how far a recommendation got in Progress.)
        Column("Progress", controls=True),
        *("Notes", "Last Reminded+", "Reminders Sent+", "Closed On+", "Status+"),
    ),
    key="Recommendation ID",
    fingerprint=("Raised On", "Recommendation"),
)
# What the meeting invitations and the tracker read: the same tab, absent in older sheets.
# Only listed there, never mailed about: a mistyped Progress header must not stop the
# invitations (committee-followup stops and says so; `check` names the near miss).
RECOMMENDATIONS_IF_ANY = dataclasses.replace(
    RECOMMENDATIONS,
    optional=True,
    columns=tuple(dataclasses.replace(c, controls=False) for c in RECOMMENDATIONS.columns),
)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation row read and checked."""

    row: Row
    ref: RowRef
    id: str
    raised: dt.date
    text: str
    area: str
    owner: str
    due: dt.date
    progress: str
    notes: str
    last_reminded: dt.date | None
    reminders_sent: int
    closed_on: dt.date | None
    # Why the ID is not in the sheet yet ('' when it is): not chased until it is.
    pending: str = ""

    @property
    def open(self) -> bool:
        """Still to be done (Open or In progress)."""
        return self.progress in (OPEN, IN_PROGRESS)

    def overdue(self, today: dt.date) -> bool:
        """Open and past its Due date."""
        return self.open and self.due < today

    def context(self, today: dt.date) -> dict[str, Any]:
        """Template values of the recommendation."""
        return {
            "id": self.id,
            "text": self.text,
            "area": self.area,
            "owner": self.owner,
            "raised": self.raised,
            "due": self.due,
            "progress": self.progress,
            "overdue": self.overdue(today),
            "days_overdue": max((today - self.due).days, 0),
        }


def _date_or_none(row: Row, column: str) -> dt.date | None:
    return cell(row, column, parse_date) if row.text(column) else None


def _count(row: Row) -> int:
    raw = row.text("Reminders Sent")
    try:
        value = float(raw or 0)
    except ValueError:
        value = -1.0
    if value < 0 or not value.is_integer():
        raise RowProblem(f'Reminders Sent "{raw}" is not a whole number (clear it to start again)')
    return int(value)


def parse(row: Row, ident: str, ref: RowRef, pending: str = "") -> Recommendation:
    """One row as a Recommendation; a RowProblem names the column to fix."""
    raised = cell(row, "Raised On", parse_date)
    text = row.text("Recommendation")
    if not text:
        raise RowProblem("Recommendation is blank")
    due = cell(row, "Due", parse_date)
    if due < raised:
        raise RowProblem(f'Due "{row.text("Due")}" is before Raised On "{row.text("Raised On")}"')
    return Recommendation(
        row=row,
        ref=ref,
        id=ident,
        raised=raised,
        text=text,
        area=one_of(row, "Area", AREAS) if row.text("Area") else "Other",
        owner=cell(row, "Owner Email", parse_email),
        due=due,
        progress=one_of(row, "Progress", PROGRESS) if row.text("Progress") else OPEN,
        notes=row.text("Notes"),
        last_reminded=_date_or_none(row, "Last Reminded"),
        reminders_sent=_count(row),
        closed_on=_date_or_none(row, "Closed On"),
        pending=pending,
    )


def new_id(raised: dt.date, taken: set[str]) -> str:
    """A staff-readable ID from the day it was raised (REC-20261001, then -2, -3); derived
    from the row so a run that stopped before writing it picks the same ID again."""
    base = candidate = f"REC-{raised:%Y%m%d}"
    number = 2
    while candidate.casefold() in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate.casefold())
    return candidate


def read_recommendations(given: JobInput[Any]) -> Reading[Recommendation]:
    """Every usable row (a blank ID is given one, written before the row is chased); a
    bad row gets an Error status and is skipped. None read when the tab is absent."""
    table = given.table(SHEET, RECOMMENDATIONS.name)
    reading: Reading[Recommendation] = Reading()
    if table is None:
        return reading
    column = "Recommendation ID"
    doubled = duplicates(table, lambda r: r.text(column))
    taken = {row.text(column).casefold() for row in table if row.text(column)}
    for row in table:
        ident, ref, pending = row.text(column), row_ref(RECOMMENDATIONS, row), ""
        try:
            if ident.casefold() in doubled:
                where = rows_phrase(doubled[ident.casefold()])
                raise RowProblem(f"{column} {ident} is on {where}; give each its own ID")
            if not ident:
                raised = cell(row, "Raised On", parse_date)
                ident, pending = new_id(raised, taken), "assigned"
                ref = row_ref(RECOMMENDATIONS, row, ident)
            item = parse(row, ident, ref, pending)
        except RowProblem as problem:
            reading.error(SHEET, ref, problem)
            continue
        if pending:
            assigned = CellWrite(SHEET, ref, column, ident)
            reading.writes.append(assigned)
            reading.assigned.append(assigned)
        reading.items.append(item)
    return reading


def open_for_agenda(given: JobInput[Any]) -> tuple[dict[str, Any], ...]:
    """The open recommendations as a meeting's agenda lists them, oldest first (rows that
    cannot be read are left out: the committee-followup job marks them)."""
    table = given.table(SHEET, RECOMMENDATIONS.name)
    found = []
    for row in table or ():
        try:
            item = parse(row, row.text("Recommendation ID"), row_ref(RECOMMENDATIONS, row))
        except RowProblem:
            continue
        if item.open:
            found.append(item)
    found.sort(key=lambda r: (r.raised, r.due, r.id))
    return tuple(r.context(given.today) for r in found)
