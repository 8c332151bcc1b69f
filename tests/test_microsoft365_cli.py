"""jobs.py with mail.backend = "microsoft365": config, token cache, run and check."""

from __future__ import annotations

from automations.cli import main
from tests.fixtures.mail import token_backend
from tests.fixtures.workbooks import TODAY, records


def use_microsoft365(demo, graph, monkeypatch, **extra: object) -> None:
    """Point the demo config at the emulator; the token cache sits in the state dir."""
    monkeypatch.setenv("M365_SECRET", "not-used-with-a-cached-token")
    text = demo.config.read_text().replace('backend = "outbox"', 'backend = "microsoft365"')
    settings = "".join(f"{key} = {value}\n" for key, value in extra.items())
    text += (
        '\n[microsoft365]\ntenant_id = "tenant-id"\nclient_id = "client-id"\n'
        f'client_secret_env = "M365_SECRET"\nservice_url = "{graph.url}"\n'
        f"messages_per_minute = 10000\n{settings}"
    )
    demo.config.write_text(text)
    state = demo.folder / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "o365_token.json").write_text(token_backend().serialize())


def test_run_creates_the_meeting_in_the_configured_mailbox(demo, graph, monkeypatch, capsys):
    use_microsoft365(demo, graph, monkeypatch)
    code = main(
        ["--config", str(demo.config), "run", "committee-invites", "--today", TODAY.isoformat()]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "committee-invites: sent 8" in out
    assert "Microsoft 365 mailbox immigrant-support@example.org" in out
    assert len(graph.state.events) == 1
    assert records(demo.committee, "Meetings")[0]["Status"].startswith("Invitation sent to 8")
    assert not (demo.folder / "o365_token.txt").exists()


def test_check_signs_in_and_names_the_permissions(demo, graph, monkeypatch, capsys):
    use_microsoft365(demo, graph, monkeypatch)
    main(["--config", str(demo.config), "check"])  # exit code also covers templates
    out = capsys.readouterr().out
    assert "problem: mail" not in out
    assert "mail: Microsoft 365 mailbox immigrant-support@example.org: signed in" in out
    assert "Mail.Send" in out and "Calendars.ReadWrite" in out


def test_check_reports_a_missing_permission(demo, graph, monkeypatch, capsys):
    use_microsoft365(demo, graph, monkeypatch)
    graph.state.forbidden.add("/calendar")
    code = main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "problem: mail:" in out and "access denied" in out


def test_a_missing_secret_variable_is_a_config_error(demo, graph, monkeypatch, capsys):
    use_microsoft365(demo, graph, monkeypatch)
    monkeypatch.delenv("M365_SECRET")
    code = main(["--config", str(demo.config), "run", "committee-invites"])
    assert code == 2
    assert "M365_SECRET" in capsys.readouterr().err
