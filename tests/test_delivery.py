"""Delivery safety: reruns, crashes at every step, overlapping runs."""

from __future__ import annotations

import email
import os
import subprocess
from email import policy
from pathlib import Path

import pytest

from automations.jobs import committee_invites
from automations.ledger import QUEUED, Ledger
from automations.lock import RunLock
from tests.fixtures.faults import ROOT, jobs_args, run_jobs
from tests.fixtures.workbooks import TODAY, records


def message_ids(folder: Path, job: str = "committee-invites") -> list[str]:
    ids = []
    for path in folder.glob(f"{job}-*.eml" if job != "*" else "*.eml"):
        ids.append(email.message_from_bytes(path.read_bytes(), policy=policy.default)["Message-ID"])
    return ids


def meeting_status(demo) -> str:
    return records(demo.committee, "Meetings")[0]["Status"]


def test_rerun_sends_nothing_new(demo):
    first = demo.runner().run(committee_invites.JOB)
    assert (first.sent, first.failed) == (8, 0)
    again = demo.runner().run(committee_invites.JOB)
    assert (again.sent, again.failed) == (0, 0)
    assert len(demo.emls()) == 8
    assert meeting_status(demo) == "Invitation sent to 8 members (version 1)"


def test_dry_run_sends_and_writes_nothing(demo):
    before = demo.committee.read_bytes()
    lines: list[str] = []
    result = demo.runner(out=lines.append).run(committee_invites.JOB, dry_run=True)
    assert result.planned == 8
    assert demo.emls() == []
    assert demo.committee.read_bytes() == before
    assert (
        not (demo.folder / "state" / "ledger.sqlite3").exists()
        or not Ledger(demo.folder / "state" / "ledger.sqlite3").history("committee-invites").sent
    )
    assert any("invitation for meeting" in line for line in lines)
    assert not any("@example.org" in line and "***" not in line for line in lines)


@pytest.mark.parametrize("step", ["after-intent", "after-send", "after-outcome"])
def test_crash_mid_send_then_rerun_sends_each_message_exactly_once(demo, step):
    crashed = run_jobs(
        demo.config, "run", "committee-invites", "--today", str(TODAY), fault=f"{step}:3"
    )
    assert crashed.returncode == -9, crashed.stderr
    finished = run_jobs(demo.config, "run", "committee-invites", "--today", str(TODAY))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    ids = message_ids(demo.outbox)
    assert len(ids) == 8 and len(set(ids)) == 8
    assert meeting_status(demo) == "Invitation sent to 8 members (version 1)"


def test_crash_before_write_back_leaves_statuses_for_the_next_run(demo):
    crashed = run_jobs(
        demo.config, "run", "committee-invites", "--today", str(TODAY), fault="before-write-back"
    )
    assert crashed.returncode == -9
    assert len(demo.emls()) == 8
    assert records(demo.committee, "Meetings")[0].get("Status") is None
    finished = run_jobs(demo.config, "run", "committee-invites", "--today", str(TODAY))
    assert finished.returncode == 0
    assert len(demo.emls()) == 8
    row = records(demo.committee, "Meetings")[0]
    assert row["Status"] == "Invitation sent to 8 members (version 1)"
    assert row["Invite Version"] == 1


def test_unknown_outcome_is_reported_not_resent(demo):
    """A send whose outcome cannot be confirmed is left for a person, never repeated."""

    class Forgetful:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def confirm(self, message):
            return None

    crashed = run_jobs(
        demo.config, "run", "committee-invites", "--today", str(TODAY), fault="after-send:2"
    )
    assert crashed.returncode == -9
    runner = demo.runner()
    runner.mailer = Forgetful(runner.mailer)
    result = runner.run(committee_invites.JOB)
    assert result.uncertain == 1 and result.exit_code == 1
    assert len(message_ids(demo.outbox)) == 8  # 2 before the crash (1 uncertain) + 6 now
    assert meeting_status(demo).startswith("Check: 1 of 8 messages may or may not have gone out")
    again = demo.runner().run(committee_invites.JOB)
    assert again.sent == 0 and again.uncertain == 1


def test_second_run_while_one_holds_the_lock_exits_75(demo):
    with RunLock(demo.folder / "state" / "jobs.lock"):
        blocked = run_jobs(demo.config, "run", "all", "--today", str(TODAY))
    assert blocked.returncode == 75
    assert "another run holds the lock" in blocked.stderr
    assert f"pid {os.getpid()}" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert demo.emls() == []


def test_lock_left_by_a_killed_run_is_taken_over(demo):
    crashed = run_jobs(demo.config, "run", "all", "--today", str(TODAY), fault="after-send:1")
    assert crashed.returncode == -9
    assert (demo.folder / "state" / "jobs.lock").exists()
    assert run_jobs(demo.config, "run", "all", "--today", str(TODAY)).returncode == 0


def test_two_concurrent_runs_one_exits_75_and_nothing_is_duplicated(demo):
    args = jobs_args(demo.config, "run", "all", "--today", str(TODAY))
    procs = [
        subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes in ([0, 0], [0, 75])  # the second may start after the first finished
    ids = message_ids(demo.outbox, job="*")
    assert len(ids) == len(set(ids)) == len(demo.emls())
    assert len(message_ids(demo.outbox)) == 8


def test_outbox_sends_record_a_batch_of_intents_in_one_synced_commit(demo):
    runner = demo.runner()
    calls: list[tuple[str, int]] = []

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def intent(self, *args):
            calls.append(("intent", 1))
            return self.inner.intent(*args)

        def intents(self, intents, now):
            calls.append(("intents", len(intents)))
            return self.inner.intents(intents, now)

    runner.delivery.ledger = Counting(runner.delivery.ledger)
    result = runner.run(committee_invites.JOB)
    assert result.sent == 8
    assert calls == [("intents", 8)]
    assert demo.runner().run(committee_invites.JOB).sent == 0


def test_a_run_killed_mid_batch_leaves_the_unsent_intents_queued(demo):
    crashed = run_jobs(
        demo.config, "run", "committee-invites", "--today", str(TODAY), fault="after-send:3"
    )
    assert crashed.returncode == -9
    ledger = Ledger(demo.folder / "state" / "ledger.sqlite3")
    records = ledger._db.execute("SELECT state, detail FROM sends ORDER BY created_at").fetchall()
    states = sorted((state, detail == QUEUED) for state, detail in records)
    # Two settled, the third handed to the mailer (outcome unknown), five never handed.
    assert states == [("intent", False)] + [("intent", True)] * 5 + [("sent", False)] * 2
    finished = run_jobs(demo.config, "run", "committee-invites", "--today", str(TODAY))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    ids = message_ids(demo.outbox)
    assert len(ids) == 8 and len(set(ids)) == 8
