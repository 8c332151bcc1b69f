"""Files that hold family addresses, tokens or tracebacks are private whatever the umask;
logs and errors never show a full address or a secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from automations.cli import main
from automations.ledger import Ledger
from automations.mail.microsoft365 import token_backend_in
from tests.emulators.smtp_server import SmtpServer
from tests.fixtures.faults import run_jobs, serving
from tests.fixtures.mail import token_backend
from tests.fixtures.workbooks import TODAY, records

REFUSED = "t.aguilar@example.org"  # a committee member whose server refuses mail


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The loosest umask: everything the tool creates is readable by all unless it says so."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_ledger_lock_and_their_folder_are_private_whatever_the_umask(demo, open_umask, capsys):
    assert main(["--config", str(demo.config), "run", "all", "--today", str(TODAY)]) == 0
    state = demo.folder / "state"
    assert mode(state) == 0o700
    assert mode(state / "ledger.sqlite3") == 0o600
    assert mode(state / "jobs.lock") == 0o600
    ledger = Ledger(state / "ledger.sqlite3")
    try:  # while a run has it open, SQLite's side files follow the ledger's mode
        sides = [state / "ledger.sqlite3-wal", state / "ledger.sqlite3-shm"]
        assert all(p.exists() for p in sides)
        assert {mode(p) for p in sides} == {0o600}
    finally:
        ledger.close()


def test_preview_files_are_private_whatever_the_umask(demo, open_umask, tmp_path, capsys):
    folder = tmp_path / "previews" / "webinars"
    args = ["preview", "webinar-agendas", "--today", str(TODAY), "--out", str(folder)]
    assert main(["--config", str(demo.config), *args]) == 0
    files = list(folder.iterdir())
    assert any(p.suffix == ".eml" for p in files)  # whole Bcc lists of families
    assert mode(folder) == 0o700
    assert {mode(p) for p in files} == {0o600}


def test_token_cache_is_written_private(tmp_path, open_umask):
    state = tmp_path / "state"
    cache = token_backend_in(state)
    cache._cache = token_backend()._cache
    assert cache.save_token(force=True)
    assert mode(state) == 0o700
    assert mode(state / "o365_token.json") == 0o600
    (state / "o365_token.json").chmod(0o644)  # an older, loose copy is rewritten private
    assert cache.save_token(force=True)
    assert mode(state / "o365_token.json") == 0o600


def test_check_warns_about_loose_files_in_the_state_folder(demo, capsys):
    assert main(["--config", str(demo.config), "run", "all", "--today", str(TODAY)]) == 0
    state = demo.folder / "state"
    (state / "ledger.sqlite3").chmod(0o644)
    backup = state / "backups" / "ledger-2026-11-30.sqlite3"
    backup.parent.mkdir(exist_ok=True)  # the run made its own (private) backup there
    backup.write_bytes(b"")
    backup.chmod(0o640)
    state.chmod(0o755)
    capsys.readouterr()
    main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert f"warning: private: the state folder {state} can be opened by group and others" in out
    assert f"chmod 700 {state}" in out
    assert f"warning: private: {state / 'ledger.sqlite3'} can be read by group and others" in out
    assert f"warning: private: {backup} can be read by group (mode 640)" in out
    assert "jobs.lock" not in out  # created private
    for path in (state, state / "ledger.sqlite3", backup.parent, backup):
        path.chmod(0o700 if path.is_dir() else 0o600)
    main(["--config", str(demo.config), "check"])
    assert "private:" not in capsys.readouterr().out


# -- logs and errors -----------------------------------------------------------------------------


def test_verbose_log_masks_an_address_inside_a_server_refusal(demo):
    server = SmtpServer().start()
    try:
        with serving("smtp", demo.config, server):
            server.handler.reject[REFUSED] = f"550 5.1.1 <{REFUSED}>: Recipient address rejected"
            result = run_jobs(demo.config, "-v", "run", "committee-invites", "--today", str(TODAY))
    finally:
        server.stop()
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "550 5.1.1 <t***@example.org>" in output
    assert REFUSED not in output
    # Staff still see which member it was, in their own sheet.
    (status,) = [r["Status"] for r in records(demo.committee, "Members") if r["Email"] == REFUSED]
    assert REFUSED in status and "550" in status


@pytest.mark.parametrize(
    ("section", "secret"),
    [
        (
            '[smtp]\nhost = "127.0.0.1"\nsecurity = "none"\nusername = "u"\npassword_env',
            "Pa55-w0rd!",
        ),
        (
            '[microsoft365]\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env',
            "Xy8Q~abcDEF.secret",
        ),
    ],
)
def test_a_secret_given_as_an_env_name_is_never_echoed(demo, capsys, section, secret):
    backend = "smtp" if section.startswith("[smtp]") else "microsoft365"
    text = demo.config.read_text().replace('backend = "outbox"', f'backend = "{backend}"')
    demo.config.write_text(f'{text}\n{section} = "{secret}"\n')
    main(["--config", str(demo.config), "check"])
    out = capsys.readouterr()
    assert "names an environment variable that is not set" in out.out
    code = main(["--config", str(demo.config), "run", "all", "--today", str(TODAY)])
    run = capsys.readouterr()
    assert code == 2
    for text in (out.out, out.err, run.out, run.err):
        assert secret not in text
    alerts = [p.read_bytes() for p in demo.folder.rglob("*.eml")]
    assert not any(secret.encode() in a for a in alerts)
