"""webinar-agendas end to end on a workbook and the outbox: Bcc batches, reruns, crashes."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import openpyxl
from babel.dates import format_date

from automations.jobs import webinar_agendas
from tests.fixtures.faults import run_jobs
from tests.fixtures.workbooks import TODAY, records, write_workbook

ROOT = Path(__file__).resolve().parent.parent
SENDER = "immigrant-support@example.org"
WEBINAR_DAY = TODAY + dt.timedelta(days=3)


def family_rows() -> list[list[object]]:
    rows: list[list[object]] = [["Email", "Name", "Language", "Opted Out"]]
    rows += [[f"en{n:03d}@example.org", f"English {n}", "English", ""] for n in range(120)]
    rows += [[f"es{n:03d}@example.org", f"Spanish {n}", "Español", ""] for n in range(90)]
    rows += [[f"ko{n:03d}@example.org", f"Korean {n}", "Korean", ""] for n in range(15)]
    rows += [[f"out{n}@example.org", "Opted out", "", "Yes"] for n in range(3)]
    rows += [["EN000@Example.org", "Duplicate of en000", "English", ""]]
    return rows


EXPECTED = {f"en{n:03d}@example.org" for n in range(120)}
EXPECTED |= {f"es{n:03d}@example.org" for n in range(90)}
EXPECTED |= {f"ko{n:03d}@example.org" for n in range(15)}


def setup_family(demo) -> Path:
    path = demo.folder / "family.xlsx"
    webinar = [
        "Webinar ID",
        "Title",
        "Date",
        "Start Time",
        "End Time",
        "Language",
        "Join Link",
        "Family Preparedness",
        "We Are One",
        "Know Your Rights",
    ]
    row = [
        "W1",
        "Ready together",
        WEBINAR_DAY.isoformat(),
        "6 PM",
        "7 PM",
        "",
        "https://example.org/join",
        "Make a family plan.",
        "Help near you.",
        "What to do at the door.",
    ]
    return write_workbook(path, {"Webinars": [webinar, row], "Families": family_rows()})


def agenda_mails(demo) -> list[EmailMessage]:
    mails = []
    for path in demo.outbox.glob("webinar-agendas-*.eml"):
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "Ready together" in str(mail["Subject"]):
            mails.append(mail)
    return mails


def addresses(mail: EmailMessage, header: str) -> list[str]:
    return [a.casefold() for _, a in getaddresses(mail.get_all(header, []))]


def test_bcc_batches_never_show_a_family_another_familys_address(demo):
    setup_family(demo)
    result = demo.runner().run(webinar_agendas.JOB)
    assert result.failed == 0 and result.error is None
    mails = agenda_mails(demo)
    # 135 English (120 + 15 Korean fallback) in 2 batches, 90 Spanish in 1.
    assert sorted(len(addresses(m, "Bcc")) for m in mails) == [35, 90, 100]
    for mail in mails:
        assert addresses(mail, "To") == [SENDER]
        assert mail.get_all("Cc") is None
        assert not set(addresses(mail, "To")) & EXPECTED
    everyone = [a for m in mails for a in addresses(m, "Bcc")]
    assert len(everyone) == len(set(everyone))
    assert set(everyone) == EXPECTED
    row = records(demo.folder / "family.xlsx", "Webinars")[0]
    assert row["Recipients"] == 225
    assert row["Status"] == "Agenda sent to 225 families"


def test_spanish_agenda_shows_the_date_in_spanish_and_korean_families_get_english(demo):
    setup_family(demo)
    demo.runner().run(webinar_agendas.JOB)
    spanish = [m for m in agenda_mails(demo) if "es000@example.org" in addresses(m, "Bcc")]
    (mail,) = spanish
    text = mail.get_body(("plain",)).get_content()
    assert (
        format_date(WEBINAR_DAY, "full", locale="es_US") in text
    )  # e.g. "jueves, 3 de diciembre de 2026"
    assert (
        " de diciembre de 2026" in text
        and "Conozca sus derechos" in mail.get_body(("html",)).get_content()
    )
    korean = [m for m in agenda_mails(demo) if "ko000@example.org" in addresses(m, "Bcc")]
    assert "You are invited" in str(korean[0]["Subject"])
    statuses = {r["Email"]: r["Status"] for r in records(demo.folder / "family.xlsx", "Families")}
    assert statuses["ko000@example.org"] == (
        "Receives mail in English. Check: sent in English: the Korean translation is a draft "
        "not yet reviewed"
    )
    assert statuses["out0@example.org"] == "Opted out: never mailed"


def test_rerun_sends_nothing_new(demo):
    setup_family(demo)
    first = demo.runner().run(webinar_agendas.JOB)
    count = len(list(demo.outbox.glob("*.eml")))
    again = demo.runner().run(webinar_agendas.JOB)
    assert first.sent >= 3 and again.sent == 0
    assert len(list(demo.outbox.glob("*.eml"))) == count


def test_crash_mid_batches_then_new_family_each_family_gets_the_agenda_exactly_once(demo):
    setup_family(demo)
    crashed = run_jobs(
        demo.config, "run", "webinar-agendas", "--today", str(TODAY), fault="after-send:2"
    )
    assert crashed.returncode == -9, crashed.stderr
    assert len(agenda_mails(demo)) == 2
    # Between the crash and the rerun staff add a family and one family opts out.
    path = demo.folder / "family.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Families"]
    sheet.append(["late@example.org", "Late family", "Spanish", ""])
    (opting_out,) = [row for row in sheet.iter_rows() if row[0].value == "es089@example.org"]
    opting_out[3].value = "Yes"
    workbook.save(path)
    finished = run_jobs(demo.config, "run", "webinar-agendas", "--today", str(TODAY))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    mails = agenda_mails(demo)
    everyone = [a for m in mails for a in addresses(m, "Bcc")]
    assert len(everyone) == len(set(everyone))
    assert set(everyone) == (EXPECTED - {"es089@example.org"}) | {"late@example.org"}
    assert all(len(addresses(m, "Bcc")) <= 100 for m in mails)
    again = run_jobs(demo.config, "run", "webinar-agendas", "--today", str(TODAY))
    assert again.returncode == 0 and len(agenda_mails(demo)) == len(mails)
