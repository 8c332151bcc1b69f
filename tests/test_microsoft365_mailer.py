"""The Microsoft 365 mailer: the real O365 library against the loopback Graph emulator."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from automations.errors import ConfigError, MailError
from automations.mail.compose import key_digest
from automations.mail.microsoft365 import KEY_PROPERTY, read_config, token_backend_in
from tests.fixtures.mail import MAILBOX
from tests.test_smtp_mailer import outgoing


def test_send_posts_one_sendmail_with_html_bcc_reply_to_and_invite(graph, m365):
    ics = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    mail = outgoing(to=("support@example.org",), bcc=("f1@example.org", "f2@example.org"), ics=ics)
    result = m365().send(mail)
    assert result.state == "sent"
    assert result.provider_id == f"x-mou-key:{key_digest(mail.key)}"
    (call,) = graph.state.calls("POST")
    assert call.path == f"/v1.0/users/{MAILBOX}/sendMail"
    message = call.body["message"]
    assert message["subject"] == "Reunión del comité"
    assert message["body"] == {"contentType": "HTML", "content": mail.rendered.html}
    assert [r["emailAddress"]["address"] for r in message["bccRecipients"]] == [
        "f1@example.org",
        "f2@example.org",
    ]
    assert [r["emailAddress"]["address"] for r in message["replyTo"]] == ["reply@example.org"]
    (attachment,) = message["attachments"]
    assert attachment["name"] == "invite.ics"
    assert base64.b64decode(attachment["contentBytes"]) == ics
    assert {"name": "X-MOU-Key", "value": key_digest(mail.key)} in message["internetMessageHeaders"]
    assert {"id": KEY_PROPERTY, "value": key_digest(mail.key)} in message[
        "singleValueExtendedProperties"
    ]


def test_429_is_retried_after_the_servers_retry_after(graph, m365, clock):
    graph.state.fail(429, 2, retry_after=7, method="POST", path="sendMail")
    mailer = m365()
    assert mailer.send(outgoing()).state == "sent"
    assert clock.slept == 14
    assert len(graph.state.sent) == 1
    assert mailer.throttled == 2


def test_a_429_storm_past_the_retry_budget_fails_for_the_next_run(graph, m365, clock):
    graph.state.fail(429, 50, retry_after=30, method="POST", path="sendMail")
    result = m365(max_retries=3).send(outgoing())
    assert result.state == "failed" and "429" in result.detail
    assert clock.slept == 90
    assert graph.state.sent == []


def test_503_without_retry_after_backs_off_exponentially(graph, m365, clock):
    graph.state.fail(503, 3, method="POST", path="sendMail")
    assert m365().send(outgoing()).state == "sent"
    assert clock.slept == 1 + 2 + 4


def test_a_504_after_which_the_message_is_in_sent_items_is_not_sent_again(graph, m365):
    mailer = m365()
    mail = outgoing()
    assert mailer.send(mail).state == "sent"
    # Pretend Exchange took it but the gateway timed out: the copy is in Sent Items.
    graph.state.fail(504, 5, method="POST", path="sendMail")
    assert mailer.send(mail).state == "sent"
    assert len(graph.state.sent) == 1


class StallSentItemsSearchOnce(list):
    """Emulator failures that also hold the first Sent Items search past the client's
    timeout (the emulator answers it afterwards, to nobody)."""

    def __init__(self, state, stall: float) -> None:
        super().__init__(state.failures)
        self.state, self.stall, self.stalled = state, stall, 0

    def __iter__(self):
        yield from list.__iter__(self)
        last = self.state.requests[-1]
        if not self.stalled and last.method == "GET" and "SentItems" in last.path:
            self.stalled += 1
            time.sleep(self.stall)


def test_a_sent_items_search_that_times_out_is_asked_again_not_left_uncertain(graph, m365):
    mailer = m365(timeout=1, max_retries=3)
    mail = outgoing()
    assert mailer.send(mail).state == "sent"
    graph.state.fail(504, 1, method="POST", path="sendMail")
    graph.state.failures = stall = StallSentItemsSearchOnce(graph.state, 1.5)
    # The 504 sends the mailer to Sent Items; that search times out once. A search is a
    # read, so it is asked again and finds the copy: sent, not "uncertain", not resent.
    assert mailer.send(mail).state == "sent"
    assert stall.stalled == 1
    assert len(graph.state.sent) == 1


def test_invalid_recipient_is_rejected_with_graphs_message(graph, m365):
    graph.state.invalid_recipients.add("nobody@example.org")
    result = m365().send(outgoing(to=("nobody@example.org",)))
    assert result.state == "rejected"
    assert "ErrorInvalidRecipients" in result.detail
    assert "nobody@example.org" in result.rejected


def test_a_refused_token_stops_sending_and_names_the_secret(graph, m365):
    graph.state.fail(401, 1)
    with pytest.raises(MailError, match=r"refused the token.*M365_SECRET"):
        m365().send(outgoing())


def test_missing_permission_stops_sending_and_names_the_permissions(graph, m365):
    graph.state.forbidden.add("sendMail")
    with pytest.raises(MailError, match=r"access denied.*Mail\.Send.*Calendars\.ReadWrite"):
        m365().send(outgoing())


def test_unknown_mailbox_stops_sending(graph, m365):
    graph.state.mailboxes.add("someone-else@example.org")
    with pytest.raises(MailError, match=r"microsoft365\.mailbox"):
        m365().send(outgoing())


def test_confirm_finds_a_sent_message_by_its_key_property(graph, m365):
    mailer = m365()
    sent, never = outgoing(key="job/sent"), outgoing(key="job/never")
    mailer.send(sent)
    assert mailer.confirm(sent) is True
    assert mailer.confirm(never) is False


def test_confirm_is_unknown_without_mail_read_permission(graph, m365):
    graph.state.forbidden.add("SentItems")
    assert m365().confirm(outgoing()) is None


def test_check_signs_in_and_explains_permissions(graph, m365):
    line = m365().check()
    assert "signed in" in line and "Mail.Send" in line
    graph.state.forbidden.add("/calendar")
    with pytest.raises(MailError, match=r"Calendars\.ReadWrite"):
        m365().check()


def test_token_cache_lives_in_the_state_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    backend = token_backend_in(tmp_path / "state")
    assert backend.token_path == tmp_path / "state" / "o365_token.json"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"client_id": "c", "client_secret_env": "S"}, "microsoft365.tenant_id is required"),
        (
            {"tenant_id": "t", "client_id": "c", "client_secret_env": "S", "secret": "x"},
            "microsoft365.secret is not a known setting",
        ),
        (
            {"tenant_id": "t", "client_id": "c", "client_secret_env": "S", "timeout": 0},
            "microsoft365.timeout must be a number",
        ),
        (
            {"tenant_id": "t", "client_id": "c", "client_secret_env": "S", "service_url": "ftp:"},
            "service_url must be an https",
        ),
    ],
)
def test_bad_microsoft365_settings_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        read_config(section, Path("jobs.toml"), "a@example.org")


def test_mailbox_defaults_to_the_sender_address():
    section = {"tenant_id": "t", "client_id": "c", "client_secret_env": "S"}
    config = read_config(section, Path("jobs.toml"), "Support <support@example.org>")
    assert config.mailbox == "support@example.org"
    assert config.service_url == "https://graph.microsoft.com/"
