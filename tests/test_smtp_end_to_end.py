"""Every job sends through the SMTP mailer to a real SMTP server, exactly once."""

from __future__ import annotations

import pytest

from automations.demo import init_demo
from automations.jobs import registry
from tests.fixtures.mail import mail_runner
from tests.fixtures.workbooks import TODAY, Env, records
from tests.test_microsoft365_calendar import at

JOBS = sorted(registry())
ADMIN = "mou-admin@example.org"  # mail.admin in the demo config


def job_mail(server) -> list:
    """Messages the server received, without the runner's alerts to the admin."""
    return [r for r in server.received if r.rcpt_tos != [ADMIN]]


def outbox_baseline(tmp_path, name: str) -> int:
    """How many messages the job sends on the demo with the embedded outbox mailer."""
    folder = tmp_path / "baseline"
    env = Env(folder, init_demo(folder, TODAY))
    return env.runner(out=lambda line: None).run(registry()[name]).sent


@pytest.mark.parametrize("name", JOBS)
def test_every_job_sends_through_smtp_exactly_once(
    name, demo, tmp_path, smtp_server, smtp_mailer, clock
):
    expected = outbox_baseline(tmp_path, name)
    runner = mail_runner(demo.settings, smtp_mailer, clock, now=at(TODAY, demo.settings))
    result = runner.run(registry()[name])
    assert (result.sent, result.failed, result.uncertain) == (expected, 0, 0)
    assert len(smtp_server.received) == expected
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(set(ids)) == expected
    assert all(b"\nBcc:" not in r.data for r in smtp_server.received)
    again = runner.run(registry()[name])
    assert again.sent == 0 and len(smtp_server.received) == expected


def test_a_refused_member_gets_an_error_status_and_the_rest_go(
    demo, smtp_server, smtp_mailer, clock
):
    smtp_server.handler.reject_550("t.aguilar@example.org")
    runner = mail_runner(demo.settings, smtp_mailer, clock, now=at(TODAY, demo.settings))
    result = runner.run(registry()["committee-invites"])
    assert (result.sent, result.failed) == (7, 1)
    assert len(job_mail(smtp_server)) == 7
    status = records(demo.committee, "Meetings")[0]["Status"]
    assert status.startswith("Error: 1 of 8 messages not sent") and "550" in status


def test_a_451_is_retried_on_the_next_run(demo, smtp_server, smtp_mailer, clock):
    smtp_server.handler.reject_451("t.aguilar@example.org")
    runner = mail_runner(demo.settings, smtp_mailer, clock, now=at(TODAY, demo.settings))
    first = runner.run(registry()["committee-invites"])
    assert (first.sent, first.failed) == (7, 1)
    smtp_server.handler.reject.clear()
    second = runner.run(registry()["committee-invites"])
    assert (second.sent, second.failed) == (1, 0)
    assert sorted(r.rcpt_tos[0] for r in job_mail(smtp_server)).count("t.aguilar@example.org") == 1


def test_a_bcc_batch_over_the_recipient_limit_is_refused_clearly(
    demo, smtp_server, smtp_mailer, clock
):
    from automations.throttle import Limits

    runner = mail_runner(
        demo.settings,
        smtp_mailer,
        clock,
        # Two per message: the visible To and one family. The demo's agendas go per
        # language and region (issue 15), so batches of two families are the ones refused.
        Limits(recipients_per_message=2),
        now=at(TODAY, demo.settings),
    )
    result = runner.run(registry()["webinar-agendas"])
    assert result.failed >= 1
    assert all(len(r.rcpt_tos) <= 2 for r in job_mail(smtp_server))
    assert result.sent == len(job_mail(smtp_server))
    statuses = [r.get("Status") or "" for r in records(demo.folder / "family.xlsx", "Webinars")]
    assert any("over the limit of 2 per message" in s for s in statuses), statuses
