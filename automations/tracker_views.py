"""The tracker's figures shown three ways: the rows of the `MOU Tracker` tab, and the
template values of the summary email and of `jobs.py report` (plus made-up figures for
`check`, tests and screenshots). Pure: figures in, cells and values out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from automations.cells import CellValue
from automations.mou import NEEDED, TOPICS
from automations.quarters import quarters as quarter_list
from automations.tracker import (
    MET,
    MISSED,
    NO_MEETING_YET,
    SCHEDULED,
    UPCOMING,
    Completion,
    Figures,
    MeetingFigure,
    PdFigure,
    QuarterFigure,
    RosterFigure,
    SiteFigure,
    Source,
    WebinarFigure,
)
from automations.tracker_recommendations import (
    AreaFigure,
    RecommendationsFigure,
    recommendation_context,
    recommendation_rows,
)

# -- the MOU Tracker tab -------------------------------------------------------------

STATUS_WORDS = {
    MET: "Met",
    SCHEDULED: "Meeting scheduled",
    NO_MEETING_YET: "NO MEETING YET",
    MISSED: "MISSED: no meeting held",
    UPCOMING: "Upcoming",
}


def _pct(completion: Completion) -> str:
    return str(completion)


def tab_rows(
    figures: Figures, listed_staff: int, job: str = "mou-tracker"
) -> tuple[tuple[CellValue, ...], ...]:
    """The whole `MOU Tracker` tab as rows of cells (written raw, replacing the tab)."""
    rows: list[tuple[CellValue, ...]] = []
    add = rows.append
    zone = figures.generated_at.tzinfo
    add(("MOU Tracker: LAUSD–UTLA Support for Immigrant Students and Families",))
    add(
        (
            f"Generated at {figures.generated_at.isoformat(timespec='minutes')} ({zone}) "
            f"by jobs.py {job}. This tab is rewritten on every run: edits here are lost.",
        )
    )
    sources = "; ".join(f"{s.spreadsheet} › {s.tab} ({s.rows} rows)" for s in figures.sources)
    add((f"Sources read: {sources}",))
    for note in figures.notes:
        add((f"Note: {note}",))
    add(())
    add(
        (
            f"Committee (MOU 2.0): a meeting every quarter, {figures.agreement_start} to "
            f"{figures.agreement_end}. Quarters met so far: {figures.quarters_met} of "
            f"{len(figures.quarters_due)}.",
        )
    )
    add(
        (
            "Quarter",
            "From",
            "To",
            "Meeting dates",
            "Meetings",
            "Invited",
            "Held",
            "Cancelled",
            "RSVPs",
            "Status",
        )
    )
    for quarter in figures.quarters:
        dates = ", ".join(
            f"{m.date.isoformat()}{' (cancelled)' if m.cancelled else ''}" for m in quarter.meetings
        )
        add(
            (
                quarter.label,
                quarter.start.isoformat(),
                quarter.end.isoformat(),
                dates,
                len(quarter.meetings),
                quarter.invited,
                quarter.held,
                quarter.cancelled,
                quarter.responses,
                STATUS_WORDS[quarter.status],
            )
        )
    add(())
    roster = figures.roster
    add(("Committee roster (MOU 2.0): 3 District, 3 UTLA, 2 parents (one appointed by each)",))
    add(("", "District", "UTLA", "Parents", "Parents by District", "Parents by UTLA", "Missing"))
    missing = "; ".join([*roster.missing, *roster.extra]) or "Nothing: the roster is complete"
    add(
        (
            "Active now",
            roster.counts["District"],
            roster.counts["UTLA"],
            roster.counts["Parent"],
            roster.parents_by["District"],
            roster.parents_by["UTLA"],
            missing,
        )
    )
    add(("Needed", 3, 3, 2, 1, 1, ""))
    add(())
    pd_figure = figures.pd
    add(("Professional development (MOU 5.0): completed / active staff (percent)",))
    add(("Site", "Active staff", *pd_figure.topics, "All four", "Owe every topic"))
    for site in (pd_figure.overall, *pd_figure.sites):
        add(
            (
                site.site,
                site.active,
                *(_pct(site.topics[name]) for name in pd_figure.topics),
                _pct(site.fully_trained),
                site.owe_all,
            )
        )
    add(())
    owing = pd_figure.owing_all
    add((f"Staff with every topic outstanding: {len(owing)}",))
    if owing:
        add(("Employee ID", "Name", "Site"))
        for person in owing[:listed_staff]:
            add((person.id, person.name, person.site))
        if len(owing) > listed_staff:
            add((f"… and {len(owing) - listed_staff} more (see the Staff tab's Outstanding)",))
    add(())
    add(
        (
            "Family webinars (MOU 7.0): family preparedness, We Are One, Know Your Rights. "
            f"Covered all three: {figures.webinars_covered} of {figures.webinars_held} held.",
        )
    )
    add(
        (
            "Webinar ID",
            "Title",
            "Date",
            "All three topics",
            "Missing",
            "Agenda sent",
            "Recipients",
            "Languages",
            "Cancelled",
        )
    )
    for webinar in figures.webinars:
        add(
            (
                webinar.id,
                webinar.title,
                webinar.date.isoformat(),
                "Yes" if webinar.covered else "No",
                ", ".join(webinar.missing),
                "Yes" if webinar.agenda_sent else "No",
                "" if webinar.recipients is None else webinar.recipients,
                ", ".join(webinar.languages),
                "Yes" if webinar.cancelled else "",
            )
        )
    if not figures.webinars:
        add(("No webinars dated within the agreement yet.",))
    rows.extend(recommendation_rows(figures.recommendations))
    return tuple(rows)


# -- the summary email -----------------------------------------------------------------


def _completion(completion: Completion) -> dict[str, Any]:
    return {
        "completed": completion.completed,
        # "of N" in the email: the staff whose cell could be read (uncounted left out).
        "active": completion.counted,
        "uncounted": completion.uncounted,
        "percent": completion.percent,
    }


def summary_context(figures: Figures) -> dict[str, Any]:
    """Template values for the summary email and the report: plain dicts and lists."""
    pd_figure = figures.pd
    quarters = []
    for quarter in figures.quarters:
        year, _, number = quarter.label.rpartition(" ")
        quarters.append(
            {
                "label": quarter.label,
                "number": number,
                "year": year,
                "start": quarter.start,
                "end": quarter.end,
                "status": quarter.status,
                "flagged": quarter.flagged,
                "meetings": [
                    {
                        "id": m.id,
                        "date": m.date,
                        "invited": m.invited,
                        "held": m.held,
                        "cancelled": m.cancelled,
                        "responses": m.responses,
                    }
                    for m in quarter.meetings
                ],
                "invited": quarter.invited,
                "held": quarter.held,
                "cancelled": quarter.cancelled,
                "responses": quarter.responses,
            }
        )

    def site(figure: Any) -> dict[str, Any]:
        return {
            "site": figure.site,
            "active": figure.active,
            "inactive": figure.inactive,
            "owe_all": figure.owe_all,
            "all_four": _completion(figure.fully_trained),
            "topics": [
                {"name": name, **_completion(figure.topics[name])} for name in pd_figure.topics
            ],
        }

    roster = figures.roster
    return {
        "generated_at": figures.generated_at,
        "agreement_start": figures.agreement_start,
        "agreement_end": figures.agreement_end,
        "quarters": quarters,
        "quarters_due": len(figures.quarters_due),
        "quarters_met": figures.quarters_met,
        "quarters_flagged": [q["label"] for q in quarters if q["flagged"]],
        "roster": {
            "counts": dict(roster.counts),
            "needed": dict(roster.needed),
            "parents_by": dict(roster.parents_by),
            "missing": list(roster.missing),
            "extra": list(roster.extra),
            "complete": roster.complete,
        },
        "pd": {
            "topics": list(pd_figure.topics),
            "overall": site(pd_figure.overall),
            "sites": [site(s) for s in pd_figure.sites],
            "owing_all": len(pd_figure.owing_all),
        },
        "webinars": [
            {
                "id": w.id,
                "title": w.title,
                "date": w.date,
                "covered": w.covered,
                "missing": list(w.missing),
                "agenda_sent": w.agenda_sent,
                "recipients": w.recipients,
                "languages": list(w.languages),
                "cancelled": w.cancelled,
            }
            for w in figures.webinars
        ],
        "webinars_held": figures.webinars_held,
        "webinars_covered": figures.webinars_covered,
        "sources": [
            {"spreadsheet": s.spreadsheet, "tab": s.tab, "rows": s.rows} for s in figures.sources
        ],
        "notes": list(figures.notes),
        "fingerprint": figures.fingerprint(),
        "recommendations": recommendation_context(figures.recommendations),
    }


# -- samples -----------------------------------------------------------------------------


def sample_context() -> dict[str, Any]:
    """A made-up but plausible summary (for `check`, tests and screenshots)."""
    zone = dt.timezone(dt.timedelta(hours=-8))
    now = dt.datetime(2027, 3, 1, 7, 0, tzinfo=zone)
    statuses = [MET, MET, MISSED, MET, MET, MET, NO_MEETING_YET] + [UPCOMING] * 5
    quarter_figures = []
    for quarter, status in zip(
        quarter_list(dt.date(2025, 7, 1), dt.date(2028, 6, 30)), statuses, strict=True
    ):
        meetings: tuple[MeetingFigure, ...] = ()
        if status in (MET, SCHEDULED):
            day = quarter.start + dt.timedelta(days=40)
            meetings = (
                MeetingFigure(
                    f"CM-{day:%Y%m%d}",
                    day,
                    True,
                    status == MET,
                    False,
                    "6 accepted, 1 declined" if status == MET else "",
                ),
            )
        quarter_figures.append(
            QuarterFigure(quarter.label, quarter.start, quarter.end, meetings, status)
        )
    names = tuple(t.name for t in TOPICS)

    def site(name: str, active: int, done: tuple[int, int, int, int], owe: int) -> SiteFigure:
        return SiteFigure(
            name,
            active,
            2,
            {n: Completion(d, active) for n, d in zip(names, done, strict=True)},
            owe,
            min(done),
        )

    sites = (
        site("Roosevelt High School", 120, (96, 80, 61, 30), 12),
        site("Belmont High School", 80, (80, 72, 40, 10), 0),
        site("Sunrise Elementary", 0, (0, 0, 0, 0), 0),
    )
    figures = Figures(
        generated_at=now,
        agreement_start=dt.date(2025, 7, 1),
        agreement_end=dt.date(2028, 6, 30),
        quarters=tuple(quarter_figures),
        roster=RosterFigure(
            {"District": 3, "UTLA": 2, "Parent": 2},
            dict(NEEDED),
            {"District": 1, "UTLA": 1},
            ("1 UTLA member",),
            (),
        ),
        pd=PdFigure(names, site("All sites", 200, (176, 152, 101, 40), 12), sites, ()),
        webinars=(
            WebinarFigure(
                "WB-20261015",
                "Know your rights at school",
                dt.date(2026, 10, 15),
                False,
                (),
                True,
                240,
                ("English", "Spanish"),
            ),
            WebinarFigure(
                "WB-20270212",
                "Preparación familiar",
                dt.date(2027, 2, 12),
                False,
                ("We Are One",),
                False,
                None,
                ("Spanish",),
            ),
        ),
        sources=(
            Source("committee", "Members", 8),
            Source("committee", "Meetings", 7),
            Source("family", "Webinars", 2),
            Source("family", "Families", 240),
            Source("pd", "Staff", 204),
        ),
        recommendations=RecommendationsFigure(
            "2027 Q1",
            (
                AreaFigure("Indigenous-language resources", 2, 1, 1),
                AreaFigure("Legal partnerships", 1, 0, 0),
                AreaFigure("Resource centers", 0, 0, 2),
                AreaFigure("PD", 1, 1, 0),
                AreaFigure("Family webinars", 0, 0, 1),
                AreaFigure("Other", 0, 0, 0),
            ),
        ),
    )
    return summary_context(figures)
