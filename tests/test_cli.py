"""Every command and exit code of jobs.py, and that all of them are documented."""

from __future__ import annotations

import ast
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from automations import PROJECT_ROOT
from automations.cli import COMMANDS, build_parser, main
from automations.jobs import registry
from tests.fixtures.workbooks import TODAY


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_demo_then_run_all_sends_invitations(tmp_path, capsys):
    folder = tmp_path / "demo"
    code, out, _ = cli(capsys, "init", "--demo", str(folder))
    assert code == 0 and "run all" in out
    code, out, err = cli(capsys, "--config", str(folder / "jobs.toml"), "run", "all")
    assert code == 0, err
    sent = len(list((folder / "outbox").glob("*.eml")))
    assert sent >= 8
    assert f"Outbox: {folder / 'outbox'} ({sent} new messages)" in out
    code, out, _ = cli(capsys, "--config", str(folder / "jobs.toml"), "run", "all")
    assert "(0 new messages)" in out


def test_default_config_creates_its_demo_on_first_run(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    shutil.copy(PROJECT_ROOT / "config" / "jobs.toml", tmp_path / "config" / "jobs.toml")
    config = str(tmp_path / "config" / "jobs.toml")
    code, _, err = cli(capsys, "--config", config, "run", "all", "--dry-run")
    assert code == 0
    assert (tmp_path / "var" / "demo" / "committee.xlsx").exists()
    assert err.count("created demo workbooks") == 1


def test_list_and_check_write_nothing_not_even_the_demo(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    shutil.copy(PROJECT_ROOT / "config" / "jobs.toml", tmp_path / "config" / "jobs.toml")
    config = str(tmp_path / "config" / "jobs.toml")
    code, out, _ = cli(capsys, "--config", config, "list")
    assert code == 0 and "never ran" in out
    code, out, _ = cli(capsys, "--config", config, "check")
    assert "the demo workbook" in out and "the first `run` creates it" in out
    assert code == 0, out
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "config",
        "config/jobs.toml",
    ]


def test_list_shows_jobs_schedules_and_last_run(demo, capsys):
    code, out, _ = cli(capsys, "--config", str(demo.config), "list")
    assert code == 0
    assert "committee-invites" in out and "daily at 07:00" in out and "never ran" in out
    cli(capsys, "--config", str(demo.config), "run", "committee-invites", "--today", str(TODAY))
    _, out, _ = cli(capsys, "--config", str(demo.config), "list")
    assert "last ran" in out and "sent 8" in out


def test_dry_run_prints_the_plan_and_exits_0(demo, capsys):
    code, out, _ = cli(
        capsys, "--config", str(demo.config), "run", "all", "--dry-run", "--today", str(TODAY)
    )
    assert code == 0
    assert "[dry run] committee-invites" in out and "would send 8" in out
    assert demo.emls() == []


def test_preview_writes_html_txt_eml_and_an_index(demo, tmp_path, capsys):
    out_dir = tmp_path / "preview"
    code, out, _ = cli(
        capsys,
        "--config",
        str(demo.config),
        "preview",
        "committee-invites",
        "--today",
        str(TODAY),
        "--out",
        str(out_dir),
    )
    assert code == 0 and "8 message(s) previewed" in out
    for suffix in (".html", ".txt", ".eml"):
        assert len(list(out_dir.glob(f"*{suffix}"))) == (9 if suffix == ".html" else 8)
    index = (out_dir / "index.html").read_text()
    assert index.count("<tr>") == 9 and "Invitación" in index
    assert demo.emls() == []


def test_check_passes_on_the_demo(demo, capsys):
    code, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert code == 0, out
    assert out.splitlines()[-1].startswith("OK:")
    assert "problem:" not in out


def remove_column(path: Path, tab: str, header: str) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[tab]
    for cell in sheet[1]:
        if cell.value == header:
            sheet.delete_cols(cell.column)
    workbook.save(path)


def test_check_reports_a_missing_column_and_exits_1(demo, capsys):
    remove_column(demo.committee, "Members", "Email")
    code, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1
    assert "problem: spreadsheet 'committee'" in out and "tab 'Members'" in out
    assert "column 'Email'" in out


def test_job_with_missing_column_exits_1_sends_nothing_and_others_go_on(demo, capsys):
    remove_column(demo.committee, "Meetings", "Date")
    code, out, err = cli(capsys, "--config", str(demo.config), "run", "all")
    assert code == 1
    assert "tab 'Meetings'" in out + err and "Traceback" not in err
    names = [p.name for p in demo.emls()]
    assert not [n for n in names if n.startswith("committee-invites")]
    assert [n for n in names if not n.startswith(("committee-invites", "admin-alerts"))]


def test_failed_run_alerts_the_admin_once_a_day(demo, capsys):
    remove_column(demo.committee, "Meetings", "Date")
    for _ in range(2):
        cli(capsys, "--config", str(demo.config), "run", "committee-invites")
    (alert,) = [p for p in demo.emls() if p.name.startswith("admin-alerts")]
    text = alert.read_text()
    assert "To: mou-admin@example.org" in text
    assert "committee-invites needs attention" in text


def test_unknown_job_is_a_usage_error(demo, capsys):
    code, _, err = cli(capsys, "--config", str(demo.config), "run", "committe-invites")
    assert code == 2
    assert "unknown job 'committe-invites'; jobs are: committee-invites" in err


def test_bad_today_is_a_usage_error(demo, capsys):
    code, _, err = cli(capsys, "--config", str(demo.config), "run", "all", "--today", "30/11/26")
    assert code == 2 and "is not a date like 2026-03-04" in err


MINIMAL = """
[sheets.spreadsheets.committee]
path = "committee.xlsx"
[mail]
sender = "Sender <s@example.org>"
"""


@pytest.mark.parametrize(
    ("top", "tables", "expected"),
    [
        ('timezone = "Mars/Olympus"', "", 'timezone "Mars/Olympus" is not a time zone'),
        ('timzone = "UTC"', "", "timzone is not a known setting; did you mean 'timezone'?"),
        ("", "[smtp]\npassword = 'hunter2'", "smtp.password holds a secret"),
        ("", "[mail.x]\ny = 1", "mail.x is not a known setting"),
        (
            "",
            "[jobs.committee-invites]\ninvite_lead_days = 'soon'",
            "jobs.committee-invites.invite_lead_days must be a whole number",
        ),
        (
            "",
            "[jobs.committee-invites]\nreminder_day = 2",
            "jobs.committee-invites.reminder_day is not a setting of this job; "
            "did you mean 'reminder_days'?",
        ),
        ("", "[jobs.committee-invites]\nschedule = 'hourly'", '"hourly" is not a schedule'),
        ("", "[agreement]\nend = 2020-01-01", "agreement.end must be after agreement.start"),
        (
            "",
            '[jobs.pd-reminders]\nenabled = "no"',
            "jobs.pd-reminders.enabled must be true or false without quotes (it is 'no')",
        ),
        (
            "",
            '[jobs.pd-reminder]\nschedule = "weekdays at 06:30"',
            "jobs.pd-reminder is not a job; did you mean [jobs.pd-reminders]?",
        ),
        ("", "[jobs.payroll]\nenabled = false", "jobs.payroll is not a job; jobs are: "),
    ],
)
def test_configuration_errors_name_the_key_and_exit_2(tmp_path, capsys, top, tables, expected):
    config = tmp_path / "jobs.toml"
    config.write_text(f"{top}\n{MINIMAL}\n{tables}\n")
    code, _, err = cli(capsys, "--config", str(config), "list")
    assert code == 2
    assert expected in err
    assert str(config) in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_config_file_is_a_usage_error(tmp_path, capsys):
    code, _, err = cli(capsys, "--config", str(tmp_path / "nope.toml"), "list")
    assert code == 2 and "no configuration file" in err


def test_every_command_and_job_is_documented_in_help_and_readme(capsys):
    readme = (PROJECT_ROOT / "README.md").read_text()
    help_text = build_parser().format_help()
    for command in COMMANDS:
        assert command in help_text
        assert "jobs.py" in readme and f" {command}" in readme, command
    for job in registry():
        assert job in help_text
        assert f"`{job}`" in readme, job
    for code in ("75",):
        assert code in help_text and code in readme


def test_a_mistyped_workbook_path_is_an_error_never_a_new_demo(tmp_path, capsys):
    """Only the shipped demo paths are ever filled with demo data."""
    (tmp_path / "config").mkdir()
    shipped = (PROJECT_ROOT / "config" / "jobs.toml").read_text()
    typo = shipped.replace('path = "../var/demo/committee.xlsx"', 'path = "../data/comittee.xlsx"')
    (tmp_path / "config" / "jobs.toml").write_text(typo)
    config = str(tmp_path / "config" / "jobs.toml")
    code, out, err = cli(capsys, "--config", config, "run", "committee-invites")
    assert code == 1
    assert f"there is no workbook at {tmp_path / 'data' / 'comittee.xlsx'}" in out + err
    assert not (tmp_path / "data").exists()
    assert not list((tmp_path / "var" / "outbox").glob("committee-invites*"))


# Libraries a command that only prints help or lists jobs has no use for.
SHEET_MAIL_CALENDAR_TEMPLATE_LIBRARIES = (
    "openpyxl",
    "python_calamine",
    "icalendar",
    "jinja2",
    "email_validator",
    "gspread",
    "O365",
)


def imported_by(*args: str) -> set[str]:
    """The top-level packages `jobs.py ARGS` imports, in a fresh interpreter."""
    return {name.partition(".")[0] for name in modules_imported_by(*args)}


def modules_imported_by(*args: str) -> set[str]:
    """Every module `jobs.py ARGS` imports (dotted names), in a fresh interpreter."""
    code = (
        "import contextlib, sys\n"
        "from automations.cli import main\n"
        "with contextlib.suppress(SystemExit):\n"
        f"    main({list(args)!r})\n"
        "print(sorted(sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    )
    return set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))


