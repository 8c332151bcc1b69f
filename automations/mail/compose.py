"""Build the MIME message for a rendered message: text + HTML, invite parts, safe headers."""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import hashlib
import re
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
    return f"<{digest}@{_domain_of(sender)}>"


@functools.lru_cache(maxsize=64)
def _domain_of(sender: str) -> str:
    """The sender's domain (every message of a run has the same sender: parsed once)."""
    return parseaddr(sender)[1].rpartition("@")[2] or "mou.invalid"


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
    # The List-Unsubscribe value of bulk mail ("<mailto:...?subject=unsubscribe>"), or "".
    list_unsubscribe: str = ""


@dataclass(frozen=True)
class Headers:
    """A message's top-level headers, as composed (bidi controls and line breaks removed)."""

    subject: str
    sender: str
    to: str
    bcc: str
    reply_to: str
    message_id: str
    date: str
    mou_key: str
    list_unsubscribe: str = ""


@dataclass(frozen=True)
class Outgoing:
    """A message ready for any mailer: its bytes, its MIME object, and what mailers need.

    `data` is what goes into a file or on the wire (CRLF line ends). `mime` is the same
    message as an EmailMessage, built on first use (the SMTP mailer reads its headers).
    """

    key: str
    job: str
    envelope: Envelope
    rendered: Rendered
    message_id: str
    headers: Headers
    ics: bytes | None = None
    ics_method: str | None = None
    # Set when composing the cheap way was possible; otherwise `data` comes from `mime`.
    assembled: bytes | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope recipient (To and Bcc)."""
        return self.envelope.to + self.envelope.bcc

    @functools.cached_property
    def mime(self) -> EmailMessage:
        """The message as an EmailMessage (the email package's own composition)."""
        return build_mime(self.headers, self.rendered, self.ics, self.ics_method)

    @functools.cached_property
    def data(self) -> bytes:
        """The whole message as bytes with CRLF line ends."""
        return self.assembled if self.assembled is not None else self.mime.as_bytes()


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
    """Assemble a multipart/alternative text + HTML message (plus calendar parts).

    Raises ValueError when a header cannot be composed (e.g. an address the email
    library cannot put in a header).
    """
    sender, to = envelope.sender, envelope.to
    if envelope.display_name:
        sender = formataddr((envelope.display_name, parseaddr(sender)[1]))
        to = tuple(formataddr((envelope.display_name, parseaddr(a)[1])) for a in to)
    ident = message_id(key, envelope.sender)
    headers = Headers(
        subject=_strip(rendered.subject),
        sender=_strip(sender),
        to=", ".join(_strip(a) for a in to),
        # Kept in the outbox copy so an admin sees who it went to; SMTP strips it.
        # Plain addresses, as in To: Address() refuses internationalised local parts.
        bcc=", ".join(_strip(a) for a in envelope.bcc),
        reply_to=_strip(envelope.reply_to) if envelope.reply_to else "",
        message_id=ident,
        date=format_datetime(now),
        mou_key=key_digest(key),
        list_unsubscribe=_strip(envelope.list_unsubscribe),
    )
    method = ics_method if ics is not None else None
    assembled = assemble(headers, rendered, ics, method, key)
    outgoing = Outgoing(key, job, envelope, rendered, ident, headers, ics, ics_method, assembled)
    if assembled is None:
        outgoing.mime  # noqa: B018 - composed now, so a header it refuses fails here
    return outgoing


def build_mime(
    headers: Headers, rendered: Rendered, ics: bytes | None, ics_method: str | None
) -> EmailMessage:
    """The message built with the email package (EmailMessage, the SMTP policy)."""
    mime = EmailMessage(policy=POLICY)
    mime["Subject"] = headers.subject
    mime["From"] = headers.sender
    mime["To"] = headers.to
    if headers.bcc:
        mime["Bcc"] = headers.bcc
    if headers.reply_to:
        mime["Reply-To"] = headers.reply_to
    mime["Message-ID"] = headers.message_id
    mime["Date"] = headers.date
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-MOU-Key"] = headers.mou_key
    if headers.list_unsubscribe:
        mime["List-Unsubscribe"] = headers.list_unsubscribe
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
            # Declared, or some calendars read accented names and places as Latin-1.
            params={"method": ics_method, "charset": "utf-8"},
        )
    return mime


# -- composing the cheap way ---------------------------------------------------------------
#
# EmailMessage parses every header into objects and folds it again, which costs ~2 ms a
# message: a third of a 56,000-digest run. `assemble` writes the bytes the email package
# would write (tests/test_compose.py compares the two over generated messages): plain
# ASCII headers as they are, any other header (RFC 2047 words, quoted names, folding)
# folded by the email package's own policy one header at a time, and the parts directly.
# Text with a line too long for 8bit (it would need quoted-printable) is left to the
# email package whole.

_CRLF = "\r\n"
_LIMIT = POLICY.max_line_length
# A plain address or `Display Name <address>` whose name needs no quoting or encoding.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_MAILBOX = rf"(?:{_ATOM}(?: {_ATOM})* <{_ADDR_SPEC}>|{_ADDR_SPEC})"
_ADDRESS_LIST = re.compile(rf"{_MAILBOX}(?:, {_MAILBOX})*")
_PLAIN_TEXT = re.compile(r"[ -~]*")  # printable ASCII, spaces included


