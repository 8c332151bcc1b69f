"""The bad-input corpus (tests/fixtures/bad_input.py) through every job, on a workbook and on
the Google emulator: every bad row gets a status naming its column and problem, every good
row is processed, duplicate IDs are flagged on both rows and neither is sent, nothing crashes."""

from __future__ import annotations

import email
import sqlite3
from email import policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

from automations.demo import demo_workbooks, init_demo
from automations.jobs import registry
from tests.fixtures.bad_input import Corpus, corpus_workbooks, save_grids
from tests.fixtures.google import google_config_text, seed_demo
from tests.fixtures.workbooks import TODAY, Env, read_tab

DUPLICATE_IDS = ("cm-dup", "wb-dup", "pd-dup", "e-dup")
GOOD_ADDRESSES = (
    "maryam@example.org",
    "xiaoming@example.org",
    "longname@example.org",
    "fatima@example.org",
    "li@example.org",
    "zero@example.org",
    "rtl@example.org",
)


def run_every_job(runner) -> tuple[list[str], list[Any]]:
    """Run all jobs; return every problem line and the results (none may crash)."""
    problems: list[str] = []
    results = []
    for job in registry().values():
        result = runner.run(job, today=TODAY)
        assert result.error is None, (job.name, result.error)
        problems += result.problems
        results.append(result)
    return problems, results


def statuses_of_bad_rows(grids_after, corpus: Corpus, google: bool) -> list[tuple[Any, Any]]:
    """(bad row, its Status cell) for every bad row the sheet has a Status cell for."""
    demo = demo_workbooks(TODAY)
    found = []
    for (book, tab), bads in corpus.bad.items():
        grid = grids_after(book, tab)
        header_index = (
            next(i for i, row in enumerate(grid) if row and "Status" in [str(v) for v in row])
            if any("Status" in [str(v) for v in row] for row in grid)
            else None
        )
        rows_before = len(demo[book][tab]) - 1
        start = (header_index if header_index is not None else 0) + 1 + rows_before
        tried = [b for b in bads if google or not b.google_only]
        header = [str(v) for v in grid[header_index]] if header_index is not None else []
        for offset, bad in enumerate(tried):
            row = grid[start + offset] if start + offset < len(grid) else []
            status = None
            if "Status" in header:
                column = header.index("Status")
                status = row[column] if column < len(row) else None
            found.append((bad, status, book, tab, start + offset + 1))
    return found


def check_corpus(found, problems: list[str], corpus: Corpus, google: bool) -> int:
    """Every bad row explained; returns how many were tried."""
    unexplained = []
    for bad, status, _book, tab, number in found:
        if bad.logged:
            # Every job that reads the tab logs the row (Families: three jobs since issue 15).
            lines = [p for p in problems if tab in p and f"row {number}" in p]
            text = " ".join(lines)
        else:
            text = str(status or "")
            lines = [text]
            if not (text.startswith("Error") or "Check:" in text):
                unexplained.append((tab, number, bad.cells, status))
                continue
        if not all(word.casefold() in text.casefold() for word in bad.expect):
            unexplained.append((tab, number, bad.expect, text[:200]))
        assert all(len(line) <= 1000 for line in lines), "statuses are capped"
    assert not unexplained, unexplained
    tried = corpus.count(google)
    assert len(found) == tried and tried >= 60
    return tried


def sent_keys(folder: Path) -> list[str]:
    db = sqlite3.connect(folder / "state" / "ledger.sqlite3")
    try:
        return [k for (k,) in db.execute("SELECT key FROM sends WHERE state = 'sent'")]
    finally:
        db.close()


def delivered_to(outbox: Path) -> set[str]:
    addresses: set[str] = set()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        fields = [str(message[h] or "") for h in ("To", "Bcc")]
        addresses |= {a.casefold() for _, a in getaddresses(fields)}
    return addresses


def check_outcomes(folder: Path) -> None:
    keys = [k.casefold() for k in sent_keys(folder)]
    for ident in DUPLICATE_IDS:  # duplicate IDs: neither row was sent
        assert not any(f"/{ident}/" in k for k in keys), ident
    reached = delivered_to(folder / "outbox")
    for address in GOOD_ADDRESSES:  # good rows beside the bad ones were processed
        assert address in reached, address
    assert any("/00123/" in k for k in keys)  # the leading-zero ID kept its zeros


def test_workbook_corpus_every_bad_row_explained_every_good_row_processed(tmp_path):
    folder = tmp_path / "corpus"
    env = Env(folder, init_demo(folder, TODAY))
    grids, corpus = corpus_workbooks(TODAY)
    save_grids(folder, grids)
    problems, _ = run_every_job(env.runner(out=lambda line: None))
    found = statuses_of_bad_rows(
        lambda book, tab: read_tab(folder / f"{book}.xlsx", tab), corpus, google=False
    )
    tried = check_corpus(found, problems, corpus, google=False)
    check_outcomes(folder)
    staff = read_tab(folder / "pd.xlsx", "Staff")
    assert [r[0] for r in staff if r and str(r[0]).endswith("123")] == ["00123"]
    # A second run changes nothing and sends nothing.
    _, results = run_every_job(env.runner(out=lambda line: None))
    assert sum(r.sent for r in results) == 0
    print(f"bad rows tried (workbook): {tried}")


@pytest.fixture
def google_corpus(tmp_path, sheets_api, service_account_key):
    folder = tmp_path / "google-corpus"
    workbook_config = init_demo(folder, TODAY).read_text(encoding="utf-8")
    for book in folder.glob("*.xlsx"):
        book.unlink()
    grids, corpus = corpus_workbooks(TODAY, google=True)
    ids = seed_demo(sheets_api, TODAY, typed=False, tabs=grids)
    config = folder / "jobs.toml"
    config.write_text(
        google_config_text(
            workbook_config, ids, key_file=service_account_key, base_url=sheets_api.base_url
        ),
        encoding="utf-8",
    )
    return folder, config, ids, corpus


def test_google_corpus_with_control_characters_every_bad_row_explained(google_corpus, sheets_api):
    from tests.fixtures.google import GoogleEnv

    folder, config, ids, corpus = google_corpus
    env = GoogleEnv(folder, config, sheets_api, ids)
    problems, _ = run_every_job(env.runner(out=lambda line: None))
    found = statuses_of_bad_rows(
        lambda book, tab: sheets_api.values(ids[book], tab), corpus, google=True
    )
    tried = check_corpus(found, problems, corpus, google=True)
    check_outcomes(folder)
    for book in ids:
        for sheet in sheets_api.spreadsheets[ids[book]].sheets:
            for row in sheet.cells:
                for value in row:
                    if isinstance(value, str) and value.startswith("Error"):
                        assert "\x07" not in value and "\x00" not in value
    print(f"bad rows tried (google): {tried}")
