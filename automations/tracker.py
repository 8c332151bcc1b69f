"""The MOU tracker's figures: promises kept, computed from rows alone (pure, no I/O).

Committee quarters (2.0), roster against 3 District / 3 UTLA / 2 parents, PD completion
per topic and site (5.0), webinar coverage of the three required topics (7.0). The job
(`automations.jobs.mou_tracker`), its summary email and `jobs.py report` all show these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from automations.cells import CellValueError, parse_yes_no
from automations.jobs import committee, family, pd
from automations.jobs.announcements import batch_key, reserved_batches
from automations.jobs.rows import choose_language, plural
from automations.mou import APPOINTERS, GROUPS, NEEDED, TOPICS, check_roster, read_completions
from automations.plan import History, JobInput
from automations.quarters import quarters
from automations.sheets.contract import Table
from automations.tracker_recommendations import RecommendationsFigure, compute_recommendations

# The jobs whose ledger records the tracker reads (JobInput.others): what was sent.
COMMITTEE_JOB = "committee-invites"
WEBINAR_JOB = "webinar-agendas"

# What a quarter's cell says; "no meeting yet" and "missed" are the flags.
MET, SCHEDULED, NO_MEETING_YET, MISSED, UPCOMING = (
    "met",
    "scheduled",
    "no meeting yet",
    "missed",
    "upcoming",
)
NO_SITE = "(no site)"


@dataclass(frozen=True)
class MeetingFigure:
    """One committee meeting as the tracker sees it."""

    id: str
    date: dt.date
    invited: bool
    held: bool
    cancelled: bool
    responses: str


@dataclass(frozen=True)
class QuarterFigure:
    """One quarter of the agreement: its meetings and whether the promise was kept."""

    label: str
    start: dt.date
    end: dt.date
    meetings: tuple[MeetingFigure, ...]
    status: str

    @property
    def flagged(self) -> bool:
        """True when a quarter that has started has no meeting (yet or at all)."""
        return self.status in (NO_MEETING_YET, MISSED)

    @property
    def invited(self) -> int:
        """Meetings whose invitations went out."""
        return sum(m.invited for m in self.meetings)

    @property
    def held(self) -> int:
        """Meetings not cancelled whose date has passed."""
        return sum(m.held for m in self.meetings)

    @property
    def cancelled(self) -> int:
        """Meetings marked Cancelled."""
        return sum(m.cancelled for m in self.meetings)

    @property
    def responses(self) -> str:
        """RSVP counts of the quarter's meetings where known ('' when none)."""
        return "; ".join(f"{m.id}: {m.responses}" for m in self.meetings if m.responses)


@dataclass(frozen=True)
class RosterFigure:
    """Active members by group against what the MOU requires, and what is missing."""

    counts: Mapping[str, int]
    needed: Mapping[str, int]
    parents_by: Mapping[str, int]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """True when the roster matches 3 / 3 / 2 with one parent appointed by each side."""
        return not self.missing and not self.extra


@dataclass(frozen=True)
class Completion:
    """Staff who completed a topic out of the active staff whose cell could be read.

    `uncounted` active staff have a cell that is neither a completion nor blank
    ("pending", a future date): they count as neither completed nor owed.
    """

    completed: int
    active: int
    uncounted: int = 0

    @property
    def counted(self) -> int:
        """Active staff whose cell could be read."""
        return self.active - self.uncounted

    @property
    def percent(self) -> int | None:
        """Rounded percentage; None when there are no active staff to count."""
        if not self.counted:
            return None
        return round(100 * self.completed / self.counted)

    def __str__(self) -> str:
        shown = "no active staff" if self.percent is None else f"{self.percent}%"
        result = f"{self.completed} / {self.counted} ({shown})"
        return result + (f", {self.uncounted} not counted" if self.uncounted else "")


@dataclass(frozen=True)
class SiteFigure:
    """PD completion at one site (or overall): per topic, and how many owe everything."""

    site: str
    active: int
    inactive: int
    topics: Mapping[str, Completion]
    owe_all: int
    all_done: int = 0
    # Active staff whose finished-or-not cannot be told (an unreadable cell, no owed one).
    all_unknown: int = 0

    @property
    def fully_trained(self) -> Completion:
        """Active staff who completed all four topics."""
        return Completion(self.all_done, self.active, self.all_unknown)


