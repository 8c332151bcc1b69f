"""The SMTP mailer: smtplib with STARTTLS or implicit TLS, one connection per batch.

The SMTP transaction is driven step by step (MAIL, RCPT per recipient, DATA) so each
recipient's answer is known: a 5xx for one address rejects that address while the
others get the message; any 4xx fails the whole message so the next run retries it.
A connection that dropped while idle is reopened; a drop during DATA leaves the
outcome unknown and is reported as uncertain (never resent blindly); anything that goes
wrong before DATA provably delivered nothing and is a plain failure.

Non-ASCII addresses: domains go IDNA-encoded (xn--); an address with letters such as é
before the @ goes with the SMTPUTF8 MAIL option and UTF-8 headers when the server
offers SMTPUTF8, and is otherwise refused for that recipient alone (the others in the
message still get it).
"""

from __future__ import annotations

import contextlib
import copy
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from automations.config import Settings, unset_variable
from automations.errors import ConfigError, MailError
from automations.mail.addresses import ADDRESS_HEADERS, NO_SMTPUTF8, ascii_address, ascii_headers
from automations.mail.backend import SendResult
from automations.mail.compose import Outgoing
from automations.throttle import LIMIT_KEYS, Limits, read_limits

SECURITY = ("starttls", "tls", "none")
_KEYS = {"host", "port", "security", "username", "password_env", "timeout", "ca_file"} | LIMIT_KEYS


@dataclass(frozen=True)
class SmtpConfig:
    """The validated [smtp] section."""

    host: str
    port: int
    security: str
    username: str | None
    password_env: str | None
    timeout: float
    ca_file: Path | None
    limits: Limits

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"


