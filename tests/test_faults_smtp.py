"""SMTP faults through whole jobs: a 550, a 451 and a connection dropped mid-batch."""

from __future__ import annotations

import collections
import datetime as dt

from automations.jobs import registry
from tests.fixtures.mail import mail_runner
from tests.fixtures.workbooks import TODAY, records

ADMIN = "mou-admin@example.org"
REFUSED = "t.aguilar@example.org"  # committee member, gets a 550
LATER = "h.park@example.org"  # committee member, gets a 451 on the first run


def at(settings) -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(7, 0), settings.timezone)


def drop_after(server, delivered: int) -> None:
    """Close the connection at the MAIL FROM that follows the `delivered`th message."""
    handler = server.handler
    original = handler.handle_DATA

    async def data(smtp, session, envelope):
        reply = await original(smtp, session, envelope)
        if len(handler.received) == delivered:
            handler.drop = "mail"
        return reply

    handler.handle_DATA = data


def per_recipient(server) -> collections.Counter[str]:
    return collections.Counter(
        address.casefold()
        for received in server.received
        for address in received.rcpt_tos
        if received.rcpt_tos != [ADMIN]
    )


def member_status(demo, address: str) -> str:
    for row in records(demo.committee, "Members"):
        if row["Email"] == address:
            return row["Status"] or ""
    raise KeyError(address)


def test_550_is_an_error_451_goes_next_run_and_a_drop_loses_nothing(
    demo, smtp_server, smtp_mailer, clock
):
    smtp_server.handler.reject_550(REFUSED)
    smtp_server.handler.reject_451(LATER)
    drop_after(smtp_server, 3)
    runner = mail_runner(demo.settings, smtp_mailer, clock, now=at(demo.settings))
    first = runner.run(registry()["committee-invites"])
    assert (first.sent, first.failed, first.uncertain) == (6, 2, 0)
    counts = per_recipient(smtp_server)
    assert sum(counts.values()) == 6 and max(counts.values()) == 1
    assert REFUSED not in counts and LATER not in counts
    refused = member_status(demo, REFUSED)
    assert refused.startswith("Error: the mail server refused") and "550" in refused
    meeting = records(demo.committee, "Meetings")[0]["Status"]
    assert meeting.startswith("Error: 2 of 8 messages not sent")
    assert smtp_mailer.connections >= 2  # the dropped connection was reopened

    smtp_server.handler.reject.pop(LATER)  # the mailbox is back
    second = runner.run(registry()["committee-invites"])
    assert second.sent == 1  # the 550 is not retried blindly, and still reported
    assert records(demo.committee, "Meetings")[0]["Status"].startswith("Error: 1 of 8")
    counts = per_recipient(smtp_server)
    assert counts[LATER] == 1 and REFUSED not in counts
    assert sum(counts.values()) == 7 and max(counts.values()) == 1
    assert member_status(demo, REFUSED).startswith("Error: the mail server refused")


def test_a_refused_family_in_a_bcc_batch_gets_its_own_error_and_the_batch_goes_once(
    demo, smtp_server, smtp_mailer, clock
):
    refused = "carmen.diaz@example.org"
    smtp_server.handler.reject_550(refused)
    drop_after(smtp_server, 1)
    runner = mail_runner(demo.settings, smtp_mailer, clock, now=at(demo.settings))
    first = runner.run(registry()["webinar-agendas"])
    assert first.failed == 0 and first.sent >= 2
    again = runner.run(registry()["webinar-agendas"])
    assert again.sent == 0
    # The refusal stays on the family's row on later runs (the ledger remembers it).
    family = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    assert refused not in per_recipient(smtp_server)
    keys = collections.Counter(r.message["X-MOU-Key"] for r in smtp_server.received)
    assert len(keys) == first.sent and max(keys.values()) == 1
    assert family[refused].startswith("Error: the mail server refused") and "550" in family[refused]
    assert all(
        not (status or "").startswith("Error: the mail server")
        for email, status in family.items()
        if email != refused
    )
