"""What staff read (issue 13): a PD digest that knows what they registered for, says
where a session is, sends replies to the PD contact and reads well in Spanish."""

from __future__ import annotations

import email
import shutil
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

from automations.cli import main
from automations.jobs import committee_invites, pd_reminders, webinar_agendas
from tests.fixtures.workbooks import TODAY, records
from tests.test_smtp_cli import use_smtp


def digests(demo) -> dict[str, EmailMessage]:
    """The PD digests of the demo's first run, by the address they went to."""
    demo.runner().run(pd_reminders.JOB)
    found = {}
    for path in demo.emls():
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "(MOU 5.0)" in message["Subject"]:
            found[parseaddr(str(message["To"]))[1]] = message
    return found


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def test_digest_says_you_are_registered_instead_of_a_register_link(demo):
    ana = digests(demo)["a.morales@example.org"]  # registered for PD-101 only
    text, html = text_of(ana), html_of(ana)
    assert "You are registered" in text and "You are registered" in html
    assert "register?session=PD-101" not in text + html
    assert "register?session=PD-104" in text and "register?session=PD-104" in html


def test_digest_labels_the_place_of_a_session(demo):
    html = html_of(digests(demo)["a.morales@example.org"])
    assert "Place: Roosevelt HS Library" in html
    assert "<th" not in html.split("Safe Zones (MOU 5a)")[1].split("</body>")[0]


def test_digest_replies_go_to_the_pd_contact(demo):
    for message in digests(demo).values():
        assert str(message["Reply-To"]) == "pd-office@example.org"
        assert "(it goes to pd-office@example.org)" in text_of(message) or (
            "(le llega a pd-office@example.org)" in text_of(message)
        )


def test_digest_with_one_topic_owed_speaks_of_one_topic(demo):
    priya = text_of(digests(demo)["p.raman@example.org"])  # owes only Family Resources
    assert "you still need the topic below, with its next sessions." in priya
    assert "Already took this topic?" in priya
    assert "for each" not in priya and "one of these" not in priya


def test_spanish_digest_has_spanish_dates_titles_and_one_segun(demo):
    luis = text_of(digests(demo)["l.ortega@example.org"])
    # A session with a blank Title is named by its topic, in Spanish.
    assert "m.: Acciones migratorias y confidencialidad" in luis
    assert "Enforcement" not in luis
    assert "8 de dic. de 2026" in luis and "8 dic 2026" not in luis
    assert luis.count("Según") == 1


def test_with_the_mail_server_down_the_run_says_not_sent_and_rows_due_say_pending(demo, capsys):
    use_smtp(demo, "127.0.0.1", 9)  # nothing listens on the discard port
    args = ["--config", str(demo.config), "run", "committee-invites", "--today", str(TODAY)]
    assert main(args) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("committee-invites:"))
    assert line.startswith(
        "committee-invites: not sent: could not reach the mail server; "
        "8 messages wait for the next run"
    )
    assert "sent 0" not in line
    meetings = records(demo.committee, "Meetings")
    assert meetings[0]["Status"].startswith("Pending: not sent yet, the mail server could not")
    (log,) = records(demo.committee, "Run Log")
    assert log["Summary"].startswith("not sent: could not reach the mail server")


# -- preview -------------------------------------------------------------------------------


def preview(demo, job: str, out) -> str:
    args = ["--config", str(demo.config), "preview", job, "--today", str(TODAY), "--out", str(out)]
    assert main(args) == 0
    return (out / "index.html").read_text(encoding="utf-8") if job != "all" else ""


def test_preview_right_after_a_run_shows_the_next_messages_and_clears_its_old_files(
    demo, tmp_path, capsys
):
    out = tmp_path / "preview"
    preview(demo, "committee-invites", out)
    assert len(list(out.glob("*-committee_invite-*.eml"))) == 8
    (out / "notes.txt").write_text("mine")
    demo.runner().run(committee_invites.JOB)
    capsys.readouterr()
    index = preview(demo, "committee-invites", out)
    line = capsys.readouterr().out
    assert "nothing is due today; the next 8 message(s) are due on Dec 8, 2026" in line
    assert "Nothing is due on Nov 30, 2026. The next messages are due on" in index
    assert "Dec 8, 2026" in index
    # The invitations previewed before are gone; the reminders are there; other files stay.
    assert list(out.glob("*-committee_invite-*")) == []
    assert len(list(out.glob("*-committee_reminder-*.eml"))) == 8
    assert (out / "notes.txt").read_text() == "mine"


def test_preview_index_names_whose_message_each_is(demo, tmp_path):
    index = preview(demo, "committee-invites", tmp_path / "preview")
    assert "María José Hernández (m***@example.org)" in index
    families = preview(demo, "webinar-agendas", tmp_path / "families")
    assert "people in Bcc" in families


def test_preview_all_previews_every_job_in_a_folder_of_its_own(demo, tmp_path, capsys):
    preview(demo, "all", tmp_path / "all")
    out = capsys.readouterr().out
    for job in ("committee-invites", "pd-reminders", "webinar-agendas", "mou-tracker"):
        assert (tmp_path / "all" / job / "index.html").exists()
        assert f"{job}: " in out


def test_statuses_never_name_templates_when_a_message_cannot_be_written(demo, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(demo.settings.templates_dir.parent, templates)
    agenda = templates / "email" / "webinar_agenda.html"
    agenda.write_text(agenda.read_text().replace("webinar.title", "webinar.no_such_thing"))
    text = demo.config.read_text()
    demo.config.write_text(f'templates_dir = "{templates / "email"}"\n' + text)
    demo.runner().run(webinar_agendas.JOB)
    statuses = [
        str(r["Status"])
        for tab in ("Webinars", "Families")
        for r in records(demo.folder / "family.xlsx", tab)
    ]
    assert any("could not be prepared" in s for s in statuses)
    assert not [s for s in statuses if "template" in s.casefold() or "_agenda" in s]
