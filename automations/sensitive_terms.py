"""Words no family message may contain: nothing families read asks about or mentions
immigration status (MOU 6.b; the privacy rules of the design).

The list is `never_mention` under [jobs.family-outreach] (default: `DEFAULT_TERMS`, in
English, Spanish and the other shipped languages). `check` renders every family-facing
sample message of every job in every language and warns about each term it finds; a test
does the same. Pure: text in, terms found out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from automations.config import Options, Settings
from automations.errors import ConfigError
from automations.plan import Message

JOB = "family-outreach"

DEFAULT_TERMS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "immigration status", "legal status", "undocumented", "citizenship", "citizen",
        "green card", "visa", "social security number", "A-number", "alien", "DACA",
        "deport",
    ),
    "es": (
        "estatus migratorio", "estado migratorio", "situación migratoria", "estatus legal",
        "indocumentad", "sin papeles", "ciudadanía", "tarjeta verde", "residencia permanente",
        "visa", "número de seguro social", "deportación", "deportar",
    ),
    "ar": ("وضع الهجرة", "الوضع القانوني", "الجنسية", "غير موثق", "تأشيرة", "البطاقة الخضراء"),
    "fa": ("وضعیت مهاجرتی", "وضعیت اقامت", "تابعیت", "شهروندی", "بدون مدرک", "ویزا", "گرین کارت"),
    "fil": (
        "katayuan sa imigrasyon", "estado ng imigrasyon", "pagkamamamayan", "walang dokumento",
        "green card", "visa",
    ),
    "hy": ("ներգաղթային կարգավիճակ", "միգրացիոն կարգավիճակ", "քաղաքացիություն", "վիզա"),
    "ko": ("이민 신분", "체류 신분", "시민권", "서류미비", "비자", "영주권"),
    "ru": (
        "иммиграционный статус", "иммиграционного статуса", "миграционный статус",
        "гражданств", "без документов", "нелегал", "грин-карт", "виза", "депортац",
    ),
    "vi": ("tình trạng di trú", "tình trạng nhập cư", "quốc tịch", "giấy tờ tùy thân",
           "không có giấy tờ", "thẻ xanh", "thị thực"),
    "zh_Hans": ("移民身份", "移民状态", "公民身份", "无证", "签证", "绿卡", "驱逐"),
    "zh_Hant": ("移民身分", "移民身份", "移民狀態", "公民身分", "無證", "簽證", "綠卡", "驅逐"),
}  # fmt: skip


def default_terms() -> tuple[str, ...]:
    """Every language's default terms, in one list."""
    return tuple(term for terms in DEFAULT_TERMS.values() for term in terms)


def read_terms(settings: Settings, job: str, reader: Options) -> tuple[str, ...]:
    """`never_mention = ["...", ...]` of [jobs.<job>] (absent: the default list)."""
    value = reader.raw("never_mention")
    if value is None:
        return default_terms()
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise ConfigError(
            f"{settings.path}: jobs.{job}.never_mention must be a list of words in quotes, e.g. "
            '["immigration status", "estatus migratorio"] (remove it for the default list)'
        )
    return tuple(" ".join(t.split()) for t in value)


def configured_terms(settings: Settings) -> tuple[str, ...]:
    """The terms `check` looks for: family-outreach's never_mention, else the default."""
    value = settings.job(JOB).options.get("never_mention")
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return tuple(" ".join(t.split()) for t in value if t.strip())
    return default_terms()


@functools.cache
def _pattern(term: str) -> re.Pattern[str]:
    # Scripts written with spaces: the term must start a word ("visa", not "advisable");
    # Chinese and Japanese have no spaces, so a plain substring there.
    bare = re.escape(term.casefold())
    spaced = all(not ("\u3000" <= ch <= "\u9fff") for ch in term)
    return re.compile(rf"(?<!\w){bare}" if spaced else bare)


def mentions(texts: Iterable[str], terms: Iterable[str]) -> list[str]:
    """The terms found in any of `texts` (case ignored), in the order of `terms`."""
    folded = [text.casefold() for text in texts]
    return [t for t in terms if any(_pattern(t).search(text) for text in folded)]


def family_facing(message: Message) -> bool:
    """True for a message families read (family templates are signed for families)."""
    return "family" in message.context


def rendered_texts(rendered: Any) -> list[str]:
    """What a reader sees of a rendered message: subject, text and the HTML's words."""
    words = re.sub(r"<[^>]+>", " ", rendered.html)
    return [rendered.subject, rendered.text, words]
