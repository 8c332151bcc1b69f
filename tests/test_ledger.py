"""The SQLite ledger: migrations, send records, pending write-backs, history."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import stat
import subprocess
import sys

import pytest

from automations.backups import latest_backup
from automations.ledger import (
    MIGRATIONS,
    Completion,
    Intent,
    Ledger,
    LedgerError,
    Outcome,
    RunRecord,
)
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


# -- batches: one sync for a batch's intents, none for settling it -------------------------


def test_a_batch_is_recorded_intents_first_then_outcomes_and_write_backs_together(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ref = RowRef("Staff", "E1")
    ledger.intents([Intent("pd/1", "pd", "<1@x>", 1), Intent("pd/2", "pd", "<2@x>", 2)], NOW)
    assert {ledger.record(k).state for k in ("pd/1", "pd/2")} == {"intent"}
    ledger.settle(
        [
            Outcome("pd/1", "sent", provider_id="pd-1.eml"),
            Outcome("pd/2", "sent", refused={"b@example.org": "550 no such user"}),
        ],
        [Completion("pd", (CellWrite("pd", ref, "Status", "Reminder sent"),), ("E1", {"n": 1}))],
        NOW,
    )
    history = ledger.history("pd")
    assert history.was_sent("pd/1") and history.was_sent("pd/2")
    assert ledger.refusals("pd/2") == {"b@example.org": "550 no such user"}
    assert [p.write.value for p in ledger.pending("pd")] == ["Reminder sent"]
    assert history.state("E1") == {"n": 1}
    # Back to syncing every commit for one-at-a-time callers.
    assert ledger._db.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_batch_of_intents_is_all_or_nothing(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        ledger.intents([Intent("pd/1", "pd", "<1@x>", 1), Intent("pd/2", "pd", None, 1)], NOW)
    assert ledger.record("pd/1") is None


def test_a_settled_batch_survives_the_program_being_killed(tmp_path):
    path = tmp_path / "l.sqlite3"
    script = (
        "import datetime as dt, os, sys\n"
        "from pathlib import Path\n"
        "from automations.ledger import Ledger, Intent, Outcome\n"
        "now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)\n"
        "ledger = Ledger(Path(sys.argv[1]))\n"
        "ledger.intents([Intent('pd/1', 'pd', '<1@x>', 1)], now)\n"
        "ledger.settle([Outcome('pd/1', 'sent')], [], now)\n"
        "os._exit(9)\n"  # no close, no checkpoint: killed right after settling
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    assert done.returncode == 9
    assert Ledger(path).record("pd/1").state == "sent"


def _syncs(tmp_path, mode: str) -> int:
    """fsync + fdatasync calls of a process writing 50 messages' records in `mode`."""
    script = (
        "import datetime as dt, sys\n"
        "from pathlib import Path\n"
        "from automations.ledger import Completion, Intent, Ledger, Outcome\n"
        "from automations.sheets.contract import CellWrite, RowRef\n"
        "mode, now = sys.argv[2], dt.datetime(2026, 11, 30, tzinfo=dt.UTC)\n"
        "ledger = Ledger(Path(sys.argv[1]))\n"
        "done = [Completion('pd', (CellWrite('pd', RowRef('T', str(i)), 'S', 'ok'),))\n"
        "        for i in range(50)]\n"
        "if mode == 'batch':\n"
        "    ledger.intents([Intent(f'k{i}', 'pd', '<x>', 1) for i in range(50)], now)\n"
        "    ledger.settle([Outcome(f'k{i}', 'sent') for i in range(50)], done, now)\n"
        "if mode == 'single':\n"
        "    for i in range(50):\n"
        "        ledger.intent(f'k{i}', 'pd', '<x>', 1, now)\n"
        "        ledger.outcome(f'k{i}', 'sent', now)\n"
        "        ledger.complete('pd', done[i].writes, None, now)\n"
        "ledger.close()\n"
    )
    folder = tmp_path / mode
    folder.mkdir()
    summary = tmp_path / f"{mode}.strace"
    strace = ["strace", "-f", "-c", "-o", str(summary), "-e", "trace=fsync,fdatasync"]
    subprocess.run(
        [*strace, sys.executable, "-c", script, str(folder / "l.sqlite3"), mode], check=True
    )
    lines = summary.read_text().splitlines()
    return sum(
        int(line.split()[3]) for line in lines if line.split()[-1:] in (["fsync"], ["fdatasync"])
    )


@pytest.mark.skipif(shutil.which("strace") is None, reason="counting syncs needs strace")
def test_a_batch_is_one_sync_for_its_intents_and_none_for_settling_it(tmp_path):
    opening = _syncs(tmp_path, "open-only")
    assert _syncs(tmp_path, "batch") - opening <= 2
    assert _syncs(tmp_path, "single") - opening >= 3 * 50
