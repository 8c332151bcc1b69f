"""What became of a message: the Outcome of its delivery, in one small type.

Kept apart from the delivery machinery (ledger, mailer, templates) so planners and
their status wording can name outcomes without importing any of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from automations.cells import mask_email


class Outcome(StrEnum):
    """How one message's delivery ended in this run (the ledger's words where it has them)."""

    SENT = "sent"  # handed to the mail server in this run
    ALREADY = "already"  # sent by an earlier run, or confirmed after one stopped
    FAILED = "failed"  # not sent; tried again on the next run
    REJECTED = "rejected"  # refused for good; never retried
    UNCERTAIN = "uncertain"  # may or may not have gone (a run stopped mid-send); not resent
    QUEUED = "queued"  # held back by the daily sending limit; goes on the next run

    @property
    def delivered(self) -> bool:
        """True when the message reached the mail server (now or before)."""
        return self in (Outcome.SENT, Outcome.ALREADY)


@dataclass(frozen=True)
class Delivered:
    """The outcome of one message, with the mailer's words and individual refusals.

    `refused` maps recipients the server refused (while the message may have gone to the
    others) to its reason. `earlier` is True when the outcome is the ledger's record of
    an earlier run and nothing was tried now.
    """

    outcome: Outcome
    detail: str = ""
    refused: Mapping[str, str] = field(default_factory=dict)
    earlier: bool = False


def describe_recipients(addresses: Iterable[str], limit: int = 3) -> str:
    """Masked recipients for logs and statuses: m***@x.org, a***@y.org and 6 more."""
    addresses = list(addresses)
    shown = ", ".join(mask_email(a) for a in addresses[:limit])
    return shown + (f" and {len(addresses) - limit} more" if len(addresses) > limit else "")
