"""Recognise a language written as a code or a name (es, spa, Spanish, Español)."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.core import get_global

# Babel locale used to format dates for a language spoken in Los Angeles.
_REGIONAL_LOCALE = {"en": "en_US", "es": "es_US", "zh": "zh_Hans", "fil": "fil_PH"}
_ALIASES = {
    "farsi": "fa",
    "tagalog": "fil",
    "tl": "fil",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "yue",
}
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps"})
# Languages whose own name ("Español", "한국어") is recognised: those spoken by many
# District families and staff. Loading every Babel locale instead costs seconds and
# ~150 MB; codes and English names are recognised for every language regardless.
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
]


@dataclass(frozen=True)
class Language:
    """A language the tool recognised: its code, English name and Babel locale."""

    code: str
    name: str

    @property
    def locale(self) -> str:
        """Babel locale for formatting dates and times."""
        return _REGIONAL_LOCALE.get(self.code, self.code)

    @property
    def rtl(self) -> bool:
        """True when the language is written right to left."""
        return self.code in RTL_LANGUAGES


ENGLISH = Language("en", "English")


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def _names() -> dict[str, str]:
    """Map every folded code and name (in English and in the language itself) to a code."""
    table: dict[str, str] = {}
    english = Locale("en")
    for code in english.languages:
        if "_" in code:
            continue
        table.setdefault(_fold(code), code)
        table.setdefault(_fold(english.languages[code]), code)
    for code in NATIVE_NAMES:
        try:
            own = Locale.parse(code).get_display_name(code)
        except (UnknownLocaleError, ValueError):
            continue
        if own:
            table.setdefault(_fold(own), code)
    for alpha3, alpha2 in get_global("language_aliases").items():
        if len(alpha3) == 3 and alpha2.isalpha() and len(alpha2) <= 3:
            table.setdefault(_fold(alpha3), alpha2)
    for alias, code in _ALIASES.items():
        table[alias] = code
    return table


def parse_language(value: str) -> Language | None:
    """Return the language named by a code or a name, or None when it is not one."""
    folded = _fold(value).replace("-", "_")
    if not folded:
        return None
    code = _names().get(folded) or _names().get(folded.split("_")[0])
    if code is None:
        return None
    return Language(code, Locale("en").languages.get(code, code))
