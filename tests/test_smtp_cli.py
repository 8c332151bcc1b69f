"""jobs.py with mail.backend = "smtp": run and check against a real loopback server."""

from __future__ import annotations

from automations.cli import main
from tests.fixtures.workbooks import TODAY


def use_smtp(demo, host: str, port: int, **extra: object) -> None:
    text = demo.config.read_text().replace('backend = "outbox"', 'backend = "smtp"')
    settings = "".join(f"{key} = {value}\n" for key, value in extra.items())
    text += (
        f'\n[smtp]\nhost = "{host}"\nport = {port}\nsecurity = "none"\n'
        f"messages_per_minute = 10000\n{settings}"
    )
    demo.config.write_text(text)


def test_run_sends_through_the_configured_server(demo, smtp_server, capsys):
    use_smtp(demo, smtp_server.host, smtp_server.port)
    code = main(
        ["--config", str(demo.config), "run", "committee-invites", "--today", TODAY.isoformat()]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(smtp_server.received) == 8
    assert f"SMTP {smtp_server.host}:{smtp_server.port}: 8 messages sent" in out


def test_check_connects_to_the_server(demo, smtp_server, capsys):
    use_smtp(demo, smtp_server.host, smtp_server.port)
    main(["--config", str(demo.config), "check"])  # exit code also covers templates
    out = capsys.readouterr().out
    assert "problem: mail" not in out
    assert f"mail: SMTP {smtp_server.host}:{smtp_server.port}: connected" in out


def test_check_reports_an_unreachable_server_with_host_and_port(demo, capsys):
    use_smtp(demo, "127.0.0.1", 9)
    code = main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "problem: mail: 127.0.0.1:9: cannot connect" in out


def test_recipients_per_message_above_500_is_refused(demo, capsys):
    use_smtp(demo, "127.0.0.1", 9, recipients_per_message=501)
    code = main(["--config", str(demo.config), "run", "committee-invites"])
    assert code == 2
    assert "smtp.recipients_per_message must be between 1 and 500" in capsys.readouterr().err
