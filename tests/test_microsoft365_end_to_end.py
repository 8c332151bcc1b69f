"""Every job sends through the Microsoft 365 mailer (Graph emulator) once, within limits."""

from __future__ import annotations

import pytest

from automations.jobs import registry
from automations.ledger import Ledger
from automations.throttle import Limits
from tests.fixtures.mail import mail_runner
from tests.fixtures.workbooks import TODAY, records
from tests.test_microsoft365_calendar import at
from tests.test_smtp_end_to_end import JOBS, outbox_baseline


def delivered(graph, demo) -> int:
    """Messages that reached recipients: sendMail calls plus invitations Exchange sent.

    Alerts the runner sends the admin about a failed run are not the job's own mail.
    """
    invitations = sum(
        len(e["attendees"]) for e in graph.state.events.values() if not e["isCancelled"]
    )
    ledger = Ledger(demo.settings.state_dir / "ledger.sqlite3")
    alerts = len(ledger.history("admin-alerts").sent)
    ledger.close()
    return len(graph.state.sent) - alerts + invitations


@pytest.mark.parametrize("name", JOBS)
def test_every_job_sends_through_microsoft365_exactly_once(
    name, demo, tmp_path, graph, m365, clock
):
    expected = outbox_baseline(tmp_path, name)
    runner = mail_runner(demo.settings, m365(), clock, now=at(TODAY, demo.settings))
    result = runner.run(registry()[name])
    assert (result.sent, result.failed, result.uncertain) == (expected, 0, 0)
    assert delivered(graph, demo) == expected
    again = runner.run(registry()[name])
    assert again.sent == 0 and delivered(graph, demo) == expected


@pytest.mark.parametrize("name", JOBS)
def test_a_429_storm_produces_no_duplicate_sends(name, demo, tmp_path, graph, m365, clock):
    expected = outbox_baseline(tmp_path, name)
    # Every other write is throttled for a while, then the storm passes.
    for _ in range(10):
        graph.state.fail(429, 1, retry_after=5, method="POST")
        graph.state.fail(503, 1, retry_after=2)
    runner = mail_runner(demo.settings, m365(), clock, now=at(TODAY, demo.settings))
    sent = 0
    for _ in range(4):  # failed sends go again on the next run, until the storm is over
        sent += runner.run(registry()[name]).sent
    assert sent == expected
    assert delivered(graph, demo) == expected
    assert expected == 0 or graph.state.throttled > 0
    digests = [
        h["value"]
        for m in graph.state.sent
        for h in m["internetMessageHeaders"]
        if h["name"] == "X-MOU-Key"
    ]
    assert len(digests) == len(set(digests))


def test_a_storm_longer_than_the_retry_budget_fails_then_sends_once(demo, graph, m365, clock):
    graph.state.fail(429, 1000, retry_after=60, method="POST", path="sendMail")
    runner = mail_runner(demo.settings, m365(max_retries=2), clock, now=at(TODAY, demo.settings))
    job = (
        registry()["pd-reminders"]
        if "pd-reminders" in registry()
        else registry()["committee-invites"]
    )
    first = runner.run(job)
    assert first.sent == 0 or first.failed > 0
    graph.state.failures.clear()
    second = runner.run(job)
    assert second.failed == 0
    assert len(graph.state.sent) == first.sent + second.sent


def test_the_daily_recipient_limit_queues_the_rest_with_a_clear_status(demo, graph, m365, clock):
    runner = mail_runner(
        demo.settings, m365(), clock, Limits(recipients_per_day=5), now=at(TODAY, demo.settings)
    )
    result = runner.run(registry()["committee-invites"])
    assert result.sent == 0 and result.queued == 8
    assert graph.state.events == {}
    status = records(demo.committee, "Meetings")[0]["Status"]
    assert status == "Queued: daily sending limit reached; goes out on the next run"
    tomorrow = mail_runner(
        demo.settings, m365(), clock, Limits(recipients_per_day=5000), now=at(TODAY, demo.settings)
    )
    assert tomorrow.run(registry()["committee-invites"]).sent == 8


def test_mail_beyond_the_daily_limit_is_queued_per_message(demo, graph, m365, clock):
    runner = mail_runner(
        demo.settings,
        m365(calendar_events=False),
        clock,
        Limits(recipients_per_day=3),
        now=at(TODAY, demo.settings),
    )
    result = runner.run(registry()["committee-invites"])
    assert (result.sent, result.queued, result.failed) == (3, 5, 0)
    assert result.exit_code == 0
    assert len(graph.state.sent) == 3
    assert (
        "Queued: daily sending limit reached; 5 of 8"
        in records(demo.committee, "Meetings")[0]["Status"]
    )


def test_sends_keep_to_30_a_minute(demo, graph, m365, clock):
    runner = mail_runner(
        demo.settings, m365(calendar_events=False), clock, now=at(TODAY, demo.settings)
    )
    start = clock()
    runner.run(registry()["committee-invites"])
    times = [r for r in graph.state.calls("POST", "sendMail")]
    assert len(times) == 8
    # 8 messages at 30/minute take at least 7 intervals of 2 seconds.
    assert (clock() - start).total_seconds() >= 14


def test_a_refused_token_stops_the_job_before_anything_is_sent(demo, graph, m365, clock):
    graph.state.fail(401, 1000, path="/users/")
    runner = mail_runner(demo.settings, m365(), clock, now=at(TODAY, demo.settings))
    result = runner.run(registry()["committee-invites"])
    assert result.sent == 0
    assert result.error and "refused the token" in result.error and "M365_SECRET" in result.error
    assert graph.state.sent == [] and graph.state.events == {}
    ledger = Ledger(demo.settings.state_dir / "ledger.sqlite3")
    assert ledger.history("committee-invites").sent == frozenset()
    ledger.close()


def test_a_message_graph_refuses_marks_its_row_with_graphs_message(demo, graph, m365, clock):
    graph.state.invalid_recipients.add("t.aguilar@example.org")
    mailer = m365(calendar_events=False)
    runner = mail_runner(demo.settings, mailer, clock, now=at(TODAY, demo.settings))
    result = runner.run(registry()["committee-invites"])
    assert (result.sent, result.failed) == (7, 1)
    status = records(demo.committee, "Meetings")[0]["Status"]
    assert status.startswith("Error: 1 of 8 messages not sent")
    assert "ErrorInvalidRecipients" in status
