"""Message catalogs: the templates' strings and their translations, language by language.

The templates are written once, in English, with gettext (`jinja2.ext.i18n`). Babel
extracts their strings into `locale/messages.pot` (the catalog template); each
language's translations live in `locale/<code>/LC_MESSAGES/messages.po`, whose header
comment says whether a native speaker reviewed it (`# Status: reviewed`) or it is a
draft (`# Status: draft`). The compiled `.mo` beside it is built on first use (and by
`python -m automations.catalogs compile`), never edited by hand nor committed.

`python -m automations.catalogs check` (CI runs it) fails when the catalog template is
out of date with the templates, a `.po` does not parse, or a translation drops or
invents a placeholder. The same commands with the repository's settings:
`extract`, `update` (extract, then merge into every `.po`) and `compile`.
"""

from __future__ import annotations

import functools
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automations import PROJECT_ROOT

LOCALE_DIR = PROJECT_ROOT / "locale"
TEMPLATES_DIR = PROJECT_ROOT / "templates" / "email"
MAPPING_FILE = PROJECT_ROOT / "babel.cfg"
DOMAIN = "messages"
TEMPLATE_FILE = f"{DOMAIN}.pot"
# Messages always sent to staff in English (alerts to the admin and owners): their strings
# are in the catalogs, but a language's completeness does not count them.
STAFF_TEMPLATES = frozenset(
    {
        "admin_alert",
        "ledger_rebuilt",
        "committee_roster_alert",
        "committee_quarter_alert",
        "webinar_coverage_alert",
        "missing_row_alert",
        "resource_confirm",
    }
)
# Placeholders as gettext writes them: %(name)s, and %% for a literal percent sign.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
STATUS_LINE = re.compile(r"^#\s*Status:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
# Options of the extraction (babel.cfg holds the same for `pybabel extract`).
EXTRACT_ARGS = ("--add-location=file", "--sort-output", "--no-wrap", "-c", "Translators:")


def message_key(msgid: str, context: str = "") -> str:
    """How a catalog stores a string: its English, prefixed by its context if any."""
    return f"{context}\x04{msgid}" if context else msgid


@dataclass(frozen=True)
class Source:
    """One string of the templates, as the catalog template lists it."""

    id: str
    plural: str = ""
    context: str = ""
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The string's key in a catalog (context and English)."""
        return message_key(self.id, self.context)

    @property
    def templates(self) -> tuple[str, ...]:
        """Template names using the string ('webinar_agenda', '_webinar'), in order."""
        return tuple(dict.fromkeys(Path(f).stem for f in self.files))

    @property
    def staff_only(self) -> bool:
        """True when only messages always sent to staff in English use the string."""
        names = self.templates
        return bool(names) and all(name in STAFF_TEMPLATES for name in names)


@dataclass(frozen=True)
class Catalog:
    """One language's shipped translations: translated strings by key, and plural rule."""

    code: str
    reviewed: bool
    strings: Mapping[str, tuple[str, ...]]
    nplurals: int = 2
    plural_expr: str = "(n != 1)"
    problem: str = ""  # why the catalog could not be read ('' when it was)

    @functools.cached_property
    def plural(self) -> Any:
        """The plural rule: a count -> the index of the form to use."""
        return plural_function(self.plural_expr)


def placeholders(text: str) -> frozenset[str]:
    """The named placeholders of a gettext string ({'date', 'time'})."""
    return frozenset(m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1))


def plural_function(expr: str) -> Any:
    """A callable count -> form index from a Plural-Forms expression."""
    import gettext

    return gettext.c2py(expr)


def plural_rule(code: str) -> tuple[int, str]:
    """(number of forms, expression) for a language; English's rule when Babel has none."""
    from babel.core import UnknownLocaleError
    from babel.messages.plurals import get_plural

    try:
        rule = get_plural(code)
    except (UnknownLocaleError, ValueError):
        return 2, "(n != 1)"
    return rule.num_plurals, rule.plural_expr


def po_path(code: str, locale_dir: Path = LOCALE_DIR) -> Path:
    """Where the translations of `code` live."""
    return locale_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def shipped(locale_dir: Path = LOCALE_DIR) -> tuple[str, ...]:
    """Codes of the languages with a catalog in `locale_dir`, sorted."""
    if not locale_dir.is_dir():
        return ()
    found = (p.name for p in locale_dir.iterdir() if po_path(p.name, locale_dir).is_file())
    return tuple(sorted(found))


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def sources(locale_dir: Path = LOCALE_DIR) -> tuple[Source, ...]:
    """Every string of the templates, from the catalog template (empty when missing)."""
    path = locale_dir / TEMPLATE_FILE
    return _sources(path, _stamp(path))


