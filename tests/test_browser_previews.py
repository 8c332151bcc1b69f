"""Every job's preview and the tracker report, loaded from disk in headless Chromium,
and every message in every shipped language on a phone (375 px).

Screenshots at 600 px (email width) and 1200 px, and of each language's webinar agenda
at 375 px, go to test-artifacts/browser/ for a person to look at. Skipped without
chromium, except under CI (then they fail).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automations import catalogs, cli
from automations.alerts import admin_alert, rebuild_alert
from automations.config import load_settings
from automations.demo import init_demo
from automations.jobs import mou_tracker, registry
from automations.languages import Language, english_name, parse_language
from automations.render import Renderer
from automations.report import render_report, report_dir
from tests.fixtures.browser import ARTIFACTS, inspect
from tests.fixtures.workbooks import TODAY

JOBS = list(registry())
TOLERANCE = 1.5  # percentage points between a bar's fill and its figure


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Previews of every job on a fresh demo, the report, and en/es/RTL summary samples."""
    folder = tmp_path_factory.mktemp("browser")
    config = init_demo(folder / "demo", TODAY)
    result: dict[str, list[Path]] = {}
    for job in JOBS:
        out = folder / "preview" / job
        code = cli.main(
            ["--config", str(config), "preview", job, "--today", str(TODAY), "--out", str(out)]
        )
        assert code == 0
        result[job] = sorted(out.glob("*.html"))
    report = folder / "report" / "mou-report.html"
    assert (
        cli.main(["--config", str(config), "report", "--today", str(TODAY), "--out", str(report)])
        == 0
    )
    settings = load_settings(config)
    sample = mou_tracker.sample_context()
    sample_report = folder / "report" / "mou-report-sample.html"
    sample_report.write_text(render_report(report_dir(settings), sample), encoding="utf-8")
    result["report"] = [report, sample_report]
    # Right to left: the Arabic draft, with Arabic names in the data.
    arabic = {
        **sample,
        "name": "ليلى",
        "pd": {
            **sample["pd"],
            "sites": [{**s, "site": f"مدرسة {n}"} for n, s in enumerate(sample["pd"]["sites"], 1)],
        },
    }
    samples = folder / "samples"
    samples.mkdir()
    for code, context, renderer in (
        ("en", {**sample, "name": "Ana"}, Renderer(settings.templates_dir)),
        ("es", {**sample, "name": "María José"}, Renderer(settings.templates_dir)),
        ("ar", arabic, Renderer(settings.templates_dir, use=["ar"])),
    ):
        language = parse_language(code)
        assert language is not None
        rendered = renderer.render("mou_summary", language, context)
        path = samples / f"mou_summary-sample-{code}.html"
        path.write_text(rendered.html, encoding="utf-8")
        result.setdefault("samples", []).append(path)
    result["languages"] = every_message_in_every_language(settings, folder / "languages")
    return result


def every_message_in_every_language(settings, folder: Path) -> list[Path]:
    """Each job's sample messages and the tracker summary, in every shipped language."""
    renderer = Renderer(settings.templates_dir, use=catalogs.shipped())
    messages = [
        (m.template, m.context)
        for job in registry().values()
        for m in job.samples(settings, job.options(settings))
    ]
    messages.append(("mou_summary", {**mou_tracker.sample_context(), "name": "Ana"}))
    now = dt.datetime.combine(TODAY, dt.time(7), settings.timezone)
    alert = admin_alert(settings, "pd-reminders", TODAY, "sent 0, failed 3", ["a problem"] * 12)
    rebuilt = rebuild_alert(settings, {"pd-reminders": ["3 digests"]}, now, folder / "l.db")
    for message in (alert, rebuilt):
        assert message is not None
        messages.append((message.template, message.context))
    assert {t for t, _ in messages} == set(renderer.template_names())
    folder.mkdir()
    paths = []
    for code in ("en", *catalogs.shipped()):
        assert code in renderer.languages, code
        for number, (template, context) in enumerate(messages):
            rendered = renderer.render(template, Language(code, english_name(code)), context)
            path = folder / f"{code}-{number:02d}-{template}.html"
            path.write_text(rendered.html, encoding="utf-8")
            paths.append(path)
    return paths


def check(report) -> None:
    assert report.errors == [], f"{report.path.name}: {report.errors}"
    outside = [url for url in report.requests if not url.startswith("file://")]
    assert outside == [], f"{report.path.name} loads external assets: {outside}"
    assert report.overflow <= 0, f"{report.path.name} overflows 600 px by {report.overflow} px"
    for bar in report.bars:
        assert abs(bar["actual"] - bar["expected"]) <= TOLERANCE, (report.path.name, bar)


@pytest.mark.parametrize("job", JOBS)
def test_every_preview_loads_without_errors_or_overflow_at_email_width(browser, pages, job):
    assert pages[job], f"the {job} preview wrote no pages"
    for path in pages[job]:
        report = inspect(browser, path, ARTIFACTS / "preview" / job)
        check(report)
        assert [s.name for s in report.screenshots] == [
            f"{path.stem}-600.png",
            f"{path.stem}-1200.png",
        ]


