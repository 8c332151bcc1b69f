"""The memorandum's own rules, in one place: pure data and checks, no I/O.

The committee's composition (MOU 2.0), the four PD topics and how a completion cell is
read (5.a–d), the three sections every family webinar covers (7.0). The jobs apply them,
the tracker counts against them, `init` offers them as dropdowns.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from automations.cells import CellValue, CellValueError, parse_completion

# -- the joint committee (2.0): 3 District, 3 UTLA, 2 parents, one parent per side -------

GROUPS = ("District", "UTLA", "Parent")
APPOINTERS = ("District", "UTLA")
# Other names staff use for a side: the District is LAUSD (Distrito in Spanish).
SIDE_ALIASES = {"LAUSD": "District", "Distrito": "District"}
GROUP_ALIASES = {**SIDE_ALIASES, "Padre": "Parent", "Madre": "Parent", "Padre/Madre": "Parent"}
NEEDED = {"District": 3, "UTLA": 3, "Parent": 2}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Roster:
    """Counts of active members against 3 District / 3 UTLA / 2 parents."""

    counts: Mapping[str, int]
    parents_by: Mapping[str, int]
    problems: tuple[str, ...]
    fingerprint: str


def check_roster(members: Iterable[tuple[str, str, str]]) -> Roster:
    """Compare the active roster, as (email, group, appointed by), with the MOU's rule."""
    members = list(members)
    counts = Counter(group for _, group, _ in members)
    parents_by = Counter(by or "nobody" for _, group, by in members if group == "Parent")
    problems: list[str] = []
    for group in GROUPS:
        label = "parent" if group == "Parent" else f"{group} member"
        if counts[group] != NEEDED[group]:
            problems.append(f"{_plural(counts[group], label)} active, {NEEDED[group]} needed")
    if counts["Parent"] and (parents_by["District"] != 1 or parents_by["UTLA"] != 1):
        problems.append(
            "one parent must be appointed by the District and one by UTLA "
            f"(now: {parents_by['District']} by District, {parents_by['UTLA']} by UTLA"
            + (f", {parents_by['nobody']} not recorded" if parents_by["nobody"] else "")
            + ")"
        )
    import hashlib  # not at the top: `jobs.py --help` imports this module through the jobs

    basis = "|".join(sorted(f"{email.casefold()}:{group}:{by}" for email, group, by in members))
    return Roster(
        dict(counts),
        dict(parents_by),
        tuple(problems),
        hashlib.sha256(basis.encode()).hexdigest()[:12],
    )


# -- professional development (5.a–d) ------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """One of the four PD topics of MOU 5.a–d."""

    code: str
    name: str


TOPICS = (
    Topic("5a", "Safe Zones"),
    Topic("5b", "Immigration Rights"),
    Topic("5c", "Enforcement & Confidentiality"),
    Topic("5d", "Family Resources"),
)


def _squash(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold().replace("&", "and"))


_TOPIC_WORDS = {_squash(t.name): t for t in TOPICS} | {t.code: t for t in TOPICS}


def parse_topic(value: str) -> Topic | None:
    """The topic named by `value`: a name or a code 5a–5d (case, spacing, 'MOU 5.a' ignored)."""
    folded = _squash(value)
    folded = folded.removeprefix("mou")
    if folded in _TOPIC_WORDS:
        return _TOPIC_WORDS[folded]
    # "5a Safe Zones", "5.a – Safe Zones": a code followed by that topic's own name.
    topic = _TOPIC_WORDS.get(folded[:2])
    if topic is not None and folded[2:] == _squash(topic.name):
        return topic
    return None


@functools.lru_cache(maxsize=4096)
def _completion(value: CellValue, today: dt.date) -> dt.date | bool | None:
    # 75,000 rows share a few hundred dates: read each distinct value once.
    return parse_completion(value, today)


@dataclass(frozen=True)
class Completions:
    """A staff row's topics: completed, still owed, and cells that could not be read."""

    done: tuple[Topic, ...]
    owed: tuple[Topic, ...]
    unreadable: tuple[Topic, ...]
    problems: tuple[str, ...]  # one per unreadable cell, naming the topic and the value


def read_completions(cells: Mapping[str, CellValue], today: dt.date) -> Completions:
    """Each topic cell (by topic name) read strictly: a date on or before today or a
    completed word. Blank is owed; anything else ("no", "pending", "registered 12/9", a
    future date) is unreadable and must not be guessed either way.
    """
    done: list[Topic] = []
    owed: list[Topic] = []
    unreadable: list[Topic] = []
    problems: list[str] = []
    for topic in TOPICS:
        try:
            value = _completion(cells.get(topic.name), today)
        except CellValueError as err:
            unreadable.append(topic)
            problems.append(f"{topic.name} {err}")
            continue
        (owed if value is None else done).append(topic)
    return Completions(tuple(done), tuple(owed), tuple(unreadable), tuple(problems))


# -- family webinars (7.0) ------------------------------------------------------------------

# The three sections every webinar covers, by column, with the key templates use.
REQUIRED_SECTIONS = (
    ("Family Preparedness", "preparedness"),
    ("We Are One", "we_are_one"),
    ("Know Your Rights", "know_your_rights"),
)
