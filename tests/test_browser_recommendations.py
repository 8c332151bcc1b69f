"""The committee's recommendations in headless Chromium: the owner's digest, the members'
follow-up and the invitation's list of open items on a phone (375 px), in English,
Spanish and right to left, with a long unbreakable line; and the report's section.

Screenshots go to test-artifacts/browser/recommendations/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from automations import cli
from automations.config import load_settings
from automations.demo import init_demo
from automations.jobs import committee_followup, committee_invites
from automations.languages import parse_language
from automations.render import Renderer
from tests.fixtures.browser import ARTIFACTS, inspect
from tests.fixtures.workbooks import TODAY

PHONE = 375
SHOTS = ARTIFACTS / "recommendations"
# A pasted link with no place to break: it must wrap, not widen the message.
LONG = "See https://achieve.lausd.net/site/handlers/filedownload.ashx?moduleinstanceid=" + "x" * 80


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The new messages' samples in en, es and ar, and the demo's preview and report."""
    folder = tmp_path_factory.mktemp("recommendations")
    config = init_demo(folder / "demo", TODAY)
    settings = load_settings(config)
    renderer = Renderer(settings.templates_dir, use=["ar"])
    messages = committee_followup.samples(settings, committee_followup.options(settings))
    invites = committee_invites.samples(settings, committee_invites.options(settings))
    messages += [m for m in invites if m.template == "committee_invite"]
    result = {}
    for code in ("en", "es", "ar"):
        language = parse_language(code)
        assert language is not None
        for message in messages:
            context = dict(message.context)
            for key in ("items", "open"):
                if key in context:
                    context[key] = [{**context[key][0], "text": LONG}, *context[key][1:]]
            rendered = renderer.render(message.template, language, context)
            path = folder / f"{message.template}-{code}.html"
            path.write_text(rendered.html, encoding="utf-8")
            result[path.stem] = path
    preview = folder / "preview"
    args = ["--config", str(config), "preview", "committee-followup", "--today", str(TODAY)]
    assert cli.main([*args, "--out", str(preview)]) == 0
    for path in preview.glob("*.html"):
        result[f"preview-{path.stem}"] = path
    report = folder / "report.html"
    args = ["--config", str(config), "report", "--today", str(TODAY), "--out", str(report)]
    assert cli.main(args) == 0
    result["report"] = report
    return result


@pytest.mark.parametrize("code", ["en", "es", "ar"])
@pytest.mark.parametrize(
    "template", ["committee_followup_digest", "committee_followup", "committee_invite"]
)
def test_recommendation_messages_fit_a_phone_with_overdue_marked(browser, pages, template, code):
    report = inspect(browser, pages[f"{template}-{code}"], SHOTS, widths=(PHONE,))
    assert report.errors == []
    assert report.overflow <= 0, f"{template}-{code} overflows {PHONE} px by {report.overflow}"
    assert report.lang == code
    assert report.direction == ("rtl" if code == "ar" else "ltr")
    overdue = {"en": "OVERDUE", "es": "VENCIDA", "ar": "متأخرة"}[code]
    assert overdue in report.text
    if template == "committee_invite":
        heading = {"en": "Open recommendations (oldest first)", "es": "Recomendaciones pendientes"}
        assert heading.get(code, "") in report.text
        assert report.text.index("Updates") < report.text.index(overdue)  # under the agenda


def test_spanish_follow_up_reads_in_spanish(browser, pages):
    report = inspect(browser, pages["committee_followup-es"], None, widths=(PHONE,))
    for words in ("Agregadas desde la reunión", "Cumplidas", "Aún pendientes", "fecha límite"):
        assert words in report.text


def test_demo_preview_of_the_digests_loads_without_overflow(browser, pages):
    previews = [p for name, p in pages.items() if name.startswith("preview-")]
    digests = [p for p in previews if "digest" in p.name]
    assert len(digests) == 2 and len(previews) == 3  # two digests and the index
    for path in digests:
        report = inspect(browser, path, SHOTS / "preview", widths=(PHONE, 600))
        assert report.errors == [] and report.overflow <= 0, path.name
        assert "Recommendations" in report.text or "recomendaciones" in report.text


def test_report_shows_recommendations_by_area(browser, pages):
    report = inspect(browser, pages["report"], SHOTS / "report")
    assert report.errors == [] and report.overflow <= 0
    assert "Committee recommendations (MOU 2.0)" in report.text
    assert "4 open (1 overdue); 1 done in 2026 Q4" in report.text
