"""Addresses with non-ASCII letters on real mail servers: IDNA domains, SMTPUTF8 where the
server offers it, otherwise an Error on that family's row while the rest of the batch goes.
Nothing that never reached the server is ever left "uncertain"."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from automations.backends import mail_limits
from automations.jobs import webinar_agendas
from automations.ledger import Ledger
from automations.mail.addresses import ascii_address
from automations.mail.compose import Envelope, compose
from automations.mail.smtp import SmtpMailer
from automations.render import Rendered
from tests.emulators.smtp_server import SmtpServer
from tests.fixtures.faults import use_graph, use_smtp
from tests.fixtures.mail import mail_runner, smtp_config
from tests.fixtures.workbooks import TODAY, records, write_workbook

IDN = "l.nguyen@exämple.org"  # only the domain is non-ASCII: IDNA is enough
IDN_WIRE = "l.nguyen@xn--exmple-cua.org"
UTF8 = "José.Núñez@example.org"  # non-ASCII before the @: needs SMTPUTF8
SENDER = "immigrant-support@example.org"
ADMIN = "mou-admin@example.org"
PLAIN = [f"family{n}@example.org" for n in range(3)]


def test_ascii_address_encodes_the_domain_and_gives_up_on_the_local_part():
    assert ascii_address("a@example.org") == "a@example.org"
    assert ascii_address(IDN) == IDN_WIRE
    assert ascii_address(UTF8) is None


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def server(request):
    """aiosmtpd with and without SMTPUTF8."""
    running = SmtpServer(smtputf8=request.param).start()
    yield running
    running.stop()


def outgoing(key: str, to: tuple[str, ...], bcc: tuple[str, ...] = ()):
    return compose(
        key=key,
        job="test",
        envelope=Envelope(f"Immigrant Support <{SENDER}>", to, bcc),
        rendered=Rendered("Reunión del comité", "<p>Hola</p>", "Hola"),
        now=dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC),
    )


def offers_smtputf8(server: SmtpServer) -> bool:
    return server._controller.SMTP_kwargs["enable_SMTPUTF8"]


def test_a_bcc_batch_with_international_addresses_goes_to_everyone_the_server_can_take(server):
    mailer = SmtpMailer(smtp_config(server))
    try:
        result = mailer.send(outgoing("batch", (SENDER,), (*PLAIN, IDN, UTF8)))
        follow_up = mailer.send(outgoing("next", (SENDER,), (PLAIN[0],)))
    finally:
        mailer.close()
    assert result.state == "sent" and follow_up.state == "sent"
    first = server.received[0]
    assert IDN_WIRE in first.rcpt_tos and IDN not in first.rcpt_tos
    if offers_smtputf8(server):
        assert UTF8 in first.rcpt_tos and result.rejected == {}
        assert "SMTPUTF8" in first.mail_options
    else:
        assert UTF8 not in first.rcpt_tos
        assert list(result.rejected) == [UTF8] and "SMTPUTF8" in result.rejected[UTF8]
        assert first.mail_options == [] and first.data.isascii()
    assert first.rcpt_tos[: len(PLAIN) + 1] == [SENDER, *PLAIN]
    # The connection is left clean for the next message (no half-open transaction).
    assert server.received[1].rcpt_tos == [SENDER, PLAIN[0]]


def test_headers_carry_the_address_the_server_can_read(server):
    mailer = SmtpMailer(smtp_config(server))
    try:
        idn = mailer.send(outgoing("idn", (IDN,)))
        utf8 = mailer.send(outgoing("utf8", (UTF8,)))
    finally:
        mailer.close()
    assert idn.state == "sent"
    assert server.received[0].message["To"] == IDN_WIRE
    if offers_smtputf8(server):
        assert utf8.state == "sent"
        assert server.received[1].message["To"] == UTF8
        assert b"To: Jos\xc3\xa9.N\xc3\xba\xc3\xb1ez@example.org" in server.received[1].data
    else:
        # Refused for that recipient alone, before any command reached the server.
        assert utf8.state == "rejected" and list(utf8.rejected) == [UTF8]
        assert len(server.received) == 1 and server.handler.transactions == 1


# -- whole runs of webinar-agendas -----------------------------------------------------------


def setup(demo) -> None:
    headers = ["Webinar ID", "Title", "Date", "Start Time", "Language", "Join Link"]
    headers += ["Family Preparedness", "We Are One", "Know Your Rights"]
    webinar = ["W1", "Ready together", (TODAY + dt.timedelta(days=3)).isoformat(), "6 PM", ""]
    webinar += ["https://example.org/join", "A plan.", "Help near you.", "At the door."]
    families: list[list[object]] = [["Email", "Name", "Language"]]
    families += [[a, "Family", "English"] for a in [*PLAIN, IDN, UTF8]]
    write_workbook(
        demo.folder / "family.xlsx", {"Webinars": [headers, webinar], "Families": families}
    )


def run(demo, mailer, clock):
    settings = demo.settings
    now = dt.datetime.combine(TODAY, dt.time(7, 30), settings.timezone)
    runner = mail_runner(settings, mailer, clock, mail_limits(settings), now=now)
    try:
        return runner.run(webinar_agendas.JOB)
    finally:
        runner.ledger.close()


def family_statuses(demo) -> dict[str, str]:
    return {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}


def test_smtp_run_with_international_addresses_finishes_and_marks_only_that_row(
    demo, server, clock
):
    use_smtp(demo.config, server)
    setup(demo)
    mailer = SmtpMailer(smtp_config(server))
    try:
        first = run(demo, mailer, clock)
        again = run(demo, mailer, clock)
    finally:
        mailer.close()
    assert (first.failed, first.uncertain, first.error) == (0, 0, None), first.summary()
    assert (again.sent, again.uncertain) == (0, 0)
    received = collections.Counter(
        a for r in server.received if r.rcpt_tos != [ADMIN] for a in r.rcpt_tos[1:]
    )
    expected = [*PLAIN, IDN_WIRE] + ([UTF8] if offers_smtputf8(server) else [])
    assert received == collections.Counter(expected)
    statuses = family_statuses(demo)
    assert all(statuses[a] == "Receives mail in English" for a in [*PLAIN, IDN])
    if offers_smtputf8(server):
        assert statuses[UTF8] == "Receives mail in English"
    else:
        assert statuses[UTF8].startswith(f'Error: the mail server refused "{UTF8}"')
        assert "SMTPUTF8" in statuses[UTF8]
    ledger = Ledger(demo.settings.state_dir / "ledger.sqlite3")
    try:
        assert ledger.uncertain() == []
    finally:
        ledger.close()


def test_microsoft365_sends_international_addresses_as_typed(demo, graph, m365, clock):
    use_graph(demo.config, graph)
    setup(demo)
    result = run(demo, m365(), clock)
    assert (result.sent, result.failed, result.uncertain) == (1, 0, 0), result.summary()
    (sent,) = graph.state.sent
    bcc = [r["emailAddress"]["address"] for r in sent["bccRecipients"]]
    assert sorted(bcc) == sorted([*PLAIN, IDN, UTF8])
    assert set(family_statuses(demo).values()) == {"Receives mail in English"}


def test_an_address_exchange_refuses_gets_its_error_and_the_rest_of_the_batch_goes(
    demo, graph, m365, clock
):
    use_graph(demo.config, graph)
    setup(demo)
    graph.state.invalid_recipients.add(UTF8.casefold())
    result = run(demo, m365(), clock)
    assert (result.sent, result.failed, result.uncertain) == (1, 0, 0), result.summary()
    delivered = [r["emailAddress"]["address"] for m in graph.state.sent for r in m["bccRecipients"]]
    assert sorted(delivered) == sorted([*PLAIN, IDN])
    statuses = family_statuses(demo)
    assert statuses[UTF8].startswith(f'Error: the mail server refused "{UTF8}"')
    assert all(statuses[a] == "Receives mail in English" for a in [*PLAIN, IDN])
    again = run(demo, m365(), clock)
    assert again.sent == 0 and len(graph.state.sent) == 1
    assert family_statuses(demo)[UTF8].startswith("Error: the mail server refused")
