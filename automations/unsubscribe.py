"""Requests to stop family mail: the words recognised in a reply, reading them from the
mailbox, and applying them to the Families tab.

Bulk family mail carries `List-Unsubscribe: <mailto:reply-address?subject=unsubscribe>`
and a footer line asking for a one-word reply. A reply whose subject or first line is
one of these words (English or Spanish, any case, accents optional, after "Re:") is a
request; anything longer is left to a person, who may be writing about something else.

Where the mail backend can read the mailbox (Microsoft 365), each run of a job that
mails families first reads the replies that arrived since the last check and keeps every
request in the ledger (under UNSUBSCRIBES); the family reader then sets `Opted Out` to
Yes on the matching rows and says when and why in their Status. A row whose Opted Out a
person set to No keeps getting mail (staff decided); blank or Yes rows are opted out.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automations.errors import MailError
from automations.plan import History

# Only named in signatures: the jobs import this module, `--help` need not import the ledger.
if TYPE_CHECKING:
    from automations.ledger import Ledger
    from automations.mail.backend import InboxMailer

log = logging.getLogger("automations")

UNSUBSCRIBE_SUBJECT = "unsubscribe"
WORDS = frozenset({"unsubscribe", "stop", "baja", "cancelar suscripcion", "darme de baja"})
# The ledger's name for the requests read (a job's `histories` names it to see them).
UNSUBSCRIBES = "unsubscribes"
CHECKED = "mailbox-checked"
# Replies are read again from a day before the last check, so none falls in a gap.
OVERLAP = dt.timedelta(days=1)
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|rv|fwd?|sv)\s*:\s*)+", re.IGNORECASE)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", bare).split())


def request_word(subject: str, body: str) -> str:
    """The unsubscribe word a reply consists of ("" when it is not a request): its
    subject or first non-blank line is one of WORDS ("Re: Unsubscribe", "STOP", "Baja.")."""
    subject = _REPLY_PREFIX.sub("", subject or "").strip()
    if _plain(subject) in WORDS:
        return subject
    first = next((line for line in (body or "").splitlines() if line.strip()), "").strip()
    return first if _plain(first) in WORDS else ""


def is_request(subject: str, body: str) -> bool:
    """Whether a reply asks to stop family mail (see request_word)."""
    return bool(request_word(subject, body))


@dataclass(frozen=True)
class Request:
    """One family's request to stop, as kept in the ledger."""

    address: str
    word: str
    received: dt.datetime


def sync_requests(ledger: Ledger, inbox: InboxMailer | None, now: dt.datetime) -> None:
    """Read the replies since the last check and keep each unsubscribe request in the
    ledger (nothing without a readable mailbox or with a read-only ledger)."""
    if inbox is None or ledger.read_only:
        return
    known = ledger.history(UNSUBSCRIBES).states
    last = known.get(CHECKED, {}).get("at")
    since = dt.datetime.fromisoformat(last) - OVERLAP if last else None
    try:
        replies = inbox.replies(since)
    except MailError as err:
        log.warning("unsubscribe replies not read: %s", err)
        return
    for reply in replies:
        word = request_word(reply.subject, reply.body)
        entity = f"request:{reply.address.casefold()}"
        if word and entity not in known:
            data = {"address": reply.address, "word": word, "received": reply.received.isoformat()}
            ledger.complete(UNSUBSCRIBES, [], (entity, data), now)
    ledger.complete(UNSUBSCRIBES, [], (CHECKED, {"at": now.isoformat()}), now)


def requests(history: History | None) -> dict[str, Request]:
    """The requests kept in the ledger, by casefolded address."""
    found = {}
    for entity, data in (history.states if history is not None else {}).items():
        if entity.startswith("request:"):
            received = dt.datetime.fromisoformat(str(data["received"]))
            found[entity.removeprefix("request:")] = Request(
                str(data["address"]), str(data["word"]), received
            )
    return found
