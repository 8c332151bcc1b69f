"""The optional `Translations` tab: staff translate the messages in the family spreadsheet.

One row per string of the messages recipients read (its Key, the English, where it is
used, a note for translators) and one column per language, headed by the language's name
or code as the Language column accepts it (`Korean`, `ko`, `Mixteco`). A header ending
in ✓ (`Korean ✓`), or a tick in that column on the row whose Key is `Reviewed`, marks
the language reviewed. Each run reads the tab with the family spreadsheet's other tabs
(one read) and merges its translations over the shipped catalogs; a language with a
column but no catalog (an indigenous language) is sent once its column is reviewed.

Placeholders are written `{name}` in the tab (`%(name)s` in catalogs). A cell that does
not keep its English's placeholders is not used (that string stays in English) and its
row's Status says why. `jobs.py translations sync` writes new and changed English into
the tab; it never touches a language column.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from automations import catalogs
from automations.catalogs import Overrides, Source
from automations.cells import CellValue, text
from automations.languages import english_name, parse_language
from automations.sheets.contract import CellWrite, Row, RowRef, Table

# The tab's name and columns live apart (cheap to import); here for readers of this module.
from automations.translations_tab import TAB
from automations.translations_tab import TRANSLATIONS as TRANSLATIONS

REVIEWED_KEY = "Reviewed"
REVIEWED_MARKS = ("✓", "✔", "✔️")
# Columns of a new tab: the tool's, then one per shipped language, Previous English and
# Status at the end.
_FIRST = ("Key", "English", "Where Used", "Note")
_LAST = ("Previous English", "Status")
_TICKS = {"yes", "y", "true", "x", "✓", "✔", "✔️", "☑", "reviewed", "si", "sí", "ok"}
_BRACED = re.compile(r"\{(\w+)\}")
FORM_SEPARATOR = " | "


def display(message: str) -> str:
    """A catalog string as the tab shows it: %(date)s becomes {date}, %% becomes %."""
    return catalogs.PLACEHOLDER.sub(
        lambda m: "{" + m.group(1) + "}" if m.group(1) else "%", message
    )


def english_text(source: Source) -> str:
    """The English cell of a string: 'one | other' for strings that count something."""
    if source.plural:
        return display(source.id) + FORM_SEPARATOR + display(source.plural)
    return display(source.id)


def to_catalog(cell: str) -> str:
    """A translated cell as a catalog string: {date} becomes %(date)s, % becomes %%."""
    return _BRACED.sub(r"%(\1)s", cell.replace("%", "%%"))


def row_key(source: Source) -> str:
    """The stable Key of a string's row (from its English and context)."""
    return "S-" + hashlib.sha1(source.key.encode("utf-8")).hexdigest()[:8]


def counted(sources: Iterable[Source]) -> list[Source]:
    """The strings recipients read (alerts to staff are English only), in message order."""
    return sorted((s for s in sources if not s.staff_only), key=lambda s: (s.templates, s.id))


def where_used(source: Source) -> str:
    """'webinar_agenda, webinar_reminder' (partials named by the file that shares them)."""
    return ", ".join(name for name in source.templates)


def note(source: Source) -> str:
    """What a translator needs besides the English: its comment, and plural forms."""
    parts = list(source.notes)
    if source.plural:
        parts.append(
            "Counts something ({num}): write one form for every count, or the forms your "
            "language has, separated by | (Russian 3, Arabic 6)"
        )
    return " ".join(parts)


@dataclass(frozen=True)
class LanguageColumn:
    """A column of the tab that holds a language."""

    header: str
    code: str
    reviewed: bool  # the header ends in ✓


def language_columns(table: Table) -> tuple[list[LanguageColumn], list[str]]:
    """The language columns of the tab, and problems with its headers."""
    columns: list[LanguageColumn] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for header in table.extra:
        name = header
        reviewed = False
        for mark in REVIEWED_MARKS:
            if name.endswith(mark):
                name, reviewed = name[: -len(mark)].strip(), True
        language = parse_language(name)
        if language is None or language.code == "en":
            continue  # a column of notes, not a language
        if language.code in seen:
            problems.append(
                f"tab '{table.title}': columns '{seen[language.code]}' and '{header}' are both "
                f"{language.name}; only '{seen[language.code]}' is used"
            )
            continue
        seen[language.code] = header
        columns.append(LanguageColumn(header, language.code, reviewed))
    return columns, problems


def _ticked(value: CellValue) -> bool:
    if isinstance(value, bool):
        return value
    return text(value).casefold() in _TICKS


