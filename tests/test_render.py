"""Rendering: strict variables, escaping, one-line subjects, localized dates, inlined CSS."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from zoneinfo import ZoneInfo

import pytest

from automations import PROJECT_ROOT
from automations.errors import TemplateProblem
from automations.languages import ENGLISH, parse_language
from automations.mail.compose import Envelope, compose
from automations.render import Renderer

TEMPLATES = PROJECT_ROOT / "templates" / "email"
ZONE = ZoneInfo("America/Los_Angeles")
START = dt.datetime(2026, 3, 3, 18, 0, tzinfo=ZONE)


def meeting(**extra):
    return {
        "id": "CM-1",
        "start": START,
        "end": START + dt.timedelta(minutes=90),
        "location": "Room 1",
        "online_link": "https://example.org/j",
        "agenda": "Welcome",
        **extra,
    }


def context(**extra):
    return {"name": "Ana", "meeting": meeting(**extra), "changes": [], "previous": {}}


def test_missing_variable_fails_loudly():
    with pytest.raises(TemplateProblem, match=r"committee_invite.*'meeting' is undefined"):
        Renderer(TEMPLATES).render("committee_invite", ENGLISH, {"name": "Ana"})


def test_checking_a_message_fails_as_rendering_it_does_and_leaves_the_name_to_the_send():
    renderer = Renderer(TEMPLATES)
    with pytest.raises(TemplateProblem, match=r"committee_invite.*'meeting' is undefined"):
        renderer.check("committee_invite", ENGLISH, {"name": "Ana"})
    renderer.check("committee_invite", ENGLISH, {**context(), "name": "Ana <Board>"})
    rendered = renderer.render("committee_invite", ENGLISH, {**context(), "name": "Ana <Board>"})
    assert "Ana &lt;Board&gt;" in rendered.html and "Ana <Board>" in rendered.text


def test_sheet_values_are_escaped_in_html():
    rendered = Renderer(TEMPLATES).render(
        "committee_invite",
        ENGLISH,
        context(location='<script>alert(1)</script><a href="https://evil.example">x</a>'),
    )
    assert "<script>alert(1)" not in rendered.html
    assert '<a href="https://evil.example">' not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text  # plain text needs no escaping


def test_spanish_email_uses_spanish_date_and_time_format():
    rendered = Renderer(TEMPLATES).render("committee_invite", parse_language("Español"), context())
    assert "martes, 3 de marzo de 2026" in rendered.html
    assert "6:00\u202fp.m." in rendered.text
    assert rendered.subject == (
        "Invitación: reunión del Comité de Apoyo a Inmigrantes, 3 de marzo de 2026"
    )
    assert 'lang="es"' in rendered.html


def test_language_without_templates_falls_back_to_english():
    renderer = Renderer(TEMPLATES)
    korean = parse_language("Korean")
    assert renderer.resolve(korean, "committee_invite") == ENGLISH
    assert renderer.render("committee_invite", korean, context()).subject.startswith("Invitation")


def test_css_is_inlined_for_outlook_and_gmail():
    html = Renderer(TEMPLATES).render("committee_invite", ENGLISH, context()).html
    assert "<style" not in html
    assert 'style="' in html


def test_cr_lf_in_a_subject_value_cannot_add_headers(tmp_path):
    (tmp_path / "_footer.txt").write_text("f")
    (tmp_path / "_footer.html").write_text("f")
    for name in ("layout.html", "layout.txt"):
        (tmp_path / name).write_text((TEMPLATES / name).read_text())
    (tmp_path / "t.txt").write_text(
        '{% extends "layout.txt" %}{% block subject %}Webinar: {{ title }}{% endblock %}'
        "{% block body %}{{ title }}{% endblock %}"
    )
    (tmp_path / "t.html").write_text(
        '{% extends "layout.html" %}{% block content %}{{ title }}{% endblock %}'
    )
    rendered = Renderer(tmp_path).render(
        "t", ENGLISH, {"title": "Know Your Rights\r\nBcc: everyone@example.org\nX-Evil: 1"}
    )
    assert rendered.subject == "Webinar: Know Your Rights Bcc: everyone@example.org X-Evil: 1"
    outgoing = compose(
        key="k",
        job="j",
        envelope=Envelope("Sender <s@example.org>", ("a@example.org",)),
        rendered=rendered,
        now=START,
    )
    parsed = email.message_from_bytes(outgoing.mime.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["Subject"] == rendered.subject


def test_message_id_is_derived_from_the_key_only():
    rendered = Renderer(TEMPLATES).render("committee_invite", ENGLISH, context())
    envelope = Envelope("S <s@example.org>", ("a@example.org",))
    first = compose(key="k1", job="j", envelope=envelope, rendered=rendered, now=START)
    again = compose(
        key="k1", job="j", envelope=envelope, rendered=rendered, now=START + dt.timedelta(days=1)
    )
    other = compose(key="k2", job="j", envelope=envelope, rendered=rendered, now=START)
    assert first.message_id == again.message_id != other.message_id
    assert first.message_id.endswith("@example.org>")


def test_bcc_recipients_never_appear_in_to_or_cc():
    rendered = Renderer(TEMPLATES).render("committee_invite", ENGLISH, context())
    outgoing = compose(
        key="k",
        job="j",
        envelope=Envelope(
            "S <s@example.org>", ("list@example.org",), ("f1@example.org", "f2@example.org")
        ),
        rendered=rendered,
        now=START,
    )
    assert outgoing.mime["To"] == "list@example.org"
    assert outgoing.mime["Cc"] is None


def test_names_are_filled_in_after_a_shared_render_and_escaped():
    renderer = Renderer(TEMPLATES)
    first = renderer.render("committee_invite", ENGLISH, {**context(), "name": "<b>Zoë</b>"})
    second = renderer.render("committee_invite", ENGLISH, {**context(), "name": "Ana"})
    assert "Dear &lt;b&gt;Zoë&lt;/b&gt;," in first.html
    assert "Dear <b>Zoë</b>," in first.text
    assert "Dear Ana," in second.html and "Zoë" not in second.html
    assert "\ue000" not in first.html + first.text + first.subject


def test_long_subject_is_not_folded_onto_a_continuation_line():
    rendered = Renderer(TEMPLATES).render("committee_invite", ENGLISH, context())
    long = type(rendered)(
        subject="MOU tracker, November 2026: 0 of 6 quarters met, 14% of staff fully trained",
        html=rendered.html,
        text=rendered.text,
    )
    outgoing = compose(
        key="k",
        job="j",
        envelope=Envelope("S <s@example.org>", ("a@example.org",)),
        rendered=long,
        now=START,
    )
    raw = outgoing.mime.as_bytes()
    assert b"Subject: MOU tracker, November 2026: 0 of 6 quarters met" in raw
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == long.subject
