"""Occasions: the declarative table a job writes to say what mail its rows cause.

An Occasion reads like a sentence:

    Occasion("reminder", template="committee_reminder",
             when=before_start(days="reminder_days"), audience=already_sent("request"),
             stamp="Reminder Sent", delivery=individual)

The engine (`automations.jobs.engine`) turns such a table into message keys, versions,
Bcc batches, statuses and actions. This module is only the vocabulary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

Delivery = Literal["individual", "bcc batches"]
# One message per recipient, with their own row told what happened.
individual: Delivery = "individual"
# One message per batch of recipients in Bcc, each batch reserved in the ledger first.
bcc_batches: Delivery = "bcc batches"


@dataclass(frozen=True)
class When:
    """When an occasion is due, relative to the event: `days` before its start (read
    from the job's options by name), or as soon as the event is cancelled."""

    days: str | None = None
    cancelled: bool = False

    def lead(self, options: Any) -> int:
        """The lead time in days (0 when the option is 0 or there is none)."""
        return int(getattr(options, self.days)) if self.days else 0

    def opens(self, start: dt.date, options: Any) -> dt.date:
        """The first day the occasion is due for an event on `start`."""
        return start - dt.timedelta(days=self.lead(options))


def before_start(days: str) -> When:
    """Due from `days` (an option's name: "reminder_days") before the event starts."""
    return When(days=days)


# Due once the row says Cancelled.
on_cancel = When(cancelled=True)


@dataclass(frozen=True)
class Audience:
    """Who an occasion goes to: everyone the job names for the event, or those who got
    another occasion of it already (a reminder goes to those invited)."""

    already_sent: str = ""


everyone = Audience()


def already_sent(occasion: str) -> Audience:
    """The people who were sent `occasion` of the same event."""
    return Audience(already_sent=occasion)


@dataclass(frozen=True)
class Occasion:
    """One kind of message about an event (or a row): its key part, template and timing.

    :param name: its part of message keys ("request", "reminder"); never change it once
        mail went out under it, or the ledger would not know those messages
    :param template: the template it is rendered from
    :param when: when it is due (None: as soon as the event is on)
    :param audience: who gets it
    :param stamp: the tool-owned column stamped with the time it first went
    :param delivery: `individual` or `bcc_batches`
    :param update: for a calendar invitation, the template sent when the event changes
        (a new version, with a higher SEQUENCE)
    :param reinstated: for a calendar invitation, the template sent when a cancelled
        event is back on
    :param version: the tool-owned column that shows the invitation's version
    """

    name: str
    template: str
    when: When | None = None
    audience: Audience = everyone
    stamp: str | None = None
    delivery: Delivery = individual
    update: str | None = None
    reinstated: str | None = None
    version: str | None = None
