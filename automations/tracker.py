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

from automations.cells import CellValueError, parse_active, parse_opted_out
from automations.contacts_figures import ContactsFigure, contacts_figure
from automations.jobs import committee, family, pd
from automations.jobs.announcements import batch_key, reserved_batches
from automations.jobs.directory import DirectoryFigure, directory_figure, read_directory
from automations.jobs.rows import Reading, choose_language, plural
from automations.mou import APPOINTERS, GROUPS, NEEDED, TOPICS, check_roster, read_completions
from automations.plan import History, JobInput
from automations.quarters import quarters
from automations.sheets.contract import CellWrite, Table
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
# A webinar's state and its agenda's.
CANCELLED, HELD, SENT, NOT_SENT, NOT_YET = "cancelled", "held", "sent", "not sent", "not yet"


@dataclass(frozen=True)
class LeftOut:
    """A row left out of the figures: where it is and why (its Status says the same)."""

    spreadsheet: str
    tab: str
    row: int | None
    key: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.tab} row {self.row}" if self.row else self.tab
        return f"{where}{f' ({_short(self.key, 40)})' if self.key else ''}: {self.reason}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The run line names this many left-out rows; the tab, summary and report name them all.
LISTED_LEFT_OUT = 3


@dataclass(frozen=True)
class MeetingFigure:
    """One committee meeting as the tracker sees it."""

    id: str
    date: dt.date
    # None: no record either way (Invite Sent blank, no ledger record) for a meeting whose
    # date has passed; the invitations may have gone out by hand.
    invited: bool | None
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
        """Meetings whose invitations are recorded as sent."""
        return sum(m.invited is True for m in self.meetings)

    @property
    def invites_unrecorded(self) -> int:
        """Past meetings with no record of whether invitations went out."""
        return sum(m.invited is None for m in self.meetings)

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
    # The date has passed (a cancelled webinar is never held).
    past: bool = False

    @property
    def covered(self) -> bool:
        """True when all three required topics are on the agenda."""
        return not self.missing

    @property
    def state(self) -> str:
        """'cancelled', 'held' (not cancelled, date passed) or 'upcoming'."""
        if self.cancelled:
            return CANCELLED
        return HELD if self.past else UPCOMING

    @property
    def agenda(self) -> str:
        """'sent', 'not sent' (the webinar has passed without one), 'not yet' or
        'cancelled' (no agenda is owed)."""
        if self.agenda_sent:
            return SENT
        if self.cancelled:
            return CANCELLED
        return NOT_SENT if self.past else NOT_YET


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
    left_out: tuple[LeftOut, ...] = field(default=())
    # Emergency contacts (MOU 6.b): automations.contacts_figures (None without the column).
    contacts: ContactsFigure | None = None
    # The Resources tab (MOU 3.0, 4.0, 5.d); None when the family spreadsheet has none.
    resources: DirectoryFigure | None = None
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
    def left_out_note(self) -> str:
        """The rows left out, in one line for the run's output ('' when none)."""
        if not self.left_out:
            return ""
        listed = "; ".join(_short(str(r), 160) for r in self.left_out[:LISTED_LEFT_OUT])
        more = len(self.left_out) - LISTED_LEFT_OUT
        if more > 0:
            listed += f"; and {more} more (the MOU Tracker tab lists them all)"
        return f"{plural(len(self.left_out), 'row')} left out of the figures: {listed}"

    @property
    def webinars_covered(self) -> int:
        """Held webinars that covered all three required topics."""
        return sum(w.covered for w in self.webinars if w.state == HELD)

    @property
    def webinars_held(self) -> int:
        """Webinars in the period that took place: not cancelled, date passed."""
        return sum(w.state == HELD for w in self.webinars)

    @property
    def webinars_upcoming(self) -> int:
        """Webinars in the period not cancelled and not yet held."""
        return sum(w.state == UPCOMING for w in self.webinars)

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
        day = meeting.start.date()
        invited: bool | None = state is not None or bool(meeting.row.text("Invite Sent"))
        if not invited and day < given.today:
            invited = None  # a past meeting: "not recorded", not "none sent"
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
        return parse_active(row_value)  # type: ignore[arg-type]
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
            if parse_opted_out(row["Opted Out"]):
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
                past=day < given.today,
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


