"""The tracker's figures shown three ways: the rows of the `MOU Tracker` tab, and the
template values of the summary email and of `jobs.py report` (plus made-up figures for
`check`, tests and screenshots). Pure: figures in, cells and values out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from automations.cells import CellValue, shown_time
from automations.contacts_figures import contacts_context, contacts_rows
from automations.jobs.directory import KINDS, DirectoryFigure
from automations.jobs.engine import response_counts
from automations.jobs.rows import plural
from automations.mou import NEEDED, TOPICS
from automations.quarters import quarters as quarter_list
from automations.tracker import (
    CANCELLED,
    HELD,
    MET,
    MISSED,
    NO_MEETING_YET,
    NO_SITE,
    NOT_SENT,
    NOT_YET,
    SCHEDULED,
    SENT,
    UPCOMING,
    Completion,
    Figures,
    LeftOut,
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


WEBINAR_WORDS = {HELD: "Held", UPCOMING: "Upcoming", CANCELLED: "Cancelled"}
AGENDA_WORDS = {
    SENT: "Yes",
    NOT_SENT: "Not sent (the webinar has passed)",
    NOT_YET: "Not yet",
    CANCELLED: "None (cancelled)",
}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pct(completion: Completion) -> str:
    return str(completion)


def _invited(quarter: QuarterFigure) -> CellValue:
    """Invitations recorded; 'not recorded' for past meetings with no record either way."""
    if not quarter.invites_unrecorded:
        return quarter.invited
    if not quarter.invited:
        return "not recorded"
    return f"{quarter.invited}, {quarter.invites_unrecorded} not recorded"


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
            f"Generated {shown_time(figures.generated_at)} ({zone}) "
            f"by jobs.py {job}. This tab is rewritten on every run: edits here are lost.",
        )
    )
    sources = "; ".join(f"{s.spreadsheet} › {s.tab} ({s.rows} rows)" for s in figures.sources)
    add((f"Sources read: {sources}",))
    for note in figures.notes:
        add((f"Note: {note}",))
    if figures.left_out:
        add(
            (
                f"Left out of the figures: {plural(len(figures.left_out), 'row')} "
                "(each row's Status says the same)",
            )
        )
        add(("Spreadsheet", "Tab", "Row", "Key", "Reason"))
        for left in figures.left_out:
            add((left.spreadsheet, left.tab, left.row or "", left.key, left.reason))
    else:
        add(("Left out of the figures: no rows",))
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
                _invited(quarter),
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
            f"Covered all three: {figures.webinars_covered} of {figures.webinars_held} held"
            f" ({figures.webinars_upcoming} upcoming, not counted).",
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
            "State",
        )
    )
    for webinar in figures.webinars:
        add(
            (
                webinar.id,
                webinar.title,
                webinar.date.isoformat(),
                "—" if webinar.cancelled else "Yes" if webinar.covered else "No",
                "" if webinar.cancelled else ", ".join(webinar.missing),
                AGENDA_WORDS[webinar.agenda],
                "" if webinar.recipients is None else webinar.recipients,
                ", ".join(webinar.languages),
                WEBINAR_WORDS[webinar.state],
            )
        )
    if not figures.webinars:
        add(("No webinars dated within the agreement yet.",))
    rows.extend(contacts_rows(figures.contacts))
    rows.extend(resource_rows(figures.resources))
    rows.extend(recommendation_rows(figures.recommendations))
    return tuple(rows)


# -- the Resources tab's section (MOU 3.0, 4.0, 5.d) ------------------------------------------


def resource_rows(figure: DirectoryFigure | None) -> list[tuple[CellValue, ...]]:
    """The tracker tab's Resources section: shown entries by region and kind, stale ones,
    regions with no legal service (nothing when the spreadsheet has no Resources tab)."""
    if figure is None:
        return []
    rows: list[tuple[CellValue, ...]] = [()]
    rows.append(
        (
            f"Resources (MOU 3.0, 4.0, 5.d): {figure.shown} shown to families; {figure.stale} "
            f"not verified lately (left out, owners asked to confirm); {figure.unreachable} "
            f"with no phone or website; {figure.errors} rows with errors.",
        )
    )
    rows.append(("Region", *(kind for kind in KINDS), "Total"))
    for region in figure.regions:
        kinds = figure.counts[region]
        rows.append((region, *(kinds.get(k, 0) for k in KINDS), sum(kinds.values())))
    without = ", ".join(figure.without_legal) or "none"
    rows.append((f"Regions with no legal service shown to families: {without}",))
    return rows


def resource_context(figure: DirectoryFigure | None) -> dict[str, Any] | None:
    """The report's Resources values (None when there is no Resources tab)."""
    if figure is None:
        return None
    return {
        "kinds": list(KINDS),
        "regions": [
            {
                "name": region,
                "counts": [figure.counts[region].get(k, 0) for k in KINDS],
                "total": sum(figure.counts[region].values()),
            }
            for region in figure.regions
        ],
        "shown": figure.shown,
        "stale": figure.stale,
        "unreachable": figure.unreachable,
        "errors": figure.errors,
        "without_legal": list(figure.without_legal),
    }


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
                        # The counts, for a summary that says them in its own language.
                        "rsvp": response_counts(m.responses),
                    }
                    for m in quarter.meetings
                ],
                "invited": quarter.invited,
                "invites_unrecorded": quarter.invites_unrecorded,
                "held": quarter.held,
                "cancelled": quarter.cancelled,
                "responses": quarter.responses,
            }
        )

    def site(figure: Any) -> dict[str, Any]:
        return {
            "site": figure.site,
            # Staff without a Site: the summary names them in the reader's language.
            "no_site": figure.site == NO_SITE,
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
                # held, upcoming or cancelled; the agenda: sent, not sent, not yet, cancelled
                "state": w.state,
                "agenda": w.agenda,
            }
            for w in figures.webinars
        ],
        "webinars_held": figures.webinars_held,
        "webinars_covered": figures.webinars_covered,
        "webinars_upcoming": figures.webinars_upcoming,
        "sources": [
            {"spreadsheet": s.spreadsheet, "tab": s.tab, "rows": s.rows} for s in figures.sources
        ],
        "notes": list(figures.notes),
        "left_out": [
            {
                "spreadsheet": r.spreadsheet,
                "tab": r.tab,
                "row": r.row,
                # A pasted cell can be thousands of characters: one word no phone can wrap.
                "key": _short(r.key, 40),
                "reason": _short(r.reason, 240),
            }
            for r in figures.left_out
        ],
        "pd_uncounted": pd_figure.uncounted,
        "contacts": contacts_context(figures.contacts),
        "resources": resource_context(figures.resources),
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
                past=True,
            ),
            WebinarFigure(
                "WB-20261203",
                "Winter family night",
                dt.date(2026, 12, 3),
                True,
                (),
                False,
                None,
                ("English",),
                past=True,
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
                past=True,
            ),
            WebinarFigure(
                "WB-20270415",
                "Spring family academy",
                dt.date(2027, 4, 15),
                False,
                (),
                False,
                None,
                ("English", "Spanish"),
            ),
        ),
        sources=(
            Source("committee", "Members", 8),
            Source("committee", "Meetings", 8),
            Source("family", "Webinars", 4),
            Source("family", "Families", 240),
            Source("pd", "Staff", 204),
        ),
        skipped_rows=1,
        left_out=(
            LeftOut(
                "committee",
                "Meetings",
                9,
                "CM-20270115",
                'Date "Jan 15th" is not a date (write it like 3/4/2026 or 2026-03-04)',
            ),
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