@dataclass(frozen=True)
class StaffOwing:
    """An active staff member with every topic still outstanding."""

    id: str
    name: str
    site: str


@dataclass(frozen=True)
class PdFigure:
    """PD (5.0) completion overall and per site, and staff owing every topic."""

    topics: tuple[str, ...]
    overall: SiteFigure
    sites: tuple[SiteFigure, ...]
    owing_all: tuple[StaffOwing, ...]
    # Topic cells of active staff that could not be counted (see Completion.uncounted).
    uncounted: int = 0


@dataclass(frozen=True)
class WebinarFigure:
    """One webinar in the agreement period and whether it met 7.0."""

    id: str
    title: str
    date: dt.date
    cancelled: bool
    missing: tuple[str, ...]
    agenda_sent: bool
    recipients: int | None
    languages: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """True when all three required topics are on the agenda."""
        return not self.missing


@dataclass(frozen=True)
class Source:
    """A tab read for the figures."""

    spreadsheet: str
    tab: str
    rows: int


@dataclass(frozen=True)
class Figures:
    """Everything the tracker shows, as of `generated_at`."""

    generated_at: dt.datetime
    agreement_start: dt.date
    agreement_end: dt.date
    quarters: tuple[QuarterFigure, ...]
    roster: RosterFigure
    pd: PdFigure
    webinars: tuple[WebinarFigure, ...]
    sources: tuple[Source, ...]
    skipped_rows: int = 0
    notes: tuple[str, ...] = field(default=())
    # The committee's recommendations (None when the spreadsheet has no such tab).
    recommendations: RecommendationsFigure | None = None

    @property
    def quarters_due(self) -> tuple[QuarterFigure, ...]:
        """Quarters that have started (the ones a meeting was owed in)."""
        return tuple(q for q in self.quarters if q.start <= self.generated_at.date())

    @property
    def quarters_met(self) -> int:
        """Started quarters with at least one meeting held."""
        return sum(q.status == MET for q in self.quarters_due)

    @property
    def webinars_covered(self) -> int:
        """Webinars (not cancelled) that covered all three required topics."""
        return sum(w.covered for w in self.webinars if not w.cancelled)

    @property
    def webinars_held(self) -> int:
        """Webinars in the period that were not cancelled."""
        return sum(not w.cancelled for w in self.webinars)

    def fingerprint(self) -> str:
        """A short hash of every figure except the time they were computed."""
        data = asdict(self)
        data.pop("generated_at")
        blob = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:10]


# -- committee ---------------------------------------------------------------------


def _committee(
    given: JobInput[Any], history: History, meetings: Sequence[committee.Meeting]
) -> tuple[QuarterFigure, ...]:
    """Quarters from agreement start to end with their meetings."""
    settings = given.settings
    figures: list[MeetingFigure] = []
    for meeting in meetings:
        state = history.state(f"meeting:{meeting.id}")
        invited = state is not None or bool(meeting.row.text("Invite Sent"))
        day = meeting.start.date()
        figures.append(
            MeetingFigure(
                id=meeting.id,
                date=day,
                invited=invited,
                held=not meeting.cancelled and day < given.today,
                cancelled=meeting.cancelled,
                responses=meeting.row.text("Responses"),
            )
        )
    figures.sort(key=lambda m: (m.date, m.id))
    result = []
    for quarter in quarters(settings.agreement_start, settings.agreement_end, settings.quarters):
        inside = tuple(m for m in figures if m.date in quarter)
        if any(m.held for m in inside):
            status = MET
        elif any(not m.cancelled for m in inside):
            status = SCHEDULED
        elif quarter.end < given.today:
            status = MISSED
        elif quarter.start <= given.today:
            status = NO_MEETING_YET
        else:
            status = UPCOMING
        result.append(QuarterFigure(quarter.label, quarter.start, quarter.end, inside, status))
    return tuple(result)