def _row_number(table: Table | None, write: CellWrite) -> int | None:
    """The sheet row a status write points to (its key, else its fingerprint)."""
    ref = write.row
    for row in table or ():
        key = table.spec.key if table is not None else None
        if ref.key and key and row.text(key).casefold() == ref.key.casefold():
            return row.number
    for row in table or ():
        if ref.fingerprint and all(row.text(c) == v for c, v in ref.fingerprint):
            return row.number
    return None


def _left_out(
    given: JobInput, readings: Sequence[tuple[str, str, Reading[Any]]]
) -> tuple[tuple[LeftOut, ...], list[CellWrite]]:
    """The rows the readers skipped and the uncalculated ones, with the Error statuses the
    readers gave the skipped rows (the tracker writes them: a run of the tracker alone
    must not leave the Status a note points to blank)."""
    found: list[LeftOut] = []
    writes: list[CellWrite] = []
    for sheet, tab, reading in readings:
        table = given.table(sheet, tab)
        for write in reading.writes:
            value = str(write.value or "")
            if write.column != "Status" or not value.startswith("Error"):
                continue
            writes.append(write)
            reason = value.removeprefix("Error:").strip()
            found.append(LeftOut(sheet, tab, _row_number(table, write), write.row.key, reason))
    for sheet, tabs in given.tables.items():
        for table in tabs.values():
            key = table.spec.key
            for row, columns in table.uncalculated:
                found.append(
                    LeftOut(
                        sheet,
                        table.title,
                        row.number,
                        row.text(key) if key else "",
                        f"formulas not calculated yet in {', '.join(columns)} (open the "
                        "workbook in Excel or LibreOffice and save it)",
                    )
                )
    found.sort(key=lambda r: (r.spreadsheet, r.tab, r.row or 0))
    return tuple(found), writes


def compute(given: JobInput) -> Figures:
    """Every figure from the rows of the three spreadsheets, the day and the ledger.

    `job.tables` holds the committee (Members, Meetings), family (Webinars, Families)
    and pd (Staff) tabs; `job.others` the histories of committee-invites and
    webinar-agendas (empty histories are fine: the sheet's own columns then tell).
    Rows the jobs themselves would skip as unusable are left out and listed.
    """
    return compute_with_statuses(given)[0]


def compute_with_statuses(given: JobInput) -> tuple[Figures, list[CellWrite]]:
    """The figures, and the Error statuses of the rows left out (see `compute`)."""
    # The readers' other statuses are the other jobs' business: only items and errors.
    meetings = committee.read_meetings(given, minutes=90)
    members = committee.read_members(given)
    found = family.read_webinars(given, minutes=60)
    left_out, writes = _left_out(
        given,
        (
            (committee.SHEET, committee.MEMBERS.name, members),
            (committee.SHEET, committee.MEETINGS.name, meetings),
            (family.SHEET, family.WEBINARS.name, found),
        ),
    )
    empty = History()
    quarter_figures = _committee(given, given.others.get(COMMITTEE_JOB, empty), meetings.items)
    roster = _roster(members.items)
    pd_figure = _pd(given.table(pd.SHEET, "Staff"), given.today)
    webinar_figures = _webinars(given, given.others.get(WEBINAR_JOB, empty), found.items)
    notes = []
    if pd_figure.uncounted:
        notes.append(
            f"{plural(pd_figure.uncounted, 'PD completion cell')} could not be counted (not a "
            "date on or before today, a completed word or blank): they count as neither "
            "completed nor owed; the Staff tab's Status names each one"
        )
    figures = Figures(
        generated_at=given.now,
        agreement_start=given.settings.agreement_start,
        agreement_end=given.settings.agreement_end,
        quarters=quarter_figures,
        roster=roster,
        pd=pd_figure,
        webinars=webinar_figures,
        sources=_sources(given),
        skipped_rows=len(left_out),
        notes=tuple(notes),
        left_out=left_out,
        contacts=contacts_figure(
            given.table(family.SHEET, family.FAMILIES.name),
            given.today,
            family.read_schools(given),
        ),
        resources=directory_figure(given, read_directory(given.settings)),
        recommendations=compute_recommendations(given),
    )
    return figures, writes
