"""Message catalogs: CI's checks, .mo compiled on first use, per-string fallback, states."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from automations import catalogs
from automations.jobs.rows import choose_language
from automations.languages import Language
from automations.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates" / "email"
LOCALE = ROOT / "locale"
SHIPPED_DRAFTS = {"ko", "hy", "zh_Hant", "zh_Hans", "fil", "vi", "ru", "fa", "ar"}


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the templates and the catalogs (without compiled .mo files)."""
    templates = tmp_path / "templates"
    locale = tmp_path / "locale"
    shutil.copytree(TEMPLATES, templates)
    shutil.copytree(LOCALE, locale, ignore=shutil.ignore_patterns("*.mo"))
    return templates, locale


def po_text(locale: Path, code: str) -> str:
    return catalogs.po_path(code, locale).read_text(encoding="utf-8")


def test_the_committed_catalogs_pass_every_check():
    assert catalogs.problems() == []


def test_the_catalog_template_out_of_date_with_the_templates_fails(copies):
    templates, locale = copies
    agenda = templates / "webinar_agenda.txt"
    agenda.write_text(
        agenda.read_text(encoding="utf-8").replace(
            "{% block body %}", '{% block body %}{{ _("A brand new sentence.") }}'
        ),
        encoding="utf-8",
    )
    problems = catalogs.template_problems(templates, locale)
    assert problems[0].endswith("run `python -m automations.catalogs update` and commit the result")
    assert "1 string(s) new: 'A brand new sentence.'" in problems[1]


def test_a_po_with_a_syntax_error_fails(copies):
    _, locale = copies
    path = catalogs.po_path("ko", locale)
    path.write_text(po_text(locale, "ko").replace('msgstr "날짜"', 'msgstr "날짜'), "utf-8")
    (problem,) = catalogs.catalog_problems("ko", locale)
    assert "not a valid catalog" in problem


def test_a_translation_missing_a_placeholder_fails(copies):
    _, locale = copies
    path = catalogs.po_path("vi", locale)
    broken = po_text(locale, "vi").replace('msgstr "Kính gửi %(name)s,"', 'msgstr "Kính gửi,"')
    path.write_text(broken, encoding="utf-8")
    (problem,) = catalogs.catalog_problems("vi", locale)
    assert "the translation of 'Dear %(name)s,' misses %(name)s" in problem


def test_a_stray_percent_sign_fails(copies):
    _, locale = copies
    path = catalogs.po_path("es", locale)
    broken = po_text(locale, "es").replace('msgstr "%(percent)s %%"', 'msgstr "%(percent)s %"')
    path.write_text(broken, encoding="utf-8")
    assert any("stray %" in p for p in catalogs.catalog_problems("es", locale))


def test_the_ci_script_runs_the_catalog_check():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m automations.catalogs check" in script


def test_the_mo_is_compiled_on_first_use_and_again_when_the_po_changes(copies):
    _, locale = copies
    mo = catalogs.po_path("es", locale).with_suffix(".mo")
    assert not mo.exists()
    first = catalogs.load("es", locale)
    assert mo.is_file() and first.reviewed
    assert first.strings["Dear %(name)s,"] == ("Estimado/a %(name)s:",)
    po = catalogs.po_path("es", locale)
    po.write_text(po_text(locale, "es").replace("Estimado/a %(name)s:", "Querido/a %(name)s:"))
    again = catalogs.load("es", locale)
    assert again.strings["Dear %(name)s,"] == ("Querido/a %(name)s:",)


def test_shipped_catalogs_say_whether_they_are_reviewed_or_draft():
    assert catalogs.load("es").reviewed
    for code in SHIPPED_DRAFTS:
        catalog = catalogs.load(code)
        assert not catalog.reviewed, code
        assert "Status: draft" in po_text(LOCALE, code)
    assert set(catalogs.shipped()) == {"es"} | SHIPPED_DRAFTS


def test_every_shipped_language_translates_every_string_recipients_read():
    renderer = Renderer(TEMPLATES, use=SHIPPED_DRAFTS)
    for code, state in renderer.languages.states.items():
        assert state.percent == 100, (code, state.missing)


def test_a_language_missing_strings_still_reaches_its_families_with_those_in_english(copies):
    templates, locale = copies
    text = po_text(locale, "ko")
    for msgid in ("Dear families,", "Join the class", "Need help?"):
        start = text.index(f'msgid "{msgid}"')
        end = text.index("\n\n", start)
        text = text[:start] + f'msgid "{msgid}"\nmsgstr ""' + text[end:]
    catalogs.po_path("ko", locale).write_text(text, encoding="utf-8")
    renderer = Renderer(templates, locale_dir=locale, use=["ko"])
    state = renderer.languages.states["ko"]
    assert (state.missing, state.percent) == (3, 98)
    choice = choose_language("Korean", renderer.languages)
    assert choice.used.code == "ko"
    assert choice.note == "Korean 98%: 3 strings in English"
    assert choose_language("Español", renderer.languages).note == ""
    context = {"help": "help@example.org", "webinar": _webinar()}
    rendered = renderer.render("webinar_agenda", Language("ko", "Korean"), context)
    assert "Dear families," in rendered.text and "나의 권리 알기" in rendered.text


def test_a_draft_is_not_sent_unless_listed_and_the_row_says_so():
    renderer = Renderer(TEMPLATES)
    assert "ko" not in renderer.languages and "es" in renderer.languages
    choice = choose_language("한국어", renderer.languages)
    assert choice.used.code == "en"
    assert choice.note == "sent in English: the Korean translation is a draft not yet reviewed"
    assert choose_language("Tigrinya", renderer.languages).note == (
        "sent in English: no Tigrinya translation yet"
    )


def test_an_unreadable_catalog_is_not_sent_and_says_why(copies):
    templates, locale = copies
    catalogs.po_path("es", locale).write_text('msgid "x\n', encoding="utf-8")
    renderer = Renderer(templates, locale_dir=locale)
    assert "es" not in renderer.languages
    note = choose_language("es", renderer.languages).note
    assert note.startswith("sent in English: the Spanish translation cannot be read (")


def _webinar() -> dict:
    import datetime as dt
    from zoneinfo import ZoneInfo

    start = dt.datetime(2027, 3, 3, 18, tzinfo=ZoneInfo("America/Los_Angeles"))
    return {
        "id": "W1",
        "title": "Ready",
        "start": start,
        "end": start + dt.timedelta(hours=1),
        "join_link": "https://example.org/join",
        "sections": {"preparedness": "a", "we_are_one": "b", "know_your_rights": "c"},
        "other_topics": "",
    }