@functools.lru_cache(maxsize=8)
def _sources(path: Path, stamp: tuple[int, int]) -> tuple[Source, ...]:
    if not path.is_file():
        return ()
    from babel.messages.pofile import read_po

    with path.open("rb") as stream:
        template = read_po(stream)
    return tuple(_source(message) for message in template if message.id)


def _source(message: Any) -> Source:
    if isinstance(message.id, tuple | list):
        singular, plural = str(message.id[0]), str(message.id[1])
    else:
        singular, plural = str(message.id), ""
    files = tuple(dict.fromkeys(str(location[0]) for location in message.locations))
    notes = tuple(str(c) for c in message.auto_comments)
    return Source(singular, plural, message.context or "", files, notes)


def load(code: str, locale_dir: Path = LOCALE_DIR) -> Catalog:
    """The shipped catalog of `code`, compiled to .mo first when that is missing or stale.

    A catalog that cannot be read loads empty, with `problem` saying why (`check` shows
    it; its recipients get English rather than a half-read translation).
    """
    po = po_path(code, locale_dir)
    return _load(code, po, _stamp(po))


@functools.lru_cache(maxsize=64)
def _load(code: str, po: Path, stamp: tuple[int, int]) -> Catalog:
    from babel.messages.mofile import read_mo

    try:
        header = po.read_text(encoding="utf-8")[:4000]
    except (OSError, UnicodeDecodeError) as err:
        return Catalog(code, False, {}, problem=f"{po} cannot be read ({err})")
    status = STATUS_LINE.search(header.split("\nmsgid", 1)[0])
    reviewed = bool(status) and status.group(1).casefold() == "reviewed"
    mo = po.with_suffix(".mo")
    try:
        if _stamp(mo) < stamp or _stamp(mo)[0] < stamp[0]:
            data = compile_catalog(po)
            _save(mo, data)
        else:
            data = mo.read_bytes()
        catalog = read_mo(io.BytesIO(data))
    except CatalogError as err:
        return Catalog(code, reviewed, {}, problem=str(err))
    strings: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or not message.string:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if all(forms):
            strings[message_key(str(msgid), message.context or "")] = tuple(str(f) for f in forms)
    return Catalog(code, reviewed, strings, catalog.num_plurals, catalog.plural_expr)


class CatalogError(Exception):
    """A .po file that cannot be read or compiled."""


# A .po line: a keyword and a quoted string, or a continued quoted string. Babel's reader
# takes an unclosed quote as if it were closed (and drops the last letter): check first.
_PO_LINE = re.compile(
    r'^(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?"(?:[^"\\]|\\.)*"\s*$'
)


def syntax_problems(text: str) -> list[str]:
    """Lines of a .po that are neither comments, blank, nor keyword "string" lines."""
    return [
        f"line {number}: {line.strip()[:60]!r} is not a keyword with a quoted string"
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#") and not _PO_LINE.match(line.strip())
    ]


def _read(po: Path) -> Any:
    from babel.messages.pofile import PoFileError, read_po

    try:
        text = po.read_text(encoding="utf-8")
        if found := syntax_problems(text):
            raise CatalogError(f"{po} is not a valid catalog: {found[0]}")
        return read_po(io.BytesIO(text.encode("utf-8")), abort_invalid=True)
    except (OSError, UnicodeDecodeError, PoFileError, ValueError) as err:
        raise CatalogError(f"{po} is not a valid catalog: {err}") from None


def compile_catalog(po: Path) -> bytes:
    """The .mo bytes of the .po at `po` (fuzzy and untranslated strings left out)."""
    from babel.messages.mofile import write_mo

    catalog = _read(po)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def _save(mo: Path, data: bytes) -> None:
    """Keep the compiled catalog for next time; a read-only install compiles in memory."""
    try:
        handle, temp = tempfile.mkstemp(dir=mo.parent, prefix=f".{mo.name}.")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, mo)
    except OSError:
        Path(temp).unlink(missing_ok=True)


# -- the state of a language ------------------------------------------------------


