"""Render messages from Jinja2 templates in the recipient's language.

The templates (templates/email/<name>.html and <name>.txt; the .txt also holds
`{% block subject %}` and, for invitations, `{% block calendar_title %}`) are written
once, in English, with gettext. A string is looked up in this run's Translations tab,
then in the language's shipped catalog (automations/catalogs.py), and is left in
English when neither has it: a language missing a few strings still reaches its
families, with those strings in English. HTML is autoescaped (translations included),
every variable must exist (StrictUndefined), and CSS is inlined once per message so
Outlook and Gmail show it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
import jinja2
import markupsafe
from babel.dates import format_date, format_datetime, format_skeleton, format_time

from automations import catalogs
from automations.catalogs import Catalog, LanguageState, Overrides
from automations.cells import strip_bidi
from automations.errors import TemplateProblem
from automations.languages import ENGLISH, Language, english_name, language_name, parse_language


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
# CLDR's medium Spanish date, "9 dic 2026", reads as a typo to families; the written
# form is "9 de dic. de 2026" (Babel takes a pattern in place of a format name).
MEDIUM_DATES = {"es": "d 'de' MMM'.' 'de' y"}


@functools.lru_cache(maxsize=8192)
def _format_date(value: dt.date, zone: Any, form: str, locale: str) -> str:
    if form == "medium":
        form = MEDIUM_DATES.get(locale.partition("_")[0], form)
    return format_date(value, form, locale=locale)


@functools.lru_cache(maxsize=8192)
def _format_time(value: dt.time | dt.datetime, zone: Any, form: str, locale: str) -> str:
    return format_time(value, form, locale=locale)


@functools.lru_cache(maxsize=8192)
def _format_datetime_tz(value: dt.datetime, zone: Any, locale: str) -> str:
    return format_datetime(value, "short", tzinfo=value.tzinfo, locale=locale)


@functools.lru_cache(maxsize=1024)
def _format_month(value: dt.date, locale: str) -> str:
    return format_skeleton("yMMMM", value, locale=locale)


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


@jinja2.pass_context
def _month_year(context: Any, value: dt.date) -> str:
    """'November 2026', 'noviembre de 2026', '2026년 11월'."""
    return _format_month(value, _locale(context))


@jinja2.pass_context
def _days_away(context: Any, value: dt.datetime) -> int | None:
    """Days from the day the message is sent (`sent_on`) to `value`'s day, or None when
    the message has no sending day (so reminders can say "today" or "tomorrow")."""
    sent_on = context.get("sent_on")
    if not isinstance(sent_on, dt.date):
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    return (day - sent_on).days


@jinja2.pass_context
def _language_name(context: Any, value: str) -> str:
    """A language (code or English name) named in the reader's language ('inglés')."""
    language = parse_language(str(value))
    code = language.code if language is not None else str(value)
    return language_name(code, context.get("language_code", "en"))


# -- gettext ------------------------------------------------------------------------


class Translator:
    """Looks strings up for one language: layers in order (the Translations tab, then
    the shipped catalog), and English when none has the string."""

    def __init__(
        self, layers: Sequence[Mapping[str, tuple[str, ...]]] = (), plural: Any = None
    ) -> None:
        self.layers = tuple(layer for layer in layers if layer)
        self.plural = plural

    def _find(self, key: str) -> tuple[str, ...] | None:
        for layer in self.layers:
            found = layer.get(key)
            if found:
                return found
        return None

    def gettext(self, message: str, context: str = "") -> str:
        """The translation of `message` (in `context`), else the English."""
        found = self._find(catalogs.message_key(message, context))
        return found[0] if found else message

    def ngettext(self, singular: str, plural: str, count: int, context: str = "") -> str:
        """The form of `singular`/`plural` for `count`, else the English one."""
        found = self._find(catalogs.message_key(singular, context))
        if found and self.plural is not None:
            index = self.plural(count) if len(found) > 1 else 0
            return found[min(index, len(found) - 1)]
        return singular if count == 1 else plural