def _roster(members: Sequence[Any]) -> RosterFigure:
    """Counts against 3/3/2, in words: what is missing and what is too many."""
    checked = check_roster(committee.roster_of(members))
    counts = {g: checked.counts.get(g, 0) for g in GROUPS}
    parents_by = {s: checked.parents_by.get(s, 0) for s in APPOINTERS}
    missing: list[str] = []
    extra: list[str] = []
    for group in ("District", "UTLA"):
        gap = NEEDED[group] - counts[group]
        if gap > 0:
            missing.append(plural(gap, f"{group} member"))
        elif gap < 0:
            extra.append(plural(-gap, f"{group} member") + " too many")
    for side in ("District", "UTLA"):
        if parents_by[side] == 0:
            missing.append(
                f"a parent appointed by {'the District' if side == 'District' else side}"
            )
        elif parents_by[side] > 1:
            extra.append(plural(parents_by[side] - 1, "parent") + f" appointed by {side} too many")
    unrecorded = checked.parents_by.get("nobody", 0)
    if unrecorded:
        extra.append(plural(unrecorded, "parent") + " with no Appointed By")
    return RosterFigure(counts, dict(NEEDED), parents_by, tuple(missing), tuple(extra))


# -- PD ------------------------------------------------------------------------------


def _active(row_value: object) -> bool:
    try:
        return parse_yes_no(row_value, default=True)  # type: ignore[arg-type]
    except CellValueError:
        return True  # an unreadable Active cell counts the person, as pd-reminders does not


def _pd(table: Table | None, today: dt.date) -> PdFigure:
    """Completion per topic overall and per site; staff owing every topic.

    A topic cell that is neither blank nor a completion (pd-reminders' strict reading)
    is counted as neither completed nor owed, and the figure says how many there were.
    """
    names = tuple(t.name for t in TOPICS)
    by_site: dict[str, dict[str, int]] = {}
    owing: list[StaffOwing] = []
    seen: set[str] = set()
    for row in table or ():
        ident = row.text("Employee ID")
        key = ident.casefold() or f"row {row.number}"
        if key in seen:
            continue  # a duplicated Employee ID counts once
        seen.add(key)
        site = row.text("Site") or NO_SITE
        tally = by_site.setdefault(
            site, {"active": 0, "inactive": 0, "owe_all": 0, "all_done": 0, "all_unknown": 0}
        )
        if not _active(row["Active"]):
            tally["inactive"] += 1
            continue
        tally["active"] += 1
        completions = read_completions(row.values, today)
        for topic in completions.done:
            tally[topic.name] = tally.get(topic.name, 0) + 1
        for topic in completions.unreadable:
            tally[f"?{topic.name}"] = tally.get(f"?{topic.name}", 0) + 1
        if len(completions.done) == len(names):
            tally["all_done"] += 1
        elif completions.unreadable and not completions.owed:
            tally["all_unknown"] += 1
        if len(completions.owed) == len(names):
            tally["owe_all"] += 1
            owing.append(StaffOwing(ident, row.text("Name"), site))

    def site_figure(site: str, tally: Mapping[str, int]) -> SiteFigure:
        return SiteFigure(
            site,
            tally["active"],
            tally["inactive"],
            {
                name: Completion(tally.get(name, 0), tally["active"], tally.get(f"?{name}", 0))
                for name in names
            },
            tally["owe_all"],
            tally["all_done"],
            tally["all_unknown"],
        )

    total: dict[str, int] = {}
    for tally in by_site.values():
        for name, count in tally.items():
            total[name] = total.get(name, 0) + count
    for name in ("active", "inactive", "owe_all", "all_done", "all_unknown"):
        total.setdefault(name, 0)
    sites = tuple(
        site_figure(site, by_site[site])
        for site in sorted(by_site, key=lambda s: (s == NO_SITE, s.casefold()))
    )
    owing.sort(key=lambda s: (s.site.casefold(), s.name.casefold(), s.id))
    uncounted = sum(total.get(f"?{name}", 0) for name in names)
    return PdFigure(names, site_figure("All sites", total), sites, tuple(owing), uncounted)


# -- webinars --------------------------------------------------------------------------


