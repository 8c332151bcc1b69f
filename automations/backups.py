"""Ledger backups: an SQLite online backup after each run that sent something.

The ledger is the only record of who got what; the sheets' sent marks can rebuild most
of it (automations/rebuild.py), a backup all of it. Backups are named by UTC time
(`ledger-20261130T150102Z.sqlite3`), private to the owner (folder 0700, files 0600),
and only the newest KEEP are kept.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from automations.private import private_dir, touch_private

FOLDER = "backups"
KEEP = 10
_PATTERN = "ledger-*.sqlite3"


def backup_folder(ledger_path: Path) -> Path:
    """Where the backups of the ledger at `ledger_path` go (`state_dir/backups`)."""
    return ledger_path.parent / FOLDER


def backups(ledger_path: Path) -> list[Path]:
    """The backups of the ledger at `ledger_path`, oldest first."""

    def order(path: Path) -> tuple[str, int]:
        # ledger-<stamp>.sqlite3, then ledger-<stamp>-2.sqlite3 for a second one that second
        _, stamp, *number = path.stem.split("-")
        return stamp, int(number[0]) if number and number[0].isdigit() else 1

    return sorted(backup_folder(ledger_path).glob(_PATTERN), key=order)


def latest_backup(ledger_path: Path) -> Path | None:
    """The newest backup of the ledger at `ledger_path`, if any."""
    found = backups(ledger_path)
    return found[-1] if found else None


def restore_steps(ledger_path: Path) -> str:
    """The exact shell commands that put the latest backup in place of a damaged ledger."""
    aside = f"mv {ledger_path} {ledger_path}.damaged && rm -f {ledger_path}-wal {ledger_path}-shm"
    latest = latest_backup(ledger_path)
    if latest is None:
        return (
            f"no backup exists in {backup_folder(ledger_path)}: run `{aside}`, then run the "
            "jobs again; the new ledger is rebuilt from the sheets' sent marks"
        )
    return (
        f"restore the latest backup ({latest.name}): `{aside} && cp {latest} {ledger_path}`, "
        "then run the jobs again"
    )


def back_up(db: sqlite3.Connection, ledger_path: Path, now: dt.datetime, keep: int = KEEP) -> Path:
    """Copy the open ledger `db` into a new backup file; drop all but the newest `keep`."""
    folder = backup_folder(ledger_path)
    private_dir(folder)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"ledger-{stamp}.sqlite3"
    number = 1
    while target.exists():  # two runs in the same second
        number += 1
        target = folder / f"ledger-{stamp}-{number}.sqlite3"
    touch_private(target)
    copy = sqlite3.connect(target)
    try:
        db.backup(copy)
    finally:
        copy.close()
    for old in backups(ledger_path)[:-keep]:
        old.unlink(missing_ok=True)
    return target