def is_reviewed_row(row: Row) -> bool:
    """The row whose Key is `Reviewed` holds a review tick per language."""
    return row.text("Key").casefold() == REVIEWED_KEY.casefold()


@dataclass(frozen=True)
class Cell:
    """One translated cell read: its forms for the catalog, or why it is not used."""

    forms: tuple[str, ...] = ()
    problem: str = ""


def read_cell(value: str, source: Source, nplurals: int, language: str) -> Cell:
    """Check a translated cell against its English: placeholders and plural forms."""
    parts = [p.strip() for p in value.split("|")] if source.plural else [value.strip()]
    if source.plural and len(parts) not in (1, nplurals):
        counts = "1 form" if nplurals == 1 else f"1 form, or {nplurals} forms separated by |"
        return Cell(problem=f"{language} not used: write {counts}")
    forms = tuple(to_catalog(p) for p in parts)
    wanted = catalogs.placeholders(source.id) | catalogs.placeholders(source.plural)
    for form in forms:
        have = catalogs.placeholders(form)
        shown = ", ".join("{" + n + "}" for n in sorted(wanted)) or "no {…} placeholders"
        if have - wanted:
            unknown = ", ".join("{" + n + "}" for n in sorted(have - wanted))
            return Cell(
                problem=f"{language} not used: {unknown} is not in the English; keep {shown} "
                "as they are (not translated)"
            )
        if wanted - have:
            return Cell(problem=f"{language} not used: it must keep {shown} like the English")
    return Cell(forms)


@dataclass
class TabRead:
    """What a run takes from the tab: the translations, Status updates and problems."""

    overrides: Overrides
    writes: list[CellWrite] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    columns: list[LanguageColumn] = field(default_factory=list)


def row_status(
    row: Row,
    source: Source | None,
    columns: Sequence[LanguageColumn],
    cells: Mapping[str, Cell],
) -> str:
    """The Status a row should show: why some of its cells are not used ('' when all are)."""
    if source is None:
        return "Not used: no message has this English any more; the row can be deleted"
    if row.text("English") != english_text(source):
        return "Not used: the English was changed in the sheet; run `jobs.py translations sync`"
    if row.text("Previous English"):
        languages = [english_name(c.code) for c in columns if row.text(c.header)]
        check = ", ".join(languages) or "the translations"
        return (
            f"Not used until checked: the English changed (it was: "
            f'"{row.text("Previous English")}"); check {check}, then clear Previous English'
        )
    return "; ".join(c.problem for c in cells.values() if c.problem)


def read_tab(table: Table, sheet: str, sources: Sequence[Source]) -> TabRead:
    """The tab's usable translations by language, and the Status of each row."""
    columns, problems = language_columns(table)
    strings = counted(sources)
    by_key = {row_key(s): s for s in strings}
    reviewed = {c.code for c in columns if c.reviewed}
    found: dict[str, dict[str, tuple[str, ...]]] = {c.code: {} for c in columns}
    nplurals = {c.code: _nplurals(c.code) for c in columns}
    writes: list[CellWrite] = []
    if "English" not in table.present and table.rows:
        problems.append(
            f"tab '{table.title}' has no English column; run `jobs.py translations sync` "
            "(its translations are not used until it has one)"
        )
    for row in table:
        if is_reviewed_row(row):
            reviewed |= {c.code for c in columns if _ticked(row[c.header])}
            continue
        source = by_key.get(row.text("Key"))
        cells: dict[str, Cell] = {}
        usable = (
            source is not None
            and row.text("English") == english_text(source)
            and not row.text("Previous English")
        )
        for column in columns:
            value = row.text(column.header)
            if not value or source is None:
                continue
            cell = read_cell(value, source, nplurals[column.code], english_name(column.code))
            cells[column.code] = cell
            if usable and cell.forms:
                found[column.code][source.key] = cell.forms
        status = row_status(row, source, columns, cells)
        if row.text("Key") and status != row.text("Status"):
            ref = RowRef(TAB, row.text("Key"))
            writes.append(CellWrite(sheet, ref, "Status", status))
    overrides = Overrides(
        {code: strings_ for code, strings_ in found.items() if strings_},
        frozenset(reviewed),
    )
    return TabRead(overrides, writes, problems, columns)


def _nplurals(code: str) -> int:
    return catalogs.plural_rule(code)[0]


def from_tables(tables: Mapping[str, Mapping[str, Table]]) -> TabRead | None:
    """The Translations tab among a job's tables (None when the job read none)."""
    for sheet, tabs in tables.items():
        table = tabs.get(TAB)
        if table is not None:
            return read_tab(table, sheet, catalogs.sources())
    return None


# -- translations sync ------------------------------------------------------------------


