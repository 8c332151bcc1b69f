"""Helpers every reader and planner shares: message keys, row references, cells read
strictly, statuses, languages, and the Reading a reader returns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar
from urllib.parse import quote, unquote

from automations.cells import CellValueError
from automations.errors import RowProblem
from automations.languages import ENGLISH, Language, parse_language
from automations.plan import History
from automations.sheets.contract import CellWrite, Row, RowRef, TabSpec, key_text
from automations.wording import refused_status

if TYPE_CHECKING:
    from automations.catalogs import LanguageState

T = TypeVar("T")

# Characters quote() leaves as they are (with safe="@.:-_"): most parts are only these,
# and quote() costs ~30 µs a part (56,052 digests make 336,000 parts).
_PLAIN = re.compile(r"[A-Za-z0-9_.~@:-]*").fullmatch


def message_key(*parts: object) -> str:
    """A stable message key from its parts (job, entity, occasion, recipient)."""
    texts = [str(part) for part in parts]
    return "/".join(t if _PLAIN(t) else quote(t, safe="@.:-_") for t in texts)


def key_part(key: str, index: int) -> str:
    """Part `index` of a key made by message_key (unquoted)."""
    return unquote(key.split("/")[index])


def row_ref(spec: TabSpec, row: Row, key: str | None = None) -> RowRef:
    """Refer to `row` by its key; a row whose key is blank also carries a fingerprint."""
    assert spec.key is not None
    value = key if key is not None else row.text(spec.key)
    fingerprint: tuple[tuple[str, str], ...] = ()
    if not row.text(spec.key):
        fingerprint = tuple((column, row.text(column)) for column in spec.fingerprint)
    return RowRef(spec.name, value, fingerprint)


def write(sheet: str, ref: RowRef, column: str, value: str | int | float | None) -> CellWrite:
    """A cell write for column `column` of the row `ref`."""
    return CellWrite(sheet, ref, column, value)


def cell(row: Row, column: str, parse: Callable[..., T], **kwargs: object) -> T:
    """Parse one cell, turning a parse error into a RowProblem that names the column."""
    try:
        return parse(row[column], **kwargs)
    except CellValueError as err:
        raise RowProblem(f"{column} {err}") from None


def whole_number(row: Row, column: str) -> int:
    """A count the tool writes (blank is 0); anything else than a whole number is a
    RowProblem that says how to start again."""
    raw = row.text(column)
    if not raw:
        return 0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or not value.is_integer():
        raise RowProblem(f'{column} "{raw}" is not a whole number (clear it to start again)')
    return int(value)


def one_of(
    row: Row, column: str, allowed: Sequence[str], aliases: Mapping[str, str] | None = None
) -> str:
    """The cell as one of `allowed` (case and spaces ignored), or the option an alias
    stands for ("LAUSD" for District), else a RowProblem listing what is accepted."""
    value = row.text(column)
    folded = " ".join(value.split()).casefold()
    for option in allowed:
        if folded == option.casefold():
            return option
    for alias, option in (aliases or {}).items():
        if folded == alias.casefold():
            return option
    also = "; ".join(f"{alias} counts as {option}" for alias, option in (aliases or {}).items())
    raise RowProblem(
        f'{column} "{value}" is not {", ".join(allowed[:-1])} or {allowed[-1]}'
        + (f" ({also})" if also else "")
    )


def standing_refusal(history: History, ref: RowRef) -> str:
    """The status a row keeps once a mail server refused its address ('' if none did)."""
    reason = history.refused.get(key_text(ref.key))
    return refused_status(ref.key, reason) if reason else ""


def unless_refused(status: str, standing: str) -> str:
    """`status`, or the row's standing refusal instead unless `status` is an Error."""
    return standing if standing and not status.startswith("Error") else status


def not_counted(refused: Sequence[str]) -> str:
    """' (not counted: row 3: ...; row 7: ...)' for a run line, '' when no row was refused."""
    if not refused:
        return ""
    shown = "; ".join(refused[:3]) + (f"; and {len(refused) - 3} more" if len(refused) > 3 else "")
    return f" (not counted: {shown})"


def error_status(problem: object) -> str:
    """The status for a row skipped because of `problem`."""
    return f"Error: {problem}"


