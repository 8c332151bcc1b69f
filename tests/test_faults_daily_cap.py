"""The daily recipient cap smaller than the work: send up to it, queue the rest with a
status, and carry on the next day (an injected clock), each message exactly once."""

from __future__ import annotations

import collections
import datetime as dt

from automations.jobs import registry
from automations.throttle import QUEUED_STATUS, Limits
from tests.fixtures.faults import tool_statuses
from tests.fixtures.mail import mail_runner
from tests.fixtures.workbooks import TODAY, records

ADMIN = "mou-admin@example.org"
JOBS = ("committee-invites", "pd-reminders", "webinar-agendas")


def morning(settings, days: int = 0) -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(7, 0), settings.timezone) + dt.timedelta(days=days)


def job_mail(server) -> list:
    return [r for r in server.received if r.rcpt_tos != [ADMIN]]


def test_cap_sends_up_to_the_limit_then_the_next_day_continues(
    demo, smtp_server, smtp_mailer, clock
):
    settings = demo.settings
    limits = Limits(messages_per_minute=10_000, recipients_per_day=5)
    job = registry()["committee-invites"]
    first = mail_runner(settings, smtp_mailer, clock, limits, now=morning(settings)).run(job)
    assert (first.sent, first.queued, first.failed) == (5, 3, 0)
    assert first.exit_code == 0  # queued is not a failure
    status = records(demo.committee, "Meetings")[0]["Status"]
    assert status.startswith("Queued: daily sending limit reached; 3 of 8 messages")
    # Later the same day: the cap is still spent, nothing more goes.
    later = mail_runner(
        settings, smtp_mailer, clock, limits, now=morning(settings) + dt.timedelta(hours=3)
    )
    assert later.run(job).sent == 0
    # The next morning (more than 24 hours after the first sends) the rest go.
    clock.now = morning(settings, 1) + dt.timedelta(minutes=5)
    second = mail_runner(settings, smtp_mailer, clock, limits).run(job)
    assert (second.sent, second.queued) == (3, 0)
    keys = collections.Counter(r.message["X-MOU-Key"] for r in job_mail(smtp_server))
    assert len(keys) == 8 and max(keys.values()) == 1
    assert records(demo.committee, "Meetings")[0]["Status"].startswith("Invitation sent to 8")


def test_every_job_under_a_tight_cap_finishes_over_days_without_a_duplicate(
    demo, smtp_server, smtp_mailer, clock
):
    settings = demo.settings
    limits = Limits(messages_per_minute=10_000, recipients_per_day=9)
    per_day: list[int] = []
    queued_statuses = 0
    # Eight days: the agendas go per language and region since issue 15 (more messages).
    for day in range(8):
        before = sum(len(r.rcpt_tos) for r in job_mail(smtp_server))
        clock.now = morning(settings, day)
        runner = mail_runner(settings, smtp_mailer, clock, limits)
        for name in JOBS:
            runner.run(registry()[name], today=TODAY)
        per_day.append(sum(len(r.rcpt_tos) for r in job_mail(smtp_server)) - before)
        queued_statuses += sum(
            1
            for value in tool_statuses(demo.folder).values()
            if str(value or "").startswith(("Queued: daily sending limit reached", QUEUED_STATUS))
        )
    assert all(count <= 9 for count in per_day), per_day
    assert per_day[0] > 0 and per_day[1] > 0  # the work spread over more than one day
    assert queued_statuses > 0
    keys = collections.Counter(r.message["X-MOU-Key"] for r in job_mail(smtp_server))
    assert max(keys.values()) == 1
    # What one uncapped run of these jobs sends on the demo; the agendas go per language
    # and region since issue 15 (7 batches and the coverage alert).
    expected = 8 + 5 + 8
    assert len(keys) == expected, per_day