ENGLISH_TRANSLATOR = Translator()
# The translator of the message being rendered (set around each render).
_TRANSLATOR: contextvars.ContextVar[Translator] = contextvars.ContextVar(
    "translator", default=ENGLISH_TRANSLATOR
)


def _escaped(eval_ctx: Any, text: str) -> str:
    # Translations come from staff (the Translations tab) as well as from .po files:
    # in HTML they are text, never markup. Placeholders are escaped by Jinja itself.
    return markupsafe.escape(text) if eval_ctx.autoescape else text


@jinja2.pass_eval_context
def _gettext(eval_ctx: Any, message: str) -> str:
    return _escaped(eval_ctx, _TRANSLATOR.get().gettext(message))


@jinja2.pass_eval_context
def _ngettext(eval_ctx: Any, singular: str, plural: str, count: int) -> str:
    return _escaped(eval_ctx, _TRANSLATOR.get().ngettext(singular, plural, count))


@jinja2.pass_eval_context
def _pgettext(eval_ctx: Any, context: str, message: str) -> str:
    return _escaped(eval_ctx, _TRANSLATOR.get().gettext(message, context))


@jinja2.pass_eval_context
def _npgettext(eval_ctx: Any, context: str, singular: str, plural: str, count: int) -> str:
    return _escaped(eval_ctx, _TRANSLATOR.get().ngettext(singular, plural, count, context))


