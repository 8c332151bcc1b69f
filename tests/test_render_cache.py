"""The renderer shares one render among equal messages, and only among equal ones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from automations import PROJECT_ROOT, catalogs
from automations.catalogs import Overrides
from automations.languages import ENGLISH, Language
from automations.render import Renderer

TEMPLATES = PROJECT_ROOT / "templates" / "email"
LA = ZoneInfo("America/Los_Angeles")


def context(start: dt.datetime, title: str = "Ready") -> dict:
    return {
        "webinar": {
            "id": "W1",
            "title": title,
            "start": start,
            "end": start + dt.timedelta(hours=1),
            "join_link": "https://example.org/join",
            "sections": {"preparedness": "a", "we_are_one": "b", "know_your_rights": "c"},
            "other_topics": "",
        },
        "help": "help@example.org",
    }


def test_equal_contexts_share_one_render():
    renderer = Renderer(TEMPLATES)
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=LA)
    first = renderer.render("webinar_agenda", ENGLISH, context(start))
    second = renderer.render("webinar_agenda", ENGLISH, context(start))
    assert second is first


def test_different_values_render_differently():
    renderer = Renderer(TEMPLATES)
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=LA)
    first = renderer.render("webinar_agenda", ENGLISH, context(start))
    other = renderer.render("webinar_agenda", ENGLISH, context(start, "Other title"))
    assert "Other title" in other.subject and "Other title" not in first.subject


def test_the_same_instant_in_another_zone_is_not_taken_from_the_cache():
    renderer = Renderer(TEMPLATES)
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=LA)
    utc = start.astimezone(dt.UTC)
    assert start == utc  # equal instants...
    local = renderer.render("webinar_agenda", ENGLISH, context(start))
    universal = renderer.render("webinar_agenda", ENGLISH, context(utc))
    assert "6:00" in local.text and "2:00" in universal.text  # ...shown in their own zone
    assert local is not universal


def test_true_and_one_are_different_values():
    renderer = Renderer(TEMPLATES)
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=LA)
    with_one = context(start)
    with_one["webinar"]["other_topics"] = 1
    with_true = context(start)
    with_true["webinar"]["other_topics"] = True
    one = renderer.render("webinar_agenda", ENGLISH, with_one)
    true = renderer.render("webinar_agenda", ENGLISH, with_true)
    assert "True" in true.text and "True" not in one.text


def test_contexts_sharing_their_dicts_share_one_render():
    renderer = Renderer(TEMPLATES)
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=LA)
    shared = context(start)["webinar"]
    first = renderer.render("webinar_agenda", ENGLISH, {"webinar": shared, "help": "a@b.org"})
    second = renderer.render("webinar_agenda", ENGLISH, {"webinar": shared, "help": "a@b.org"})
    other = renderer.render("webinar_agenda", ENGLISH, {"webinar": shared, "help": "c@d.org"})
    assert second is first and "c@d.org" in other.text


def test_new_translations_for_the_run_are_not_taken_from_the_cache():
    renderer = Renderer(TEMPLATES)
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=LA)
    spanish = Language("es", "Spanish")
    before = renderer.render("webinar_agenda", spanish, context(start))
    key = catalogs.message_key("Dear families,")
    strings = {"es": {key: ("Estimadas familias:",)}}
    renderer.use_translations(Overrides(strings, reviewed=frozenset({"es"})))
    after = renderer.render("webinar_agenda", spanish, context(start))
    assert "Queridas familias:" in before.text and "Estimadas familias:" in after.text
