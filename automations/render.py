"""Render messages from Jinja2 templates in the recipient's language.

Templates live in templates/email/<language code>/<name>.html and <name>.txt; the
.txt file also holds `{% block subject %}` (and, for invitations, an optional
`{% block calendar_title %}`). HTML is autoescaped, every variable must exist
(StrictUndefined), and CSS is inlined once per message so Outlook and Gmail show it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from babel.dates import format_date, format_datetime, format_time

from automations.errors import TemplateProblem
from automations.languages import ENGLISH, Language


@dataclass(frozen=True)
class Rendered:
    """A message's text in one language: subject, HTML and plain text."""

    subject: str
    html: str
    text: str
    calendar_title: str = ""


def _locale(context: Any) -> str:
    return context.get("locale", "en_US")


@jinja2.pass_context
def _date(context: Any, value: dt.date, form: str = "full") -> str:
    return format_date(value, form, locale=_locale(context))


@jinja2.pass_context
def _time(context: Any, value: dt.time | dt.datetime, form: str = "short") -> str:
    return format_time(value, form, locale=_locale(context))


@jinja2.pass_context
def _datetime(context: Any, value: dt.datetime, form: str = "full") -> str:
    date_part = format_date(value, form, locale=_locale(context))
    return f"{date_part}, {format_time(value, 'short', locale=_locale(context))}"


@jinja2.pass_context
def _datetime_tz(context: Any, value: dt.datetime) -> str:
    return format_datetime(value, "short", tzinfo=value.tzinfo, locale=_locale(context))


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


class Renderer:
    """Compiled templates, cached per name and language, rendered per message."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            cache_size=-1,
        )
        self.env.filters.update(
            date=_date, time=_time, datetime=_datetime, datetime_tz=_datetime_tz
        )
        self._inliner = css_inline.CSSInliner(keep_style_tags=False)

    @functools.cached_property
    def languages(self) -> frozenset[str]:
        """Language codes that have a template folder."""
        if not self.templates_dir.is_dir():
            return frozenset()
        return frozenset(
            p.name
            for p in self.templates_dir.iterdir()
            if p.is_dir() and not p.name.startswith("_")
        )

    @functools.cache  # noqa: B019 - one Renderer per run; the cache is the point
    def has(self, language: str, template: str) -> bool:
        """True when `template` exists in `language` (both the .html and .txt parts)."""
        folder = self.templates_dir / language
        return (folder / f"{template}.html").is_file() and (folder / f"{template}.txt").is_file()

    def template_names(self, language: str = "en") -> list[str]:
        """Every message template available in `language`."""
        folder = self.templates_dir / language
        return sorted(p.stem for p in folder.glob("*.txt") if not p.stem.startswith("_"))

    def resolve(self, language: Language, template: str) -> Language:
        """The language the message will really be written in (English when missing)."""
        return language if self.has(language.code, template) else ENGLISH

    def render(self, template: str, language: Language, context: Mapping[str, Any]) -> Rendered:
        """Render `template` in `language` (falling back to English) with `context`."""
        language = self.resolve(language, template)
        values = {
            **context,
            "lang": language.code,
            "locale": language.locale,
            "dir": "rtl" if language.rtl else "ltr",
        }
        try:
            text_template = self.env.get_template(f"{language.code}/{template}.txt")
            html_template = self.env.get_template(f"{language.code}/{template}.html")
            text_context = text_template.new_context(values)
            subject = "".join(text_template.blocks["subject"](text_context))
            calendar_title = ""
            if "calendar_title" in text_template.blocks:
                calendar_title = "".join(text_template.blocks["calendar_title"](text_context))
            text = text_template.render(values)
            html = html_template.render(values)
        except jinja2.TemplateNotFound as err:
            raise TemplateProblem(
                f"template {err.name} is missing in {self.templates_dir}"
            ) from None
        except KeyError:
            raise TemplateProblem(
                f"template {language.code}/{template}.txt has no {{% block subject %}}"
            ) from None
        except jinja2.TemplateError as err:
            where = f"{language.code}/{template}"
            line = f" line {err.lineno}" if getattr(err, "lineno", None) else ""
            raise TemplateProblem(f"template {where}{line}: {err.message}") from None
        return Rendered(
            subject=_one_line(subject),
            html=self._inliner.inline(html),
            text=text.strip() + "\n",
            calendar_title=_one_line(calendar_title),
        )
