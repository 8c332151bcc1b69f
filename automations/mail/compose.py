"""Build the MIME message for a rendered message: text + HTML, invite parts, safe headers."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from typing import TYPE_CHECKING

from automations.cells import strip_bidi

if TYPE_CHECKING:  # rendering (Jinja2, Babel) is not needed to compose
    from automations.render import Rendered

# CRLF line ends; headers folded only past RFC 5322's hard limit, because the default
# 78 puts a long subject on its own continuation line and readers then show it with a
# leading space.
POLICY = SMTP.clone(max_line_length=998)


def message_id(key: str, sender: str) -> str:
    """A Message-ID derived only from the message key, so a resend would be recognisable."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "mou.invalid"
    return f"<{digest}@{domain}>"


def key_digest(key: str) -> str:
    """A short, privacy-safe fingerprint of a message key (no addresses inside)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to; Bcc recipients never appear in To or Cc."""

    sender: str
    to: tuple[str, ...]
    bcc: tuple[str, ...] = ()
    reply_to: str | None = None
    display_name: str = ""  # shown in From (with the sender's address) and To, when set


@dataclass(frozen=True)
class Outgoing:
    """A message ready for any mailer: the MIME object plus what the mailer needs."""

    key: str
    job: str
    envelope: Envelope
    rendered: Rendered
    message_id: str
    mime: EmailMessage
    ics: bytes | None = None
    ics_method: str | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope recipient (To and Bcc)."""
        return self.envelope.to + self.envelope.bcc


def _strip(value: str) -> str:
    return " ".join(strip_bidi(value).replace("\r", " ").replace("\n", " ").split())


def compose(
    *,
    key: str,
    job: str,
    envelope: Envelope,
    rendered: Rendered,
    now: dt.datetime,
    ics: bytes | None = None,
    ics_method: str | None = None,
) -> Outgoing:
    """Assemble a multipart/alternative text + HTML message (plus calendar parts)."""
    mime = EmailMessage(policy=POLICY)
    mime["Subject"] = _strip(rendered.subject)
    sender, to = envelope.sender, envelope.to
    if envelope.display_name:
        sender = formataddr((envelope.display_name, parseaddr(sender)[1]))
        to = tuple(formataddr((envelope.display_name, parseaddr(a)[1])) for a in to)
    mime["From"] = _strip(sender)
    mime["To"] = ", ".join(_strip(a) for a in to)
    if envelope.bcc:
        # Kept in the outbox copy so an admin sees who it went to; SMTP strips it.
        # Plain addresses, as in To: Address() refuses internationalised local parts.
        mime["Bcc"] = ", ".join(_strip(a) for a in envelope.bcc)
    if envelope.reply_to:
        mime["Reply-To"] = _strip(envelope.reply_to)
    ident = message_id(key, envelope.sender)
    mime["Message-ID"] = ident
    mime["Date"] = format_datetime(now)
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-MOU-Key"] = key_digest(key)
    mime.set_content(rendered.text, subtype="plain", charset="utf-8")
    mime.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if ics is not None and ics_method:
        calendar_text = ics.decode("utf-8")
        mime.add_alternative(
            calendar_text, subtype="calendar", charset="utf-8", params={"method": ics_method}
        )
        mime.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": ics_method},
        )
    return Outgoing(key, job, envelope, rendered, ident, mime, ics, ics_method)
