"""The narrow interface every mail backend implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from automations.mail.compose import Outgoing
    from automations.plan import AttendeeResponse, InviteSpec


@dataclass(frozen=True)
class SendResult:
    """How one send ended.

    state: "sent" (accepted), "failed" (not accepted; try again next run),
    "rejected" (refused for good) or "uncertain" (the connection broke mid-send).
    `rejected` lists recipients refused individually while the message went to the others.
    """

    state: str
    detail: str = ""
    provider_id: str = ""
    rejected: Mapping[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    """Delivers composed messages."""

    def send(self, message: Outgoing) -> SendResult:
        """Deliver one message; raise MailError only when nothing can be sent at all."""
        ...

    def confirm(self, message: Outgoing) -> bool | None:
        """After a crash: was this message delivered? True, False, or None for unknown."""
        ...

    def summary(self) -> str:
        """One line for the end of a run (e.g. where the outbox is and how much is in it)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class CalendarMailer(Protocol):
    """A mailer whose provider keeps real calendar events and sends the invitations itself.

    With such a mailer the runner turns an action's invite messages (same InviteSpec)
    into one event operation, keyed by the invite UID, instead of one email each.
    """

    calendar_events: bool  # False: the provider is configured to mail .ics invites instead

    def save_event(self, invite: InviteSpec, event_id: str | None) -> str:
        """Create the event (event_id None) or update it; return the provider's event id."""
        ...

    def cancel_event(self, event_id: str, invite: InviteSpec) -> None:
        """Cancel the event; the provider tells the attendees."""
        ...

    def event_responses(self, event_id: str) -> list[AttendeeResponse]:
        """Every attendee's answer so far."""
        ...


def calendar_of(mailer: object) -> CalendarMailer | None:
    """The mailer as a CalendarMailer when it keeps calendar events, else None."""
    # The attribute first: a runtime Protocol check costs ~0.1 ms, twice per message.
    if getattr(mailer, "calendar_events", False) and isinstance(mailer, CalendarMailer):
        return mailer
    return None


def check_mailer(mailer: object) -> str | None:
    """Run the mailer's optional `check()` (connect, sign in); None when it has none."""
    check = getattr(mailer, "check", None)
    return check() if callable(check) else None


@dataclass(frozen=True)
class Reply:
    """A message that arrived in the sending mailbox."""

    address: str
    subject: str
    body: str  # its first lines, as the provider previews them
    received: dt.datetime


@runtime_checkable
class InboxMailer(Protocol):
    """A mailer that can read the replies in its mailbox (Microsoft 365)."""

    def replies(self, since: dt.datetime | None) -> list[Reply]:
        """Messages received since `since` (all recent ones when None); raise MailError
        when the mailbox cannot be read."""
        ...


def inbox_of(mailer: object) -> InboxMailer | None:
    """The mailer as an InboxMailer when it can read its mailbox, else None."""
    return mailer if isinstance(mailer, InboxMailer) else None