@dataclass
class Reading(Generic[T]):
    """What a reader made of a tab: the items read, and what the rows say about themselves.

    Readers are pure functions of tables: they return a Reading and touch no plan. A
    planner takes it into its plan (Plan.take); the tracker and the ledger rebuild use
    the items alone.
    """

    items: list[T] = dataclasses.field(default_factory=list)
    # Cell writes about the rows (statuses, IDs given to rows that had none).
    writes: list[CellWrite] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    skipped: int = 0
    # IDs given to rows that had none (also in `writes`): not acted on until stored.
    assigned: list[CellWrite] = dataclasses.field(default_factory=list)
    # Addresses (casefolded) that asked not to be mailed (tabs with an Opted Out column).
    opted_out: set[str] = dataclasses.field(default_factory=set)
    # The rows skipped and why ("row 3: Email ... is not a valid email address"), so an
    # alert built on what was read can name what was left out.
    refused: list[str] = dataclasses.field(default_factory=list)

    def status(self, sheet: str, ref: RowRef, value: str) -> None:
        """Say `value` in the row's Status."""
        self.writes.append(CellWrite(sheet, ref, "Status", value))

    def error(self, sheet: str, ref: RowRef, problem: object, row: int | None = None) -> None:
        """Skip the row (sheet row number `row`) and say why in its Status."""
        self.status(sheet, ref, error_status(problem))
        self.skipped += 1
        where = f"row {row}" if row is not None else ref.key or "a row"
        self.refused.append(f"{where}: {problem}")


@dataclass(frozen=True)
class LanguageChoice:
    """The language a recipient asked for and the one their mail will be written in."""

    wanted: Language | None
    used: Language
    raw: str

    # How far the language is translated and reviewed (see automations.catalogs).
    state: LanguageState | None = None

    @property
    def note(self) -> str:
        """Plain words for the row status: why the wish could not be met, or how much of
        the language is translated when strings are left in English ('' when all is)."""
        if self.raw and self.wanted is None:
            return f'sent in English: "{self.raw}" is not a language we recognise'
        if self.wanted is None:
            return ""
        name, state = self.wanted.name, self.state
        if self.wanted.code != self.used.code:
            if state is not None and state.problem:
                return f"sent in English: the {name} translation cannot be read ({state.problem})"
            if state is not None and (state.shipped or state.tab_strings):
                return f"sent in English: the {name} translation is a draft not yet reviewed"
            return f"sent in English: no {name} translation yet"
        if state is not None and state.missing:
            strings = "string" if state.missing == 1 else "strings"
            return f"{name} {state.percent}%: {state.missing} {strings} in English"
        return ""


def choose_language(
    raw: str, available: Iterable[str], template: str | None = None
) -> LanguageChoice:
    """Pick the recipient's language when mail can be written in it, else English.

    `available` is the renderer's Available set (its `states` say how complete and
    reviewed each language is) or plain codes.
    """
    del template  # a language's catalog covers every message; kept for call-site clarity
    raw = raw.strip()
    if not raw:
        return LanguageChoice(ENGLISH, ENGLISH, raw)
    wanted = parse_language(raw)
    if wanted is None:
        return LanguageChoice(None, ENGLISH, raw)
    states = getattr(available, "states", {})
    used = wanted if wanted.code in available else ENGLISH
    return LanguageChoice(wanted, used, raw, states.get(wanted.code))


def duplicates(rows: Iterable[Row], value: Callable[[Row], str]) -> dict[str, list[int]]:
    """Values (case-insensitive) used by more than one row, with their row numbers."""
    seen: dict[str, list[int]] = {}
    for row in rows:
        key = value(row).casefold()
        if key:
            seen.setdefault(key, []).append(row.number)
    return {key: numbers for key, numbers in seen.items() if len(numbers) > 1}


def rows_phrase(numbers: list[int]) -> str:
    """'rows 3 and 7' / 'rows 3, 7 and 9'."""
    shown = [str(n) for n in numbers]
    return "rows " + (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0])


def plural(count: int, word: str) -> str:
    """'1 member' / '3 members'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` cut into consecutive pieces of at most `size`."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def address_of(value: str) -> str:
    """The bare address of 'Name <a@b.org>' (or of a bare address)."""
    from email.utils import parseaddr  # email.utils imports socket: not for `--help`

    return parseaddr(value)[1] or value.strip()


def language_codes(value: str, column: str, example: str) -> tuple[str, ...]:
    """Codes of the languages a cell lists ("Spanish, Korean"; "es / ko"; ";" too), in
    order, once each; a part that is no language is a RowProblem naming `column` and
    showing `example` (how to list them)."""
    codes: list[str] = []
    for part in re.split(r"[,;/]", value):
        if not part.strip():
            continue
        language = parse_language(part)
        if language is None:
            raise RowProblem(
                f'{column} "{part.strip()}" is not a language we recognise ({example})'
            )
        codes.append(language.code)
    return tuple(dict.fromkeys(codes))


def day_words(day: dt.date) -> str:
    """A date as statuses name it, 'Dec 10, 2026': unlike 10/12/2026, it cannot be misread."""
    if type(day) is dt.date:
        return _date_words(day)
    # A datetime is not cached: equal instants in two zones compare equal but are other days.
    return f"{day:%b} {day.day}, {day.year}"


@functools.lru_cache(maxsize=1024)
def _date_words(day: dt.date) -> str:
    # 75,000 staff statuses name a few dates: each is worded once.
    return f"{day:%b} {day.day}, {day.year}"