def test_help_and_list_import_no_sheet_mail_calendar_or_template_library(demo):
    help_imports = imported_by("--help")
    list_imports = imported_by("--config", str(demo.config), "list")
    for name in SHEET_MAIL_CALENDAR_TEMPLATE_LIBRARIES:
        assert name not in help_imports, f"--help imported {name}"
        assert name not in list_imports, f"list imported {name}"
    # Help needs no job module; `list` validates every job's options, and the jobs read
    # languages through automations.languages, which still imports Babel at the top.
    assert "babel" not in help_imports


def test_help_and_list_import_neither_package_metadata_catalogs_tracker_nor_composer(demo):
    # Issue 16: what `--help` and `list` imported without using it was most of their CPU
    # (the package metadata for --version, the catalogs, the tracker's figures, the mail
    # composer); the registry still imports every job module to list the jobs.
    unused = (
        "importlib.metadata",
        "automations.catalogs",
        "automations.translations",
        "automations.tracker",
        "automations.tracker_views",
        "automations.mail.compose",
    )
    help_imports = modules_imported_by("--help")
    list_imports = modules_imported_by("--config", str(demo.config), "list")
    assert "automations.jobs.mou_tracker" in help_imports
    for name in unused:
        assert name not in help_imports, f"--help imported {name}"
        assert name not in list_imports, f"list imported {name}"
    assert "automations.ledger" not in help_imports and "email" not in help_imports


def test_version_still_says_the_installed_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"jobs.py {importlib.metadata.version('automations')}"