def test_summary_bars_have_the_widths_of_their_figures(browser, pages):
    summaries = [p for p in pages["mou-tracker"] if "mou_summary" in p.name]
    assert summaries
    report = inspect(browser, summaries[0], None)
    check(report)
    # The demo: 7 active staff; 3, 3, 2 and 1 completed the four topics.
    assert [round(b["expected"]) for b in report.bars[:4]] == [43, 43, 29, 14]
    widths = [b["actual"] for b in report.bars[:4]]
    assert widths[0] == pytest.approx(widths[1], abs=0.5) and widths[0] > widths[2] > widths[3]
    assert widths[0] == pytest.approx(2 * widths[3] + 14, abs=TOLERANCE)


def test_report_loads_as_a_standalone_page_with_proportional_bars(browser, pages):
    for path in pages["report"]:
        report = inspect(browser, path, ARTIFACTS / "report")
        check(report)
        assert report.lang == "en" and report.bars
        assert "MOU tracker: where the promises stand" in report.text
    sample = inspect(browser, pages["report"][1], None)
    by_percent = {round(b["expected"]): b["actual"] for b in sample.bars}
    assert by_percent[88] == pytest.approx(88, abs=TOLERANCE)  # Safe Zones 176 of 200
    assert by_percent[20] == pytest.approx(20, abs=TOLERANCE)  # Family Resources 40 of 200


def test_spanish_summary_renders_in_spanish(browser, pages):
    path = next(p for p in pages["samples"] if p.name.endswith("-es.html"))
    report = inspect(browser, path, ARTIFACTS / "samples")
    check(report)
    assert report.lang == "es" and report.direction == "ltr"
    assert "Cómo van los compromisos del MOU" in report.text
    assert "Hola, María José:" in report.text
    assert all(b["startsLeft"] for b in report.bars)


def test_right_to_left_summary_renders_mirrored_without_overflow(browser, pages):
    path = next(p for p in pages["samples"] if p.name.endswith("-ar.html"))
    report = inspect(browser, path, ARTIFACTS / "samples")
    check(report)
    assert report.lang == "ar" and report.direction == "rtl"
    assert "ليلى" in report.text and "مدرسة 1" in report.text
    # Bars fill from the right in a right-to-left message.
    assert report.bars and all(b["startsRight"] for b in report.bars if b["expected"])


def test_preview_index_pages_list_every_message(browser, pages):
    for job in JOBS:
        index = next(p for p in pages[job] if p.name == "index.html")
        report = inspect(browser, index, None)
        check(report)
        messages = len([p for p in pages[job] if p.name != "index.html"])
        assert f"{messages} message(s) would be sent" in report.text


PHONE = 375  # px: a phone held upright


@pytest.mark.parametrize("code", ["en", *catalogs.shipped()])
def test_every_message_in_every_language_fits_a_phone(browser, pages, code):
    paths = [p for p in pages["languages"] if p.name.startswith(f"{code}-")]
    # 19 messages before issue 15; committee-followup, family-outreach and resources add 2 each.
    assert len(paths) == 25, f"{code}: {len(paths)} messages"
    language = parse_language(code)
    assert language is not None
    for path in paths:
        shots = ARTIFACTS / "languages" if "webinar_agenda" in path.name else None
        report = inspect(browser, path, shots, widths=(PHONE,))
        assert report.errors == [], f"{path.name}: {report.errors}"
        assert report.overflow <= 0, f"{path.name} overflows {PHONE} px by {report.overflow} px"
        assert report.lang == language.tag, path.name
        # Arabic and Farsi read right to left, the others left to right.
        assert report.direction == ("rtl" if code in ("ar", "fa") else "ltr"), path.name


@pytest.mark.parametrize("code", ["en", *catalogs.shipped()])
def test_family_outreach_message_and_reminder_fit_a_phone_in_every_language(browser, pages, code):
    paths = [
        p
        for p in pages["languages"]
        if p.name.startswith(f"{code}-") and "family_outreach" in p.name
    ]
    assert len(paths) == 2, paths  # the first message and the reminder
    language = parse_language(code)
    assert language is not None
    texts = []
    for path in paths:
        report = inspect(browser, path, ARTIFACTS / "family-outreach", widths=(PHONE,))
        assert report.errors == [], f"{path.name}: {report.errors}"
        assert report.overflow <= 0, f"{path.name} overflows {PHONE} px by {report.overflow} px"
        assert report.lang == language.tag
        texts.append(report.text)
    first, reminder = texts
    # The reminder says it is one; both carry the how-to and the five-point checklist.
    assert len(reminder) > len(first)
    for text in texts:
        assert text.count("\n") >= 10


def test_family_outreach_preview_shows_the_batches_a_run_would_send(browser, pages):
    previews = [p for p in pages["family-outreach"] if p.name != "index.html"]
    assert len(previews) == 2  # the demo: one English and one Spanish batch
    for path in previews:
        report = inspect(
            browser, path, ARTIFACTS / "preview" / "family-outreach-phone", widths=(PHONE,)
        )
        check(report)
        assert "https://parents.example.org/portal" not in report.text  # a link, not a URL
        assert ("Parent Portal" in report.text) or ("Portal para Padres" in report.text)
