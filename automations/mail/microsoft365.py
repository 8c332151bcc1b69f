"""The Microsoft 365 mailer: O365 over Microsoft Graph, app-only, sending as one mailbox.

Mail goes out with one `sendMail` POST: the HTML body (Graph takes one body; Exchange
derives the text/plain alternative itself), attachments inline, Bcc, Reply-To, an
`X-MOU-Key` header and a single-value extended property holding the key digest, so
`confirm()` can find the message in Sent Items after a crash. Graph answers 202 with
no id and does not let a client set Message-ID, so the ledger records the key digest.

Committee meetings become real Exchange events (see CalendarMailer): Exchange sends the
invitations, updates and cancellations, and attendee responses are read back.

O365 retries GET only and ignores our clock, so its retries are switched off and every
call goes through `_call`: a bounded retry honouring Retry-After on 429/503/504, with
an injectable clock and sleep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from O365 import Account, MSGraphProtocol
from O365.utils.token import BaseTokenBackend, FileSystemTokenBackend
from requests import RequestException, Response
from requests.exceptions import HTTPError

from automations.config import Settings, unset_variable
from automations.errors import ConfigError, EventFailed, MailError
from automations.mail.backend import Reply, SendResult
from automations.mail.compose import Outgoing, key_digest
from automations.plan import AttendeeResponse, InviteSpec
from automations.private import explain, private_dir, write_private
from automations.throttle import LIMIT_KEYS, Limits, read_limits

T = TypeVar("T")
GRAPH_URL = "https://graph.microsoft.com/"
# Our own named property (PS_PUBLIC_STRINGS namespace) holding the key digest.
KEY_PROPERTY = "String {00020329-0000-0000-C000-000000000046} Name X-MOU-Key"
RETRY_STATUSES = (429, 503, 504)
_RESPONSES = {
    "accepted": "accepted",
    "tentatively_accepted": "tentativelyAccepted",
    "tentativelyAccepted": "tentativelyAccepted",
    "declined": "declined",
}
PERMISSIONS = (
    "the app registration needs the Microsoft Graph *application* permissions Mail.Send and "
    "Calendars.ReadWrite (plus Mail.ReadBasic to confirm sends after a crash), with admin "
    "consent; an application access policy may restrict them to the sending mailbox"
)
_KEYS = {
    "tenant_id",
    "client_id",
    "client_secret_env",
    "mailbox",
    "service_url",
    "timeout",
    "max_retries",
    "max_wait",
    "calendar_events",
    "online_meetings",
} | LIMIT_KEYS


@dataclass(frozen=True)
class M365Config:
    """The validated [microsoft365] section."""

    tenant_id: str
    client_id: str
    client_secret_env: str
    mailbox: str
    service_url: str
    timeout: float
    max_retries: int
    max_wait: float
    calendar_events: bool
    online_meetings: bool
    limits: Limits


def read_config(section: Mapping[str, Any], config_path: Path, sender: str) -> M365Config:
    """Validate [microsoft365]; the mailbox defaults to mail.sender's address."""
    where = f"{config_path}: microsoft365"
    for key in section:
        if key not in _KEYS:
            raise ConfigError(f"{where}.{key} is not a known setting of [microsoft365]")

    def text(key: str, default: str | None = None) -> str:
        value = section.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}.{key} is required (text in quotes)")
        return value.strip()

    def number(key: str, default: float, low: float, high: float) -> float:
        value = section.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ConfigError(f"{where}.{key} must be a number between {low:g} and {high:g}")
        return float(value)

    def flag(key: str, default: bool) -> bool:
        value = section.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{key} must be true or false")
        return value

    service_url = text("service_url", GRAPH_URL)
    if not service_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(f"{where}.service_url must be an https:// URL")
    return M365Config(
        tenant_id=text("tenant_id"),
        client_id=text("client_id"),
        client_secret_env=text("client_secret_env"),
        mailbox=text("mailbox", parseaddr(sender)[1]),
        service_url=service_url.rstrip("/") + "/",
        timeout=number("timeout", 30, 1, 600),
        max_retries=int(number("max_retries", 5, 0, 20)),
        max_wait=number("max_wait", 300, 1, 3600),
        calendar_events=flag("calendar_events", True),
        online_meetings=flag("online_meetings", False),
        limits=read_limits(section, where),
    )


def secret_from_env(config: M365Config, environ: Mapping[str, str] = os.environ) -> str:
    """The client secret from the environment variable named in the config."""
    value = environ.get(config.client_secret_env)
    if not value:
        raise ConfigError(unset_variable("microsoft365.client_secret_env", "MOU_M365_SECRET"))
    return value


