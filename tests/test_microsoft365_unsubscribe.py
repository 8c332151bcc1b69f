"""Families who reply "stop" are opted out on the next run (Microsoft 365, Graph emulator)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from automations.jobs import webinar_agendas
from automations.unsubscribe import is_request
from tests.fixtures.mail import mail_runner
from tests.fixtures.workbooks import TODAY, records
from tests.test_microsoft365_calendar import at


@pytest.mark.parametrize(
    ("subject", "body", "asks"),
    [
        ("Re: Invitación: Keeping your family ready", "BAJA\n\nEl lunes escribió:", True),
        ("unsubscribe", "", True),
        ("RE: Reminder", "Stop.", True),
        ("Re: Invitación", "Cancelar suscripción", True),
        ("Re: Invitación", "  \nbaja\n", True),
        ("Re: You are invited", "Please stop by the office tomorrow", False),
        ("Re: You are invited", "Thank you! See you there.", False),
        ("Stop sign near school", "", False),
    ],
)
def test_an_unsubscribe_reply_is_one_word_in_its_subject_or_first_line(subject, body, asks):
    assert is_request(subject, body) is asks


def test_replies_asking_to_stop_opt_families_out_on_the_next_run(demo, graph, m365, clock):
    settings = demo.settings
    received = dt.datetime.combine(TODAY, dt.time(6, 15), settings.timezone)
    graph.state.receive("Rosa.Garcia@example.org", "Re: Invitación", "BAJA\n> Queridas", received)
    graph.state.receive("smith.household@example.org", "Unsubscribe", "", received)
    graph.state.receive("kim.family@example.org", "Re: You are invited", "See you!", received)
    runner = mail_runner(settings, m365(), clock, now=at(TODAY, settings))
    runner.run(webinar_agendas.JOB)

    families = records(demo.folder / "family.xlsx", "Families")
    rosa = [r for r in families if r["Email"].casefold() == "rosa.garcia@example.org"]
    assert len(rosa) == 2 and all(r["Opted Out"] == "Yes" for r in rosa)
    assert rosa[0]["Status"].startswith('Opted out: replied "BAJA" on Nov 30, 2026 at 6:15 AM')
    (smith,) = [r for r in families if r["Email"] == "smith.household@example.org"]
    assert smith["Opted Out"] == "Yes" and 'replied "Unsubscribe"' in smith["Status"]
    (kim,) = [r for r in families if r["Email"] == "kim.family@example.org"]
    assert kim["Opted Out"] in (None, "") and kim["Status"].startswith("Receives mail")
    bcc = {
        r["emailAddress"]["address"].casefold()
        for m in graph.state.sent
        for r in m.get("bccRecipients", [])
    }
    assert "kim.family@example.org" in bcc
    assert not bcc & {"rosa.garcia@example.org", "smith.household@example.org"}
    assert graph.state.calls("GET", "/mailFolders/Inbox/messages")


def test_staff_setting_opted_out_to_no_keeps_a_family_mailed(demo, graph, m365, clock):
    path = demo.folder / "family.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Families"]
    for row in sheet.iter_rows(min_row=2):
        if str(row[0].value).casefold() == "smith.household@example.org":
            row[3].value = "No"
    workbook.save(path)
    settings = demo.settings
    received = dt.datetime.combine(TODAY, dt.time(6, 15), settings.timezone)
    graph.state.receive("smith.household@example.org", "STOP", "", received)
    runner = mail_runner(settings, m365(), clock, now=at(TODAY, settings))
    runner.run(webinar_agendas.JOB)
    (smith,) = [r for r in records(path, "Families") if r["Email"] == "smith.household@example.org"]
    assert smith["Opted Out"] == "No" and smith["Status"].startswith("Receives mail")
