"""The SQLite ledger: intent before a send, outcome after, write-backs until written.

It is what makes reruns, crashes and overlapping runs safe: a key recorded as sent
is never sent again, a key left at "intent" by a crash is resolved (or reported as
uncertain) instead of being sent blindly, and cell writes that could not reach the
sheet are kept here and written on the next run.

Durability: an intent is on the disk before its send starts. One message at a time
(`intent`, `outcome`, `complete`) that is a synced commit each; a batch (`intents`, then
`sending` and `settle` per message) is one synced commit for all its intents and none for
the rest, which becomes durable with the next synced commit (the next batch's intents, or
`flush`). A crash of the program loses nothing either way; a power cut may lose a batch's
settled outcomes, and then the next run finds those keys at "intent" and asks the mailer
to confirm them, never sending them blindly again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automations.backups import back_up, restore_steps
from automations.durable import fsync_directory
from automations.errors import ConfigError, LedgerError
from automations.plan import AttendeeResponse, History
from automations.private import explain, private_dir, touch_private
from automations.sheets.contract import CellWrite, RowRef, RunLogEntry

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sends (
        key TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        message_id TEXT NOT NULL,
        recipients INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('intent', 'sent', 'failed', 'rejected', 'uncertain')),
        detail TEXT NOT NULL DEFAULT '',
        provider_id TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX sends_job_state ON sends (job, state);
    CREATE TABLE pending_writes (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        spreadsheet TEXT NOT NULL,
        tab TEXT NOT NULL,
        row_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        column_name TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX pending_writes_job ON pending_writes (job);
    CREATE TABLE entity_state (
        job TEXT NOT NULL,
        entity TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (job, entity)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        sent INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        summary TEXT NOT NULL
    );
    """,
    # 2: calendar events kept by the provider (Microsoft 365), keyed by invite UID.
    """
    CREATE TABLE events (
        uid TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        event_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0,
        starts_at TEXT NOT NULL,
        responses TEXT NOT NULL DEFAULT '[]',
        updated_at TEXT NOT NULL
    );
    CREATE INDEX events_job ON events (job);
    """,
    # 3: recipients a server refused in a message that went to the others, so their own
    # rows keep saying so on every later run.
    """
    CREATE TABLE refusals (
        key TEXT NOT NULL,
        address TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (key, address)
    );
    """,
    # 4: Run Log rows that could not reach their spreadsheet (e.g. the workbook was open
    # in Excel), written before the next run's own row.
    """
    CREATE TABLE run_log_backlog (
        id INTEGER PRIMARY KEY,
        spreadsheet TEXT NOT NULL,
        entry TEXT NOT NULL
    );
    """,
    # 5: facts about the ledger itself: which jobs were reconciled with the sheets' sent
    # marks (`reconciled:<job>`), and rebuild reports the admin has not been sent yet.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)
REBUILT = "rebuilt"  # message_id of sends recorded from the sheets' marks, not by a send
# An intent's detail is QUEUED while its message waits in a batch, not yet handed to the
# mailer (see Ledger.intents and Ledger.sending); blank once the send may have started.
QUEUED = "queued: not handed to the mailer yet"
_INTENT = (
    "INSERT INTO sends (key, job, message_id, recipients, state, detail, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, 'intent', ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET state = 'intent', message_id = excluded.message_id,"
    " detail = excluded.detail, updated_at = excluded.updated_at"
)
_OUTCOME = "UPDATE sends SET state = ?, detail = ?, provider_id = ?, updated_at = ? WHERE key = ?"
_REFUSAL = "INSERT OR REPLACE INTO refusals (key, address, reason) VALUES (?, ?, ?)"


@dataclass(frozen=True)
class EventRecord:
    """A provider calendar event created for an invite UID."""

    uid: str
    job: str
    event_id: str
    sequence: int
    cancelled: bool
    starts_at: str
    responses: tuple[AttendeeResponse, ...]


@dataclass(frozen=True)
class SendRecord:
    """What the ledger knows about one message key."""

    key: str
    state: str
    message_id: str
    detail: str
    updated_at: str


@dataclass(frozen=True)
class Intent:
    """A message about to be sent (see Ledger.intents)."""

    key: str
    job: str
    message_id: str
    recipients: int


