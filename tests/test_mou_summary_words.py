"""What the MOU summary email says, in English, Spanish and every shipped language (issue 13):
plural forms, spelled dates, webinar states, the roster gaps and the rows left out."""

from __future__ import annotations

import re

import pytest

from automations import catalogs
from automations.jobs import mou_tracker
from automations.languages import ENGLISH, Language, english_name, parse_language
from automations.render import Renderer
from tests.fixtures.browser import ROOT

TEMPLATES = ROOT / "templates" / "email"
SPANISH = parse_language("es")


def render(context, language=SPANISH, use=()):
    renderer = Renderer(TEMPLATES, use=list(use))
    return renderer.render("mou_summary", language, {**context, "name": "Ana"})


def sample(**changes):
    return {**mou_tracker.sample_context(), **changes}


def webinar_blocks(html: str) -> dict[str, str]:
    """Each webinar's block of the html part, by its state and agenda."""
    found = re.findall(
        r'<div class="webinar"[^>]*data-state="([^"]+)" data-agenda="([^"]+)"[^>]*>(.*?)</div>',
        html,
        re.S,
    )
    return {f"{state}/{agenda}": text for state, agenda, text in found}


def test_one_person_who_completed_reads_in_the_singular_in_spanish():
    context = sample()
    pd = context["pd"]
    overall = {**pd["overall"], "all_four": {**pd["overall"]["all_four"], "completed": 1}}
    message = render({**context, "pd": {**pd, "overall": overall, "owing_all": 1}})
    for part in (message.text, message.html):
        assert "1 completaron" not in part and "1 aún deben" not in part
    assert "1 completó los cuatro temas" in message.text
    assert "1 aún debe todos los temas" in message.text
    assert "<strong>1</strong> completó los cuatro temas" in message.html


def test_spanish_summary_has_spelled_dates_t_quarters_and_no_double_period():
    message = render(sample(left_out=[]))
    for part in (message.text, message.html):
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", part), "ISO date in the Spanish summary"
        assert not re.search(r"\bQ[1-4]\b", part), "Q instead of T in the Spanish summary"
        assert "a.m.." not in part and "p.m.." not in part
    assert "2025 T3: cumplido (10 de agosto de 2025)" in message.text
    assert "Generado 1 de marzo de 2027, 7:00 a.m." in re.sub(r"\s", " ", message.text)
    assert "15 de octubre de 2026" in message.html


def test_spanish_plain_text_says_what_the_roster_is_missing_as_the_html_does():
    context = sample()
    roster = {
        **context["roster"],
        "counts": {"District": 3, "UTLA": 3, "Parent": 1},
        "parents_by": {"District": 1, "UTLA": 0},
        "missing": ["a parent appointed by UTLA"],
        "complete": False,
    }
    message = render({**context, "roster": roster})
    gaps = re.search(r"Falta: ([^<]*)\.", message.html)
    assert gaps is not None
    assert gaps.group(1)  # the html names the gap; the text must name the same
    assert f"Falta: {gaps.group(1)}." in message.text


def test_webinar_states_cancelled_not_sent_upcoming_and_held_read_differently():
    for language, words in (
        (ENGLISH, ("Cancelled", "Not sent (the webinar has passed)", "Not yet", "✓ Yes")),
        (SPANISH, ("Cancelado", "No se envió (el seminario ya pasó)", "Aún no", "✓ Sí")),
    ):
        cancelled, not_sent, not_yet, yes = words
        blocks = webinar_blocks(render(sample(), language).html)
        assert set(blocks) == {
            "held/sent",
            "cancelled/cancelled",
            "held/not sent",
            "upcoming/not yet",
        }
        assert (
            cancelled in blocks["cancelled/cancelled"] and yes not in blocks["cancelled/cancelled"]
        )
        assert not_sent in blocks["held/not sent"] and not_yet not in blocks["held/not sent"]
        assert not_yet in blocks["upcoming/not yet"]
    # Two held (one covered), one upcoming not counted, one cancelled.
    text = render(sample(), ENGLISH).text
    assert "1 of 2 webinars covered" in text and "1 more is planned and not counted yet." in text