def new_environment(templates_dir: Path) -> jinja2.Environment:
    """The Jinja environment of the email templates (babel.cfg mirrors its options)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    env.filters.update(
        date=_date,
        time=_time,
        datetime=_datetime,
        datetime_tz=_datetime_tz,
        month_year=_month_year,
        language_name=_language_name,
        days_away=_days_away,
    )
    return env


# -- which languages can be sent -----------------------------------------------------


class Available(frozenset[str]):
    """Codes of the languages mail can be written in, with each language's state.

    A frozenset, so planners test `code in available`; `states` also knows languages
    that cannot be sent yet (drafts, Translations tab columns not reviewed) and why.
    """

    states: Mapping[str, LanguageState]

    def __new__(cls, states: Mapping[str, LanguageState]) -> Available:
        self = super().__new__(cls, (c for c, s in states.items() if s.sendable))
        self.states = states
        return self


# -- the render cache key ------------------------------------------------------------

RENDER_CACHE_SIZE = 2048
# Frozen containers remembered by identity, per renderer (see Renderer.render).
SHARED_MEMO_SIZE = 4096
_TAGGED = (int, float, bool)  # 1, 1.0 and True compare equal but render differently


def _freeze(value: Any, memo: dict[int, tuple[Any, Hashable]] | None = None) -> Hashable:
    """A hashable stand-in for a template context; equal only when renders are equal.

    Scalars that compare equal across types carry their type; mappings keep their order
    (templates may iterate over them); datetimes carry their zone (equal instants in two
    zones render differently). Raises TypeError for values that cannot be compared
    safely. Containers inside the context are looked up in `memo` by identity first.
    """
    kind = type(value)
    if kind is dict:
        return ("m", *[(k, v if type(v) is str else _nested(v, memo)) for k, v in value.items()])
    if kind is list or kind is tuple:
        return ("s", *[v if type(v) is str else _nested(v, memo) for v in value])
    if kind is str or value is None:
        return value
    if kind is dt.datetime or kind is dt.time:
        return (kind, value, value.tzinfo, value.fold)
    if kind in _TAGGED or kind is dt.date:
        return (kind, value)
    if isinstance(value, Mapping):
        return ("m", *[(k, _nested(v, memo)) for k, v in value.items()])
    raise TypeError(f"cannot freeze {kind.__name__}")


def _nested(value: Any, memo: dict[int, tuple[Any, Hashable]] | None) -> Hashable:
    kind = type(value)
    if memo is None or (kind is not dict and kind is not list):
        return _freeze(value, memo)
    found = memo.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    frozen = _freeze(value, memo)
    if len(memo) >= SHARED_MEMO_SIZE:
        memo.clear()
    # The entry holds the object, so its id cannot be reused while the entry lives.
    memo[id(value)] = (value, frozen)
    return frozen


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
    """Compiled templates and catalogs; renders a message in a recipient's language."""

    def __init__(
        self,
        templates_dir: Path,
        *,
        locale_dir: Path | None = None,
        use: Iterable[str] = (),
    ) -> None:
        self.templates_dir = templates_dir
        self.locale_dir = locale_dir or catalogs.LOCALE_DIR
        # Draft languages the admin chose to send ([languages] use).
        self.use = frozenset(use)
        self.env = new_environment(templates_dir)
        self._inliner = css_inline.CSSInliner(keep_style_tags=False)
        self._cache: dict[tuple[str, str, Hashable], Rendered] = {}
        self._shared: dict[int, tuple[Any, Hashable]] = {}
        self._overrides = Overrides()
        self._translators: dict[str, Translator] = {}

    # -- languages ------------------------------------------------------------------

    def use_translations(self, overrides: Overrides | None) -> None:
        """Merge `overrides` (this run's Translations tab) over the shipped catalogs."""
        overrides = overrides or Overrides()
        if overrides == self._overrides:
            return
        self._overrides = overrides
        self._cache.clear()
        self._translators.clear()
        self.__dict__.pop("languages", None)

    @property
    def overrides(self) -> Overrides:
        """The Translations tab's strings in use for this run."""
        return self._overrides

    @functools.cached_property
    def shipped(self) -> tuple[str, ...]:
        """Codes of the languages with a catalog in locale/."""
        return catalogs.shipped(self.locale_dir)

    def catalog(self, code: str) -> Catalog | None:
        """The shipped catalog of `code` (None when there is none)."""
        return catalogs.load(code, self.locale_dir) if code in self.shipped else None

    @functools.cached_property
    def languages(self) -> Available:
        """The languages mail can be written in (English always), with every known
        language's completeness and review state."""
        codes = dict.fromkeys(["en", *self.shipped, *self._overrides.strings])
        sources = catalogs.sources(self.locale_dir)
        states = {
            code: catalogs.language_state(
                code,
                sources,
                self.catalog(code),
                self._overrides,
                self.use,
            )
            for code in codes
        }
        return Available(states)

    def state(self, code: str) -> LanguageState | None:
        """What is known of language `code` (None when it has no catalog nor column)."""
        return self.languages.states.get(code)

    def has(self, language: str, template: str) -> bool:
        """True when `template` exists and mail can be written in `language`."""
        return language in self.languages and self._exists(template)

    @functools.cache  # noqa: B019 - one Renderer per run; the cache is the point
    def _exists(self, template: str) -> bool:
        folder = self.templates_dir
        return (folder / f"{template}.html").is_file() and (folder / f"{template}.txt").is_file()

    def template_names(self) -> list[str]:
        """Every message template (not the layout, nor the _partials)."""
        names = (p.stem for p in self.templates_dir.glob("*.txt") if not p.stem.startswith("_"))
        return sorted(name for name in names if name != "layout")

    def resolve(self, language: Language, template: str) -> Language:
        """The language the message will really be written in (English when it cannot)."""
        return language if language.code in self.languages else ENGLISH

    def translator(self, code: str) -> Translator:
        """The lookup of strings for `code`: the tab's, then the catalog's, then English."""
        found = self._translators.get(code)
        if found is not None:
            return found
        state = self.languages.states.get(code)
        if code == "en" or state is None or not state.sendable:
            found = ENGLISH_TRANSLATOR
        else:
            layers: list[Mapping[str, tuple[str, ...]]] = []
            if state.tab_used:
                layers.append(self._overrides.strings.get(code, {}))
            catalog = self.catalog(code)
            if catalog is not None:
                layers.append(catalog.strings)
            found = Translator(layers, catalogs.plural_function(state.plural_expr))
        self._translators[code] = found
        return found

    # -- rendering ------------------------------------------------------------------

    def render(self, template: str, language: Language, context: Mapping[str, Any]) -> Rendered:
        """Render `template` in `language` (falling back to English) with `context`.

        Rendering is a pure function of (template, language, context, this run's
        translations), so equal inputs share one result: mass mail (thousands of
        digests with the same topics and sessions) renders and inlines each distinct
        message once. Contexts are values: planners build each message's context and
        never change it afterwards, so the dicts and lists many contexts share (a
        digest's topics and sessions) are frozen into the cache key once, by identity.
        """
        language = self.resolve(language, template)
        name = context.get("name")
        if isinstance(name, str) and name.strip() and name != NAME_PLACEHOLDER:
            # The greeting is the only per-person part of most messages: render the
            # rest once with a placeholder and put each person's name in afterwards.
            shared = self.render(template, language, {**context, "name": NAME_PLACEHOLDER})
            return _personalise(shared, name)
        try:
            key = (template, language.code, _freeze(context, self._shared))
        except TypeError:  # something unhashable in the context: render, do not cache
            return self._render(template, language, context)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(template, language, context)
            if len(self._cache) >= RENDER_CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))  # drop the oldest entry
            self._cache[key] = cached
        return cached

    def check(self, template: str, language: Language, context: Mapping[str, Any]) -> None:
        """Render `template` as `render` does, to prove it works (raises TemplateProblem),
        without putting the person's name in: that is a text replacement, which cannot
        fail, and a dry run of 58,000 digests would spend a second on it."""
        name = context.get("name")
        if isinstance(name, str) and name.strip():
            context = {**context, "name": NAME_PLACEHOLDER}
        self.render(template, language, context)

    def render_page(self, template: str, language: Language, context: Mapping[str, Any]) -> str:
        """Render the standalone page `template`.html (a printed flyer: its CSS is kept in
        <style>, not inlined) in `language`, falling back to English."""
        language = self.resolve(language, template)
        values = {
            **context,
            "lang": language.tag,
            "language_code": language.code,
            "locale": language.locale,
            "dir": "rtl" if language.rtl else "ltr",
        }
        token = _TRANSLATOR.set(self.translator(language.code))
        try:
            return self.env.get_template(f"{template}.html").render(values)
        except jinja2.TemplateError as err:
            raise TemplateProblem(f"template {template}: {err}") from None
        finally:
            _TRANSLATOR.reset(token)

    def _render(self, template: str, language: Language, context: Mapping[str, Any]) -> Rendered:
        values = {
            **context,
            "lang": language.tag,
            "language_code": language.code,
            "locale": language.locale,
            "dir": "rtl" if language.rtl else "ltr",
        }
        token = _TRANSLATOR.set(self.translator(language.code))
        try:
            text_template = self.env.get_template(f"{template}.txt")
            html_template = self.env.get_template(f"{template}.html")
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
            raise TemplateProblem(f"template {template}.txt has no {{% block subject %}}") from None
        except jinja2.TemplateError as err:
            line = f" line {err.lineno}" if getattr(err, "lineno", None) else ""
            raise TemplateProblem(f"template {template}{line}: {err.message}") from None
        except (ValueError, TypeError) as err:
            # A translation whose placeholders do not fit (a shipped catalog CI missed).
            raise TemplateProblem(
                f"template {template} in {english_name(language.code)}: a translation does "
                f"not fit its placeholders ({err})"
            ) from None
        finally:
            _TRANSLATOR.reset(token)
        return Rendered(
            subject=_one_line(subject),
            html=self._inliner.inline(html),
            text=text.strip() + "\n",
            calendar_title=_one_line(calendar_title),
        )
