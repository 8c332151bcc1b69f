"""What became of messages and runs: the Outcome of one delivery, the RunSummary of a job.

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


@dataclass
class RunSummary:
    """How one job's run went; `exit_code` is what the CLI returns for it."""

    job: str
    dry_run: bool = False
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    queued: int = 0  # held back by the daily recipient limit; they go on the next run
    written: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when everything went, 1 when anything failed or was left uncertain."""
        return 1 if self.error or self.failed or self.uncertain else 0

    def count(self, delivered: Delivered) -> None:
        """Count one message's outcome (a refusal recorded by an earlier run counts nothing)."""
        outcome = delivered.outcome
        if outcome is Outcome.SENT:
            self.sent += 1
        elif outcome is Outcome.UNCERTAIN:
            self.uncertain += 1
        elif outcome is Outcome.QUEUED:
            self.queued += 1
        elif outcome is Outcome.FAILED or (outcome is Outcome.REJECTED and not delivered.earlier):
            self.failed += 1

    def summary(self) -> str:
        """One line: counts and the first problem."""
        if self.dry_run:
            counts = f"would send {self.planned}, skipped {self.skipped}"
        else:
            counts = f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}"
            if self.uncertain:
                counts += f", uncertain {self.uncertain}"
            if self.queued:
                counts += f", queued {self.queued} (daily sending limit reached)"
        first = self.error or (self.problems[0] if self.problems else "")
        return f"{counts}{'; ' + first if first else ''}"
