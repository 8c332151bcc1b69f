"""Family mail does not label the family on a shared phone, and nobody can make a subject
or a name read backwards with bidirectional override characters."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

import openpyxl

from automations import PROJECT_ROOT
from automations.cli import main
from automations.jobs.webinar_agendas import DEFAULT_SENDER_NAME
from tests.fixtures.workbooks import TODAY

RLO, PDF = "\u202e", "\u202c"  # right-to-left override, pop directional formatting


def messages(demo, prefix: str) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in demo.emls()
        if path.name.startswith(prefix)
    ]


def family_mail(demo) -> list[EmailMessage]:
    """Webinar mail to families (Bcc batches; the coverage alert goes to staff)."""
    return [m for m in messages(demo, "webinar-agendas") if m["Bcc"]]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def run(demo, job: str) -> None:
    assert main(["--config", str(demo.config), "run", job, "--today", str(TODAY)]) == 0


def test_family_mail_comes_from_a_neutral_name_with_a_neutral_footer(demo, capsys):
    run(demo, "webinar-agendas")
    agendas = family_mail(demo)
    # Batches per language and, where the region has help to list (issue 15), per region:
    # English East/South/no region and Spanish East/South for one webinar, Spanish
    # East/South for the Spanish webinar.
    assert len(agendas) == 7
    sender = parseaddr(demo.settings.mail.sender)[1]
    for message in agendas:
        assert str(message["From"]) == f"{DEFAULT_SENDER_NAME} <{sender}>"
        assert str(message["To"]) == f"{DEFAULT_SENDER_NAME} <{sender}>"
        footer = text_of(message).rsplit("\n--\n", 1)[1]
        assert "immigra" not in footer.casefold() and "inmigra" not in footer.casefold()
        assert "immigra" not in html_of(message).casefold().split('class="footer"')[1]
    languages = {m["Subject"].startswith("You are invited"): text_of(m) for m in agendas}
    assert f"Sent by {DEFAULT_SENDER_NAME}." in languages[True]
    assert f"Enviado por {DEFAULT_SENDER_NAME}." in languages[False]
    # Mail to staff and committee members keeps the configured sender and footer.
    run(demo, "committee-invites")
    invite = next(
        m for m in messages(demo, "committee-invites") if m["Subject"].startswith("Invitation")
    )
    assert str(invite["From"]) == demo.settings.mail.sender
    assert "immigrant students and families" in text_of(invite)


def test_family_sender_name_and_footer_are_configurable_per_language(demo, capsys):
    text = demo.config.read_text().replace(
        "[jobs.webinar-agendas]\n",
        '[jobs.webinar-agendas]\nsender_name = "Roosevelt HS Parent Center"\n'
        'footer = { en = "Roosevelt HS, 456 S Mathews St.", es = "Escuela Roosevelt." }\n',
    )
    demo.config.write_text(text)
    run(demo, "webinar-agendas")
    agendas = family_mail(demo)
    assert {str(m["From"]).split(" <")[0] for m in agendas} == {"Roosevelt HS Parent Center"}
    # The configured footer, then the unsubscribe line every family message carries.
    footers = {text_of(m).rsplit("\n--\n", 1)[1].strip().splitlines()[0] for m in agendas}
    assert footers == {"Roosevelt HS, 456 S Mathews St.", "Escuela Roosevelt."}


def test_default_family_wording_never_mentions_immigration():
    assert "immigra" not in DEFAULT_SENDER_NAME.casefold()
    for path in (PROJECT_ROOT / "templates" / "email").glob("*/_family_footer.*"):
        words = path.read_text(encoding="utf-8").casefold()
        assert "immigra" not in words and "inmigra" not in words, path


def test_bidi_overrides_are_stripped_from_subjects_and_names(demo, capsys):
    family = openpyxl.load_workbook(demo.folder / "family.xlsx")
    family["Webinars"]["B2"] = f"Homework help {RLO}FDP.exe{PDF}"
    family.save(demo.folder / "family.xlsx")
    pd = openpyxl.load_workbook(demo.folder / "pd.xlsx")
    pd["Staff"]["B2"] = f"Ana {RLO}selaroM{PDF}"
    pd.save(demo.folder / "pd.xlsx")
    run(demo, "webinar-agendas")
    run(demo, "pd-reminders")
    agendas = [m for m in family_mail(demo) if "Homework" in m["Subject"]]
    assert agendas and all("Homework help FDP.exe" in m["Subject"] for m in agendas)
    digests = [m for m in messages(demo, "pd-reminders") if "selaroM" in text_of(m)]
    assert digests and "Hello Ana selaroM," in text_of(digests[0])
    for message in messages(demo, ""):
        shown = [str(message[h] or "") for h in ("Subject", "From", "To")]
        for part in (*shown, text_of(message).split("\n", 3)[0]):
            assert RLO not in part and PDF not in part, part