@dataclass(frozen=True)
class Overrides:
    """Translations typed in the Translations tab for this run.

    `strings` maps a language code to {string key: forms}; `reviewed` holds the codes
    whose column is marked reviewed.
    """

    strings: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    reviewed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LanguageState:
    """How far a language is translated, who reviewed it, and whether mail can use it."""

    code: str
    translated: int  # strings of messages recipients read, in the language
    total: int
    shipped: bool  # a catalog in locale/
    reviewed: bool  # the catalog says reviewed, or the Translations tab marks it so
    listed: bool  # [languages] use names it
    tab_strings: int = 0  # strings the Translations tab gives it (used or not)
    tab_used: bool = False  # the tab's strings are merged in when rendering
    sendable: bool = False
    plural_expr: str = "(n != 1)"
    problem: str = ""

    @property
    def percent(self) -> int:
        """Whole percent translated, rounded down: 99.6% of the strings is not 100%."""
        return 100 if not self.total else self.translated * 100 // self.total

    @property
    def missing(self) -> int:
        """Strings recipients would read in English."""
        return self.total - self.translated

    @property
    def review(self) -> str:
        """'reviewed', 'draft (listed in [languages] use)' or 'draft'."""
        if self.code == "en" or self.reviewed:
            return "reviewed"
        return "draft (listed in [languages] use)" if self.listed else "draft"


def language_state(
    code: str,
    strings: Iterable[Source],
    catalog: Catalog | None,
    overrides: Overrides,
    use: frozenset[str],
) -> LanguageState:
    """Completeness, review and sendability of `code` from its catalog and the tab.

    A reviewed catalog is sent; a draft one only when [languages] use lists it or the
    Translations tab marks the language reviewed. The tab's strings are used on the same
    terms (its column reviewed, or the language listed); a language with no catalog
    becomes sendable once its column has reviewed strings.
    """
    counted = [s.key for s in strings if not s.staff_only]
    if code == "en":
        return LanguageState(code, len(counted), len(counted), False, True, True, sendable=True)
    tab = overrides.strings.get(code, {})
    listed = code in use
    tab_reviewed = code in overrides.reviewed
    tab_used = bool(tab) and (tab_reviewed or listed)
    shipped_strings = catalog.strings if catalog is not None and not catalog.problem else {}
    have = set(shipped_strings)
    if tab_used:
        have |= set(tab)
    translated = sum(1 for key in counted if key in have)
    reviewed = (catalog is not None and catalog.reviewed) or tab_reviewed
    usable = catalog is None or not catalog.problem
    sendable = usable and translated > 0 and (reviewed or listed)
    plural = catalog.plural_expr if catalog is not None else plural_rule(code)[1]
    return LanguageState(
        code,
        translated,
        len(counted),
        catalog is not None,
        reviewed,
        listed,
        len(tab),
        tab_used,
        sendable,
        plural,
        catalog.problem if catalog is not None else "",
    )


# -- checks (CI) ---------------------------------------------------------------------


