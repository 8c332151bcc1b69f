"""People tabs (committee members, families): who may be mailed, in which language.

Every row gets a status saying how it is used. An address on several rows is mailed once
(the rows say so); an address a mail server refused keeps saying so. Consent is read
strictly and fails closed: with an `Active` column a row is mailed unless it says No;
with an `Opted Out` column one Yes on any row of an address means never mailing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from automations.cells import parse_email, parse_yes_no
from automations.errors import RowProblem
from automations.jobs.rows import (
    LanguageChoice,
    Reading,
    cell,
    choose_language,
    duplicates,
    row_ref,
    rows_phrase,
    standing_refusal,
    unless_refused,
)
from automations.languages import ENGLISH, Language
from automations.plan import JobInput, StatusCell
from automations.sheets.contract import Row, RowRef, TabSpec

Consent = Literal["Active", "Opted Out"]
# A job's own columns of a person row: their values, and notes for the row's status.
Fields = Callable[[Row], tuple[Mapping[str, str], list[str]]]


@dataclass(frozen=True)
class Person:
    """Someone who may be mailed: address, name, the language asked for and the one used."""

    email: str
    name: str = ""
    language: Language = ENGLISH
    wanted: Language | None = None
    # The job's own columns (e.g. a member's group), as read.
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    # The person's row, so what happens to their mail (a refusal) lands on it.
    sheet: str = dataclasses.field(default="", compare=False)
    ref: RowRef | None = dataclasses.field(default=None, compare=False)
    # The row's status since a server refused this address ('' when none did).
    refused: str = dataclasses.field(default="", compare=False)

    @property
    def address(self) -> str:
        """The address compared case-insensitively."""
        return self.email.casefold()

    def rows(self) -> dict[str, StatusCell]:
        """Where what happens to this person's mail is written (none for a person no
        longer on the tab)."""
        if self.ref is None:
            return {}
        return {self.email: StatusCell(self.sheet, self.ref, standing=self.refused)}


class Languages:
    """Language choices per distinct cell value (75,000 rows share a handful of values)."""

    def __init__(self, available: frozenset[str]) -> None:
        self.available = available
        self._seen: dict[str, LanguageChoice] = {}

    def choose(self, raw: str) -> LanguageChoice:
        """The language a recipient asked for and the one their mail will be written in."""
        choice = self._seen.get(raw)
        if choice is None:
            choice = self._seen[raw] = choose_language(raw, self.available)
        return choice


def with_notes(status: str, notes: list[str]) -> str:
    """`status`, then '. Check: ' and the notes a person should look at (if any)."""
    notes = [note for note in notes if note]
    return f"{status}. Check: {'; '.join(notes)}" if notes else status


def read_people(
    given: JobInput,
    sheet: str,
    spec: TabSpec,
    *,
    consent: Consent,
    mailed: str,
    not_mailed: str,
    name_required: bool = False,
    fields: Fields | None = None,
) -> Reading[Person]:
    """Read a people tab: who may be mailed, one Person per address; every row's status.

    :param job: the planner's input (the table, the languages, refusals from earlier runs)
    :param sheet: the spreadsheet's config name
    :param spec: the tab (keyed by Email)
    :param consent: the column that decides whether someone is mailed: "Active" (per
        row, blank is Yes) or "Opted Out" (per address: one Yes on any row wins)
    :param mailed: the status of someone mailed, with `{language}` for the language used
        ("Active: invitations in {language}")
    :param not_mailed: the status of someone not mailed ("Inactive: not invited")
    :param name_required: a blank Name is a row error
    :param fields: reads the job's own columns of a row (after the Email), raising
        RowProblem for a bad value; its notes join the row's status
    """
    table = given.table(sheet, spec.name)
    assert table is not None
    reading: Reading[Person] = Reading()
    doubled = duplicates(table, lambda r: r.text("Email"))
    languages = Languages(given.languages)
    by_address: dict[str, list[tuple[Row, Mapping[str, str], list[str]]]] = {}
    seen: set[str] = set()
    for row in table:
        ref = row_ref(spec, row)
        try:
            if name_required and not row.text("Name"):
                raise RowProblem("Name is blank")
            email = cell(row, "Email", parse_email)
            own, notes = fields(row) if fields is not None else ({}, [])
            consents = cell(row, consent, parse_yes_no, default=consent == "Active")
        except RowProblem as problem:
            reading.error(sheet, ref, problem)
            continue
        if consent == "Opted Out":
            by_address.setdefault(email.casefold(), []).append((row, own, notes))
            continue
        # Active: each row on its own; the first mailable row of an address is used.
        standing = standing_refusal(given.history, ref)
        if not consents:
            reading.status(sheet, ref, unless_refused(not_mailed, standing))
            continue
        choice = languages.choose(row.text("Language"))
        key = email.casefold()
        notes = [*notes, choice.note]
        if key in doubled:
            notes.append(f"the same email is on {rows_phrase(doubled[key])}; mailed once")
        status = with_notes(mailed.format(language=choice.used.name), notes)
        reading.status(sheet, ref, unless_refused(status, standing))
        if key not in seen:
            seen.add(key)
            reading.items.append(
                Person(
                    email, row.text("Name"), choice.used, choice.wanted, own, sheet, ref, standing
                )
            )
    for address, rows in by_address.items():
        # Opted Out: one status per address, on its first row; one Yes anywhere wins.
        first, own, notes = rows[0]
        ref = row_ref(spec, first)
        if first.text("Email").casefold() in doubled or len(rows) > 1:
            numbers = doubled.get(first.text("Email").casefold(), [r.number for r, _, _ in rows])
            notes = [f"the same email is on {rows_phrase(numbers)}; mailed once", *notes]
        standing = standing_refusal(given.history, ref)
        if any(parse_yes_no(r[consent], default=False) for r, _, _ in rows):
            reading.opted_out.add(address)
            reading.status(sheet, ref, unless_refused(not_mailed, standing))
            continue
        choice = languages.choose(first.text("Language"))
        status = with_notes(mailed.format(language=choice.used.name), [*notes, choice.note])
        reading.status(sheet, ref, unless_refused(status, standing))
        email = parse_email(first["Email"])
        reading.items.append(
            Person(email, first.text("Name"), choice.used, choice.wanted, own, sheet, ref, standing)
        )
    if consent == "Opted Out":
        reading.items.sort(key=lambda p: p.address)
    return reading
