"""A real SMTP server on loopback (aiosmtpd) that records messages and misbehaves on request.

Tests can reject chosen recipients (550 for good, 451 for now), drop the connection
once (before or during DATA), require a login, and offer SMTPUTF8 or not (aiosmtpd's
Controller offers it unless told otherwise; without it, non-ASCII commands get a 500).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str] = field(default_factory=list)

    @property
    def message(self) -> Message:
        """The parsed message as delivered."""
        return message_from_bytes(self.data, policy=default)


@dataclass
class SmtpHandler:
    """Records envelopes; `reject` maps address -> SMTP reply for RCPT TO."""

    received: list[Received] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)
    drop: str | None = None  # "mail": close at the next MAIL FROM; "data": after the data
    connections: int = 0
    transactions: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1 if not session.host_name else 0
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop == "mail":
            self.drop = None
            server.transport.close()
            return "421 4.4.2 connection dropped by the test"
        self.transactions += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.reject.get(address.casefold())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                list(envelope.mail_options),
            )
        )
        if self.drop == "data":
            self.drop = None
            server.transport.close()
        return "250 Message accepted for delivery"

    def reject_550(self, address: str) -> None:
        """Refuse `address` for good."""
        self.reject[address.casefold()] = "550 5.1.1 No such user here"

    def reject_451(self, address: str) -> None:
        """Refuse `address` for now (try again later)."""
        self.reject[address.casefold()] = "451 4.3.0 Mailbox temporarily unavailable"


def self_signed_cert(folder: Path, host: str) -> Path:
    """Write a self-signed certificate for `host` (an IP) and its key; return the cert path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = folder / "cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """The running server: host, port, handler; optional login (any user, this password)."""

    def __init__(
        self,
        password: str | None = None,
        tls: str | None = None,
        cert_dir: Path | None = None,
        smtputf8: bool = True,
    ) -> None:
        """tls: None (plain), "starttls" or "implicit" (a self-signed cert in cert_dir);
        smtputf8: whether EHLO offers SMTPUTF8 (and non-ASCII addresses are accepted)."""
        self.handler = SmtpHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.password = password
        kwargs: dict = {"enable_SMTPUTF8": smtputf8}
        if tls is not None:
            assert cert_dir is not None
            self.ca_file = self_signed_cert(cert_dir, self.host)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.ca_file, cert_dir / "key.pem")
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if password is not None:
            kwargs.update(
                authenticator=self._authenticate, auth_require_tls=False, auth_required=True
            )
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpServer:
        """Start listening."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    @property
    def received(self) -> list[Received]:
        """Messages delivered so far."""
        return self.handler.received
