"""Recognising languages, naming them in the reader's language, the precomputed table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from automations import language_names
from automations.languages import (
    build_name_tables,
    formatting_locale,
    language_name,
    parse_language,
)


def test_the_precomputed_name_table_matches_babel():
    # After upgrading Babel: python -m automations.languages
    names, english = build_name_tables()
    assert names == language_names.NAMES
    assert english == language_names.ENGLISH_NAMES


def test_recognising_a_language_loads_no_babel_locale():
    code = (
        "import sys\n"
        "from automations.languages import parse_language\n"
        "assert parse_language('Español').code == 'es'\n"
        "assert parse_language('한국어').code == 'ko'\n"
        "print('babel' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Chinese", "zh_Hans"),
        ("Mandarin", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("简体中文", "zh_Hans"),
        ("Chinese (Traditional)", "zh_Hant"),
        ("zh-TW", "zh_Hant"),
        ("繁體中文", "zh_Hant"),
        ("Cantonese", "zh_Hant"),
        ("Tagalog", "fil"),
        ("Farsi", "fa"),
        ("فارسی", "fa"),
        ("հայերեն", "hy"),
        ("Tiếng Việt", "vi"),
        ("Mixteco", "mix"),
        ("mix", "mix"),
        ("Zapoteco", "zap"),
        ("K'iche'", "quc"),
        ("Q'anjob'al", "kjb"),
        ("  español ", "es"),
    ],
)
def test_languages_families_speak_are_recognised(typed, code):
    language = parse_language(typed)
    assert language is not None and language.code == code


def test_language_names_appear_in_the_readers_language():
    assert [language_name(c, "es") for c in ("en", "es")] == ["inglés", "español"]
    assert language_name("ko", "ko") == "한국어"
    assert language_name("mix", "es") == "mixteco"
    assert language_name("mix", "en") == "Mixtec"
    assert language_name("zh_Hant", "zh_Hant") == "繁體中文"


def test_languages_without_locale_data_get_dates_the_way_their_families_read_them():
    assert formatting_locale("mix") == "es_MX"
    assert formatting_locale("kjb") == "es_GT"
    assert formatting_locale("es") == "es_US"
    assert formatting_locale("ko") == "ko"
    assert formatting_locale("xx") == "en_US"


def test_html_gets_a_bcp47_tag_and_right_to_left_languages_are_known():
    chinese = parse_language("zh-TW")
    assert chinese is not None and chinese.tag == "zh-Hant"
    assert parse_language("Farsi").rtl and parse_language("Arabic").rtl  # type: ignore[union-attr]
    assert not parse_language("Korean").rtl  # type: ignore[union-attr]