@dataclass
class SyncPlan:
    """What `translations sync` writes: cells of existing rows, and new rows."""

    writes: list[CellWrite] = field(default_factory=list)
    new_rows: list[dict[str, str]] = field(default_factory=list)
    changed: int = 0  # rows whose English changed (marked for review)
    unused: int = 0  # rows no message uses any more
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: what the sync did."""
        return (
            f"{len(self.new_rows)} new string(s), {self.changed} changed (marked for review), "
            f"{self.unused} no longer used"
        )


def _new_row(source: Source) -> dict[str, str]:
    return {
        "Key": row_key(source),
        "English": english_text(source),
        "Where Used": where_used(source),
        "Note": note(source),
    }


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def plan_sync(table: Table | None, sheet: str, sources: Sequence[Source]) -> SyncPlan:
    """Bring the tab's English up to date with the templates' strings.

    A string without a row gets a new row. A row whose string changed (its Key is no
    string's any more, and its English is close to a new string used in the same
    messages) takes the new English and Key, keeps its translations and gets the old
    English in Previous English: its cells are not used until a translator checks them
    and clears that cell. Language columns are never written.
    """
    plan = SyncPlan()
    strings = counted(sources)
    if table is None:
        plan.new_rows = [_new_row(s) for s in strings]
        return plan
    columns, plan.problems = language_columns(table)
    if "Key" not in table.present:
        plan.problems.append(
            f"tab '{table.title}' has no Key column; add a column named Key (or rename or "
            "delete the tab and run sync again to make a new one)"
        )
        return plan
    rows = [r for r in table if not is_reviewed_row(r)]
    by_key = {row.text("Key"): row for row in rows if row.text("Key")}
    wanted = {row_key(s): s for s in strings}
    stale = [r for r in rows if r.text("Key") not in wanted]
    claimed: set[int] = set()

    def put(row: Row, column: str, value: str, ref: RowRef | None = None) -> None:
        if row.text(column) != value:
            target = ref or RowRef(TAB, row.text("Key"), _fingerprint(row))
            plan.writes.append(CellWrite(sheet, target, column, value))

    for key, source in wanted.items():
        row = by_key.get(key)
        if row is not None:
            for column, value in _new_row(source).items():
                put(row, column, value)
            continue
        row = _predecessor(source, stale, claimed)
        if row is None:
            for column, value in _new_row(source).items():
                plan.writes.append(CellWrite(sheet, RowRef(TAB, key, new=True), column, value))
            plan.new_rows.append(_new_row(source))
            continue
        claimed.add(row.number)
        plan.changed += 1
        ref = RowRef(TAB, row.text("Key"), _fingerprint(row))
        translated = [english_name(c.code) for c in columns if row.text(c.header)]
        previous = row.text("Previous English") or row.text("English")
        for column, value in _new_row(source).items():
            put(row, column, value, ref)
        if translated:
            put(row, "Previous English", previous, ref)
            status = (
                f'Not used until checked: the English changed (it was: "{previous}"); '
                f"check {', '.join(translated)}, then clear Previous English"
            )
            put(row, "Status", status, ref)
    for row in stale:
        if row.number not in claimed:
            plan.unused += 1
            if row.text("Key") or row.text("English"):
                put(row, "Status", row_status(row, None, columns, {}))
    return plan


def _fingerprint(row: Row) -> tuple[tuple[str, str], ...]:
    return () if row.text("Key") else (("English", row.text("English")),)


def _predecessor(source: Source, stale: Sequence[Row], claimed: set[int]) -> Row | None:
    """The row that held this string before its English changed, if one clearly did."""
    english = english_text(source)
    best: tuple[float, Row | None] = (0.0, None)
    for row in stale:
        if row.number in claimed or not row.text("English"):
            continue
        shared = set(row.text("Where Used").split(", ")) & set(source.templates)
        if not shared:
            continue
        score = _similar(row.text("English"), english)
        if score > best[0]:
            best = (score, row)
    return best[1] if best[0] >= 0.6 else None


def new_tab(sources: Sequence[Source], languages: Iterable[str]) -> list[list[str]]:
    """The cells of a new Translations tab: headers, the Reviewed row, one row a string."""
    names = [english_name(code) for code in languages if code != "en"]
    headers = [*_FIRST, *names, *_LAST]
    reviewed = {
        "Key": REVIEWED_KEY,
        "Note": "Tick a language's cell when a native speaker "
        "has checked its whole column (or end its header with ✓)",
    }
    rows = [[reviewed.get(h, "") for h in headers]]
    for source in counted(sources):
        values = _new_row(source)
        rows.append([values.get(h, "") for h in headers])
    return [headers, *rows]
