"""The demo shows both jobs at work: digests, session reminders, agendas, a blocked webinar."""

from __future__ import annotations

import email
from email import policy

from automations.jobs import pd_reminders, webinar_agendas
from tests.fixtures.workbooks import records


def mails(demo, job: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(demo.outbox.glob(f"{job}-*.eml"))
    ]


def test_demo_run_sends_digests_reminders_and_agendas_then_nothing_new(demo):
    pd = demo.runner().run(pd_reminders.JOB)
    family = demo.runner().run(webinar_agendas.JOB)
    assert (pd.failed, family.failed) == (0, 0)
    subjects = [str(m["Subject"]) for m in mails(demo, "pd-reminders")]
    assert sum(s.startswith("Your training:") for s in subjects) >= 2
    assert any(s.startswith("Su capacitación:") for s in subjects)
    reminders = [
        m for m in mails(demo, "pd-reminders") if str(m["Subject"]).startswith("Reminder:")
    ]
    assert reminders and all(
        any(part.get_content_type() == "text/calendar" for part in m.walk()) for m in reminders
    )
    agendas = [str(m["Subject"]) for m in mails(demo, "webinar-agendas")]
    assert any(s.startswith("You are invited:") for s in agendas)
    assert any(s.startswith("Invitación:") for s in agendas)
    webinars = {w["Title"]: w for w in records(demo.folder / "family.xlsx", "Webinars")}
    blocked = webinars["Family preparedness night"]["Status"]
    assert blocked.startswith("Not sent: agenda text missing for Know Your Rights")
    staff = {s["Employee ID"]: s for s in records(demo.folder / "pd.xlsx", "Staff")}
    assert staff["E1001"]["Reminders Sent"] == 1
    assert staff["E1006"]["Status"].startswith("Reminder limit reached")
    assert staff["E1007"]["Status"] == 'Error: Email "maria@" is not a valid email address'
    count = len(list(demo.outbox.glob("*.eml")))
    again = [demo.runner().run(job) for job in (pd_reminders.JOB, webinar_agendas.JOB)]
    assert [r.sent for r in again] == [0, 0]
    assert len(list(demo.outbox.glob("*.eml"))) == count
