"""Recognise a language written as a code or a name (es, spa, Spanish, Español).

The names come from a table precomputed from Babel's locale data
(`automations/language_names.py`): loading the ~50 locales it needs at run time cost
0.2 s and 35-50 MiB held for the whole run. Regenerate it after upgrading Babel with
`python -m automations.languages` (a test says when it is out of date).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass

# Babel locale used to format dates for a language spoken in Los Angeles. Indigenous
# languages of Mexico and Guatemala have no locale data: their families get dates in
# the Spanish of the region they come from, which they read more often than English.
_REGIONAL_LOCALE = {
    "en": "en_US",
    "es": "es_US",
    "fil": "fil_PH",
    "mix": "es_MX",
    "zap": "es_MX",
    "nah": "es_MX",
    "tzo": "es_MX",
    "tzh": "es_MX",
    "yua": "es_MX",
    "tsz": "es_MX",
    "trs": "es_MX",
    "quc": "es_GT",
    "kjb": "es_GT",
    "mam": "es_GT",
    "acr": "es_GT",
}
_ALIASES = {
    "farsi": "fa",
    "tagalog": "fil",
    "tl": "fil",
    "chinese": "zh_Hans",
    "zh": "zh_Hans",
    "mandarin": "zh_Hans",
    "中文": "zh_Hans",
    "汉语": "zh_Hans",
    "普通话": "zh_Hans",
    "简体中文": "zh_Hans",
    "簡體中文": "zh_Hans",
    "simplified chinese": "zh_Hans",
    "chinese simplified": "zh_Hans",
    "chinese (simplified)": "zh_Hans",
    "繁體中文": "zh_Hant",
    "繁体中文": "zh_Hant",
    "正體中文": "zh_Hant",
    "traditional chinese": "zh_Hant",
    "chinese traditional": "zh_Hant",
    "chinese (traditional)": "zh_Hant",
    # Families who speak Cantonese in Los Angeles mostly read Traditional Chinese.
    "cantonese": "zh_Hant",
    "yue": "zh_Hant",
    "廣東話": "zh_Hant",
    "粵語": "zh_Hant",
    # Indigenous languages of Mexico and Guatemala (MOU 2.0 asks for them), by the
    # names families and staff use; several are not in Babel's data at all.
    "mixteco": "mix",
    "mixtec": "mix",
    "tu'un savi": "mix",
    "zapoteco": "zap",
    "kiche": "quc",
    "k'iche'": "quc",
    "k'iche": "quc",
    "quiche": "quc",
    "kʼicheʼ": "quc",
    "q'anjob'al": "kjb",
    "qanjobal": "kjb",
    "kanjobal": "kjb",
    "mam": "mam",
    "nahuatl": "nah",
    "nahuatl (mexico)": "nah",
    "purepecha": "tsz",
    "p'urhepecha": "tsz",
    "triqui": "trs",
    "maya": "yua",
    "yucatec maya": "yua",
    "maya yucateco": "yua",
    "tzotzil": "tzo",
    "tseltal": "tzh",
    "tzeltal": "tzh",
    "achi": "acr",
}
# English names (and, for the reader, Spanish names) of languages Babel does not name.
_EXTRA_NAMES = {
    "mix": ("Mixtec", "mixteco"),
    "kjb": ("Q'anjob'al", "q'anjob'al"),
    "mam": ("Mam", "mam"),
    "nah": ("Nahuatl", "náhuatl"),
    "tsz": ("Purépecha", "purépecha"),
    "trs": ("Triqui", "triqui"),
    "yua": ("Yucatec Maya", "maya yucateco"),
    "tzo": ("Tzotzil", "tzotzil"),
    "tzh": ("Tseltal", "tseltal"),
    "acr": ("Achi", "achi"),
}
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "sd", "ug", "yi", "dv"})
# Languages whose own name ("Español", "한국어") is recognised: those spoken by many
# District families and staff. Codes and English names are recognised for every
# language Babel knows regardless.
NATIVE_NAMES = [
    "am",
    "ar",
    "bn",
    "de",
    "el",
    "en",
    "es",
    "fa",
    "fil",
    "fr",
    "gu",
    "ha",
    "he",
    "hi",
    "hmn",
    "ht",
    "hy",
    "id",
    "it",
    "ja",
    "km",
    "ko",
    "lo",
    "mn",
    "my",
    "ne",
    "pa",
    "pl",
    "ps",
    "pt",
    "ro",
    "ru",
    "sm",
    "so",
    "sw",
    "ta",
    "te",
    "th",
    "ti",
    "to",
    "tr",
    "uk",
    "ur",
    "uz",
    "vi",
    "yo",
    "yue",
    "zh",
    "zh_Hant",
    "zh_Hans",
]


@dataclass(frozen=True)
class Language:
    """A language the tool recognised: its code, English name and Babel locale."""

    code: str
    name: str

    @property
    def locale(self) -> str:
        """Babel locale for formatting dates and times."""
        return formatting_locale(self.code)

    @property
    def tag(self) -> str:
        """The code as HTML's lang attribute wants it (zh-Hant, not zh_Hant)."""
        return self.code.replace("_", "-")

    @property
    def rtl(self) -> bool:
        """True when the language is written right to left."""
        return self.code.split("_")[0] in RTL_LANGUAGES


