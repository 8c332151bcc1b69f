"""What families read (issue 13): the session's language and interpretation, calendar
files that show the join link, reminders that say today or tomorrow, and Spanish that
reads as Spanish."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from email.message import EmailMessage

import openpyxl
from icalendar import Calendar

from automations.ical import build_ics
from automations.jobs import committee_invites, webinar_agendas
from automations.plan import InviteSpec
from tests.fixtures.workbooks import TODAY, records

ZOOM = "https://lausd.zoom.example.org/j/7770"


def mails(demo, since: set[str] = frozenset()) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in demo.emls()
        if p.name not in since
    ]


def family_mail(demo, since: set[str] = frozenset()) -> list[EmailMessage]:
    return [m for m in mails(demo, since) if m["Bcc"]]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [p for p in message.walk() if p.get_content_type() == "text/calendar"]


def event_of(part: EmailMessage):
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def at(demo, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(7, 0), demo.settings.timezone)


def edit_webinar(demo, title: str, **values: object) -> None:
    path = demo.folder / "family.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Webinars"]
    headers = [c.value for c in sheet[1]]
    for column in values:
        if column not in headers:
            headers.append(column)
            sheet.cell(row=1, column=len(headers)).value = column
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row=row, column=headers.index("Title") + 1).value == title:
            for column, value in values.items():
                sheet.cell(row=row, column=headers.index(column) + 1).value = value
    workbook.save(path)


def names(demo) -> set[str]:
    return {p.name for p in demo.emls()}


# -- the language of the event -----------------------------------------------------------


def test_every_webinar_message_says_the_sessions_language_in_the_familys_language(demo):
    demo.runner().run(webinar_agendas.JOB)
    ready = {
        m["Subject"].split(":")[0]: m
        for m in family_mail(demo)
        if "Keeping your family ready" in m["Subject"]
    }
    # A blank Language: the session is in English; Spanish families are told so, in Spanish,
    # and that there is no interpretation.
    spanish = ready["Invitación"]
    for body in (text_of(spanish), html_of(spanish)):
        assert "La clase es en inglés." in body
        assert "Esta clase no tendrá interpretación." in body
    english = ready["You are invited"]
    assert "The class is given in English." in text_of(english)
    assert "interpretation" not in text_of(english)


def test_interpretation_column_tells_each_language_whether_it_is_interpreted(demo):
    edit_webinar(demo, "Keeping your family ready", Interpretation="Spanish")
    demo.runner().run(webinar_agendas.JOB)
    ready = {
        m["Subject"].split(":")[0]: text_of(m)
        for m in family_mail(demo)
        if "Keeping your family ready" in m["Subject"]
    }
    assert "Esta clase tendrá interpretación al español." in ready["Invitación"]
    assert "Interpretation will be offered in: Spanish." in ready["You are invited"]


def test_a_korean_session_whose_mail_went_in_english_says_so_in_its_status(demo):
    edit_webinar(demo, "Keeping your family ready", Language="Korean")
    demo.runner().run(webinar_agendas.JOB)
    (korean,) = [m for m in family_mail(demo) if "Keeping your family ready" in m["Subject"]]
    assert "The class is given in Korean." in text_of(korean)
    rows = {r["Title"]: r for r in records(demo.folder / "family.xlsx", "Webinars")}
    assert rows["Keeping your family ready"]["Status"] == (
        "Agenda sent to 1 family (Korean session; emails in English)"
    )
    assert rows["Conozca sus derechos en la escuela"]["Status"] == (
        "Agenda sent to 3 families (Spanish)"
    )


# -- calendars -----------------------------------------------------------------------------


def test_an_online_only_event_has_its_join_link_in_location_and_description():
    start = dt.datetime(2026, 12, 10, 16, 30, tzinfo=dt.UTC)
    invite = InviteSpec(
        uid="x@example.org",
        sequence=0,
        method="REQUEST",
        start=start,
        end=start + dt.timedelta(hours=1),
        summary="Meeting",
        url=ZOOM,
        description="1. Welcome",
    )
    calendar = Calendar.from_ical(build_ics(invite, ("", "a@example.org"), start))
    (event,) = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == ZOOM
    assert str(event["DESCRIPTION"]) == f"1. Welcome\n\n{ZOOM}"
    # With a room, the room is the location and the link is still in the description.
    room = InviteSpec(**{**invite.__dict__, "location": "Room 5"})
    (event,) = Calendar.from_ical(build_ics(room, ("", "a@example.org"), start)).walk("VEVENT")
    assert str(event["LOCATION"]) == "Room 5" and ZOOM in str(event["DESCRIPTION"])


def test_committee_and_pd_calendar_files_carry_the_join_link_and_declare_utf8(demo):
    demo.runner().run(committee_invites.JOB)
    (message, *_) = [m for m in mails(demo) if calendar_parts(m)]
    for part in calendar_parts(message):
        assert part.get_content_charset() == "utf-8"
    _, event = event_of(calendar_parts(message)[1])
    assert str(event["URL"]) in str(event["DESCRIPTION"])


def test_webinar_agenda_reminder_and_cancellation_share_one_calendar_uid(demo):
    demo.runner().run(webinar_agendas.JOB)
    agenda = next(m for m in family_mail(demo) if "Keeping your family ready" in m["Subject"])
    calendar, event = event_of(calendar_parts(agenda)[-1])
    uid = str(event["UID"])
    assert uid.endswith(".webinar@example.org")
    assert calendar["METHOD"] == "PUBLISH" and event["SEQUENCE"] == 0
    assert str(event["LOCATION"]) == ZOOM + "01"
    assert ZOOM + "01" in str(event["DESCRIPTION"])
    assert calendar_parts(agenda)[-1].get_filename() == "invite.ics"

    before = names(demo)
    day_before = TODAY + dt.timedelta(days=2)
    demo.runner(now=at(demo, day_before)).run(webinar_agendas.JOB)
    reminders = [
        m for m in family_mail(demo, before) if "Keeping your family ready" in m["Subject"]
    ]
    assert reminders
    for reminder in reminders:
        _, event = event_of(calendar_parts(reminder)[-1])
        assert str(event["UID"]) == uid

    before = names(demo)
    edit_webinar(demo, "Keeping your family ready", Cancelled="Yes")
    demo.runner(now=at(demo, day_before)).run(webinar_agendas.JOB)
    cancels = [m for m in family_mail(demo, before) if "Keeping your family ready" in m["Subject"]]
    assert cancels
    for cancel in cancels:
        calendar, event = event_of(calendar_parts(cancel)[-1])
        assert calendar["METHOD"] == "CANCEL" and str(event["UID"]) == uid
        assert event["SEQUENCE"] == 1 and event["STATUS"] == "CANCELLED"


# -- reminders -----------------------------------------------------------------------------


def test_reminders_say_tomorrow_and_today_in_the_familys_language(demo):
    demo.runner().run(webinar_agendas.JOB)
    before = names(demo)
    demo.runner(now=at(demo, TODAY + dt.timedelta(days=2))).run(webinar_agendas.JOB)
    reminders = {
        m["Subject"]: text_of(m)
        for m in family_mail(demo, before)
        if "Keeping your family ready" in m["Subject"]
    }
    assert set(reminders) == {
        "Reminder: Keeping your family ready, tomorrow",
        "Recordatorio: Keeping your family ready, mañana",
    }
    assert "Mañana a las" in reminders["Recordatorio: Keeping your family ready, mañana"]
    # A reminder sent on the day itself says today.
    before = names(demo)
    demo.runner(now=at(demo, TODAY + dt.timedelta(days=5))).run(webinar_agendas.JOB)
    subjects = {m["Subject"] for m in family_mail(demo, before)}
    assert "Recordatorio: Conozca sus derechos en la escuela, hoy" in subjects


def test_committee_reminder_says_tomorrow(demo):
    demo.runner().run(committee_invites.JOB)
    before = names(demo)
    demo.runner(now=at(demo, dt.date(2026, 12, 9))).run(committee_invites.JOB)
    subjects = {m["Subject"] for m in mails(demo, before)}
    assert "Reminder: Immigrant Support Committee meeting, tomorrow" in subjects


# -- unsubscribe ----------------------------------------------------------------------------


def test_family_mail_carries_list_unsubscribe_and_a_footer_line_in_their_language(demo):
    demo.runner().run(webinar_agendas.JOB)
    reply = demo.settings.mail.reply_to or demo.settings.mail.sender
    address = email.utils.parseaddr(reply)[1]
    agendas = family_mail(demo)
    assert agendas
    for message in agendas:
        assert message["List-Unsubscribe"] == f"<mailto:{address}?subject=unsubscribe>"
    by_subject = {m["Subject"].split(":")[0]: m for m in agendas}
    spanish = text_of(by_subject["Invitación"])
    assert "Para dejar de recibir estos correos, responda con la palabra BAJA." in spanish
    english = text_of(by_subject["You are invited"])
    assert "To stop getting these emails, reply with the word STOP." in english
    # Staff mail is not list mail.
    demo.runner().run(committee_invites.JOB)
    assert all(m["List-Unsubscribe"] is None for m in mails(demo) if not m["Bcc"])


# -- Spanish --------------------------------------------------------------------------------


def test_spanish_webinar_mail_asks_questions_once_and_never_writes_pm_twice(demo):
    demo.runner().run(webinar_agendas.JOB)
    before = names(demo)
    day_before = TODAY + dt.timedelta(days=2)
    demo.runner(now=at(demo, day_before)).run(webinar_agendas.JOB)
    edit_webinar(demo, "Keeping your family ready", Cancelled="Yes")
    demo.runner(now=at(demo, day_before)).run(webinar_agendas.JOB)
    spanish = [m for m in family_mail(demo, before) if "Keeping" in m["Subject"]]
    spanish = [m for m in spanish if not m["Subject"].startswith(("Reminder", "Cancelled"))]
    # The reminder and the cancellation, for each region with help to list (issue 15).
    assert len(spanish) == 4
    assert sum("Recordatorio" in m["Subject"] for m in spanish) == 2
    for message in spanish:
        text = text_of(message)
        assert text.count("¿Preguntas?") == 1, text
        assert "m.." not in text and "m.." not in html_of(message)


def test_the_webinar_cancellation_says_the_sessions_language_in_the_familys_language(demo):
    demo.runner().run(webinar_agendas.JOB)
    before = names(demo)
    edit_webinar(demo, "Keeping your family ready", Cancelled="Yes")
    demo.runner().run(webinar_agendas.JOB)
    cancels = {
        m["Subject"].split(":")[0]: m
        for m in family_mail(demo, before)
        if "Keeping your family ready" in m["Subject"]
    }
    for body in (text_of(cancels["Cancelada"]), html_of(cancels["Cancelada"])):
        assert "La clase iba a ser en inglés." in body
    for body in (text_of(cancels["Cancelled"]), html_of(cancels["Cancelled"])):
        assert "The class was to be given in English." in body
