"""The tracker's figures for the committee's recommendations (MOU 2.0), and their views.

Open, overdue and done this quarter, by area: computed from the Recommendations tab
alone (pure), shown as rows of the `MOU Tracker` tab and as values of `jobs.py report`.
Kept apart from `tracker.py` so each MOU section's figures stay in their own module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from automations.cells import CellValue
from automations.jobs.recommendations import AREAS, DONE, read_recommendations
from automations.plan import JobInput
from automations.quarters import quarters


@dataclass(frozen=True)
class AreaFigure:
    """One area's recommendations: open, overdue (of the open ones), done this quarter."""

    area: str
    open: int
    overdue: int
    done: int


@dataclass(frozen=True)
class RecommendationsFigure:
    """Recommendations by area, and the quarter 'done' counts in."""

    quarter: str
    areas: tuple[AreaFigure, ...]
    skipped: int = 0

    def total(self, what: str) -> int:
        """The sum of `what` (open, overdue or done) over the areas."""
        return sum(getattr(a, what) for a in self.areas)


def compute_recommendations(given: JobInput[Any]) -> RecommendationsFigure | None:
    """The figures, or None when the committee spreadsheet has no Recommendations tab."""
    if given.table("committee", "Recommendations") is None:
        return None
    reading = read_recommendations(given)
    settings, today = given.settings, given.today
    spans = quarters(settings.agreement_start, settings.agreement_end, settings.quarters)
    current = next((q for q in spans if today in q), None)
    start = current.start if current else dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    areas = []
    for area in AREAS:
        items = [i for i in reading.items if i.area == area]
        # A Done row not yet stamped with Closed On was closed today, as the job stamps it.
        done = [i for i in items if i.progress == DONE and start <= (i.closed_on or today)]
        areas.append(
            AreaFigure(
                area,
                open=sum(i.open for i in items),
                overdue=sum(i.overdue(today) for i in items),
                done=len(done),
            )
        )
    label = current.label if current else f"{today.year} Q{(today.month - 1) // 3 + 1}"
    return RecommendationsFigure(label, tuple(areas), reading.skipped)


def recommendation_rows(figure: RecommendationsFigure | None) -> list[tuple[CellValue, ...]]:
    """The `MOU Tracker` tab's rows for the recommendations (none without the tab)."""
    if figure is None:
        return []
    rows: list[tuple[CellValue, ...]] = [
        ("",),
        ("Committee recommendations (MOU 2.0)",),
        ("Area", "Open", "Overdue", f"Done in {figure.quarter}"),
    ]
    rows += [(a.area, a.open, a.overdue, a.done) for a in figure.areas]
    rows.append(("Total", figure.total("open"), figure.total("overdue"), figure.total("done")))
    if figure.skipped:
        rows.append((f"{figure.skipped} rows with errors left out (their Status says why)",))
    return rows


def recommendation_context(figure: RecommendationsFigure | None) -> dict[str, Any] | None:
    """Template values for the report's recommendations section (None without the tab)."""
    if figure is None:
        return None
    return {
        "quarter": figure.quarter,
        "areas": [vars(a) for a in figure.areas],
        "open": figure.total("open"),
        "overdue": figure.total("overdue"),
        "done": figure.total("done"),
        "skipped": figure.skipped,
    }
