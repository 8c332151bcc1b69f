"""A loopback Microsoft Graph emulator: the calls the microsoft365 mailer makes, nothing more.

sendMail (with a Sent Items copy a $filter on our extended property finds), the default
calendar, events (create with transactionId de-duplication, get, patch, cancel) with
attendee responses a test can set, request recording, and injected failures (429/503
with Retry-After, 4xx) or a per-mailbox rate limit on an injected clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "emulator-token"
RECEIVED_FILTER = re.compile(r"receivedDateTime ge (\S+)")
SENT_FILTER = re.compile(
    r"singleValueExtendedProperties/any\(\w+:\s*\w+/id eq '([^']+)' and \w+/value eq '([^']+)'\)",
    re.IGNORECASE,
)


@dataclass
class Request:
    """One request as the emulator saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


@dataclass
class Failure:
    """An injected answer for the next matching requests."""

    status: int
    count: int
    retry_after: int | None = None
    method: str | None = None
    path: str = ""
    code: str = ""
    message: str = ""


@dataclass
class GraphState:
    """Everything the emulator holds; tests read and change it directly."""

    requests: list[Request] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    inbox: list[dict[str, Any]] = field(default_factory=list)  # messages received
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    invalid_recipients: set[str] = field(default_factory=set)
    forbidden: set[str] = field(default_factory=set)  # path parts answered with 403
    mailboxes: set[str] = field(default_factory=set)  # empty: any mailbox exists
    rate_limit: tuple[int, Callable[[], dt.datetime]] | None = None
    throttled: int = 0
    _window: deque[dt.datetime] = field(default_factory=deque)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: int | None = None,
        method: str | None = None,
        path: str = "",
        code: str = "",
        message: str = "",
    ) -> None:
        """Answer the next `count` requests matching method/path with `status`."""
        self.failures.append(Failure(status, count, retry_after, method, path, code, message))

    def respond(self, event_id: str, address: str, response: str) -> None:
        """Set an attendee's answer: accepted, declined, tentativelyAccepted or none."""
        for attendee in self.events[event_id]["attendees"]:
            if attendee["emailAddress"]["address"].casefold() == address.casefold():
                attendee["status"] = {"response": response, "time": "2026-01-05T10:00:00Z"}
                return
        raise KeyError(address)

    def receive(self, sender: str, subject: str, body: str, when: dt.datetime) -> None:
        """A message arrives in the mailbox's Inbox (e.g. a family's reply)."""
        self.inbox.append(
            {
                "id": self.next_id("AAMkIn"),
                "subject": subject,
                "bodyPreview": body[:255],
                "from": {"emailAddress": {"address": sender, "name": ""}},
                "receivedDateTime": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    def calls(self, method: str, contains: str = "") -> list[Request]:
        """Recorded requests with this method whose path contains `contains`."""
        return [r for r in self.requests if r.method == method and contains in r.path]

    def next_id(self, prefix: str) -> str:
        """A Graph-like opaque id."""
        return f"{prefix}{next(self._ids):06d}=="


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "emu"}}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if self.server.state.requests:
            self.server.state.requests[-1].status = status

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.server.lock:
            state.requests.append(Request(method, path, query, body))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(
                    401, _error("InvalidAuthenticationToken", "Access token is empty or invalid.")
                )
            for failure in state.failures:
                if failure.count and (failure.method in (None, method)) and failure.path in path:
                    failure.count -= 1
                    headers = {}
                    if failure.retry_after is not None:
                        headers["Retry-After"] = str(failure.retry_after)
                    if failure.status == 429:
                        state.throttled += 1
                    return self._answer(
                        failure.status,
                        _error(
                            failure.code or ("TooManyRequests" if failure.status == 429 else "Err"),
                            failure.message or "Injected failure.",
                        ),
                        headers,
                    )
            if state.rate_limit is not None and method == "POST" and path.endswith("/sendMail"):
                limit, clock = state.rate_limit
                now = clock()
                while state._window and now - state._window[0] >= dt.timedelta(minutes=1):
                    state._window.popleft()
                if len(state._window) >= limit:
                    state.throttled += 1
                    wait = 60 - (now - state._window[0]).total_seconds()
                    return self._answer(
                        429,
                        _error("ApplicationThrottled", "Mailbox concurrency limit exceeded."),
                        {"Retry-After": str(max(1, int(wait + 0.999)))},
                    )
                state._window.append(now)
            for part in state.forbidden:
                if part in path:
                    return self._answer(
                        403, _error("ErrorAccessDenied", "Access is denied. Check credentials.")
                    )
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        state = self.server.state
        match = re.fullmatch(r"/v1\.0/users/([^/]+)(/.*)?", path)
        if not match:
            return self._answer(404, _error("ResourceNotFound", f"Unknown path {path}"))
        mailbox, rest = match.group(1), match.group(2) or ""
        if state.mailboxes and mailbox.casefold() not in state.mailboxes:
            return self._answer(
                404, _error("ErrorInvalidUser", f"The requested user '{mailbox}' is invalid.")
            )
        if method == "POST" and rest == "/sendMail":
            message = body["message"]
            recipients = [
                r["emailAddress"]["address"]
                for kind in ("toRecipients", "ccRecipients", "bccRecipients")
                for r in message.get(kind, [])
            ]
            bad = [a for a in recipients if a.casefold() in state.invalid_recipients]
            if bad:
                return self._answer(
                    400,
                    _error(
                        "ErrorInvalidRecipients",
                        f"At least one recipient is not valid., Recipient '{bad[0]}' is not "
                        "resolved. All recipients must be resolved before a message can be sent.",
                    ),
                )
            stored = dict(message)
            stored["id"] = state.next_id("AAMkMsg")
            stored["internetMessageId"] = f"<{stored['id'][:12]}@emulator.outlook.com>"
            stored["saveToSentItems"] = body.get("saveToSentItems", True)
            state.sent.append(stored)
            return self._answer(202)
        if method == "GET" and rest == "/mailFolders/SentItems/messages":
            found = SENT_FILTER.search((query.get("$filter") or [""])[0])
            value = [
                {"id": m["id"], "internetMessageId": m["internetMessageId"]}
                for m in state.sent
                if found
                and any(
                    p.get("id", "").casefold() == found.group(1).casefold()
                    and p.get("value") == found.group(2)
                    for p in m.get("singleValueExtendedProperties", [])
                )
            ]
            return self._answer(200, {"value": value[: int((query.get("$top") or ["10"])[0])]})
        if method == "GET" and rest.casefold() == "/mailfolders/inbox/messages":
            # $filter=receivedDateTime ge <UTC>, oldest first, pages of $top with a nextLink.
            since = RECEIVED_FILTER.search((query.get("$filter") or [""])[0])
            value = [m for m in state.inbox if not since or m["receivedDateTime"] >= since.group(1)]
            value.sort(key=lambda m: m["receivedDateTime"])
            top = int((query.get("$top") or ["10"])[0])
            skip = int((query.get("$skip") or ["0"])[0])
            page: dict[str, Any] = {"value": value[skip : skip + top]}
            if skip + top < len(value):
                host, port = self.server.server_address[:2]
                page["@odata.nextLink"] = (
                    f"http://{host}:{port}{path}?$top={top}&$skip={skip + top}"
                    + (f"&$filter=receivedDateTime ge {since.group(1)}" if since else "")
                )
            return self._answer(200, page)
        if method == "GET" and rest == "/calendar":
            return self._answer(
                200, {"id": "AAMkCal1==", "name": "Calendar", "canEdit": True, "owner": {}}
            )
        if method == "POST" and rest in ("/calendar/events", "/events"):
            transaction = body.get("transactionId")
            for event in state.events.values():
                if transaction and event.get("transactionId") == transaction:
                    return self._answer(201, event)
            event = dict(body)
            event["id"] = state.next_id("AAMkEvt")
            event["iCalUId"] = f"040000008200E00074C5B7101A82E008{len(state.events):08d}"
            event["isCancelled"] = False
            event["isOrganizer"] = True
            event["createdDateTime"] = "2026-01-01T00:00:00Z"
            event["lastModifiedDateTime"] = "2026-01-01T00:00:00Z"
            event["organizer"] = {"emailAddress": {"address": mailbox, "name": mailbox}}
            event["attendees"] = [_attendee(a) for a in body.get("attendees", [])]
            # O365 sends booleans as "true"/"false" strings here; Graph accepts both.
            if body.get("isOnlineMeeting") in (True, "true"):
                event["onlineMeeting"] = {"joinUrl": f"https://teams.example/l/{event['id']}"}
            event["_changes"] = []
            state.events[event["id"]] = event
            return self._answer(201, event)
        event_match = re.fullmatch(r"/events/([^/]+)(/cancel)?", rest)
        if event_match:
            event = state.events.get(event_match.group(1))
            if event is None or (event["isCancelled"] and method != "GET"):
                return self._answer(
                    404, _error("ErrorItemNotFound", "The specified object was not found.")
                )
            if method == "GET" and not event_match.group(2):
                return self._answer(200, event)
            if method == "PATCH" and not event_match.group(2):
                for key, value in body.items():
                    if key == "attendees":
                        known = {
                            a["emailAddress"]["address"].casefold(): a for a in event["attendees"]
                        }
                        value = [
                            known.get(a["emailAddress"]["address"].casefold()) or _attendee(a)
                            for a in value
                        ]
                    event[key] = value
                event["_changes"].append(sorted(body))
                return self._answer(200, event)
            if method == "POST" and event_match.group(2):
                event["isCancelled"] = True
                event["_cancel_comment"] = (body or {}).get("comment", "")
                return self._answer(202)
        return self._answer(404, _error("ResourceNotFound", f"No route for {method} {path}"))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


def _attendee(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "emailAddress": dict(data["emailAddress"]),
        "type": data.get("type", "required"),
        "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = GraphState()
        self.lock = threading.Lock()


class GraphEmulator:
    """The running emulator: `url` is what the mailer's service_url should be."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def state(self) -> GraphState:
        """What the emulator holds and recorded."""
        return self._server.state

    @property
    def url(self) -> str:
        """The service URL (without the API version)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> GraphEmulator:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