def extract(templates_dir: Path = TEMPLATES_DIR, mapping: Path = MAPPING_FILE) -> Any:
    """The catalog template as it should be, extracted from the templates now."""
    from babel.messages.catalog import Catalog as BabelCatalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with mapping.open(encoding="utf-8") as stream:
        method_map, options_map = parse_mapping_cfg(stream)
    template = BabelCatalog(project="MOU automations", fuzzy=False)
    found = extract_from_dir(
        str(templates_dir),
        method_map,
        options_map,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, _lineno, message, comments, context in found:
        template.add(message, None, [(filename, None)], auto_comments=comments, context=context)
    return template


def _signature(entries: Iterable[Source]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {e.key: (e.plural, tuple(sorted(e.templates))) for e in entries}


def template_problems(
    templates_dir: Path = TEMPLATES_DIR, locale_dir: Path = LOCALE_DIR, mapping: Path = MAPPING_FILE
) -> list[str]:
    """Why the committed catalog template differs from the templates' strings ([] if not)."""
    fresh = _signature(_source(m) for m in extract(templates_dir, mapping) if m.id)
    committed = _signature(sources(locale_dir))
    if not committed:
        return [
            f"{locale_dir / TEMPLATE_FILE} is missing; run `python -m automations.catalogs update`"
        ]
    problems = []
    added = [k for k in fresh if k not in committed]
    gone = [k for k in committed if k not in fresh]
    moved = [k for k in fresh if k in committed and fresh[k] != committed[k]]
    for label, keys in (("new", added), ("no longer used", gone), ("changed", moved)):
        if keys:
            shown = "; ".join(repr(k.split("\x04")[-1][:60]) for k in keys[:3])
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            problems.append(f"{len(keys)} string(s) {label}: {shown}{more}")
    if problems:
        problems.insert(
            0,
            f"{locale_dir / TEMPLATE_FILE} is out of date with the templates; run "
            "`python -m automations.catalogs update` and commit the result",
        )
    return problems


def placeholder_problems(msgid: str, plural: str, forms: Iterable[str]) -> list[str]:
    """How translated forms break the English placeholders ([] when they keep them all)."""
    wanted = placeholders(msgid) | placeholders(plural)
    problems = []
    for form in forms:
        if not form:
            continue
        have = placeholders(form)
        if missing := wanted - have:
            problems.append(f"misses {', '.join(f'%({n})s' for n in sorted(missing))}")
        if extra := have - wanted:
            shown = ", ".join(f"%({n})s" for n in sorted(extra))
            problems.append(f"has {shown}, not in the English")
        try:
            form % {name: "" for name in wanted | have}
        except (ValueError, TypeError, KeyError):
            problems.append("has a stray % (write %% for a percent sign)")
    return list(dict.fromkeys(problems))


def catalog_problems(code: str, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Syntax, plural-form and placeholder problems of one .po ([] when it is sound)."""
    po = po_path(code, locale_dir)
    try:
        catalog = _read(po)
    except CatalogError as err:
        return [str(err)]
    problems = []
    header = po.read_text(encoding="utf-8").split("\nmsgid", 1)[0]
    if not STATUS_LINE.search(header):
        problems.append(f"{po}: the header comment has no '# Status: draft' or 'reviewed'")
    for message in catalog:
        if not message.id or not message.string:
            continue
        msgid, plural = (message.id, "") if isinstance(message.id, str) else message.id[:2]
        forms = (message.string,) if isinstance(message.string, str) else tuple(message.string)
        where = f"{po}:{message.lineno}"
        if plural and len(forms) != catalog.num_plurals:
            problems.append(
                f"{where}: {len(forms)} plural forms, the header says {catalog.num_plurals}"
            )
        for problem in placeholder_problems(msgid, plural, forms):
            problems.append(f"{where}: the translation of {msgid[:50]!r} {problem}")
    return problems


def problems(
    templates_dir: Path = TEMPLATES_DIR, locale_dir: Path = LOCALE_DIR, mapping: Path = MAPPING_FILE
) -> list[str]:
    """Everything CI checks about the catalogs ([] when all is well)."""
    found = template_problems(templates_dir, locale_dir, mapping)
    for code in shipped(locale_dir):
        found.extend(catalog_problems(code, locale_dir))
    return found


# -- the repository's pybabel commands --------------------------------------------------


def pybabel(*args: str) -> None:
    """Run pybabel with `args` (what `pybabel` on the command line does)."""
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", *args])


def run_extract(locale_dir: Path = LOCALE_DIR) -> None:
    """Extract the templates' strings into the catalog template."""
    pybabel(
        "extract",
        "-F",
        str(MAPPING_FILE),
        "-o",
        str(locale_dir / TEMPLATE_FILE),
        "--project=MOU automations",
        *EXTRACT_ARGS,
        str(TEMPLATES_DIR.relative_to(PROJECT_ROOT)),
    )


def run_update(locale_dir: Path = LOCALE_DIR) -> None:
    """Extract, then merge the new template into every language's .po."""
    run_extract(locale_dir)
    for code in shipped(locale_dir):
        pybabel(
            "update",
            "-i",
            str(locale_dir / TEMPLATE_FILE),
            "-d",
            str(locale_dir),
            "-l",
            code,
            "--no-wrap",
            "--ignore-obsolete",
        )


def run_compile(locale_dir: Path = LOCALE_DIR) -> None:
    """Compile every .po to its .mo (runs also do this on first use)."""
    for code in shipped(locale_dir):
        po = po_path(code, locale_dir)
        _save(po.with_suffix(".mo"), compile_catalog(po))


def main(argv: list[str]) -> int:
    """`python -m automations.catalogs extract|update|compile|check`."""
    command = argv[0] if argv else "check"
    if command == "check":
        os.chdir(PROJECT_ROOT)
        found = problems()
        for line in found:
            print(f"problem: {line}")
        if not found:
            print(
                f"OK: {LOCALE_DIR / TEMPLATE_FILE} matches the templates; catalogs: "
                f"{', '.join(shipped())}"
            )
        return 1 if found else 0
    commands = {"extract": run_extract, "update": run_update, "compile": run_compile}
    if command not in commands:
        print("usage: python -m automations.catalogs [extract|update|compile|check]")
        return 2
    os.chdir(PROJECT_ROOT)
    commands[command]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
