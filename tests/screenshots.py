"""Regenerate the README pictures: `python -m tests.screenshots` (needs chromium).

Writes docs/screenshots/pd-digest.png (a PD digest preview at email width, 600 px) and
docs/screenshots/mou-report.png (the tracker report at 1200 px), both from a fresh
demo dated 2026-11-30 so the pictures only change when the templates or data do.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from automations import cli
from automations.backends import open_spreadsheet
from automations.config import load_settings
from automations.demo import init_demo
from automations.ledger import Ledger
from automations.report import write_report
from tests.fixtures.browser import ROOT, chromium, chromium_path

DAY = dt.date(2026, 11, 30)
OUT = ROOT / "docs" / "screenshots"


def shoot(context, page_file: Path, width: int, target: Path) -> None:
    """Screenshot `page_file` at `width` px, whole page, into `target`."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(page_file.as_uri(), wait_until="load")
    page.screenshot(path=str(target), full_page=True)
    page.close()


def main() -> int:
    """Build the demo, its PD preview and report, and photograph both."""
    executable = chromium_path()
    if executable is None:
        print("chromium is not installed: apt-get install -y chromium fonts-noto-core")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        config = init_demo(folder / "demo", DAY)
        preview = folder / "preview"
        args = ["preview", "pd-reminders", "--today", str(DAY), "--out", str(preview)]
        cli.main(["--config", str(config), *args])
        digest = sorted(preview.glob("*-pd_digest-en.html"))[0]
        settings = load_settings(config)
        now = dt.datetime.combine(DAY, dt.time(7, 0), settings.timezone)
        ledger = Ledger(settings.state_dir / "ledger.sqlite3", read_only=True)
        report = write_report(
            settings,
            lambda name: open_spreadsheet(settings, name),
            ledger,
            now,
            folder / "mou-report.html",
        )
        with chromium(folder / "profile", executable) as context:
            shoot(context, digest, 600, OUT / "pd-digest.png")
            shoot(context, report, 1200, OUT / "mou-report.png")
    for name in ("pd-digest.png", "mou-report.png"):
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
