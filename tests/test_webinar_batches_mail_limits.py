"""Webinar agendas on the default settings through real mailers: every family exactly once,
no message over the mailer's recipients_per_message (the visible To address counts too).

The runner is built in-process with the throttle the CLI would build (`mail_limits` of the
config), paced on a simulated clock: 30 messages a minute cost no wall-clock time.
"""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pytest

from automations.backends import mail_limits
from automations.cli import main
from automations.jobs import webinar_agendas
from automations.mail.smtp import SmtpMailer
from automations.throttle import Limits
from tests.fixtures.faults import use_graph, use_smtp
from tests.fixtures.mail import SimClock, mail_runner, smtp_config
from tests.fixtures.workbooks import TODAY, records, write_workbook

SENDER = "immigrant-support@example.org"  # the visible To address of every batch
ADMIN = "mou-admin@example.org"
COUNTS = (99, 100, 101, 250, 2000)


def default_limits(config: Path) -> None:
    """Drop the pacing override the shared helpers add: the mailer's defaults apply."""
    lines = config.read_text().splitlines(keepends=True)
    config.write_text("".join(x for x in lines if not x.startswith("messages_per_minute")))


def point_at(demo, backend: str, server) -> None:
    if backend == "smtp":
        use_smtp(demo.config, server)
    else:
        use_graph(demo.config, server)
    default_limits(demo.config)


def family_address(number: int) -> str:
    return f"family{number:04d}@example.org"


def setup_families(demo, count: int, extra: list[list[object]] = ()) -> Path:
    """One webinar three days out (its agenda is due) and `count` English families."""
    headers = ["Webinar ID", "Title", "Date", "Start Time", "End Time", "Language", "Join Link"]
    headers += ["Family Preparedness", "We Are One", "Know Your Rights"]
    webinar = ["W1", "Ready together", (TODAY + dt.timedelta(days=3)).isoformat(), "6 PM"]
    webinar += ["7 PM", "", "https://example.org/join", "A plan.", "Help near you.", "At the door."]
    families: list[list[object]] = [["Email", "Name", "Language", "Opted Out"]]
    families += [[family_address(n), f"Family {n}", "English", ""] for n in range(count)]
    families += extra
    return write_workbook(
        demo.folder / "family.xlsx", {"Webinars": [headers, webinar], "Families": families}
    )


@pytest.fixture(params=["smtp", "microsoft365"])
def backend(request, clock):
    """(name, loopback server, build a mailer): aiosmtpd or the Graph emulator."""
    if request.param == "microsoft365":
        yield request.param, request.getfixturevalue("graph"), request.getfixturevalue("m365")
        return
    server = request.getfixturevalue("smtp_server")
    mailers: list[SmtpMailer] = []

    def build() -> SmtpMailer:
        mailers.append(SmtpMailer(smtp_config(server)))
        return mailers[-1]

    yield request.param, server, build
    for mailer in mailers:
        mailer.close()


def deliveries(name: str, server) -> list[list[str]]:
    """Each message the job sent, as its recipients (To and Bcc), admin alerts left out."""
    if name == "smtp":
        messages = [list(r.rcpt_tos) for r in server.received]
    else:
        messages = [
            [
                r["emailAddress"]["address"]
                for kind in ("toRecipients", "ccRecipients", "bccRecipients")
                for r in m.get(kind, [])
            ]
            for m in server.state.sent
        ]
    return [m for m in messages if m != [ADMIN]]


def run_agendas(demo, mailer, clock: SimClock, limits: Limits | None = None):
    """Run the job in-process with the throttle the CLI builds from the config (or `limits`)."""
    settings = demo.settings
    now = dt.datetime.combine(TODAY, dt.time(7, 30), settings.timezone)
    runner = mail_runner(settings, mailer, clock, limits or mail_limits(settings), now=now)
    try:
        return runner.run(webinar_agendas.JOB)
    finally:
        runner.ledger.close()


