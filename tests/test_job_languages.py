"""PD and webinar messages in families' languages: Spanish dates, English fallback, RTL."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date

from automations import PROJECT_ROOT
from automations.jobs import mou_tracker, pd_reminders, webinar_agendas
from automations.languages import ENGLISH, Language, parse_language
from automations.render import Renderer
from tests.fixtures.workbooks import make_table

TEMPLATES = PROJECT_ROOT / "templates" / "email"
SPANISH = Language("es", "Spanish")


def sample(job, template: str, demo):
    settings = demo.settings
    messages = job.samples(settings, job.options(settings))
    return next(m for m in messages if m.template == template)


@pytest.mark.parametrize("template", ["pd_digest", "pd_session_reminder"])
def test_spanish_pd_messages_show_dates_the_spanish_way(demo, template):
    message = sample(pd_reminders, template, demo)
    rendered = Renderer(TEMPLATES).render(template, SPANISH, message.context)
    day = dt.date(2027, 3, 3)
    form = "medium" if template == "pd_digest" else "full"
    expected = format_date(day, form, locale="es_US")
    assert expected in rendered.text and expected in rendered.html
    assert "marzo" in expected or "mar" in expected
    assert "March" not in rendered.text


def test_spanish_agenda_has_spanish_date_and_sections(demo):
    message = sample(webinar_agendas, "webinar_agenda", demo)
    rendered = Renderer(TEMPLATES).render("webinar_agenda", SPANISH, message.context)
    assert "miércoles, 3 de marzo de 2027" in rendered.text
    assert "CONOZCA SUS DERECHOS" in rendered.text
    assert rendered.subject.startswith("Invitación:")
    assert 'lang="es"' in rendered.html


def test_every_pd_and_webinar_template_exists_in_english_and_spanish(demo):
    renderer = Renderer(TEMPLATES)
    for job in (pd_reminders, webinar_agendas):
        for message in job.samples(demo.settings, job.options(demo.settings)):
            for code in ("en", "es"):
                assert renderer.has(code, message.template), f"{code}/{message.template}"
                renderer.render(message.template, Language(code, code), message.context)


def test_a_language_without_templates_is_written_in_english(demo):
    korean = parse_language("Korean")
    assert korean is not None
    renderer = Renderer(TEMPLATES)
    assert renderer.resolve(korean, "webinar_agenda") == ENGLISH
    message = sample(webinar_agendas, "webinar_agenda", demo)
    rendered = renderer.render("webinar_agenda", korean, message.context)
    assert rendered.subject.startswith("You are invited:")


def test_arabic_renders_right_to_left_when_the_admin_uses_the_draft(demo):
    message = sample(webinar_agendas, "webinar_agenda", demo)
    arabic = parse_language("العربية")
    assert arabic is not None and arabic.code == "ar"
    renderer = Renderer(TEMPLATES, use=["ar"])
    rendered = renderer.render("webinar_agenda", arabic, message.context)
    assert 'dir="rtl"' in rendered.html and 'lang="ar"' in rendered.html
    assert "دعوة" in rendered.subject
    english = renderer.render("webinar_agenda", ENGLISH, message.context)
    assert 'dir="ltr"' in english.html


def test_arabic_families_get_the_arabic_batch_when_arabic_is_in_use(demo, job_input):
    settings = demo.settings
    webinar = {
        "Webinar ID": "W1",
        "Title": "Ready",
        "Date": (dt.date(2026, 11, 30) + dt.timedelta(days=3)).isoformat(),
        "Start Time": "6 PM",
        "Join Link": "https://example.org/join",
        "Family Preparedness": "a",
        "We Are One": "b",
        "Know Your Rights": "c",
    }
    families = [
        {"Email": "a@example.org", "Language": "Arabic"},
        {"Email": "b@example.org", "Language": "ar"},
        {"Email": "c@example.org", "Language": "Farsi"},
    ]
    tables = {
        "Webinars": make_table(webinar_agendas.WEBINARS, [webinar]),
        "Families": make_table(webinar_agendas.FAMILIES, families),
    }
    options = webinar_agendas.options(settings)
    plan = webinar_agendas.plan(
        job_input(
            {"family": tables},
            settings=settings,
            options=options,
            languages=Renderer(TEMPLATES, use=["ar"]).languages,
        )
    )
    by_language = {m.language.code: sorted(m.bcc) for m in plan.messages}
    assert by_language == {"ar": ["a@example.org", "b@example.org"], "en": ["c@example.org"]}
    status = next(w.value for w in plan.writes if w.row.key == "c@example.org")
    assert status.endswith("sent in English: the Persian translation is a draft not yet reviewed")


@pytest.mark.parametrize(
    ("typed", "code"), [("es", "es"), ("Spanish", "es"), ("Español", "es"), ("spa", "es")]
)
def test_languages_are_accepted_as_codes_and_names(typed, code):
    language = parse_language(typed)
    assert language is not None and language.code == code


def interpreted_plan(demo, job_input, interpretation: str):
    settings = demo.settings
    webinar = {
        "Webinar ID": "W1",
        "Title": "Ready",
        "Date": (dt.date(2026, 11, 30) + dt.timedelta(days=3)).isoformat(),
        "Start Time": "6 PM",
        "Join Link": "https://example.org/join",
        "Family Preparedness": "a",
        "We Are One": "b",
        "Know Your Rights": "c",
        "Interpretation": interpretation,
    }
    families = [
        {"Email": "a@example.org", "Language": "Korean"},
        {"Email": "b@example.org", "Language": "English"},
        {"Email": "c@example.org", "Language": "Spanish"},
    ]
    tables = {
        "Webinars": make_table(webinar_agendas.WEBINARS, [webinar]),
        "Families": make_table(webinar_agendas.FAMILIES, families),
    }
    renderer = Renderer(TEMPLATES, use=["ko"])
    plan = webinar_agendas.plan(
        job_input(
            {"family": tables},
            settings=settings,
            options=webinar_agendas.options(settings),
            languages=renderer.languages,
        )
    )
    return plan, renderer


def test_the_agenda_says_interpretation_is_offered_in_the_interpreted_language(demo, job_input):
    plan, renderer = interpreted_plan(demo, job_input, "Korean; es")
    text = {
        m.language.code: renderer.render(m.template, m.language, m.context).text
        for m in plan.messages
    }
    assert "이 수업은 한국어 통역을 제공합니다." in text["ko"]
    assert "Esta clase tendrá interpretación al español." in text["es"]
    # Families of other languages learn which languages are interpreted, named for them.
    assert "Interpretation will be offered in: Korean, Spanish." in text["en"]


def test_an_interpretation_that_is_not_a_language_is_a_row_error(demo, job_input):
    plan, _ = interpreted_plan(demo, job_input, "Korean, Klingonese")
    assert not plan.messages
    status = next(w.value for w in plan.writes if w.row.key == "W1" and w.column == "Status")
    assert status.startswith('Error: Interpretation "Klingonese" is not a language we recognise')


def test_language_names_in_a_message_are_in_the_readers_language():
    context = {**mou_tracker.sample_context(), "name": "Ana"}
    spanish = Renderer(TEMPLATES).render("mou_summary", SPANISH, context)
    assert "(inglés, español)" in spanish.text and "inglés, español" in spanish.html
    english = Renderer(TEMPLATES).render("mou_summary", ENGLISH, context)
    assert "(English, Spanish)" in english.text
