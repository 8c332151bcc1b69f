"""A real SMTP server on loopback (aiosmtpd) that records messages and misbehaves on request.

Tests can reject chosen recipients (550 for good, 451 for now), drop the connection
once (before or during DATA), and require a login.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

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
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
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


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """The running server: host, port, handler; optional login (any user, this password)."""

    def __init__(self, password: str | None = None) -> None:
        self.handler = SmtpHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.password = password
        kwargs = {}
        if password is not None:
            kwargs = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
                "auth_required": True,
            }
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
