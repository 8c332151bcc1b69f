"""The narrow interface every mail backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from automations.mail.compose import Outgoing


@dataclass(frozen=True)
class SendResult:
    """How one send ended.

    state: "sent" (accepted), "failed" (not accepted; try again next run) or
    "rejected" (refused for good). `rejected` lists recipients refused individually
    while the message went to the others.
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
