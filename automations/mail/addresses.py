"""Addresses as a mail server can take them: IDNA (xn--) domains, UTF-8 only under SMTPUTF8.

An address whose only non-ASCII part is its domain (`l.nguyen@exämple.org`) can go to any
server once the domain is IDNA-encoded (`l.nguyen@xn--exmple-cua.org`). One with accented
letters before the @ (`José.Núñez@example.org`) can only go to a server that offers
SMTPUTF8 (RFC 6531), with UTF-8 headers.
"""

from __future__ import annotations

import copy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr

from email_validator import EmailNotValidError, validate_email

# Headers that hold addresses (Bcc never goes on the wire).
ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc")
NO_SMTPUTF8 = (
    "the mail server cannot take letters such as é or ñ before the @ (it does not offer "
    "SMTPUTF8); ask for another address or use a mail server that accepts them"
)


def ascii_address(address: str) -> str | None:
    """The address with its domain IDNA-encoded, or None when the part before the @ is
    not ASCII (or the domain cannot be encoded)."""
    if address.isascii():
        return address
    try:
        return validate_email(address, check_deliverability=False).ascii_email
    except EmailNotValidError:
        return None


def ascii_headers(mime: EmailMessage) -> EmailMessage:
    """`mime` with every address it can in ASCII form (IDNA domains), for a server without
    SMTPUTF8; the original is left as it is. Addresses that need SMTPUTF8 stay as typed."""
    changed = {}
    for name in ADDRESS_HEADERS:
        header = mime.get(name)
        if header is None or str(header).isascii():
            continue
        parts = []
        for item in getattr(header, "addresses", ()):
            assert isinstance(item, Address)
            spec = ascii_address(item.addr_spec) or item.addr_spec
            parts.append(formataddr((item.display_name, spec)) if item.display_name else spec)
        changed[name] = ", ".join(parts)
    if not changed:
        return mime
    copied = copy.deepcopy(mime)
    for name, value in changed.items():
        copied.replace_header(name, value)
    return copied