@pytest.mark.parametrize("count", COUNTS)
def test_default_settings_send_every_family_the_agenda_exactly_once(demo, backend, clock, count):
    name, server, build = backend
    point_at(demo, name, server)
    setup_families(demo, count)
    result = run_agendas(demo, build(), clock)
    assert (result.failed, result.uncertain, result.error) == (0, 0, None), result.summary()
    sent = deliveries(name, server)
    assert max(len(m) for m in sent) <= 100  # recipients_per_message, To included
    assert all(m[0] == SENDER for m in sent)
    families = collections.Counter(a.casefold() for m in sent for a in m[1:])
    assert families == collections.Counter(family_address(n) for n in range(count))
    assert len(sent) == -(-count // 99)
    webinar = records(demo.folder / "family.xlsx", "Webinars")[0]
    assert webinar["Status"] == f"Agenda sent to {count} families"
    assert webinar["Recipients"] == count
    statuses = {r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    assert statuses == {"Receives mail in English"}
    again = run_agendas(demo, build(), clock)
    assert again.sent == 0 and len(deliveries(name, server)) == len(sent)


def test_batches_reserved_at_the_old_size_are_cut_and_nobody_gets_it_twice(demo, backend, clock):
    """Upgrading: batches of 100 reserved (and refused: 101 recipients) by an earlier
    version are cut to 99 on the next run; the families cut off get a new batch."""
    name, server, build = backend
    setup_families(demo, 250)
    # The earlier version planned 100 families a batch whatever the mailer allowed.
    old = run_agendas(demo, build(), clock, Limits())  # the config still says "outbox"
    assert old.failed == 2 and len(deliveries(name, server)) == 1
    point_at(demo, name, server)
    result = run_agendas(demo, build(), clock)
    assert (result.failed, result.uncertain) == (0, 0), result.summary()
    sent = deliveries(name, server)
    assert max(len(m) for m in sent) <= 100
    families = collections.Counter(a.casefold() for m in sent for a in m[1:])
    assert families == collections.Counter(family_address(n) for n in range(250))
    assert records(demo.folder / "family.xlsx", "Webinars")[0]["Status"] == (
        "Agenda sent to 250 families"
    )


def test_a_family_whose_batch_was_refused_does_not_read_as_fine(demo, smtp_server, clock):
    """A message the mailer's limit refuses: its families' rows say so, not "Receives mail"."""
    setup_families(demo, 150)
    # Planned for the outbox (100 a batch) but sent through a mailer with the default limit.
    result = run_agendas(demo, SmtpMailer(smtp_config(smtp_server)), clock, Limits())
    assert result.failed == 1 and result.sent == 1
    rows = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    refused = [s for s in rows.values() if s.startswith("Not sent yet: agenda of webinar W1")]
    assert len(refused) == 100
    assert all("over the limit of 100 per message" in s for s in refused)
    assert all(s.endswith("will try again on the next run") for s in refused)
    assert sum(s == "Receives mail in English" for s in rows.values()) == 50


def test_a_batch_deferred_by_the_server_marks_its_families_and_goes_next_run(
    demo, smtp_server, clock
):
    point_at(demo, "smtp", smtp_server)
    setup_families(demo, 150)
    smtp_server.handler.reject_451(family_address(120))
    first = run_agendas(demo, SmtpMailer(smtp_config(smtp_server)), clock)
    assert (first.sent, first.failed) == (1, 1)
    rows = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    waiting = {a for a, s in rows.items() if s.startswith("Not sent yet: agenda of webinar W1")}
    assert waiting == {family_address(n) for n in range(99, 150)}
    webinar = records(demo.folder / "family.xlsx", "Webinars")[0]["Status"]
    assert webinar.startswith("Error: 1 of 1 messages not sent")
    assert webinar.endswith("will try again on the next run")
    smtp_server.handler.reject.clear()
    second = run_agendas(demo, SmtpMailer(smtp_config(smtp_server)), clock)
    assert (second.sent, second.failed) == (1, 0)
    rows = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    assert set(rows.values()) == {"Receives mail in English"}


def test_a_batch_cut_off_during_data_reads_check_on_its_families(demo, smtp_server, clock):
    point_at(demo, "smtp", smtp_server)
    setup_families(demo, 20)
    smtp_server.handler.drop = "data"
    result = run_agendas(demo, SmtpMailer(smtp_config(smtp_server)), clock)
    assert result.uncertain == 1
    rows = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    assert all(s.startswith("Check: agenda of webinar W1") for s in rows.values()), rows
    again = run_agendas(demo, SmtpMailer(smtp_config(smtp_server)), clock)
    assert again.uncertain == 1 and again.sent == 0
    rows = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    assert all(s.startswith("Check: agenda of webinar W1") for s in rows.values()), rows


# -- check ---------------------------------------------------------------------------------


def set_batch_size(config: Path, size: int) -> None:
    text = config.read_text()
    config.write_text(
        text.replace("[jobs.webinar-agendas]\n", f"[jobs.webinar-agendas]\nbatch_size = {size}\n")
    )


@pytest.mark.parametrize(
    ("backend_name", "key"),
    [
        ("smtp", "smtp.recipients_per_message"),
        ("microsoft365", "microsoft365.recipients_per_message"),
    ],
)
def test_check_refuses_a_batch_size_that_can_never_be_sent(
    demo, smtp_server, graph, monkeypatch, capsys, backend_name, key
):
    monkeypatch.setenv("M365_SECRET", "not-used-with-a-cached-token")
    point_at(demo, backend_name, smtp_server if backend_name == "smtp" else graph)
    set_batch_size(demo.config, 500)
    code = main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if "batch_size" in x]
    assert code == 1
    assert line == (
        f"problem: jobs.webinar-agendas.batch_size = 500 can never be sent: {key} = 100 "
        "counts the visible To address too, so a message holds at most 99 families; runs send "
        "batches of 99; set batch_size to 99 or less, or remove it"
    )


def test_check_accepts_the_default_settings_on_a_real_mailer(demo, smtp_server, capsys):
    point_at(demo, "smtp", smtp_server)
    main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert "batch_size" not in out and "recipients_per_message" not in out


def test_a_limit_with_no_room_for_a_family_is_a_config_error(demo, smtp_server, capsys):
    point_at(demo, "smtp", smtp_server)
    demo.config.write_text(demo.config.read_text() + "recipients_per_message = 1\n")
    code = main(["--config", str(demo.config), "check"])
    err = capsys.readouterr().err
    assert code == 2
    assert "smtp.recipients_per_message = 1 leaves no room for families" in err
    assert "\n" not in err.strip()


def test_an_explicit_batch_size_over_the_limit_is_cut_and_named_in_the_run_line(
    demo, smtp_server, clock
):
    point_at(demo, "smtp", smtp_server)
    set_batch_size(demo.config, 500)
    setup_families(demo, 250)
    result = run_agendas(demo, SmtpMailer(smtp_config(smtp_server)), clock)
    assert (result.sent, result.failed) == (3, 0)
    assert max(len(r.rcpt_tos) for r in smtp_server.received) == 100
    assert "batch_size = 500 can never be sent" in result.summary()