def _plain_header(name: str, value: str) -> bool:
    return (
        len(name) + 2 + len(value) <= _LIMIT
        and _PLAIN_TEXT.fullmatch(value) is not None
        and "=?" not in value
    )


def _address_header(name: str, value: str) -> bool:
    return _plain_header(name, value) and _ADDRESS_LIST.fullmatch(value) is not None


def _header_line(name: str, value: str, plain: bool) -> bytes:
    """One header as the email package writes it: as it is when `plain`, else parsed and
    folded by the policy (raises ValueError where EmailMessage would)."""
    if plain:
        return f"{name}: {value}\r\n".encode("ascii")
    return POLICY.fold_binary(name, POLICY.header_factory(name, value))


def _text_part(text: str) -> tuple[str, bytes] | None:
    """(transfer encoding, body with CRLF line ends) as the email package writes a text
    part, or None when it would choose quoted-printable or base64."""
    try:
        lines = text.encode("utf-8").splitlines()
    except UnicodeError:
        return None
    if max(map(len, lines), default=0) > _LIMIT:
        return None
    body = b"\r\n".join(lines) + b"\r\n"
    return ("7bit" if body.isascii() else "8bit"), body


def _boundary(key: str, parts: list[bytes], level: int) -> str | None:
    boundary = f"==============={int(key_digest(f'{key}/{level}'), 16) % 10**19:019d}=="
    marker = boundary.encode("ascii")
    return None if any(marker in part for part in parts) else boundary


def assemble(
    headers: Headers, rendered: Rendered, ics: bytes | None, ics_method: str | None, key: str
) -> bytes | None:
    """The message's bytes as `build_mime(...).as_bytes()` gives them (but for the MIME
    boundaries), or None when only the email package can compose it."""
    top = [
        ("Subject", headers.subject, _plain_header),
        ("From", headers.sender, _address_header),
        ("To", headers.to, _address_header),
        ("Bcc", headers.bcc, _address_header),
        ("Reply-To", headers.reply_to, _address_header),
    ]
    if headers.list_unsubscribe and not _plain_header("List-Unsubscribe", headers.list_unsubscribe):
        return None  # long or non-ASCII: folded by the email package
    if not headers.subject or not headers.sender or not headers.to:
        return None
    try:
        head = b"".join(
            _header_line(name, value, check(name, value)) for name, value, check in top if value
        )
    except (ValueError, LookupError):
        return None  # left to the email package, which says what is wrong
    text = _text_part(rendered.text)
    html = _text_part(rendered.html)
    calendar = None
    if ics is not None and ics_method:
        if _PLAIN_TEXT.fullmatch(ics_method) is None or '"' in ics_method or "\\" in ics_method:
            return None
        try:
            calendar = _text_part(ics.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if calendar is None:
            return None
    if text is None or html is None:
        return None
    bodies = [text[1], html[1], *([calendar[1], ics] if calendar is not None and ics else [])]
    inner = _boundary(key, bodies, 1)
    outer = _boundary(key, bodies, 2) if calendar is not None else ""
    if inner is None or outer is None:
        return None
    lines = [
        f"Message-ID: {headers.message_id}",
        f"Date: {headers.date}",
        "Auto-Submitted: auto-generated",
        f"X-MOU-Key: {headers.mou_key}",
        *([f"List-Unsubscribe: {headers.list_unsubscribe}"] if headers.list_unsubscribe else []),
        "MIME-Version: 1.0",
    ]
    alternative = [
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        + f"Content-Transfer-Encoding: {text[0]}\r\n\r\n".encode("ascii")
        + text[1],
        b'Content-Type: text/html; charset="utf-8"\r\n'
        + f"Content-Transfer-Encoding: {html[0]}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        + html[1],
    ]
    if calendar is not None:
        alternative.append(
            f"Content-Transfer-Encoding: {calendar[0]}\r\n"
            f'Content-Type: text/calendar; charset="utf-8"; method="{ics_method}"\r\n'
            "MIME-Version: 1.0\r\n\r\n".encode("ascii")
            + calendar[1]
        )
    body = _multipart(inner, alternative)
    if calendar is None:
        lines.append(f'Content-Type: multipart/alternative; boundary="{inner}"')
        return head + (_CRLF.join(lines) + _CRLF + _CRLF).encode("ascii") + body
    assert ics is not None
    attachment = (
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="invite.ics"\r\n'
        f'Content-Type: text/calendar; method="{ics_method}"; charset="utf-8"\r\n'
        "MIME-Version: 1.0\r\n\r\n".encode("ascii")
        + _base64(ics)
    )
    nested = f'Content-Type: multipart/alternative; boundary="{inner}"\r\n\r\n'.encode("ascii")
    lines.append(f'Content-Type: multipart/mixed; boundary="{outer}"')
    head += (_CRLF.join(lines) + _CRLF + _CRLF).encode("ascii")
    return head + _multipart(outer, [nested + body, attachment])


def _multipart(boundary: str, parts: list[bytes]) -> bytes:
    """Parts between boundary lines, the way the email package's generator writes them."""
    marker = f"--{boundary}\r\n".encode("ascii")
    joined = b"\r\n".join(marker + part for part in parts)
    return joined + f"\r\n--{boundary}--\r\n".encode("ascii")


def _base64(data: bytes) -> bytes:
    """Base64 in lines as the email package writes them under the SMTP policy's limit."""
    per_line = _LIMIT // 4 * 3
    chunks = [binascii.b2a_base64(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return b"".join(chunks).replace(b"\n", b"\r\n")
