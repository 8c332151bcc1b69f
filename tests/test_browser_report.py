"""The tracker report and the summary email as co-chairs see them (issue 13), in headless
Chromium: on a phone (375 px), on a wide screen (1280 px) and printed on Letter paper, no
word breaks mid-word and nothing sticks out or hides off-screen; the printed demo report
is at most three pages with the committee section starting on page one; and every text
in every template reaches WCAG AA contrast (4.5:1). Skipped without chromium, except under
CI (then they fail). Screenshots go to test-artifacts/browser/report/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from automations import catalogs, cli
from automations.config import load_settings
from automations.demo import init_demo
from automations.jobs import mou_tracker
from automations.languages import Language, english_name
from automations.render import Renderer
from automations.report import render_report, report_dir
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.layout import (
    BROKEN_WORDS_JS,
    CROWDED_JS,
    OUTSIDE_JS,
    OVERHANG_JS,
    low_contrast,
    pdf_pages,
)
from tests.fixtures.workbooks import TODAY
from tests.test_browser_previews import every_message_in_every_language

PHONE, WIDE = 375, 1280
# Letter less the report's 0.5 in margins, in CSS pixels (96 per inch).
PRINT_WIDTH, PRINT_HEIGHT = int(7.5 * 96), (10 * 96)
SHOTS = ARTIFACTS / "report"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The demo's report and summary preview, the sample report, summaries in every
    language, every template in English and a preview index."""
    folder = tmp_path_factory.mktemp("report-browser")
    config = init_demo(folder / "demo", TODAY)
    settings = load_settings(config)
    report = folder / "mou-report.html"
    args = ["--config", str(config), "report", "--today", str(TODAY), "--out", str(report)]
    assert cli.main(args) == 0
    sample = folder / "mou-report-sample.html"
    sample.write_text(
        render_report(report_dir(settings), mou_tracker.sample_context()), encoding="utf-8"
    )
    preview = folder / "preview"
    args = ["--config", str(config), "preview", "mou-tracker", "--today", str(TODAY)]
    assert cli.main([*args, "--out", str(preview)]) == 0
    renderer = Renderer(settings.templates_dir, use=catalogs.shipped())
    summaries = []
    for code in ("en", *catalogs.shipped()):
        context = {**mou_tracker.sample_context(), "name": "Ana"}
        rendered = renderer.render("mou_summary", Language(code, english_name(code)), context)
        path = folder / f"mou_summary-{code}.html"
        path.write_text(rendered.html, encoding="utf-8")
        summaries.append(path)
    messages = every_message_in_every_language(settings, folder / "languages")
    return {
        "reports": [report, sample],
        "summaries": summaries + sorted(p for p in preview.glob("*.html") if "summary" in p.name),
        "english": [p for p in messages if p.name.startswith("en-")],
        "index": [preview / "index.html"],
    }


def load(browser, path: Path, width: int, media: str = "screen"):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(media=media)
    page.goto(path.as_uri(), wait_until="load")
    return page


@pytest.mark.parametrize("width", [PHONE, WIDE])
def test_the_report_keeps_every_word_whole_and_nothing_off_screen(browser, made, width):
    for path in made["reports"]:
        page = load(browser, path, width)
        try:
            broken = page.evaluate(BROKEN_WORDS_JS)
            assert broken == [], f"{path.name} at {width} px breaks words: {broken[:12]}"
            overhang = page.evaluate(OVERHANG_JS)
            assert overhang == [], f"{path.name} at {width} px: {overhang[:8]}"
            text = page.evaluate("document.body.innerText")
            assert "Parents by UTLA" in text  # the figure that shows the gap, in view
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{path.stem}-{width}.png"), full_page=True)
        finally:
            page.close()


def test_the_printed_report_keeps_words_whole_and_fits_three_letter_pages(browser, made):
    for path in made["reports"]:
        page = load(browser, path, PRINT_WIDTH, media="print")
        try:
            broken = page.evaluate(BROKEN_WORDS_JS)
            assert broken == [], f"{path.name} printed breaks words: {broken[:12]}"
            overhang = page.evaluate(OVERHANG_JS)
            assert overhang == [], f"{path.name} printed: {overhang[:8]}"
            top = page.evaluate("document.getElementById('committee').getBoundingClientRect().top")
            assert top < PRINT_HEIGHT * 0.8, f"{path.name}: the committee section starts on page 2"
            pdf = page.pdf(format="Letter", print_background=True)
            (SHOTS / f"{path.stem}.pdf").parent.mkdir(parents=True, exist_ok=True)
            (SHOTS / f"{path.stem}.pdf").write_bytes(pdf)
            if path.name == "mou-report.html":
                assert 1 <= pdf_pages(pdf) <= 3, f"the demo report prints on {pdf_pages(pdf)} pages"
        finally:
            page.close()


def test_the_summary_s_quarter_labels_stay_apart_on_a_phone(browser, made):
    for path in made["summaries"]:
        page = load(browser, path, PHONE)
        try:
            crowded = page.evaluate(CROWDED_JS, ".strip td.quarter, .strip td.strip-year")
            assert crowded == [], f"{path.name}: quarter labels collide: {crowded}"
            if path.name.endswith("-es.html"):
                page.screenshot(path=str(SHOTS / f"{path.stem}-{PHONE}.png"), full_page=True)
        finally:
            page.close()


def test_nothing_in_the_summary_sticks_out_of_the_message_on_a_phone(browser, made):
    for path in made["summaries"]:
        page = load(browser, path, PHONE)
        try:
            outside = page.evaluate(OUTSIDE_JS, ".card")
            assert outside == [], f"{path.name}: sticks out of the message: {outside[:6]}"
            broken = page.evaluate(BROKEN_WORDS_JS)
            assert broken == [], f"{path.name} breaks words: {broken[:12]}"
        finally:
            page.close()


def test_every_text_colour_reaches_wcag_aa_contrast(browser, made):
    pages = made["english"] + made["reports"] + made["index"] + made["summaries"][:1]
    assert len(pages) > 20
    for path in pages:
        page = load(browser, path, 600)
        try:
            low = low_contrast(page)
            assert low == [], f"{path.name}: text below 4.5:1: {low[:6]}"
        finally:
            page.close()
