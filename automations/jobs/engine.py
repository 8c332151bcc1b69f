"""The occasion engine's shared parts: alerts to a job's alert recipients, samples.

A job declares its mail as a table of occasions (`automations.jobs.occasions`); the
engine turns it into keys, versions, batches, statuses and actions. It owns what every
job used to repeat, in a few modules:

- `invitations`: calendar invitations to a roster, one message each, versioned (a change
  sends an update with a higher SEQUENCE, un-cancelling sends "back on", people added
  later get the current version, a cancellation goes to everyone ever invited);
- `announcements`: one-way mail to a list in Bcc batches per language, each batch
  reserved in the ledger before it is sent;
- `reminders`: a message to a row's person every so often while the row owes something,
  up to a limit;
- this module: alerts (a rule broken, a row that disappeared) and `check`'s samples.

Every part is a pure function of the planner's input.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from automations.config import Settings
from automations.jobs.rows import (
    address_of,
    message_key,
)
from automations.languages import ENGLISH
from automations.plan import (
    Action,
    AttendeeResponse,
    Message,
)

# -- alerts and samples ---------------------------------------------------------------------


def alert_recipients(
    configured: Sequence[str], settings: Settings, *, as_configured: bool = False
) -> tuple[str, ...]:
    """Who gets a job's alerts: the addresses its options name, else the admin (its bare
    address; `as_configured` keeps a display name, as the committee's alerts always did:
    their keys hold the address as written)."""
    if configured:
        return tuple(configured)
    if not settings.mail.admin:
        return ()
    return (settings.mail.admin if as_configured else address_of(settings.mail.admin),)


def alert(
    description: str,
    key: Sequence[object],
    template: str,
    context: Mapping[str, Any],
    recipients: Iterable[str],
) -> Action:
    """One alert to each recipient, in English, once per `key` (job, subject, fingerprint)."""
    return Action(
        description=description,
        messages=[
            Message(
                key=message_key(*key, address.casefold()),
                template=template,
                language=ENGLISH,
                to=(address,),
                context=context,
            )
            for address in recipients
        ],
    )


def sample_messages(contexts: Mapping[str, Mapping[str, Any]]) -> list[Message]:
    """One message per template with made-up data (for `check` and tests)."""
    return [
        Message(f"sample/{template}", template, ENGLISH, ("sample@example.org",), context)
        for template, context in contexts.items()
    ]


def missing_row_context(
    what: str, ident: str, start: dt.datetime, tab: str, column: str, sent: str
) -> dict[str, Any]:
    """The values of the missing_row_alert template."""
    return {"what": what, "id": ident, "start": start, "tab": tab, "column": column, "sent": sent}


def missing_row_alert(
    *,
    job_name: str,
    kind: str,
    ident: str,
    state: Mapping[str, Any],
    settings: Settings,
    what: str,
    tab: str,
    column: str,
    sent: str,
    recipients: Iterable[str],
) -> Action:
    """The one alert about event `ident` whose row left `tab`; `state` is the ledger's
    snapshot of it (its date and start), `sent` says what went out under it."""
    start = dt.datetime.combine(
        dt.date.fromisoformat(str(state["date"])),
        dt.time.fromisoformat(str(state["start"])),
        settings.timezone,
    )
    return alert(
        f"missing-row alert for {kind} {ident}",
        (job_name, ident, "missing-alert"),
        "missing_row_alert",
        missing_row_context(what, ident, start, tab, column, sent),
        recipients,
    )


# A provider's answer and the words the Responses cell gives it, in the cell's order.
ANSWER_WORDS = (
    ("accepted", "accepted"),
    ("tentativelyAccepted", "tentative"),
    ("declined", "declined"),
)
NO_REPLY = "no reply"


def responses_text(answers: Sequence[AttendeeResponse]) -> str:
    """Attendee answers as staff read them: "5 accepted, 1 declined, 2 no reply"."""
    counts = Counter(a.response for a in answers)
    parts = [f"{counts[key]} {words}" for key, words in ANSWER_WORDS if counts[key]]
    waiting = len(answers) - sum(counts[key] for key, _ in ANSWER_WORDS)
    if waiting or not parts:
        parts.append(f"{waiting} {NO_REPLY}")
    return ", ".join(parts)


def response_counts(text: str) -> dict[str, int] | None:
    """The counts of a Responses cell `responses_text` wrote, keyed by its words with
    underscores ({"accepted": 5, "declined": 1}); None for anything typed by hand, so
    that a summary in another language can say them in its own words."""
    words = {w: w.replace(" ", "_") for _, w in ANSWER_WORDS} | {NO_REPLY: "no_reply"}
    counts: dict[str, int] = {}
    for part in text.split(", ") if text.strip() else ():
        number, _, word = part.strip().partition(" ")
        if not number.isdigit() or word not in words or words[word] in counts:
            return None
        counts[words[word]] = int(number)
    return counts or None
