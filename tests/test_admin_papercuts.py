"""The admin's small surprises (issue 18): init on an existing demo or inside the project,
--config after the command, --version, absolute paths, the dry-run listing, check's last line."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import openpyxl

from automations.jobs import registry
from automations.plan import Plan, TabContent
from automations.preview import MAX_LISTED, dry_run_lines
from automations.sheets.contract import CellWrite, RowRef
from automations.sheets.xlsx_read import OLE2_MAGIC
from tests.fixtures.workbooks import TODAY
from tests.test_cli import cli


def listing(folder: Path) -> dict[str, float]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime for p in folder.rglob("*")}


def test_init_demo_on_an_existing_demo_says_nothing_was_changed(tmp_path, capsys):
    folder = tmp_path / "demo"
    assert cli(capsys, "init", "--demo", str(folder))[0] == 0
    before = listing(folder)
    code, out, err = cli(capsys, "init", "--demo", str(folder))
    assert code == 2 and "Demo written" not in out
    assert f"init --demo {folder}: a demo is already there" in err
    assert "jobs.toml, committee.xlsx, family.xlsx, pd.xlsx" in err
    assert "nothing was changed" in err
    assert listing(folder) == before


def test_init_demo_completing_a_demo_names_the_files_left_alone(tmp_path, capsys):
    folder = tmp_path / "demo"
    cli(capsys, "init", "--demo", str(folder))
    (folder / "pd.xlsx").unlink()
    code, out, _ = cli(capsys, "init", "--demo", str(folder))
    assert code == 0 and (folder / "pd.xlsx").exists()
    assert "jobs.toml, committee.xlsx, family.xlsx already there and left unchanged" in out


def test_init_demo_refuses_a_folder_holding_the_project(tmp_path, capsys, monkeypatch):
    clone = tmp_path / "clone"
    (clone / "automations").mkdir(parents=True)
    (clone / "automations" / "__init__.py").write_text("")
    (clone / "pyproject.toml").write_text('[project]\nname = "automations"\n')
    before = listing(clone)
    monkeypatch.chdir(clone)
    code, out, err = cli(capsys, "init", "--demo", ".")
    assert code == 2 and out == ""
    assert f"init --demo {clone}: this folder holds the project's own files" in err
    assert listing(clone) == before


def test_config_is_accepted_after_the_command(demo, capsys):
    code, out, err = cli(capsys, "list", "--config", str(demo.config))
    assert code == 0, err
    assert "committee-invites" in out
    code, out, err = cli(
        capsys, "run", "all", "--dry-run", "--today", str(TODAY), "--config", str(demo.config)
    )
    assert code == 0, err
    assert "[dry run] committee-invites" in out


def test_version_prints_the_version(capsys):
    code, out, _ = cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"jobs.py {importlib.metadata.version('automations')}"


def test_a_relative_config_path_is_named_absolute_in_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs.toml").write_text("timezone = 7\n")
    code, _, err = cli(capsys, "--config", "jobs.toml", "list")
    assert code == 2
    assert f"{tmp_path / 'jobs.toml'}: timezone" in err
    code, _, err = cli(capsys, "--config", "nope.toml", "list")
    assert f"no configuration file at {tmp_path / 'nope.toml'}" in err


def test_an_old_excel_file_is_told_to_be_saved_as_xlsx_without_library_names(demo, capsys):
    old = demo.folder / "committee.xls"
    old.write_bytes(OLE2_MAGIC + b"\0" * 512)
    config = demo.config.read_text().replace('path = "committee.xlsx"', 'path = "committee.xls"')
    demo.config.write_text(config)
    code, out, err = cli(capsys, "--config", str(demo.config), "run", "committee-invites")
    assert code == 1
    assert f"({old})" in out + err and "save it as an Excel Workbook (.xlsx)" in out + err
    assert not re.search(r"openpyxl|xlrd|zipfile|BadZip|OLE", out + err, re.IGNORECASE)


def test_dry_run_lists_only_writes_that_change_a_cell_then_counts_the_rest(demo, capsys):
    config = str(demo.config)
    code, _, _ = cli(capsys, "--config", config, "run", "committee-invites", "--today", str(TODAY))
    assert code == 0
    # One member's status is cleared by hand: that one write changes a cell.
    workbook = openpyxl.load_workbook(demo.folder / "committee.xlsx")
    members = workbook["Members"]
    headers = [c.value for c in members[1]]
    members.cell(2, headers.index("Status") + 1).value = None
    email = members.cell(2, headers.index("Email") + 1).value
    workbook.save(demo.folder / "committee.xlsx")
    code, out, _ = cli(
        capsys, "--config", config, "run", "committee-invites", "--dry-run", "--today", str(TODAY)
    )
    assert code == 0
    writes = [line for line in out.splitlines() if line.startswith("  write ")]
    assert len(writes) == 1 and "Members" in writes[0] and email[0] in writes[0]
    assert re.search(r"\(\d+ cell\(s\) already hold what would be written: unchanged\)", out)


def test_a_long_dry_run_lists_the_first_lines_and_counts_every_other_change():
    writes = [
        CellWrite("pd", RowRef("Staff", f"E{n}"), "Status", f"Reminder {n}")
        for n in range(MAX_LISTED + 5)
    ]
    # A later write to the same cell replaces the earlier one: it is one change.
    writes.append(CellWrite("pd", RowRef("Staff", "e0"), "Status", "Reminder again"))
    plan = Plan(writes=writes, tabs=[TabContent("pd", "MOU Tracker", (("x",),))])
    lines, planned, problems = dry_run_lines(plan, history=None, renderer=None)
    assert planned == 0 and problems == []
    assert len(lines) == MAX_LISTED + 1
    assert lines[0] == "  write Staff [E1] Status = 'Reminder 1'"
    assert lines[-2] == f"  write Staff [E{MAX_LISTED}] Status = 'Reminder {MAX_LISTED}'"
    assert lines[-1] == "  … and 6 more"  # 4 cell writes, the E0 write and the tab


def test_check_ends_with_one_summary_line(demo, capsys):
    code, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert code == 0
    jobs = len(registry())  # every job is enabled in the demo
    assert out.splitlines()[-1] == (
        f"OK: 3 spreadsheets, {jobs} jobs, 2 languages, mail backend outbox ready"
    )


def test_check_with_problems_ends_with_their_count(demo, capsys):
    (demo.folder / "pd.xlsx").write_bytes(b"not a workbook")
    (demo.folder / "family.xlsx").write_bytes(b"")
    code, out, _ = cli(capsys, "--config", str(demo.config), "check")
    assert code == 1
    assert out.splitlines()[-1] == "2 problems found, each on a 'problem:' line above"