@dataclass(frozen=True)
class Outcome:
    """How one send ended (see Ledger.settle): sent, failed, rejected or uncertain."""

    key: str
    state: str
    detail: str = ""
    provider_id: str = ""
    # Recipients the server refused while the message went to the others.
    refused: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    """A fully sent action: its write-backs and its entity snapshot (see Ledger.settle)."""

    job: str
    writes: tuple[CellWrite, ...]
    state: tuple[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class PendingWrite:
    """A cell write recorded after its sends, not yet confirmed in the sheet."""

    id: int
    write: CellWrite


@dataclass(frozen=True)
class RunRecord:
    """One finished run of a job."""

    job: str
    finished_at: str
    dry_run: bool
    sent: int
    skipped: int
    failed: int
    summary: str


# SQLite errors that come from the host (disk, permissions, another process), not from a
# bug in a statement: they become one line; anything else keeps its traceback.
_HOST_ERRORS = (
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
    "SQLITE_PERM",
)


def _why(err: sqlite3.Error) -> str:
    """SQLite's error in plain words, with what to do about it."""
    name = getattr(err, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return "the disk is full; free some space, then run again"
    if name.startswith("SQLITE_READONLY"):
        return "it is read-only; make the file and its folder writable by this user"
    if name.startswith("SQLITE_IOERR"):
        return f"a disk write failed ({err}); is the disk full? free some space, then run again"
    if name.startswith("SQLITE_CANTOPEN"):
        return "it cannot be opened; make it and its folder readable and writable by this user"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another program held it for too long; try again"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return f"it is damaged ({err}); restore it from a backup"
    return str(err)


class _Connection(sqlite3.Connection):
    """A connection whose statements fail as LedgerError, in plain words (never a traceback
    for a full disk or a read-only file). executescript (migrations) keeps SQLite's errors."""

    def execute(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().execute(*args)
        except sqlite3.Error as err:
            failure = _failed(self, err)
            if failure is None:
                raise
            raise failure from err

    def executemany(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().executemany(*args)
        except sqlite3.Error as err:
            failure = _failed(self, err)
            if failure is None:
                raise
            raise failure from err


def _failed(db: sqlite3.Connection, err: sqlite3.Error) -> LedgerError | None:
    """A LedgerError for a host problem; None for anything else (a bug keeps its traceback)."""
    if not (getattr(err, "sqlite_errorname", "") or "").startswith(_HOST_ERRORS):
        return None
    why = _why(err)
    return LedgerError(f"the ledger {getattr(db, 'path', '')} failed: {why}", why)


class Ledger:
    """Durable record of sends, pending write-backs, entity snapshots and runs."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if not read_only:
            try:
                # Created 0600 before SQLite opens it: its -wal and -shm files follow suit.
                touch_private(private_dir(path.parent) / path.name)
            except OSError as err:
                raise ConfigError(
                    f"cannot create the ledger {path} ({explain(err)}); make the folder "
                    "writable by this user, or set state_dir in the configuration to one that is"
                ) from None
        try:
            if read_only and not path.exists():
                self._db = sqlite3.connect(":memory:", factory=_Connection)
            else:
                self._db = sqlite3.connect(
                    path, timeout=30, isolation_level=None, factory=_Connection
                )
                self._db.path = path  # type: ignore[attr-defined]
                self._db.execute("PRAGMA journal_mode=WAL")
                # Every commit is on the disk (the write-ahead log synced) before it returns.
                self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
            if not read_only:
                self._probe()
                # SQLite syncs file contents, not the folder entries of a new database and
                # its log: sync them once so a power cut cannot lose the files themselves.
                fsync_directory(path.parent)
        except (sqlite3.Error, LedgerError) as err:
            cause = err.__cause__ if isinstance(err, LedgerError) else err
            if isinstance(cause, sqlite3.DatabaseError) and _damaged(cause):
                raise LedgerError(
                    f"the ledger {path} is damaged ({cause}); nothing was sent. To recover, "
                    + restore_steps(path)
                ) from err
            why = err.why if isinstance(err, LedgerError) else _why(err)
            raise LedgerError(f"cannot open the ledger {path}: {why}", why) from err

    @classmethod
    def in_memory(cls) -> Ledger:
        """A throwaway ledger, for an admin alert when the real one cannot be used."""
        ledger = cls.__new__(cls)
        ledger.path, ledger.read_only = Path(":memory:"), False
        ledger._db = sqlite3.connect(":memory:", isolation_level=None, factory=_Connection)
        ledger._migrate()
        return ledger

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _probe(self) -> None:
        """Fail now, before anything is sent, when the ledger cannot be written."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            self._db.execute("ROLLBACK")

    @contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; synced at commit unless `durable` is False (then the
        next synced commit makes it durable: in WAL mode a sync covers all earlier ones)."""
        if not durable:
            self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        finally:
            if not durable:
                self._db.execute("PRAGMA synchronous=FULL")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits, so each migration carries its own BEGIN/COMMIT.
            try:
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
            except sqlite3.DatabaseError:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    # -- sends ---------------------------------------------------------------

    def record(self, key: str) -> SendRecord | None:
        """The ledger's record of `key`, if any."""
        row = self._db.execute(
            "SELECT key, state, message_id, detail, updated_at FROM sends WHERE key = ?", (key,)
        ).fetchone()
        return SendRecord(*row) if row else None

    def intent(
        self, key: str, job: str, message_id: str, recipients: int, now: dt.datetime
    ) -> None:
        """Record that `key` is about to be sent (committed before the send starts).

        :param key: the message's key (job, entity, occasion, recipient)
        :param job: the job it belongs to (its history, its sends)
        :param message_id: the Message-ID it goes out with (or `event:<uid>` for a provider
            calendar event), so a run that stops can ask the mailer whether it arrived
        :param recipients: how many it goes to (counted against the daily limit once sent)
        :param now: when (timezone-aware)
        """
        stamp = now.isoformat()
        self._db.execute(_INTENT, (key, job, message_id, recipients, "", stamp, stamp))

    def outcome(
        self, key: str, state: str, now: dt.datetime, detail: str = "", provider_id: str = ""
    ) -> None:
        """Record how the send of `key` ended.

        :param key: the message's key, recorded by `intent` before the send
        :param state: "sent", "failed" (tried again next run), "rejected" (never retried)
            or "uncertain" (reported for a person to check, never resent)
        :param now: when (timezone-aware)
        :param detail: the mailer's words, for statuses and logs
        :param provider_id: the provider's id of the message or event, if it gives one
        """
        self._db.execute(_OUTCOME, (state, detail, provider_id, now.isoformat(), key))

    # -- batches: one sync for many messages ------------------------------------

    def intents(self, intents: Iterable[Intent], now: dt.datetime) -> None:
        """Record that these keys are about to be sent: one transaction, on the disk before
        this returns (one sync for the whole batch; it also makes every earlier `settle`
        durable). Send none of them before it returns, and each only after `sending`."""
        stamp = now.isoformat()
        rows = [(i.key, i.job, i.message_id, i.recipients, QUEUED, stamp, stamp) for i in intents]
        with self._transaction() as db:
            db.executemany(_INTENT, rows)

    def sending(self, key: str) -> None:
        """Mark a batched intent as handed to the mailer now (committed, not synced).

        Until then a run that stops leaves the intent QUEUED: known never to have reached
        the mailer, so the next run sends it without asking the mailer. The mark survives
        the program being killed; a power cut may lose it, so batches are only for mailers
        whose resend of a key replaces the earlier one (the outbox's file per key)."""
        with self._transaction(durable=False) as db:
            db.execute("UPDATE sends SET detail = '' WHERE key = ?", (key,))

    def settle(
        self,
        outcomes: Iterable[Outcome],
        completions: Iterable[Completion],
        now: dt.datetime,
    ) -> None:
        """Record how a batch's sends ended, with the write-backs and snapshots of the
        actions it completed, in one transaction that is not synced: it reaches the disk
        with the next `intents` or `flush` (see the module docstring for why that is safe).
        """
        stamp = now.isoformat()
        outcomes = list(outcomes)
        with self._transaction(durable=False) as db:
            db.executemany(
                _OUTCOME, [(o.state, o.detail, o.provider_id, stamp, o.key) for o in outcomes]
            )
            db.executemany(
                _REFUSAL, [(o.key, a, reason) for o in outcomes for a, reason in o.refused.items()]
            )
            for completion in completions:
                self._complete(db, completion.job, completion.writes, completion.state, stamp)

    def flush(self) -> None:
        """Put everything committed so far on the disk (one sync), e.g. at the end of a run's
        sends, so settled batches survive a power cut too."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('flushed', ?)",
                (dt.datetime.now(dt.UTC).isoformat(),),
            )

    def forget(self, key: str) -> None:
        """Drop a record (an intent that provably never reached the mailer)."""
        self._db.execute("DELETE FROM sends WHERE key = ?", (key,))

    def refuse(self, key: str, refused: Mapping[str, str]) -> None:
        """Remember the recipients the server refused when `key` was sent."""
        self._db.executemany(
            _REFUSAL, [(key, address, reason) for address, reason in refused.items()]
        )

    def refusals(self, key: str) -> dict[str, str]:
        """The recipients refused when `key` was sent, with the server's reason."""
        rows = self._db.execute("SELECT address, reason FROM refusals WHERE key = ?", (key,))
        return dict(rows.fetchall())

    def refused_addresses(self, job: str) -> dict[str, str]:
        """Every address a server refused in `job`'s sent mail (casefolded) -> reason."""
        rows = self._db.execute(
            "SELECT r.address, r.reason FROM refusals r JOIN sends s ON s.key = r.key"
            " WHERE s.job = ? ORDER BY s.updated_at",
            (job,),
        )
        return {address.casefold(): reason for address, reason in rows}

    def uncertain(self, job: str | None = None) -> list[SendRecord]:
        """Sends whose outcome is unknown: left for a person to check, never resent."""
        query = (
            "SELECT key, state, message_id, detail, updated_at FROM sends WHERE state = 'uncertain'"
        )
        rows = self._db.execute(query + (" AND job = ?" if job else ""), (job,) if job else ())
        return [SendRecord(*row) for row in rows]

    def history(self, job: str) -> History:
        """Everything a planner may know about past runs of `job`: keys sent, entity
        snapshots, sends whose outcome is unknown, and addresses a server refused."""
        sent = frozenset(
            row[0]
            for row in self._db.execute(
                "SELECT key FROM sends WHERE job = ? AND state = 'sent'", (job,)
            )
        )
        states = {
            entity: json.loads(data)
            for entity, data in self._db.execute(
                "SELECT entity, data FROM entity_state WHERE job = ?", (job,)
            )
        }
        unsettled = frozenset(
            row[0]
            for row in self._db.execute(
                "SELECT key FROM sends WHERE job = ? AND state IN ('intent', 'uncertain')", (job,)
            )
        )
        unsent = {
            key: (state, detail)
            for key, state, detail in self._db.execute(
                "SELECT key, state, detail FROM sends WHERE job = ? AND state IN"
                " ('failed', 'rejected', 'uncertain')",
                (job,),
            )
        }
        refused = self.refused_addresses(job)
        return History(sent, states, unsettled=unsettled, refused=refused, unsent=unsent)

    # -- rebuilding from the sheets and backups ---------------------------------

    def needs_rebuild(self, job: str) -> bool:
        """True when `job` has never been reconciled and the ledger knows nothing of it
        (a new, deleted or emptied ledger): its sheets' sent marks must be read first."""
        done = self._db.execute("SELECT 1 FROM meta WHERE key = ?", (f"reconciled:{job}",))
        if done.fetchone():
            return False
        for table in ("sends", "entity_state"):
            if self._db.execute(f"SELECT 1 FROM {table} WHERE job = ? LIMIT 1", (job,)).fetchone():
                return False
        return True

    def record_rebuild(
        self,
        job: str,
        sent: Iterable[str],
        states: Mapping[str, Mapping[str, Any]],
        report: Iterable[str],
        now: dt.datetime,
    ) -> None:
        """Atomically record what the sheets show as sent for `job`, and mark it reconciled.

        `report` (lines for the admin; none when nothing was found) waits in the ledger
        until `rebuild_reports` is sent and cleared.
        """
        stamp = now.isoformat()
        lines = list(report)
        with self._transaction() as db:
            # Recipients 0: these are not sends of today, they must not use the daily cap.
            db.executemany(
                "INSERT OR IGNORE INTO sends (key, job, message_id, recipients, state, detail,"
                " created_at, updated_at) VALUES (?, ?, ?, 0, 'sent', ?, ?, ?)",
                [
                    (key, job, REBUILT, "rebuilt from the sheet's sent marks", stamp, stamp)
                    for key in sent
                ],
            )
            db.executemany(
                "INSERT INTO entity_state (job, entity, data, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job, entity) DO NOTHING",
                [
                    (job, entity, json.dumps(data, sort_keys=True, default=str), stamp)
                    for entity, data in states.items()
                ],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"reconciled:{job}", stamp),
            )
            if lines:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (f"rebuild-report:{job}", json.dumps(lines)),
                )

    def rebuild_reports(self) -> dict[str, list[str]]:
        """Rebuild reports not yet sent to the admin, by job."""
        rows = self._db.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'rebuild-report:%' ORDER BY key"
        )
        return {key.removeprefix("rebuild-report:"): json.loads(value) for key, value in rows}

    def clear_rebuild_reports(self, jobs: Iterable[str]) -> None:
        """Forget rebuild reports once the admin has them."""
        self._db.executemany(
            "DELETE FROM meta WHERE key = ?", [(f"rebuild-report:{job}",) for job in jobs]
        )

    def back_up(self, now: dt.datetime) -> Path:
        """An online backup of the ledger into `state_dir/backups` (see automations.backups)."""
        return back_up(self._db, self.path, now)

    # -- completed actions and write-back -------------------------------------

    def complete(
        self,
        job: str,
        writes: Iterable[CellWrite],
        state: tuple[str, Mapping[str, Any]] | None,
        now: dt.datetime,
    ) -> None:
        """Atomically keep an action's write-backs and its entity snapshot, once all of its
        messages went.

        :param job: the job the action belongs to
        :param writes: cells to write back; they stay pending until `written`
        :param state: (entity, snapshot) of what recipients now know, or None
        :param now: when (timezone-aware)
        """
        with self._transaction() as db:
            self._complete(db, job, writes, state, now.isoformat())

    @staticmethod
    def _complete(
        db: sqlite3.Connection,
        job: str,
        writes: Iterable[CellWrite],
        state: tuple[str, Mapping[str, Any]] | None,
        stamp: str,
    ) -> None:
        db.executemany(
            "INSERT INTO pending_writes (job, spreadsheet, tab, row_key, fingerprint,"
            " column_name, value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    job,
                    w.spreadsheet,
                    w.row.tab,
                    w.row.key,
                    json.dumps(w.row.fingerprint),
                    w.column,
                    _stored(w.value),
                    stamp,
                )
                for w in writes
            ],
        )
        if state is not None:
            entity, data = state
            db.execute(
                "INSERT INTO entity_state (job, entity, data, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job, entity) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (job, entity, json.dumps(data, sort_keys=True, default=str), stamp),
            )

    def pending(self, job: str) -> list[PendingWrite]:
        """Write-backs of `job` not yet confirmed in the sheet, oldest first."""
        rows = self._db.execute(
            "SELECT id, spreadsheet, tab, row_key, fingerprint, column_name, value"
            " FROM pending_writes WHERE job = ? ORDER BY id",
            (job,),
        )
        # A row's writes (three or four per digest) share one RowRef, and names repeat:
        # 168,000 pending writes of 75,000 staff then take a third less memory.
        refs: dict[tuple[str, str, str], RowRef] = {}
        names: dict[str, str] = {}
        pending = []
        for ident, spreadsheet, tab, key, fingerprint, column, value in rows:
            ref = refs.get((tab, key, fingerprint))
            if ref is None:
                pairs = tuple(tuple(pair) for pair in json.loads(fingerprint))
                ref = refs[(tab, key, fingerprint)] = RowRef(names.setdefault(tab, tab), key, pairs)
            write = CellWrite(
                names.setdefault(spreadsheet, spreadsheet),
                ref,
                names.setdefault(column, column),
                _restored(value),
            )
            pending.append(PendingWrite(ident, write))
        return pending

    def written(self, ids: Iterable[int]) -> None:
        """Forget write-backs that reached the sheet."""
        with self._transaction() as db:
            db.executemany("DELETE FROM pending_writes WHERE id = ?", [(i,) for i in ids])

    # -- Run Log rows that did not reach the sheet ----------------------------

    def keep_run_log(self, spreadsheet: str, entry: RunLogEntry) -> None:
        """Keep a Run Log row its spreadsheet could not take; the next write-back adds it."""
        data = dataclasses.asdict(entry) | {"when": entry.when.isoformat()}
        self._db.execute(
            "INSERT INTO run_log_backlog (spreadsheet, entry) VALUES (?, ?)",
            (spreadsheet, json.dumps(data)),
        )

    def run_log_backlog(self, spreadsheet: str) -> list[tuple[int, RunLogEntry]]:
        """Run Log rows kept for `spreadsheet`, oldest first, with their ids."""
        rows = self._db.execute(
            "SELECT id, entry FROM run_log_backlog WHERE spreadsheet = ? ORDER BY id",
            (spreadsheet,),
        )
        kept = []
        for ident, text in rows:
            data = json.loads(text)
            data["when"] = dt.datetime.fromisoformat(data["when"])
            kept.append((ident, RunLogEntry(**data)))
        return kept

    def run_log_written(self, ident: int) -> None:
        """Forget a kept Run Log row once its spreadsheet has it."""
        self._db.execute("DELETE FROM run_log_backlog WHERE id = ?", (ident,))

    # -- runs -----------------------------------------------------------------

    def record_run(self, run: RunRecord, started: dt.datetime) -> None:
        """Keep a finished run for `list` and for admins."""
        self._db.execute(
            "INSERT INTO runs (job, started_at, finished_at, dry_run, sent, skipped, failed,"
            " summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.job,
                started.isoformat(),
                run.finished_at,
                int(run.dry_run),
                run.sent,
                run.skipped,
                run.failed,
                run.summary,
            ),
        )

    def last_run(self, job: str) -> RunRecord | None:
        """The latest real (not dry) run of `job`."""
        row = self._db.execute(
            "SELECT job, finished_at, dry_run, sent, skipped, failed, summary FROM runs"
            " WHERE job = ? AND dry_run = 0 ORDER BY id DESC LIMIT 1",
            (job,),
        ).fetchone()
        return RunRecord(row[0], row[1], bool(row[2]), *row[3:]) if row else None

    # -- provider calendar events -----------------------------------------------

    def event(self, uid: str) -> EventRecord | None:
        """The calendar event created for invite `uid`, if any."""
        row = self._db.execute(
            "SELECT uid, job, event_id, sequence, cancelled, starts_at, responses FROM events"
            " WHERE uid = ?",
            (uid,),
        ).fetchone()
        return _event(row) if row else None

    def events(self, job: str) -> list[EventRecord]:
        """Every calendar event of `job`."""
        rows = self._db.execute(
            "SELECT uid, job, event_id, sequence, cancelled, starts_at, responses FROM events"
            " WHERE job = ? ORDER BY starts_at",
            (job,),
        )
        return [_event(row) for row in rows]

    def save_event(
        self,
        uid: str,
        job: str,
        event_id: str,
        sequence: int,
        cancelled: bool,
        starts_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        """Remember the provider's event for `uid` after a create, update or cancel."""
        self._db.execute(
            "INSERT INTO events (uid, job, event_id, sequence, cancelled, starts_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO UPDATE SET"
            " event_id = excluded.event_id, sequence = excluded.sequence,"
            " cancelled = excluded.cancelled, starts_at = excluded.starts_at,"
            " updated_at = excluded.updated_at",
            (uid, job, event_id, sequence, int(cancelled), starts_at.isoformat(), now.isoformat()),
        )

    def save_responses(
        self, uid: str, responses: Iterable[AttendeeResponse], now: dt.datetime
    ) -> None:
        """Keep the attendee responses last read for `uid` (used when the provider is down)."""
        data = json.dumps([[r.email, r.name, r.response] for r in responses])
        self._db.execute(
            "UPDATE events SET responses = ?, updated_at = ? WHERE uid = ?",
            (data, now.isoformat(), uid),
        )

    def sent_since(self, since: dt.datetime) -> list[tuple[dt.datetime, int]]:
        """(when, recipients) of every send recorded as sent after `since` (for throttling)."""
        # Stamps carry their UTC offset; compare as datetimes, prefilter generously as text.
        bound = (since - dt.timedelta(days=1)).isoformat()
        rows = self._db.execute(
            "SELECT updated_at, recipients FROM sends WHERE state = 'sent' AND updated_at >= ?",
            (bound,),
        )
        found = []
        for stamp, recipients in rows:
            when = dt.datetime.fromisoformat(stamp)
            if when.tzinfo is not None and when > since:
                found.append((when, recipients))
        return found


def _damaged(err: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file itself is not (or no longer) a sound database."""
    words = str(err).casefold()
    return any(w in words for w in ("not a database", "malformed", "corrupt"))


def _event(row: tuple) -> EventRecord:
    uid, job, event_id, sequence, cancelled, starts_at, responses = row
    answers = tuple(AttendeeResponse(*item) for item in json.loads(responses))
    return EventRecord(uid, job, event_id, sequence, bool(cancelled), starts_at, answers)


def _stored(value: object) -> str:
    """A pending write's value as JSON; a recorded time keeps its kind (and offset)."""
    if isinstance(value, dt.datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, dt.date):
        return json.dumps({"date": value.isoformat()})
    return json.dumps(value)


def _restored(stored: str) -> Any:
    """The value `_stored` kept (plain JSON values as they were)."""
    value = json.loads(stored)
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
    return value
