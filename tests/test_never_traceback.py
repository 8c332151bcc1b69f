"""Every way a new user or a broken host used to get a traceback ends in one line instead:
what is wrong and how to fix it, exit 2 (configuration) or 1 (run failure), and an admin
alert when a run had started. Anything unexpected becomes one line plus errors.log."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from automations.cli import main
from tests.fixtures.faults import ROOT, cli_env, jobs_args, ledger_sends, run_jobs
from tests.fixtures.workbooks import TODAY

PROC = Path("/proc/mou-automations-test")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error(out: str, err: str) -> str:
    """The single `error:` line on stderr (no traceback anywhere)."""
    assert "Traceback" not in out + err, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def as_file_owner(config: Path, *args: str, fault: str | None = None):
    """`jobs.py` as an ordinary user: file permissions apply (as root, run it without the
    capabilities that override them)."""
    argv = jobs_args(config, *args)
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        argv = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *argv]
    return subprocess.run(
        argv, capture_output=True, text=True, env=cli_env(fault), cwd=ROOT, timeout=120
    )


def alerts(demo) -> list[str]:
    return [p.read_text() for p in demo.emls() if p.name.startswith("admin-alerts")]


def set_config(demo, old: str, new: str) -> None:
    text = demo.config.read_text()
    assert old in text
    demo.config.write_text(text.replace(old, new))


# -- configuration -----------------------------------------------------------------------------


def test_config_pointing_at_a_folder_is_one_line(demo, capsys):
    code, out, err = cli(capsys, "--config", str(demo.folder), "run", "all")
    assert code == 2
    line = one_error(out, err)
    assert f"--config {demo.folder} is a folder" in line and str(demo.config) in line


@pytest.mark.parametrize("zone", ["America", "Pacific"])
def test_a_region_as_time_zone_is_one_line(demo, capsys, zone):
    set_config(demo, 'timezone = "America/Los_Angeles"', f'timezone = "{zone}"')
    code, out, err = cli(capsys, "--config", str(demo.config), "list")
    assert code == 2
    assert f'timezone "{zone}" is not a time zone' in one_error(out, err)
    assert err.count("\n") == 1


def test_state_dir_under_proc_is_one_line_and_alerts_the_admin(demo, capsys):
    set_config(demo, 'state_dir = "state"', f'state_dir = "{PROC}"')
    code, out, err = cli(capsys, "--config", str(demo.config), "run", "all", "--today", str(TODAY))
    assert code == 2
    line = one_error(out, err)
    assert f"{PROC}/jobs.lock" in line and "state_dir" in line
    (alert,) = alerts(demo)  # the ledger is out of reach: the alert goes unrecorded
    assert "jobs.lock" in alert
    code, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1
    assert f"problem: {demo.config}: state_dir {PROC} cannot be used" in out


def test_unwritable_state_dir_is_one_line(demo):
    state = demo.folder / "state"
    state.mkdir()
    state.chmod(0o500)
    try:
        result = as_file_owner(demo.config, "run", "all", "--today", str(TODAY))
    finally:
        state.chmod(0o700)
    assert result.returncode == 2, result.stderr
    line = one_error(result.stdout, result.stderr)
    assert "cannot create the lock file" in line and "permission denied" in line
    assert "state_dir" in line


def test_outbox_dir_that_is_a_file_fails_check_and_run_in_one_line(demo, capsys):
    (demo.folder / "outbox").write_text("not a folder")
    code, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1 and "OK:" not in out
    assert "mail.outbox_dir" in out and "is a file, not a folder" in out
    code, out, err = cli(capsys, "--config", str(demo.config), "run", "all", "--today", str(TODAY))
    assert code == 2
    assert "mail.outbox_dir" in one_error(out, err)


# -- commands ----------------------------------------------------------------------------------


def test_preview_all_previews_every_job(demo, capsys, tmp_path):
    # Issue 13: `preview all` works (it was refused in one line).
    out_dir = str(tmp_path / "all")
    code, out, err = cli(capsys, "--config", str(demo.config), "preview", "all", "--out", out_dir)
    assert code == 0 and "Traceback" not in out + err


def test_report_out_a_folder_or_a_file_that_is_not_html_is_refused(demo, capsys):
    code, out, err = cli(capsys, "--config", str(demo.config), "report", "--out", str(demo.folder))
    assert code == 2
    assert "is a folder" in one_error(out, err)
    notes = demo.folder / "notes.txt"
    notes.write_text("staff notes")
    code, out, err = cli(capsys, "--config", str(demo.config), "report", "--out", str(notes))
    assert code == 2
    assert "not an .html page" in one_error(out, err)
    assert notes.read_text() == "staff notes"


def test_preview_out_a_file_is_refused(demo, capsys):
    notes = demo.folder / "notes.txt"
    notes.write_text("staff notes")
    code, out, err = cli(
        capsys, "--config", str(demo.config), "preview", "pd-reminders", "--out", str(notes)
    )
    assert code == 2
    assert f"preview --out {notes} is a file" in one_error(out, err)
    assert notes.read_text() == "staff notes"


@pytest.mark.parametrize("where", ["file", "proc"])
def test_init_demo_at_a_file_or_an_unwritable_path_is_one_line(tmp_path, capsys, where):
    target = PROC / "demo"
    if where == "file":
        target = tmp_path / "taken"
        target.write_text("x")
    code, out, err = cli(capsys, "init", "--demo", str(target))
    assert code == 2
    assert f"init --demo {target}: cannot write the demo there" in one_error(out, err)


# -- state files ---------------------------------------------------------------------------------


def test_read_only_ledger_is_one_line_and_alerts_the_admin(demo):
    assert run_jobs(demo.config, "run", "all", "--today", str(TODAY)).returncode == 0
    ledger = demo.folder / "state" / "ledger.sqlite3"
    ledger.chmod(0o400)
    before = len(demo.emls())
    result = as_file_owner(demo.config, "run", "all", "--today", str(TODAY))
    assert result.returncode == 1, result.stderr
    line = one_error(result.stdout, result.stderr)
    assert f"cannot open the ledger {ledger}: it is read-only" in line
    assert len(demo.emls()) == before + 1  # the alert only, unrecorded
    assert any("read-only" in text for text in alerts(demo))


def test_read_only_state_folder_at_the_lock_file_is_one_line(demo):
    state = demo.folder / "state"
    state.mkdir()
    state.chmod(0o500)
    try:
        result = as_file_owner(demo.config, "run", "all", "--today", str(TODAY))
    finally:
        state.chmod(0o700)
    assert result.returncode == 2
    line = one_error(result.stdout, result.stderr)
    assert f"cannot create the lock file {state / 'jobs.lock'} (permission denied)" in line


def test_disk_filling_up_while_recording_an_outcome_is_one_line_and_nothing_goes_twice(demo):
    crashed = run_jobs(
        demo.config, "run", "all", "--today", str(TODAY), fault="after-send:3:disk-full"
    )
    assert crashed.returncode == 1, crashed.stderr
    line = one_error(crashed.stdout, crashed.stderr)
    assert "the ledger" in line and "disk" in line and "is the disk full?" in line
    assert "while recording the" in line and "the next run checks that message" in line
    assert "another program" not in crashed.stdout + crashed.stderr
    sent = {p.name for p in demo.emls()}
    assert len(sent) == 3
    again = run_jobs(demo.config, "run", "all", "--today", str(TODAY))
    assert again.returncode == 0, again.stderr
    assert sent <= {p.name for p in demo.emls()}
    sends = ledger_sends(demo.folder)
    assert set(sends.state.values()) == {"sent"}
    assert len([p for p in demo.emls() if not p.name.startswith("admin-alerts")]) == len(sends.keys)


# -- the last-resort guard ---------------------------------------------------------------------


def test_unexpected_error_is_one_line_with_errors_log_and_an_admin_alert(demo):
    result = run_jobs(
        demo.config, "run", "all", "--today", str(TODAY), fault="before-write-back:1:raise"
    )
    assert result.returncode == 1
    log = demo.folder / "state" / "errors.log"
    line = one_error(result.stdout, result.stderr)
    assert "unexpected InjectedFault: fault injected by AUTOMATIONS_FAULT" in line
    assert f"the full traceback is in {log}" in line
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "fault_point" in text
    assert "jobs.py --config" in text and "run all" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    (alert,) = alerts(demo)
    assert "crashed" in alert and "InjectedFault" in alert