def test_webinar_topics_missing_are_named_in_spanish():
    context = sample()
    webinars = [
        {**w, "missing": ["Know Your Rights", "Family Preparedness"]} if w["missing"] else w
        for w in context["webinars"]
    ]
    message = render({**context, "webinars": webinars})
    for part in (message.text, message.html):
        assert "Know Your Rights missing" not in part and "falta Know Your Rights" not in part
        assert "falta Conozca sus derechos, Preparación familiar" in part


@pytest.mark.parametrize("code", ["en", *catalogs.shipped()])
def test_every_language_says_which_rows_were_left_out_in_both_parts(code):
    language = Language(code, english_name(code))
    message = render(sample(), language, use=catalogs.shipped())
    for part in (message.text, message.html):
        assert "CM-20270115" in part and "Meetings" in part, code
        assert re.search(r"(?<!\d)9(?!\d)", part.split("CM-20270115")[0][-80:]), (
            code
        )  # the row number
        assert 'Date "Jan 15th" is not a date' in part.replace("&#34;", '"'), code
    none = render(sample(left_out=[]), language, use=catalogs.shipped())
    assert "CM-20270115" not in none.text


def test_english_summary_says_no_rows_were_left_out_when_none_were():
    message = render(sample(left_out=[]), ENGLISH)
    assert "No rows were left out of these figures." in message.text
    assert "No rows were left out of these figures." in message.html


def test_spanish_topic_names_are_the_same_in_the_pd_digest_and_the_summary(demo):
    from automations.jobs import registry

    job = registry()["pd-reminders"]
    digests = [m for m in job.samples(demo.settings, job.options(demo.settings))]
    digest = next(m for m in digests if m.template == "pd_digest")
    renderer = Renderer(TEMPLATES)
    digest_html = renderer.render("pd_digest", SPANISH, digest.context).html
    in_digest = re.findall(r"<h2[^>]*>([^<]+) \(MOU 5[a-d]\)</h2>", digest_html)
    assert len(in_digest) >= 2
    summary = render(sample())
    for name in in_digest:
        assert name in summary.html and name in summary.text, name


# English words a Spanish reader must not meet in the summary built from a tracker with a
# site-less staff row, webinars sent in English and Spanish, and a meeting's RSVPs.
ENGLISH_WORDS = ("no site", "English", "Spanish", "accepted", "declined", "tentative", "no reply")


def test_spanish_summary_from_a_tracker_has_no_english_site_language_or_rsvp_words(
    tracker_input,
):
    from automations import tracker
    from automations.tracker_views import summary_context

    figures = tracker.compute(tracker_input())
    assert "(no site)" in [s.site for s in figures.pd.sites]
    assert any(len(w.languages) > 1 for w in figures.webinars)
    message = render(summary_context(figures))
    for part in (message.text, message.html):
        found = [w for w in ENGLISH_WORDS if re.search(rf"\b{w}\b", part, re.I)]
        assert not found, found
    assert "(sin plantel)" in message.text and "(sin plantel)" in message.html
    assert "(inglés, español)" in message.text
    assert "M1: 5 aceptaron, 1 rechazó" in message.text


def test_rsvp_counts_are_read_back_from_the_cell_the_tool_wrote_and_hand_text_kept():
    from automations.jobs.engine import response_counts, responses_text
    from automations.plan import AttendeeResponse

    answers = [
        AttendeeResponse(f"p{i}@example.org", "", r)
        for i, r in enumerate(["accepted", "accepted", "tentativelyAccepted", "declined", "none"])
    ]
    assert response_counts(responses_text(answers)) == {
        "accepted": 2,
        "tentative": 1,
        "declined": 1,
        "no_reply": 1,
    }
    assert response_counts("most said yes") is None
    context = sample()
    quarters = [
        {
            **q,
            "meetings": [{**m, "responses": "most said yes", "rsvp": None} for m in q["meetings"]],
            "responses": "x" if q["meetings"] else "",
        }
        for q in context["quarters"]
    ]
    assert (
        "respuestas: CM-20250810: most said yes" in render({**context, "quarters": quarters}).text
    )