def read_config(section: Mapping[str, Any], config_path: Path) -> SmtpConfig:
    """Validate [smtp]; every error names the key."""
    where = f"{config_path}: smtp"
    for key in section:
        if key not in _KEYS:
            raise ConfigError(f"{where}.{key} is not a known setting of [smtp]")
    host = section.get("host")
    if not isinstance(host, str) or not host.strip():
        raise ConfigError(f'{where}.host is required, e.g. host = "smtp.office365.com"')
    security = section.get("security", "starttls")
    if security not in SECURITY:
        raise ConfigError(f'{where}.security is "{security}"; choose one of: {", ".join(SECURITY)}')
    port = section.get("port", 465 if security == "tls" else 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{where}.port must be a port number like 587")
    username = section.get("username")
    password_env = section.get("password_env")
    for key, value in (("username", username), ("password_env", password_env)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{where}.{key} must be text in quotes")
    if password_env and not username:
        raise ConfigError(f"{where}.password_env is set but smtp.username is not")
    timeout = section.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{where}.timeout must be a number of seconds")
    ca_file = section.get("ca_file")
    if ca_file is not None:
        candidate = Path(str(ca_file)).expanduser()
        ca_file = candidate if candidate.is_absolute() else config_path.parent / candidate
    return SmtpConfig(
        host=host.strip(),
        port=port,
        security=security,
        username=username,
        password_env=password_env,
        timeout=float(timeout),
        ca_file=ca_file,
        limits=read_limits(section, where),
    )


def password_from_env(config: SmtpConfig, environ: Mapping[str, str] = os.environ) -> str | None:
    """The SMTP password from the environment variable named in the config."""
    if not config.password_env:
        return None
    value = environ.get(config.password_env)
    if not value:
        raise ConfigError(unset_variable("smtp.password_env", "SMTP_PASSWORD"))
    return value


class _Dropped(Exception):
    """The connection closed before the message data was sent (safe to retry)."""


class SmtpMailer:
    """Sends over one reused SMTP connection; reopens it once when it has dropped."""

    def __init__(self, config: SmtpConfig, password: str | None = None) -> None:
        self.config = config
        self._password = password
        self._connection: smtplib.SMTP | None = None
        self.sent = 0
        self.connections = 0

    # -- connection -----------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _open(self) -> smtplib.SMTP:
        config = self.config
        try:
            if config.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=config.timeout, context=self._context()
                )
            else:
                connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            connection.ehlo()
            if config.security == "starttls":
                connection.starttls(context=self._context())
                connection.ehlo()
            if config.username:
                connection.login(config.username, self._password or "")
        except smtplib.SMTPAuthenticationError as err:
            raise MailError(
                f"{config.where}: login as {config.username} refused ({err.smtp_code} "
                f"{_text(err.smtp_error)}); check the password in ${config.password_env}"
            ) from None
        except smtplib.SMTPNotSupportedError as err:
            raise MailError(f"{config.where}: {err}; check smtp.security") from None
        except (smtplib.SMTPException, OSError) as err:
            raise MailError(f"{config.where}: cannot connect: {err}") from None
        self.connections += 1
        return connection

    def _live(self) -> smtplib.SMTP:
        """The open connection, reopened if the server closed it while idle."""
        if self._connection is not None:
            try:
                if self._connection.noop()[0] == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self._discard()
        self._connection = self._open()
        return self._connection

    def _discard(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
        self._connection = None

    # -- sending --------------------------------------------------------------

    def send(self, message: Outgoing) -> SendResult:
        """Send one message; per-recipient 5xx answers come back in `rejected`."""
        try:
            return self._transaction(self._live(), message)
        except _Dropped:
            self._discard()
        try:
            return self._transaction(self._live(), message)
        except _Dropped as err:
            self._discard()
            return SendResult("failed", f"{self.config.where}: connection dropped twice: {err}")

    def _transaction(self, connection: smtplib.SMTP, message: Outgoing) -> SendResult:
        where = self.config.where
        wire = _wire(message, connection.has_extn("smtputf8"), where)
        if isinstance(wire, SendResult):
            return wire
        sender, recipients, data, options = wire
        # Refused here, before the server saw them: never in an RCPT, never in the data.
        rejected: dict[str, str] = {a: NO_SMTPUTF8 for a, to in recipients.items() if to is None}
        if len(rejected) == len(recipients):
            return SendResult("rejected", f"{where}: {NO_SMTPUTF8}", rejected=rejected)
        if options and connection.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        if not options:
            # smtplib keeps UTF-8 commands on after an SMTPUTF8 transaction until RSET.
            connection.command_encoding = "ascii"
        try:
            code, reply = connection.mail(sender, options)
            if code != 250:
                connection.rset()
                return _refused(code, f"{where} refused the sender {sender}: {code} {_text(reply)}")
            deferred: dict[str, str] = {}
            accepted: list[str] = []
            for address, to in recipients.items():
                if to is None:
                    continue
                code, reply = connection.rcpt(to)
                if code in (250, 251):
                    accepted.append(address)
                elif code >= 500:
                    rejected[address] = f"{code} {_text(reply)}"
                else:
                    deferred[address] = f"{code} {_text(reply)}"
            if deferred or not accepted:
                connection.rset()
                if deferred:
                    first = next(iter(deferred.items()))
                    return SendResult(
                        "failed",
                        f"{where} deferred {len(deferred)} recipient(s) ({first[1]}); "
                        "will try again on the next run",
                    )
                return SendResult(
                    "rejected",
                    f"{where} refused every recipient ({next(iter(rejected.values()))})",
                    rejected=rejected,
                )
        except (smtplib.SMTPServerDisconnected, ConnectionError) as err:
            raise _Dropped(str(err)) from None
        except (smtplib.SMTPException, OSError, ValueError) as err:
            # ValueError covers UnicodeError: a command that could not be encoded. The
            # data was never sent, so nothing was delivered: a failure, never "uncertain".
            self._discard()
            return SendResult("failed", f"{where}: {err}; nothing was delivered")
        try:
            code, reply = connection.data(data)
        except (smtplib.SMTPServerDisconnected, OSError) as err:
            self._discard()
            return SendResult(
                "uncertain",
                f"{where}: the connection dropped while sending the message ({err}); "
                "it may or may not have been delivered",
            )
        except smtplib.SMTPDataError as err:
            return _refused(err.smtp_code, f"{where} refused the message: {_text(err.smtp_error)}")
        if code != 250:
            return _refused(code, f"{where} refused the message: {code} {_text(reply)}")
        self.sent += 1
        detail = f"{len(rejected)} recipient(s) refused" if rejected else ""
        return SendResult("sent", detail, provider_id=message.message_id, rejected=rejected)

    def confirm(self, message: Outgoing) -> bool | None:
        """SMTP cannot tell whether an interrupted send was delivered."""
        return None

    def check(self) -> str:
        """Connect, log in and say goodbye; raise MailError with what went wrong."""
        connection = self._open()
        try:
            connection.noop()
        finally:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()
        login = f", logged in as {self.config.username}" if self.config.username else ""
        return f"SMTP {self.config.where}: connected ({self.config.security}){login}"

    def summary(self) -> str:
        """How many messages went through which server."""
        return f"SMTP {self.config.where}: {self.sent} message{'s' if self.sent != 1 else ''} sent"

    def close(self) -> None:
        """Say QUIT and close the connection."""
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._discard()


def _refused(code: int, detail: str) -> SendResult:
    return SendResult("rejected" if code >= 500 else "failed", detail)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


_Wire = tuple[str, dict[str, str | None], bytes, list[str]]


def _wire(message: Outgoing, smtputf8: bool, where: str) -> _Wire | SendResult:
    """What goes to the server: the envelope sender, each recipient's envelope form (None
    when this server cannot take it), the data and the MAIL options; or why nothing can go.

    Worked out before the first command, so a problem here never reaches the server.
    """
    sender = parseaddr(message.envelope.sender)[1]
    mime = message.mime
    if "Bcc" in mime:
        mime = _copy_without_bcc(mime)
    shown = [
        item.addr_spec
        for name in ADDRESS_HEADERS
        for item in getattr(mime.get(name), "addresses", ())
    ]
    utf8 = smtputf8 and any(ascii_address(a) is None for a in [sender, *message.recipients, *shown])
    recipients = {
        address: ascii_address(address) or (address if utf8 else None)
        for address in message.recipients
    }
    envelope_sender = ascii_address(sender) or (sender if utf8 else None)
    if envelope_sender is None:
        raise MailError(
            f"{where}: the sender {sender} has letters such as é before the @ and the server "
            "does not offer SMTPUTF8; set mail.sender to another address"
        )
    try:
        data = mime.as_bytes(policy=SMTPUTF8) if utf8 else ascii_headers(mime).as_bytes(policy=SMTP)
    except (ValueError, LookupError) as err:  # UnicodeError is a ValueError
        return SendResult("failed", f"{where}: the message could not be encoded ({err})")
    return envelope_sender, recipients, data, ["SMTPUTF8"] if utf8 else []


def _copy_without_bcc(mime: EmailMessage) -> EmailMessage:
    stripped = copy.copy(mime)
    del stripped["Bcc"]
    return stripped


def open_mailer(settings: Settings) -> SmtpMailer:
    """The SMTP server of the [smtp] section, its password from the environment."""
    config = read_config(settings.section("smtp"), settings.path)
    return SmtpMailer(config, password_from_env(config))


def mail_limits(settings: Settings) -> Limits:
    """The sending limits of the [smtp] section."""
    return read_config(settings.section("smtp"), settings.path).limits
