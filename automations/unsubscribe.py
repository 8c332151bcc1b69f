"""Requests to stop family mail: the words recognised in a reply, and what a row says.

Bulk family mail carries `List-Unsubscribe: <mailto:reply-address?subject=unsubscribe>`
and a footer line asking for a one-word reply. A reply whose subject or first line is
one of these words (English or Spanish, any case, accents optional, after "Re:") is a
request; anything longer is left to a person, who may be writing about something else.
"""

from __future__ import annotations

import re
import unicodedata

UNSUBSCRIBE_SUBJECT = "unsubscribe"
WORDS = frozenset({"unsubscribe", "stop", "baja", "cancelar suscripcion", "darme de baja"})
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|rv|fwd?|sv)\s*:\s*)+", re.IGNORECASE)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", bare).split())


def is_request(subject: str, body: str) -> bool:
    """Whether a reply asks to stop: its subject or first non-blank line is one word of
    WORDS ("Re: Unsubscribe", "STOP", "Baja.", "cancelar suscripción")."""
    if _plain(_REPLY_PREFIX.sub("", subject or "")) in WORDS:
        return True
    first = next((line for line in (body or "").splitlines() if line.strip()), "")
    return _plain(first) in WORDS
