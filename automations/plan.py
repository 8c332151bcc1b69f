"""What a job returns: messages to send, cells to write back, problems found. Pure data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from automations.cells import CellValue
from automations.config import Settings
from automations.languages import Language
from automations.sheets.contract import CellWrite, RowRef, Table
from automations.wording import STANDARD, Wording

if TYPE_CHECKING:
    from automations.jobs.rows import Reading

T = TypeVar("T")
OptionsT = TypeVar("OptionsT")


@dataclass(frozen=True)
class Attendee:
    """Someone invited to a calendar event."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class InviteSpec:
    """A calendar invitation (or its cancellation) for one event, independent of format."""

    uid: str
    sequence: int
    method: str  # "REQUEST" or "CANCEL"
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str = ""
    url: str = ""
    description: str = ""
    attendees: tuple[Attendee, ...] = ()


@dataclass(frozen=True)
class StatusCell:
    """Where to write a status about one row (used for per-recipient rejections).

    `standing` is a status that outranks what a send does to the row (e.g. an earlier
    refusal of its address): only an Error replaces it.
    """

    spreadsheet: str
    row: RowRef
    column: str = "Status"
    standing: str = ""


@dataclass(frozen=True)
class Message:
    """One email to send; `key` is stable across runs and names (job, entity, occasion, who)."""

    key: str
    template: str
    language: Language
    to: tuple[str, ...]
    context: Mapping[str, Any]
    bcc: tuple[str, ...] = ()
    invite: InviteSpec | None = None
    # For mass mail: which row to mark when one recipient is rejected.
    recipient_rows: Mapping[str, StatusCell] = field(default_factory=dict)
    # The name shown with mail.sender's address in From, and with the visible To (family
    # mail: a neutral name); blank keeps mail.sender as it is.
    display_name: str = ""

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every address the message goes to."""
        return self.to + self.bcc


@dataclass
class Action:
    """Messages about one row or occasion, and what to write once all of them went out."""

    description: str
    messages: list[Message]
    on_success: list[CellWrite] = field(default_factory=list)
    # Where to write the error when some messages could not be sent.
    status: StatusCell | None = None
    # Snapshot of what recipients now know about the entity, kept in the ledger.
    state: tuple[str, Mapping[str, Any]] | None = None
    # The messages all carry one InviteSpec for people who may see each other: a mailer
    # that keeps calendar events (Microsoft 365) may make them one real meeting instead.
    as_event: bool = False
    # How rows read after this run's sends when not all of them went (or some recipient
    # was refused): the standard wording unless the planner gives its own.
    wording: Wording = STANDARD


@dataclass(frozen=True)
class TabContent:
    """The whole content of a tab the tool owns outright (e.g. `MOU Tracker`), rows of cells."""

    spreadsheet: str
    tab: str
    rows: tuple[tuple[CellValue, ...], ...]


@dataclass
class Plan:
    """Everything a job decided, before any I/O."""

    actions: list[Action] = field(default_factory=list)
    writes: list[CellWrite] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0
    # Tool-owned tabs rewritten whole, after the cell writes (never a staff tab).
    tabs: list[TabContent] = field(default_factory=list)
    # IDs this plan gave to rows that had none (also in `writes`). Their rows are not
    # acted on yet: the runner writes these first and plans again once they are stored.
    assigned: list[CellWrite] = field(default_factory=list)

    @property
    def messages(self) -> list[Message]:
        """Every message of every action, in order."""
        return [m for a in self.actions for m in a.messages]

    def take(self, reading: Reading[T]) -> list[T]:
        """Take what a reader found (statuses, problems, skipped rows, new IDs) into the
        plan; return the items it read."""
        self.writes.extend(reading.writes)
        self.problems.extend(reading.problems)
        self.skipped += reading.skipped
        self.assigned.extend(reading.assigned)
        return reading.items


@dataclass(frozen=True)
class AttendeeResponse:
    """One attendee's answer to a calendar event, as the calendar provider reports it."""

    email: str
    name: str
    response: str  # "accepted", "tentativelyAccepted", "declined" or "none"


@dataclass(frozen=True)
class History:
    """What the ledger knows for one job: keys already sent and entity snapshots."""

    sent: frozenset[str] = frozenset()
    states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Attendee responses by invite UID, read from the calendar provider before planning.
    responses: Mapping[str, tuple[AttendeeResponse, ...]] = field(default_factory=dict)
    # Keys whose send was started but whose outcome is unknown (a run stopped, or uncertain):
    # planners whose keys can change between runs plan these same keys again, never new ones.
    unsettled: frozenset[str] = frozenset()
    # Addresses (casefolded) a mail server refused in this job's mail, with its reason:
    # their rows keep saying so on later runs.
    refused: Mapping[str, str] = field(default_factory=dict)
    # Keys whose last send did not go, with how it ended ("failed", "rejected",
    # "uncertain") and the mailer's words: a planner may word its rows after them.
    unsent: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def was_sent(self, key: str) -> bool:
        """True when the message with `key` went out in an earlier run."""
        return key in self.sent

    def state(self, entity: str) -> Mapping[str, Any] | None:
        """The snapshot recorded when the last action about `entity` completed."""
        return self.states.get(entity)

    def sent_with_prefix(self, prefix: str) -> list[str]:
        """Keys already sent that start with `prefix`."""
        return [key for key in self.sent if key.startswith(prefix)]


@dataclass(frozen=True)
class JobInput(Generic[OptionsT]):
    """What a planner gets: the rows, the day, the settings, its options (typed per job:
    `JobInput[CommitteeOptions]`) and what was sent before."""

    tables: Mapping[str, Mapping[str, Table]]
    today: dt.date
    now: dt.datetime
    settings: Settings
    options: OptionsT
    history: History
    languages: frozenset[str]
    # Ledger history of the other jobs named in Job.histories (read-only).
    others: Mapping[str, History] = field(default_factory=dict)
    # True when the admin asked for this job by name (`run JOB`), not `run all` or a schedule.
    on_demand: bool = False
    # True with `run JOB --resend`: send again what was already sent this period (the
    # tracker's monthly summary, with the current figures).
    resend: bool = False

    def table(self, spreadsheet: str, tab: str) -> Table | None:
        """The table read for `tab` of `spreadsheet` (None for an absent optional tab)."""
        return self.tables.get(spreadsheet, {}).get(tab)
