"""Job mou-tracker (all sections): one place where both parties see the promises kept.

Reads the committee, family-engagement and PD spreadsheets (never writes their staff
tabs), rewrites its own `MOU Tracker` tab in the committee spreadsheet on every run,
and sends a summary email with bars and a quarter strip to the committee and owners:
once a month. A run by name (`run mou-tracker`) refreshes the tab and sends the month's
summary only if it has not gone out yet; `--resend` sends it again with newer figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.cells import CellValue
from automations.config import Options, Settings
from automations.jobs import Job
from automations.jobs import committee_invites as committee
from automations.jobs import pd_reminders as pd
from automations.jobs import webinar_agendas as webinars
from automations.jobs.rows import address_of, key_part, message_key
from automations.languages import ENGLISH, Language
from automations.plan import Action, JobInput, Message, Plan, TabContent
from automations.quarters import quarters as quarter_list
from automations.sheets.contract import TabSpec
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
    compute,
)

NAME = "mou-tracker"
SHEET = committee.SHEET
TAB = "MOU Tracker"
TEMPLATE = "mou_summary"


@dataclass(frozen=True)
class TrackerOptions:
    """Who gets the summary, from which day of the month, how many names the tab lists."""

    owners: tuple[str, ...]
    summary_day: int
    listed_staff: int


def options(settings: Settings) -> TrackerOptions:
    """Read [jobs.mou-tracker] (every key optional)."""
    reader = Options(settings, NAME)
    owners = reader.addresses("owners")
    result = TrackerOptions(
        owners=owners or ((address_of(settings.mail.admin),) if settings.mail.admin else ()),
        summary_day=reader.integer("summary_day", 1, minimum=1, maximum=28),
        listed_staff=reader.integer("listed_staff", 200, minimum=0, maximum=100_000),
    )
    reader.finish()
    return result


def tabs(settings: Settings) -> Mapping[str, Sequence[TabSpec]]:
    """The tabs of the three spreadsheets the tracker reads (read-only)."""
    return {
        committee.SHEET: (committee.MEMBERS, committee.MEETINGS),
        webinars.SHEET: (webinars.WEBINARS, webinars.FAMILIES),
        pd.SHEET: (pd.STAFF,),
    }


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


def tab_rows(figures: Figures, listed_staff: int) -> tuple[tuple[CellValue, ...], ...]:
    """The whole `MOU Tracker` tab as rows of cells (written raw, replacing the tab)."""
    rows: list[tuple[CellValue, ...]] = []
    add = rows.append
    zone = figures.generated_at.tzinfo
    add(("MOU Tracker: LAUSD–UTLA Support for Immigrant Students and Families",))
    add(
        (
            f"Generated at {figures.generated_at.isoformat(timespec='minutes')} ({zone}) "
            f"by jobs.py {NAME}. This tab is rewritten on every run: edits here are lost.",
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
    }


@dataclass(frozen=True)
class Recipient:
    """Someone who gets the summary, in their language."""

    email: str
    name: str
    language: Language


def recipients(job: JobInput) -> list[Recipient]:
    """Active committee members (in their language), then the configured owners."""
    opts: TrackerOptions = job.options
    members = committee.read_members(job, Plan())  # the Members statuses are not ours
    result = [Recipient(m.email, m.name, m.language) for m in members]
    seen = {r.email.casefold() for r in result}
    for owner in opts.owners:
        if owner.casefold() not in seen:
            seen.add(owner.casefold())
            result.append(Recipient(owner, "", ENGLISH))
    return result


def summary_key(month: str, fingerprint: str, address: str) -> str:
    """The key of one summary: month, figures and recipient.

    Every run sends at most one per recipient per month; `run mou-tracker --resend`
    sends again only when the figures changed, because the same month and fingerprint
    give the same key, which the ledger never resends.
    """
    return message_key(NAME, "summary", month, fingerprint, address.casefold())


def _summary_action(job: JobInput, figures: Figures, plan: Plan) -> Action | None:
    opts: TrackerOptions = job.options
    month = f"{job.today:%Y-%m}"
    if job.today.day < opts.summary_day and not job.on_demand:
        return None
    context = summary_context(figures)
    this_month = {
        key_part(key, -1) for key in job.history.sent_with_prefix(f"{NAME}/summary/{month}/")
    }
    # A summary a stopped run may have sent: plan that same key (the runner confirms it or
    # reports it uncertain), never a second one with newer figures.
    unsettled = {
        key_part(key, -1): key
        for key in job.history.unsettled
        if key.startswith(f"{NAME}/summary/{month}/")
    }
    people = recipients(job)
    messages = []
    for person in people:
        address = person.email.casefold()
        key = unsettled.get(address) or summary_key(month, context["fingerprint"], address)
        if job.history.was_sent(key) or (address in this_month and not job.resend):
            continue  # the month's summary went out; only --resend sends newer figures
        messages.append(
            Message(
                key=key,
                template=TEMPLATE,
                language=person.language,
                to=(person.email,),
                context={**context, "name": person.name},
            )
        )
    if not people:
        plan.problems.append(
            f"no one to send the summary to: no active committee members with a valid email "
            f"and no jobs.{NAME}.owners or mail.admin in the config"
        )
        return None
    if not messages:
        return None
    return Action(
        description=f"MOU summary for {month} to {len(messages)} "
        + ("person" if len(messages) == 1 else "people"),
        messages=messages,
        state=("summary", {"month": month, "fingerprint": context["fingerprint"]}),
    )


def plan(job: JobInput) -> Plan:
    """Compute the figures, rewrite the tracker tab, and plan the summary email."""
    opts: TrackerOptions = job.options
    result = Plan()
    figures = compute(job)
    result.problems.extend(figures.notes)
    result.tabs.append(TabContent(SHEET, TAB, tab_rows(figures, opts.listed_staff)))
    action = _summary_action(job, figures, result)
    if action is not None:
        result.actions.append(action)
    return result


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
    names = tuple(t.name for t in pd.TOPICS)

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
            dict(committee.NEEDED),
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
    )
    return summary_context(figures)


def samples(settings: Settings, opts: TrackerOptions) -> list[Message]:
    """The summary with made-up figures, for `check`."""
    return [
        Message(
            "sample/mou_summary",
            TEMPLATE,
            ENGLISH,
            ("sample@example.org",),
            {**sample_context(), "name": "Ana"},
        )
    ]


JOB = Job(
    name=NAME,
    summary="MOU tracker (all sections): the MOU Tracker tab, a monthly summary email with "
    "bars, and `jobs.py report`",
    default_schedule="monthly on day 1 at 07:00",
    tabs=tabs,
    options=options,
    plan=plan,
    samples=samples,
    histories=(committee.NAME, webinars.NAME),
)
