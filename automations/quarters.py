"""Quarters of the agreement: calendar quarters or school-year quarters (from August)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Quarter:
    """One quarter clipped to the agreement period."""

    label: str
    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def quarters(start: dt.date, end: dt.date, kind: str = "calendar") -> list[Quarter]:
    """Every quarter overlapping [start, end], clipped to it.

    Calendar quarters begin in January, April, July and October ("2027 Q1").
    School-year quarters begin in August, November, February and May ("2026–27 Q1").
    """
    first_month = 1 if kind == "calendar" else 8
    offset = (start.month - first_month) % 3
    cursor = _add_months(dt.date(start.year, start.month, 1), -offset)
    result: list[Quarter] = []
    while cursor <= end:
        following = _add_months(cursor, 3)
        if kind == "calendar":
            label = f"{cursor.year} Q{(cursor.month - 1) // 3 + 1}"
        else:
            school_year = cursor.year if cursor.month >= 8 else cursor.year - 1
            number = ((cursor.month - 8) % 12) // 3 + 1
            label = f"{school_year}–{(school_year + 1) % 100:02d} Q{number}"
        result.append(
            Quarter(label, max(cursor, start), min(following - dt.timedelta(days=1), end))
        )
        cursor = following
    return result