ENGLISH = Language("en", "English")


@functools.cache
def formatting_locale(code: str) -> str:
    """The Babel locale that formats dates for `code` (a regional one, or English)."""
    if code in _REGIONAL_LOCALE:
        return _REGIONAL_LOCALE[code]
    from babel import localedata

    return code if localedata.exists(code) else "en_US"


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.strip().casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def _names() -> dict[str, str]:
    from automations.language_names import NAMES

    return NAMES


def _lookup(folded: str) -> str | None:
    return _FOLDED_ALIASES.get(folded) or _names().get(folded)


_FOLDED_ALIASES = {_fold(alias).replace("-", "_"): code for alias, code in _ALIASES.items()}
_FOLDED_ALIASES.update({code: code for code in _EXTRA_NAMES})  # "mix", "kjb"...


def _chinese(folded: str) -> str | None:
    """zh-TW, zh_Hant_HK, zh-CN... by script, else by region (Traditional in TW, HK, MO)."""
    parts = folded.split("_")
    if parts[0] != "zh" or len(parts) == 1:
        return None
    if "hant" in parts or any(p in {"tw", "hk", "mo"} for p in parts[1:]):
        return "zh_Hant"
    return "zh_Hans"


def english_name(code: str) -> str:
    """The English name of `code` ('Spanish'; the code itself when nothing names it)."""
    from automations.language_names import ENGLISH_NAMES

    if code in ENGLISH_NAMES:
        return ENGLISH_NAMES[code]
    return _EXTRA_NAMES[code][0] if code in _EXTRA_NAMES else code


def parse_language(value: str) -> Language | None:
    """Return the language named by a code or a name, or None when it is not one."""
    folded = _fold(value).replace("-", "_")
    if not folded:
        return None
    code = _lookup(folded) or _chinese(folded) or _lookup(folded.split("_")[0])
    if code is None:
        return None
    return Language(code, english_name(code))


@functools.lru_cache(maxsize=1024)
def language_name(code: str, reader: str) -> str:
    """The name of language `code` in the language `reader` reads ('inglés' for en, es).

    Names follow the reader's locale data, so Spanish names are lower case ('español');
    a language the reader's locale does not name gets its English name.
    """
    if reader == "en":
        return english_name(code)
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(formatting_locale(reader))
    except (UnknownLocaleError, ValueError):
        return english_name(code)
    name = locale.languages.get(code)
    if name:
        return name
    if code in _EXTRA_NAMES and locale.language == "es":
        return _EXTRA_NAMES[code][1]
    return english_name(code)


def build_name_tables() -> tuple[dict[str, str], dict[str, str]]:
    """Folded code or name -> code, and code -> English name, from Babel's locale data.

    This is what `automations/language_names.py` holds; it loads about 50 locales.
    """
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global

    table: dict[str, str] = {}
    english = Locale("en")
    english_names: dict[str, str] = {}
    for code, name in english.languages.items():
        if "_" in code and code not in {"zh_Hant", "zh_Hans"}:
            continue
        english_names[code] = name
        if "_" in code:
            continue
        table.setdefault(_fold(code), code)
        table.setdefault(_fold(name), code)
    for code in NATIVE_NAMES:
        try:
            locale = Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
        for own in {locale.get_display_name(code), locale.languages.get(code)}:
            if own:
                table.setdefault(_fold(own), code)
    for alpha3, alpha2 in get_global("language_aliases").items():
        if len(alpha3) == 3 and alpha2.isalpha() and len(alpha2) <= 3:
            table.setdefault(_fold(alpha3), alpha2)
    return dict(sorted(table.items())), dict(sorted(english_names.items()))


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_name_tables(path: str) -> None:
    """Write the precomputed tables as a Python module at `path`."""
    names, english = build_name_tables()
    lines = [
        '"""Language names precomputed from Babel (python -m automations.languages)."""',
        "",
        "NAMES = {",
        *(f"    {_quoted(k)}: {_quoted(v)}," for k, v in names.items()),
        "}",
        "ENGLISH_NAMES = {",
        *(f"    {_quoted(k)}: {_quoted(v)}," for k, v in english.items()),
        "}",
        "",
    ]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))


if __name__ == "__main__":
    from pathlib import Path

    write_name_tables(str(Path(__file__).with_name("language_names.py")))