class PrivateTokenBackend(FileSystemTokenBackend):
    """O365's token cache file, written 0600: it holds the access token (O365 itself
    writes it with the umask's mode, usually 0644)."""

    def save_token(self, force: bool = False) -> bool:
        """Write the cache whole, privately and atomically (same rules as O365's)."""
        if not self._cache:
            return False
        if force is False and self._has_state_changed is False:
            return True
        write_private(self.token_path, self.serialize().encode("utf-8"))
        return True


def token_backend_in(state_dir: Path) -> BaseTokenBackend:
    """The token cache file in the state directory (O365's default is the working directory)."""
    try:
        private_dir(state_dir)
    except OSError as err:
        raise ConfigError(
            f"state_dir {state_dir} cannot be created ({explain(err)}); point state_dir at "
            "a folder this user can write"
        ) from None
    return PrivateTokenBackend(token_path=state_dir, token_filename="o365_token.json")


def _graph_message(response: Response | None) -> str:
    if response is None:
        return "no response"
    try:
        error = response.json().get("error", {})
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    except ValueError:
        return f"HTTP {response.status_code}"


def _retry_after(response: Response | None, attempt: int) -> float:
    """Seconds to wait: the server's Retry-After, else exponential backoff."""
    if response is not None:
        value = response.headers.get("Retry-After", "")
        if value.strip().isdigit():
            return float(value)
    return float(min(2**attempt, 60))


def event_body(invite: InviteSpec) -> str:
    """The event's HTML body: the agenda (escaped) and the online link."""
    parts = []
    if invite.description:
        parts.append("<p>" + html.escape(invite.description).replace("\n", "<br>") + "</p>")
    if invite.url:
        link = html.escape(invite.url, quote=True)
        parts.append(f'<p><a href="{link}">{link}</a></p>')
    return "".join(parts) or "<p></p>"