def _webinars(
    given: JobInput[Any], history: History, found: Sequence[family.Webinar]
) -> tuple[WebinarFigure, ...]:
    """Webinars dated within the agreement, with coverage, agenda, recipients, languages."""
    settings = given.settings
    family_languages: set[str] = set()
    families = given.table(family.SHEET, "Families")
    for row in families or ():
        try:
            if parse_yes_no(row["Opted Out"], default=False):
                continue
        except CellValueError:
            continue
        family_languages.add(choose_language(row.text("Language"), given.languages).used.name)
    result = []
    for webinar in found:
        day = webinar.start.date()
        if not settings.agreement_start <= day <= settings.agreement_end:
            continue
        batches = reserved_batches(history, "webinar", webinar.id, "agenda")
        sent_batches = [
            b
            for b in batches
            if history.was_sent(batch_key(WEBINAR_JOB, webinar.id, "agenda", b.number))
        ]
        agenda_sent = bool(sent_batches) or bool(webinar.row.text("Agenda Sent"))
        recipients: int | None = None
        raw = webinar.row.text("Recipients")
        if sent_batches:
            recipients = sum(len(b.recipients) for b in sent_batches)
        elif raw:
            try:
                recipients = int(float(raw))
            except ValueError:
                recipients = None
        if sent_batches:
            languages = sorted({b.language.name for b in sent_batches})
        elif webinar.language is not None:
            languages = [webinar.language.name]
        else:
            languages = sorted(family_languages)
        result.append(
            WebinarFigure(
                webinar.id,
                webinar.title,
                day,
                webinar.cancelled,
                tuple(webinar.missing),
                agenda_sent,
                recipients,
                tuple(languages),
            )
        )
    result.sort(key=lambda w: (w.date, w.id))
    return tuple(result)


# -- all together ------------------------------------------------------------------------


def _sources(given: JobInput) -> tuple[Source, ...]:
    # The config name (committee, family, pd): file paths and IDs stay out of emails.
    return tuple(
        Source(sheet, table.title, len(table))
        for sheet in (committee.SHEET, family.SHEET, pd.SHEET)
        for table in given.tables.get(sheet, {}).values()
    )


def compute(given: JobInput) -> Figures:
    """Every figure from the rows of the three spreadsheets, the day and the ledger.

    `job.tables` holds the committee (Members, Meetings), family (Webinars, Families)
    and pd (Staff) tabs; `job.others` the histories of committee-invites and
    webinar-agendas (empty histories are fine: the sheet's own columns then tell).
    Rows the jobs themselves would skip as unusable are left out and counted.
    """
    # The readers' statuses are the other jobs' business: only their items are used.
    meetings = committee.read_meetings(given, minutes=90)
    members = committee.read_members(given)
    found = family.read_webinars(given, minutes=60)
    skipped = meetings.skipped + members.skipped + found.skipped
    empty = History()
    quarter_figures = _committee(given, given.others.get(COMMITTEE_JOB, empty), meetings.items)
    roster = _roster(members.items)
    pd_figure = _pd(given.table(pd.SHEET, "Staff"), given.today)
    webinar_figures = _webinars(given, given.others.get(WEBINAR_JOB, empty), found.items)
    notes = []
    if skipped:
        notes.append(
            f"{plural(skipped, 'row')} with errors left out (their Status column says why)"
        )
    if pd_figure.uncounted:
        notes.append(
            f"{plural(pd_figure.uncounted, 'PD completion cell')} could not be counted (not a "
            "date on or before today, a completed word or blank): they count as neither "
            "completed nor owed; the Staff tab's Status names each one"
        )
    waiting = sum(len(t.uncalculated) for tabs in given.tables.values() for t in tabs.values())
    if waiting:
        notes.append(
            f"{plural(waiting, 'row')} left out: formulas not calculated yet (open the "
            "workbook in Excel or LibreOffice and save it)"
        )
    return Figures(
        generated_at=given.now,
        agreement_start=given.settings.agreement_start,
        agreement_end=given.settings.agreement_end,
        quarters=quarter_figures,
        roster=roster,
        pd=pd_figure,
        webinars=webinar_figures,
        sources=_sources(given),
        skipped_rows=skipped,
        notes=tuple(notes),
        recommendations=compute_recommendations(given),
    )
