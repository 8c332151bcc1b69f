"""The SMTP mailer against a real aiosmtpd server on loopback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automations.errors import ConfigError, MailError
from automations.mail.compose import Envelope, Outgoing, compose
from automations.mail.smtp import SmtpMailer, password_from_env, read_config
from automations.render import Rendered
from tests.emulators.smtp_server import SmtpServer
from tests.fixtures.mail import smtp_config

NOW = dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC)


def outgoing(key: str = "job/1/a", to=("ana@example.org",), bcc=(), ics: bytes | None = None):
    rendered = Rendered(
        subject="Reunión del comité",
        html="<p>Hola Ana, nos vemos el martes.</p>",
        text="Hola Ana, nos vemos el martes.",
    )
    return compose(
        key=key,
        job="job",
        envelope=Envelope(
            "Support <support@example.org>", tuple(to), tuple(bcc), "reply@example.org"
        ),
        rendered=rendered,
        now=NOW,
        ics=ics,
        ics_method="REQUEST" if ics else None,
    )


def test_message_arrives_with_text_html_and_invite_parts(smtp_server, smtp_mailer):
    ics = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    result = smtp_mailer.send(outgoing(ics=ics))
    assert result.state == "sent"
    (received,) = smtp_server.received
    assert received.mail_from == "support@example.org"
    message = received.message
    assert message["Subject"] == "Reunión del comité"
    assert message["Message-ID"] == outgoing(ics=ics).message_id
    types = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(types)
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    assert any(p.get_filename() == "invite.ics" for p in message.walk())


def test_bcc_recipients_get_the_message_but_no_bcc_header_is_transmitted(smtp_server, smtp_mailer):
    families = ("f1@example.org", "f2@example.org", "f3@example.org")
    mail = outgoing(to=("support@example.org",), bcc=families)
    assert "Bcc" in mail.mime  # the outbox copy keeps it for admins
    assert smtp_mailer.send(mail).state == "sent"
    (received,) = smtp_server.received
    assert set(received.rcpt_tos) == {"support@example.org", *families}
    assert b"Bcc" not in received.data and b"f1@example.org" not in received.data


def test_one_recipient_refused_with_550_is_rejected_and_the_others_get_it(smtp_server, smtp_mailer):
    smtp_server.handler.reject_550("gone@example.org")
    result = smtp_mailer.send(
        outgoing(to=("support@example.org",), bcc=("a@example.org", "gone@example.org"))
    )
    assert result.state == "sent"
    assert list(result.rejected) == ["gone@example.org"]
    assert "550" in result.rejected["gone@example.org"]
    assert smtp_server.received[0].rcpt_tos == ["support@example.org", "a@example.org"]


def test_every_recipient_refused_is_rejected_for_good(smtp_server, smtp_mailer):
    smtp_server.handler.reject_550("ana@example.org")
    result = smtp_mailer.send(outgoing())
    assert result.state == "rejected" and "550" in result.detail
    assert smtp_server.received == []


def test_a_451_fails_the_message_so_the_next_run_retries_it(smtp_server, smtp_mailer):
    smtp_server.handler.reject_451("b@example.org")
    result = smtp_mailer.send(outgoing(to=("a@example.org", "b@example.org")))
    assert result.state == "failed" and "451" in result.detail
    assert smtp_server.received == []  # nobody got half a delivery


def test_one_connection_is_reused_across_a_batch(smtp_server, smtp_mailer):
    for number in range(5):
        assert smtp_mailer.send(outgoing(key=f"job/{number}")).state == "sent"
    assert smtp_mailer.connections == 1
    assert len(smtp_server.received) == 5


def test_a_dropped_connection_is_reopened_and_the_message_sent_once(smtp_server, smtp_mailer):
    assert smtp_mailer.send(outgoing(key="job/1")).state == "sent"
    smtp_server.handler.drop = "mail"
    assert smtp_mailer.send(outgoing(key="job/2")).state == "sent"
    assert smtp_mailer.connections == 2
    assert len(smtp_server.received) == 2


def test_a_drop_after_the_data_is_uncertain_not_resent(smtp_server, smtp_mailer):
    smtp_server.handler.drop = "data"
    result = smtp_mailer.send(outgoing())
    assert result.state == "uncertain"
    assert len(smtp_server.received) == 1  # it did arrive: resending would duplicate it
    assert smtp_mailer.confirm(outgoing()) is None


def test_login_uses_the_password_from_the_named_environment_variable():
    server = SmtpServer(password="s3cret").start()
    try:
        config = smtp_config(server, username="robot", password_env="SMTP_PASSWORD")
        password = password_from_env(config, {"SMTP_PASSWORD": "s3cret"})
        mailer = SmtpMailer(config, password)
        assert mailer.send(outgoing()).state == "sent"
        assert "logged in as robot" in SmtpMailer(config, password).check()
        mailer.close()
        with pytest.raises(MailError, match=r"login as robot refused .*SMTP_PASSWORD"):
            SmtpMailer(config, "wrong").send(outgoing())
    finally:
        server.stop()


def test_unreachable_server_stops_with_host_and_port():
    config = read_config({"host": "127.0.0.1", "port": 9, "security": "none"}, Path("j.toml"))
    with pytest.raises(MailError, match=r"127\.0\.0\.1:9: cannot connect"):
        SmtpMailer(config).send(outgoing())


def test_missing_password_variable_names_the_key_but_never_its_value():
    # The value may be the password itself, typed there by mistake (issue 11).
    config = read_config(
        {"host": "h", "username": "u", "password_env": "NOPE_PASSWORD"}, Path("j.toml")
    )
    with pytest.raises(ConfigError, match=r"smtp\.password_env names an environment") as raised:
        password_from_env(config, {})
    assert "NOPE_PASSWORD" not in str(raised.value)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({}, "smtp.host is required"),
        ({"host": "h", "security": "ssl"}, 'smtp.security is "ssl"'),
        ({"host": "h", "port": "587"}, "smtp.port must be a port number"),
        ({"host": "h", "passwd": "x"}, "smtp.passwd is not a known setting"),
    ],
)
def test_bad_smtp_settings_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        read_config(section, Path("j.toml"))


def test_default_ports_follow_the_security_setting():
    assert read_config({"host": "h"}, Path("j.toml")).port == 587
    assert read_config({"host": "h", "security": "tls"}, Path("j.toml")).port == 465


def test_outgoing_type_is_what_the_mailer_gets():
    assert isinstance(outgoing(), Outgoing)


@pytest.mark.parametrize(("security", "tls"), [("starttls", "starttls"), ("tls", "implicit")])
def test_tls_is_used_and_the_certificate_checked(security, tls, tmp_path):
    server = SmtpServer(tls=tls, cert_dir=tmp_path).start()
    try:
        config = smtp_config(server, security=security, ca_file=str(server.ca_file))
        mailer = SmtpMailer(config)
        assert mailer.send(outgoing()).state == "sent"
        mailer.close()
        assert len(server.received) == 1
        untrusted = SmtpMailer(smtp_config(server, security=security))
        with pytest.raises(MailError, match=r"cannot connect.*CERTIFICATE_VERIFY_FAILED"):
            untrusted.send(outgoing())
    finally:
        server.stop()
