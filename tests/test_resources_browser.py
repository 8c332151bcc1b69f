"""The resources job's printed flyers and its previews in headless Chromium: a phone's
375 px without overflow, and each flyer printed to Letter on exactly one page.

Screenshots go to test-artifacts/browser/resources/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from automations import cli
from automations.demo import init_demo
from automations.flyers import PAGE_ENTRIES
from tests.fixtures.browser import ARTIFACTS, inspect
from tests.fixtures.workbooks import TODAY

PHONE = 375


@pytest.fixture(scope="module")
def flyers(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The demo's flyers (two regions with entries to show, English and Spanish)."""
    folder = tmp_path_factory.mktemp("flyers")
    config = init_demo(folder / "demo", TODAY)
    out = folder / "flyers"
    args = ["--config", str(config), "resources", "--out", str(out), "--today", str(TODAY)]
    assert cli.main(args) == 0
    return sorted(out.glob("*.html"))


def pdf_pages(pdf: bytes) -> int:
    """How many pages a PDF Chromium printed has."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_each_flyer_fits_a_phone_and_prints_on_one_letter_page(browser, flyers):
    assert [p.name for p in flyers] == [
        "east-en.html",
        "east-es.html",
        "south-en.html",
        "south-es.html",
    ]
    for path in flyers:
        report = inspect(browser, path, ARTIFACTS / "resources", widths=(PHONE,))
        assert report.errors == [] and report.requests == [path.as_uri()], path.name
        assert report.overflow <= 0, f"{path.name} overflows {PHONE} px by {report.overflow} px"
        page = browser.new_page()
        try:
            page.goto(path.as_uri(), wait_until="load")
            links = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
            pdf = page.pdf(format="Letter", prefer_css_page_size=True)
        finally:
            page.close()
        assert pdf_pages(pdf) == 1, f"{path.name} prints on {pdf_pages(pdf)} pages"
        assert any(link.startswith("tel:+1") for link in links), path.name
    spanish = inspect(browser, flyers[1], None, widths=(PHONE,))
    assert spanish.lang == "es" and "Ayuda cerca de usted" in spanish.text
    assert (
        "Ayuda legal gratis" in spanish.text and "Eastside Immigrant Legal Clinic" in spanish.text
    )


def test_a_flyer_holding_the_most_entries_a_page_takes_still_prints_on_one_page(
    browser, flyers, tmp_path
):
    """The writer puts at most PAGE_ENTRIES on a flyer (the rest: ask the school office);
    that many, in Spanish (longer than English), still fit one Letter page."""
    spanish = flyers[1].read_text(encoding="utf-8")
    entries = re.findall(r'<div class="entry">.*?</div>', spanish, re.S)
    copies = PAGE_ENTRIES - len(entries) + 1
    crowded = tmp_path / "crowded.html"
    crowded.write_text(spanish.replace(entries[0], entries[0] * copies, 1), encoding="utf-8")
    page = browser.new_page()
    try:
        page.goto(crowded.as_uri(), wait_until="load")
        assert page.eval_on_selector_all(".entry", "els => els.length") == PAGE_ENTRIES
        pdf = page.pdf(format="Letter", prefer_css_page_size=True)
    finally:
        page.close()
    assert pdf_pages(pdf) == 1
