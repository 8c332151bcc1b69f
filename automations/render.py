"""Render messages from Jinja2 templates in the recipient's language.

Templates live in templates/email/<language code>/<name>.html and <name>.txt; the
.txt file also holds `{% block subject %}` (and, for invitations, an optional
`{% block calendar_title %}`). HTML is autoescaped, every variable must exist
(StrictUndefined), and CSS is inlined once per message so Outlook and Gmail show it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
import jinja2
import markupsafe
from babel.dates import format_date, format_datetime, format_time

from automations.cells import strip_bidi
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


# Babel formatting is pure but slow (it re-parses the locale and pattern every call);
# mass mail formats the same few session dates thousands of times, so remember them.
# The zone is part of each key: aware datetimes for the same instant in two zones
# compare equal but format differently.
@functools.lru_cache(maxsize=8192)
def _format_date(value: dt.date, zone: Any, form: str, locale: str) -> str:
    return format_date(value, form, locale=locale)


@functools.lru_cache(maxsize=8192)
def _format_time(value: dt.time | dt.datetime, zone: Any, form: str, locale: str) -> str:
    return format_time(value, form, locale=locale)


@functools.lru_cache(maxsize=8192)
def _format_datetime_tz(value: dt.datetime, zone: Any, locale: str) -> str:
    return format_datetime(value, "short", tzinfo=value.tzinfo, locale=locale)


def _zone(value: object) -> Any:
    return getattr(value, "tzinfo", None)


@jinja2.pass_context
def _date(context: Any, value: dt.date, form: str = "full") -> str:
    return _format_date(value, _zone(value), form, _locale(context))


@jinja2.pass_context
def _time(context: Any, value: dt.time | dt.datetime, form: str = "short") -> str:
    return _format_time(value, _zone(value), form, _locale(context))


@jinja2.pass_context
def _datetime(context: Any, value: dt.datetime, form: str = "full") -> str:
    date_part = _format_date(value, _zone(value), form, _locale(context))
    return f"{date_part}, {_format_time(value, _zone(value), 'short', _locale(context))}"


@jinja2.pass_context
def _datetime_tz(context: Any, value: dt.datetime) -> str:
    return _format_datetime_tz(value, _zone(value), _locale(context))


RENDER_CACHE_SIZE = 2048
_PLAIN = frozenset({str, int, float, bool, type(None), dt.date})


def _freeze(value: Any) -> Hashable:
    """A hashable stand-in for a template context; equal only when renders are equal.

    Scalars carry their type (1, 1.0 and True compare equal but render differently);
    mappings keep their order (templates may iterate over them). Raises TypeError for
    values that cannot be compared safely.
    """
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is dict or isinstance(value, Mapping):
        return ("m", tuple([(k, _freeze(v)) for k, v in value.items()]))
    if kind is list or kind is tuple:
        return ("s", tuple([_freeze(v) for v in value]))
    if kind is dt.datetime or kind is dt.time:
        return (kind, value, value.tzinfo, value.fold)
    raise TypeError(f"cannot freeze {kind.__name__}")


def _one_line(value: str) -> str:
    return " ".join(strip_bidi(str(value)).split())


# A private-use character pair no sheet value or template contains.
NAME_PLACEHOLDER = "\ue000name\ue001"


def _personalise(shared: Rendered, name: str) -> Rendered:
    """Put `name` where the placeholder stands: escaped in HTML, one line in subjects."""
    name = strip_bidi(name)
    html_name = str(markupsafe.escape(name))
    return Rendered(
        subject=shared.subject.replace(NAME_PLACEHOLDER, _one_line(name)),
        html=shared.html.replace(NAME_PLACEHOLDER, html_name),
        text=shared.text.replace(NAME_PLACEHOLDER, name),
        calendar_title=shared.calendar_title.replace(NAME_PLACEHOLDER, _one_line(name)),
    )


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
        self._cache: dict[tuple[str, str, Hashable], Rendered] = {}

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
        """Render `template` in `language` (falling back to English) with `context`.

        Rendering is a pure function of (template, language, context), so equal inputs
        share one result: mass mail (thousands of digests with the same topics and
        sessions) renders and inlines each distinct message once.
        """
        language = self.resolve(language, template)
        name = context.get("name")
        if isinstance(name, str) and name.strip() and name != NAME_PLACEHOLDER:
            # The greeting is the only per-person part of most messages: render the
            # rest once with a placeholder and put each person's name in afterwards.
            shared = self.render(template, language, {**context, "name": NAME_PLACEHOLDER})
            return _personalise(shared, name)
        try:
            key = (template, language.code, _freeze(context))
        except TypeError:  # something unhashable in the context: render, do not cache
            return self._render(template, language, context)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(template, language, context)
            if len(self._cache) >= RENDER_CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))  # drop the oldest entry
            self._cache[key] = cached
        return cached

    def _render(self, template: str, language: Language, context: Mapping[str, Any]) -> Rendered:
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
