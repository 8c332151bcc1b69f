"""The SQLite ledger: migrations, send records, pending write-backs, history."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from automations.ledger import MIGRATIONS, Ledger, LedgerError, RunRecord
from automations.sheets.contract import CellWrite, RowRef

NOW = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)


def test_fresh_ledger_runs_every_migration_once(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    Ledger(path).close()  # reopening applies nothing twice
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sends", "pending_writes", "entity_state", "runs"} <= tables


def test_failed_migration_leaves_the_ledger_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    broken = (*MIGRATIONS, "CREATE TABLE extra (x); CREATE TABLE extra (y);")
    monkeypatch.setattr("automations.ledger.MIGRATIONS", broken)
    with pytest.raises(LedgerError, match="cannot open the ledger"):
        Ledger(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "extra" not in tables


def test_sends_move_from_intent_to_outcome_and_feed_history(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.intent("job/a", "job", "<a@x>", 1, NOW)
    assert ledger.record("job/a").state == "intent"
    assert not ledger.history("job").was_sent("job/a")
    ledger.outcome("job/a", "sent", NOW)
    ledger.intent("job/b", "job", "<b@x>", 1, NOW)
    ledger.outcome("job/b", "uncertain", NOW, "run stopped")
    history = ledger.history("job")
    assert history.was_sent("job/a") and not history.was_sent("job/b")
    assert [r.key for r in ledger.uncertain("job")] == ["job/b"]


def test_pending_writes_survive_until_written(tmp_path):
    path = tmp_path / "l.sqlite3"
    ref = RowRef("Meetings", "CM-1", (("Date", "12/10/2026"),))
    writes = [
        CellWrite("committee", ref, "Status", "Invitation sent"),
        CellWrite("committee", ref, "Invite Version", 1),
    ]
    Ledger(path).complete("job", writes, ("meeting:CM-1", {"sequence": 0}), NOW)
    reopened = Ledger(path)
    pending = reopened.pending("job")
    assert [p.write for p in pending] == writes
    assert reopened.history("job").state("meeting:CM-1") == {"sequence": 0}
    reopened.written(p.id for p in pending)
    assert reopened.pending("job") == []


def test_last_run_ignores_dry_runs(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.record_run(RunRecord("job", "2026-11-30T07:01", False, 3, 0, 0, "sent 3"), NOW)
    ledger.record_run(RunRecord("job", "2026-11-30T08:01", True, 0, 0, 0, "dry"), NOW)
    assert ledger.last_run("job").summary == "sent 3"
    assert ledger.last_run("other") is None