class Microsoft365Mailer:
    """Sends as `config.mailbox` through Graph; creates, patches and cancels its events."""

    def __init__(
        self,
        config: M365Config,
        secret: str,
        token_backend: BaseTokenBackend,
        *,
        timezone: ZoneInfo,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.calendar_events = config.calendar_events
        self._sleep = sleep
        protocol = MSGraphProtocol(default_resource=config.mailbox, timezone=timezone)
        # The one place the service URL is read (tests point it at the loopback emulator).
        protocol.service_url = f"{config.service_url}{protocol.api_version}/"
        self.account = Account(
            (config.client_id, secret),
            auth_flow_type="credentials",
            tenant_id=config.tenant_id,
            protocol=protocol,
            main_resource=config.mailbox,
            token_backend=token_backend,
            timeout=config.timeout,
            request_retries=0,  # our own retry below (O365 would retry GET only)
            requests_delay=0,  # pacing is the runner's Throttle
        )
        # O365 logs every 4xx at ERROR before we decide to retry or reject; the runner
        # reports each outcome with its row, so keep only O365's critical messages.
        logging.getLogger("O365").setLevel(logging.CRITICAL)
        self._signed_in = False
        self.sent = 0
        self.throttled = 0
        self.retries = 0

    # -- plumbing -------------------------------------------------------------

    def _where(self) -> str:
        return f"Microsoft 365 mailbox {self.config.mailbox}"

    def _sign_in(self) -> None:
        if self._signed_in:
            return
        try:
            ok = self.account.is_authenticated or self.account.authenticate()
        except Exception as err:  # MSAL and requests raise many kinds
            raise MailError(
                f"{self._where()}: sign-in to tenant {self.config.tenant_id} as app "
                f"{self.config.client_id} failed ({err}); check tenant_id, client_id and the "
                f"secret in ${self.config.client_secret_env} (it may have expired)"
            ) from None
        if not ok:
            raise MailError(
                f"{self._where()}: sign-in to tenant {self.config.tenant_id} as app "
                f"{self.config.client_id} failed; check the secret in "
                f"${self.config.client_secret_env}"
            )
        self._signed_in = True

    def _call(
        self,
        what: str,
        request: Callable[[], T],
        retry: tuple[int, ...] = RETRY_STATUSES,
        reads: bool = False,
    ) -> T:
        """Run one Graph request, retrying `retry` statuses within max_retries and max_wait;
        a read (`reads`) is retried after a timeout or a dropped connection too."""
        self._sign_in()
        waited = 0.0
        attempt = 0
        while True:
            try:
                return request()
            except HTTPError as err:
                status = err.response.status_code if err.response is not None else 0
                if status == 429:
                    self.throttled += 1
                if status not in retry or attempt >= self.config.max_retries:
                    raise
                pause = _retry_after(err.response, attempt)
                if waited + pause > self.config.max_wait:
                    raise
                self.retries += 1
                attempt += 1
                waited += pause
                self._sleep(pause)
            except RequestException:
                if not reads:
                    raise
                # A read changes nothing in the mailbox: asking again after a timeout or a
                # dropped connection is safe (a send is not: it may have been taken).
                pause = _retry_after(None, attempt)
                if attempt >= self.config.max_retries or waited + pause > self.config.max_wait:
                    raise
                self.retries += 1
                attempt += 1
                waited += pause
                self._sleep(pause)

    def _stop_on_auth(self, err: HTTPError, what: str) -> None:
        """401/403/404-mailbox mean nothing can be sent: raise MailError naming the fix."""
        status = err.response.status_code if err.response is not None else 0
        message = _graph_message(err.response)
        if status == 401:
            raise MailError(
                f"{self._where()}: Graph refused the token while trying to {what} ({message}); "
                f"check tenant_id, client_id and the secret in ${self.config.client_secret_env}"
            ) from None
        if status == 403:
            raise MailError(
                f"{self._where()}: access denied while trying to {what} ({message}); {PERMISSIONS}"
            ) from None
        if status == 404 and "ErrorInvalidUser" in message:
            raise MailError(
                f"{self._where()}: the mailbox does not exist ({message}); "
                "check microsoft365.mailbox"
            ) from None

    def _url(self, endpoint: str) -> str:
        return self.account.mailbox().build_url(endpoint)

    # -- mail -------------------------------------------------------------------

    def send(self, message: Outgoing) -> SendResult:
        """One sendMail POST; 4xx -> rejected with Graph's message, throttling -> failed."""
        mail = self.account.mailbox().new_message()
        envelope = message.envelope
        mail.to.add(list(envelope.to))
        if envelope.bcc:
            mail.bcc.add(list(envelope.bcc))
        if envelope.reply_to:
            mail.reply_to.add(parseaddr(envelope.reply_to)[1])
        address = parseaddr(envelope.sender)[1]
        if address and address.casefold() != self.config.mailbox.casefold():
            mail.sender = address  # sending as another address needs Send As rights
        mail.subject = message.rendered.subject
        mail.body = message.rendered.html
        mail.body_type = "HTML"
        if message.ics is not None:
            mail.attachments.add([(BytesIO(message.ics), "invite.ics")])
        digest = key_digest(message.key)
        mail.add_message_header("X-MOU-Key", digest)
        mail.single_value_extended_properties.append({"id": KEY_PROPERTY, "value": digest})
        # Recipients Graph refused by name; the message went again without them.
        refused: dict[str, str] = {}
        attempt = 0
        while attempt <= self.config.max_retries:
            try:
                # 429/503 mean "not taken": retry. A 504 may have been taken: look first.
                self._call("send mail", lambda: mail.send(save_to_sent_folder=True), (429, 503))
                return self._sent(digest, refused)
            except HTTPError as err:
                status = err.response.status_code if err.response is not None else 0
                named = _named_recipient(err, message) if status == 400 else {}
                named = {a: r for a, r in named.items() if a not in refused}
                if named and len(refused) + len(named) < len(message.recipients):
                    # A 400 means nothing was sent: send it again without the addresses
                    # Exchange refused, so the rest of a Bcc batch still gets it.
                    refused.update(named)
                    for recipients in (mail.to, mail.bcc):
                        recipients.remove(list(named))
                    continue
                if status != 504 or attempt == self.config.max_retries:
                    return self._send_failed(err, message, refused)
                self._sleep(_retry_after(err.response, attempt))
                found = self.confirm(message)
                if found is None:
                    return SendResult(
                        "uncertain",
                        "Graph timed out (504) and Sent Items cannot be searched; not resent",
                    )
                if found:
                    return self._sent(digest, refused)
            except RequestException as err:
                # The request may have reached Exchange: look before anyone resends it.
                found = self.confirm(message)
                if found:
                    return self._sent(digest, refused)
                state = "failed" if found is False else "uncertain"
                return SendResult(state, f"{self._where()}: {type(err).__name__}: {err}")
            attempt += 1
        return SendResult("failed", "Graph kept timing out; will try again on the next run")

    def _send_failed(
        self, err: HTTPError, message: Outgoing, refused: Mapping[str, str]
    ) -> SendResult:
        """Turn a Graph error on sendMail into a result (or MailError when nothing can go)."""
        self._stop_on_auth(err, "send mail")
        status = err.response.status_code if err.response is not None else 0
        detail = f"Graph answered {status}: {_graph_message(err.response)}"
        if status in RETRY_STATUSES:
            return SendResult("failed", detail + "; will try again on the next run")
        if 400 <= status < 500:
            named = {**refused, **_named_recipient(err, message)}
            return SendResult("rejected", detail, rejected=named)
        return SendResult("failed", detail)

    def _sent(self, digest: str, refused: Mapping[str, str]) -> SendResult:
        self.sent += 1
        # Graph gives no id for sendMail and sets its own Message-ID: keep our key digest.
        detail = f"{len(refused)} recipient(s) refused" if refused else "Message-ID set by Exchange"
        return SendResult("sent", detail, provider_id=f"x-mou-key:{digest}", rejected=dict(refused))

    def confirm(self, message: Outgoing) -> bool | None:
        """Look for the message in Sent Items by its key property; None if we cannot look."""
        digest = key_digest(message.key)
        query = (
            f"singleValueExtendedProperties/any(ep: ep/id eq '{KEY_PROPERTY}' "
            f"and ep/value eq '{digest}')"
        )
        url = self._url("/mailFolders/SentItems/messages")
        connection = self.account.con
        try:
            response = self._call(
                "search Sent Items",
                lambda: connection.get(url, params={"$filter": query, "$top": 1, "$select": "id"}),
                reads=True,
            )
        except (HTTPError, RequestException, MailError):
            return None
        return bool(response.json().get("value"))

    # -- replies (InboxMailer) ---------------------------------------------------

    def replies(self, since: dt.datetime | None) -> list[Reply]:
        """Messages in the mailbox's Inbox received since `since` (the last 30 days when
        None), oldest first; needs Mail.Read. Raises MailError when it cannot be read."""
        start = since or dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        stamp = start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        url: str | None = self._url("/mailFolders/Inbox/messages")
        params: dict[str, Any] | None = {
            "$filter": f"receivedDateTime ge {stamp}",
            "$select": "subject,bodyPreview,from,receivedDateTime",
            "$orderby": "receivedDateTime",
            "$top": 100,
        }
        found: list[Reply] = []
        connection = self.account.con
        while url:
            page_url, page_params = url, params
            try:
                response = self._call(
                    "read the Inbox",
                    lambda u=page_url, q=page_params: connection.get(u, params=q),
                )
            except HTTPError as err:
                self._stop_on_auth(err, "read the Inbox (Mail.Read)")
                raise MailError(f"{self._where()}: {_graph_message(err.response)}") from None
            except RequestException as err:
                raise MailError(f"{self._where()}: cannot reach Graph: {err}") from None
            data = response.json()
            for item in data.get("value", []):
                sender = (item.get("from") or {}).get("emailAddress") or {}
                if not sender.get("address"):
                    continue
                received = dt.datetime.fromisoformat(
                    str(item["receivedDateTime"]).replace("Z", "+00:00")
                )
                found.append(
                    Reply(
                        sender["address"],
                        item.get("subject") or "",
                        item.get("bodyPreview") or "",
                        received,
                    )
                )
            url, params = data.get("@odata.nextLink"), None
        return found

    # -- calendar (CalendarMailer) ----------------------------------------------

    def _schedule(self) -> Any:
        return self.account.schedule(resource=self.config.mailbox)

    def _get_event(self, event_id: str) -> Any | None:
        schedule = self._schedule()
        url = schedule.build_url(f"/events/{event_id}")
        try:
            response = self._call("read an event", lambda: self.account.con.get(url))
        except HTTPError as err:
            self._stop_on_auth(err, "read a calendar event")
            if err.response is not None and err.response.status_code == 404:
                return None
            raise EventFailed(f"Graph answered {_graph_message(err.response)}") from None
        except RequestException as err:
            raise EventFailed(f"{self._where()}: {err}") from None
        return schedule.event_constructor(parent=schedule, **{"__cloud_data__": response.json()})

    def save_event(self, invite: InviteSpec, event_id: str | None) -> str:
        """Create the meeting (Exchange invites the attendees) or patch it; return its id."""
        event = self._get_event(event_id) if event_id else None
        if event is None or event.is_cancelled:
            event = self._schedule().new_event()
            # Graph ignores a second POST with the same transactionId: retries never duplicate.
            basis = f"{invite.uid}/{invite.sequence}".encode()
            event.transaction_id = hashlib.sha256(basis).hexdigest()[:36]
        event.subject = invite.summary
        event.body = event_body(invite)
        event.start = invite.start
        event.end = invite.end
        event.location = invite.location
        event.attendees.clear()
        event.attendees.add([(a.name or a.email, a.email) for a in invite.attendees])
        if self.config.online_meetings and not event.is_online_meeting:
            event.is_online_meeting = True
            event.online_meeting_provider = "teamsForBusiness"
        try:
            self._call("save an event", event.save)
        except HTTPError as err:
            self._stop_on_auth(err, "create or update a calendar event")
            raise EventFailed(
                f"Graph answered {err.response.status_code if err.response is not None else '?'}"
                f": {_graph_message(err.response)}"
            ) from None
        except RequestException as err:
            raise EventFailed(f"{self._where()}: {err}") from None
        return str(event.object_id)

    def cancel_event(self, event_id: str, invite: InviteSpec) -> None:
        """Cancel the meeting; Exchange sends the cancellation to every attendee."""
        url = self._schedule().build_url(f"/events/{event_id}/cancel")
        comment = "This meeting has been cancelled."
        try:
            self._call(
                "cancel an event", lambda: self.account.con.post(url, data={"comment": comment})
            )
        except HTTPError as err:
            self._stop_on_auth(err, "cancel a calendar event")
            if err.response is not None and err.response.status_code == 404:
                return  # already cancelled or deleted in Outlook
            raise EventFailed(f"Graph answered {_graph_message(err.response)}") from None
        except RequestException as err:
            raise EventFailed(f"{self._where()}: {err}") from None

    def event_responses(self, event_id: str) -> list[AttendeeResponse]:
        """Each attendee's answer: accepted, tentativelyAccepted, declined or none."""
        event = self._get_event(event_id)
        if event is None:
            raise EventFailed(f"event {event_id} no longer exists in {self.config.mailbox}")
        answers = []
        for attendee in event.attendees:
            status = attendee.response_status.status if attendee.response_status else None
            # O365 keeps enum values snake_cased; the ledger keeps Graph's words.
            word = _RESPONSES.get(status.value, "none") if status is not None else "none"
            answers.append(AttendeeResponse(attendee.address, attendee.name or "", word))
        return answers

    # -- admin --------------------------------------------------------------------

    def check(self) -> str:
        """Sign in and read the mailbox's calendar and Sent Items; raise MailError if not."""
        schedule = self._schedule()
        url = schedule.build_url("/calendar")
        try:
            self._call("read the calendar", lambda: self.account.con.get(url))
        except HTTPError as err:
            self._stop_on_auth(err, "read the calendar (Calendars.ReadWrite)")
            raise MailError(f"{self._where()}: {_graph_message(err.response)}") from None
        except RequestException as err:
            raise MailError(f"{self._where()}: cannot reach Graph: {err}") from None
        note = ""
        if self.confirm_available() is False:
            note = (
                "; Mail.ReadBasic is not granted, so a send interrupted by a crash is "
                "reported as uncertain instead of being confirmed"
            )
        return (
            f"{self._where()}: signed in, calendar readable{note}. Mail.Send cannot be tested "
            f"without sending; {PERMISSIONS}"
        )

    def confirm_available(self) -> bool:
        """Whether Sent Items can be searched (Mail.ReadBasic granted)."""
        url = self._url("/mailFolders/SentItems/messages")
        try:
            self._call(
                "read Sent Items",
                lambda: self.account.con.get(url, params={"$top": 1, "$select": "id"}),
            )
        except (HTTPError, RequestException):
            return False
        return True

    def summary(self) -> str:
        """Messages sent and throttling met this run."""
        return f"{self._where()}: {self.sent} message{'s' if self.sent != 1 else ''} sent" + (
            f", {self.throttled} throttled request(s) retried" if self.throttled else ""
        )

    def close(self) -> None:
        """Nothing to release beyond the HTTP session."""
        session = getattr(self.account.con, "session", None)
        if session is not None:
            session.close()


def _named_recipient(err: HTTPError, message: Outgoing) -> dict[str, str]:
    """Graph names an unresolvable recipient in its message; map it for the row status."""
    text = _graph_message(err.response)
    return {a: text for a in message.recipients if f"'{a}'".casefold() in text.casefold()}


def open_mailer(settings: Settings) -> Microsoft365Mailer:
    """The mailbox of the [microsoft365] section; the token cache in state_dir."""
    config = read_config(settings.section("microsoft365"), settings.path, settings.mail.sender)
    return Microsoft365Mailer(
        config,
        secret_from_env(config),
        token_backend_in(settings.state_dir),
        timezone=settings.timezone,
    )


def mail_limits(settings: Settings) -> Limits:
    """The sending limits of the [microsoft365] section."""
    return read_config(settings.section("microsoft365"), settings.path, settings.mail.sender).limits
