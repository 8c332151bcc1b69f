"""Declaring a job's tabs and options in a few lines.

Columns are written as the README lists them, with marks:

    TabSpec("Members", columns("Name*", "Email*", "Group*", "Language", "Active!", "Status+"),
            key="Email")

`*` required, `!` decides who is mailed (read strictly, fails closed when a near miss is
there instead), `+` owned by the tool (added when missing, written back). Options are a
dataclass whose fields say how each config key is read:

    @dataclass(frozen=True)
    class CommitteeOptions:
        reminder_days: int = number(2, maximum=60)
        alert_to: tuple[str, ...] = addresses("co_chairs")

    read_options(settings, "committee-invites", CommitteeOptions)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from automations.config import Options, Settings
from automations.sheets.contract import Column

OptionsT = TypeVar("OptionsT")
Reader = Callable[[Options, str, Settings], Any]


def columns(*names: str | Column) -> tuple[Column, ...]:
    """Columns from marked names ("Email*", "Active!", "Status+") or Column objects."""
    found = []
    for name in names:
        if isinstance(name, Column):
            found.append(name)
            continue
        bare = name.rstrip("*!+")
        marks = name[len(bare) :]
        found.append(Column(bare, required="*" in marks, controls="!" in marks, owned="+" in marks))
    return tuple(found)


def option(read: Reader, key: str | None = None) -> Any:
    """A field read from the job's config section by `read(reader, key, settings)`;
    `key` defaults to the field's name."""
    return dataclasses.field(metadata={"read": read, "key": key})


def number(default: int, *, minimum: int = 0, maximum: int = 10**6, key: str | None = None) -> Any:
    """A whole number between `minimum` and `maximum` (`default` when absent)."""
    return option(lambda r, k, s: r.integer(k, default, minimum=minimum, maximum=maximum), key)


def addresses(key: str | None = None) -> Any:
    """A list of email addresses (a single one is fine); empty when absent."""
    return option(lambda r, k, s: r.addresses(k), key)


def read_options(settings: Settings, job: str, kind: type[OptionsT]) -> OptionsT:
    """The job's options: each field of `kind` read in order (an error names the key),
    then any key the job does not know is refused ("did you mean")."""
    reader = Options(settings, job)
    values = {}
    for field in dataclasses.fields(kind):  # type: ignore[arg-type]
        read = field.metadata.get("read")
        if read is not None:
            values[field.name] = read(reader, field.metadata.get("key") or field.name, settings)
    reader.finish()
    return kind(**values)
