"""The SQLite ledger: migrations, send records, pending write-backs, history."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat

import pytest

from automations.backups import latest_backup
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


def test_a_job_needs_rebuilding_only_while_the_ledger_knows_nothing_of_it(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    assert ledger.needs_rebuild("job") and ledger.needs_rebuild("other")
    ledger.intent("other/a", "other", "<a@x>", 1, NOW)
    assert not ledger.needs_rebuild("other")  # a ledger from before migration 4
    ledger.complete("job", [], ("meeting:M1", {"sequence": 0}), NOW)
    assert not ledger.needs_rebuild("job")
    fresh = Ledger(tmp_path / "fresh.sqlite3")
    fresh.record_rebuild("job", [], {}, [], NOW)  # nothing in the sheets: checked once
    assert not fresh.needs_rebuild("job")


def test_rebuild_records_sends_and_states_at_once_and_keeps_its_report_until_sent(tmp_path):
    path = tmp_path / "l.sqlite3"
    Ledger(path).record_rebuild(
        "job", ["job/M1/request/0/a@x.org"], {"meeting:M1": {"sequence": 2}}, ["Meetings: 1"], NOW
    )
    ledger = Ledger(path)
    history = ledger.history("job")
    assert history.was_sent("job/M1/request/0/a@x.org")
    assert history.state("meeting:M1") == {"sequence": 2}
    assert ledger.record("job/M1/request/0/a@x.org").message_id == "rebuilt"
    assert ledger.sent_since(NOW - dt.timedelta(hours=1)) == [(NOW, 0)]  # no daily quota used
    assert ledger.rebuild_reports() == {"job": ["Meetings: 1"]}
    ledger.clear_rebuild_reports(["job"])
    assert Ledger(path).rebuild_reports() == {}


def test_backups_are_private_copies_and_only_the_newest_ten_are_kept(tmp_path):
    path = tmp_path / "state" / "ledger.sqlite3"
    ledger = Ledger(path)
    ledger.intent("job/a", "job", "<a@x>", 1, NOW)
    made = [ledger.back_up(NOW + dt.timedelta(seconds=n // 2)) for n in range(12)]
    kept = sorted((tmp_path / "state" / "backups").iterdir())
    assert len(kept) == 10 and made[0] not in kept and made[1] not in kept
    assert made[-1].name == "ledger-20261130T070005Z-2.sqlite3"
    assert latest_backup(path) == made[-1]
    assert stat.S_IMODE(made[-1].stat().st_mode) == 0o600
    assert stat.S_IMODE(made[-1].parent.stat().st_mode) == 0o700
    copy = sqlite3.connect(made[-1])
    assert copy.execute("SELECT key, state FROM sends").fetchall() == [("job/a", "intent")]


def test_damaged_ledger_error_says_so_and_how_to_restore_the_latest_backup(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    first.back_up(NOW)
    first.close()
    path.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    message = str(caught.value)
    assert message.startswith(f"the ledger {path} is damaged (file is not a database)")
    latest = tmp_path / "backups" / "ledger-20261130T070000Z.sqlite3"
    assert message.endswith(
        f"restore the latest backup ({latest.name}): `mv {path} {path}.damaged && "
        f"rm -f {path}-wal {path}-shm && cp {latest} {path}`, then run the jobs again"
    )
    assert "\n" not in message
