"""No family message ever asks about or mentions immigration status (MOU 6.b, privacy):
every family-facing message of every job, in every shipped language, is scanned for the
configured terms, and `check` warns when a template contains one."""

from __future__ import annotations

import shutil

import pytest

from automations import PROJECT_ROOT, catalogs, cli
from automations.jobs import registry
from automations.languages import Language, english_name
from automations.render import Renderer
from automations.sensitive_terms import (
    DEFAULT_TERMS,
    configured_terms,
    default_terms,
    family_facing,
    mentions,
    rendered_texts,
)

TEMPLATES = PROJECT_ROOT / "templates" / "email"


def family_messages(settings):
    for job in registry().values():
        for message in job.samples(settings, job.options(settings)):
            if family_facing(message):
                yield job.name, message


def test_every_family_message_in_every_shipped_language_mentions_no_listed_term(demo):
    settings = demo.settings
    codes = ["en", *catalogs.shipped()]
    renderer = Renderer(TEMPLATES, use=codes)  # drafts too: they may be sent one day
    terms = configured_terms(settings)
    checked = set()
    for job, message in family_messages(settings):
        for code in codes:
            language = Language(code, english_name(code))
            assert renderer.resolve(language, message.template).code == code
            rendered = renderer.render(message.template, language, message.context)
            found = mentions(rendered_texts(rendered), terms)
            assert not found, f"{job}: {message.template} in {code} says {found}"
            checked.add((message.template, code))
    templates = {template for template, _ in checked}
    assert {"webinar_agenda", "webinar_reminder", "webinar_cancel", "family_outreach"} <= templates
    assert len(checked) == len(templates) * len(codes)


def test_the_default_list_covers_every_shipped_language():
    assert set(DEFAULT_TERMS) == {"en", *catalogs.shipped()}
    assert "immigration status" in default_terms() and "estatus migratorio" in default_terms()


def test_terms_are_found_at_the_start_of_words_and_in_any_case():
    terms = ("visa", "immigration status", "绿卡")
    assert mentions(["What is your Immigration  Status?".replace("  ", " ")], terms) == [
        "immigration status"
    ]
    assert mentions(["Visas and more"], terms) == ["visa"]
    assert mentions(["That is advisable."], terms) == []
    assert mentions(["请带上您的绿卡"], terms) == ["绿卡"]


def test_only_messages_signed_for_families_are_family_facing(demo):
    settings = demo.settings
    names = {m.template for _, m in family_messages(settings)}
    assert "pd_digest" not in names and "committee_invite" not in names
    assert "mou_summary" not in names


@pytest.fixture
def leaky_templates(demo, tmp_path):
    """The demo with a family template that asks about immigration status."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES.parent, templates)
    path = templates / "email" / "family_outreach.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("{% block body %}", "{% block body %}\nTell us your immigration status."),
        encoding="utf-8",
    )
    config = demo.config.read_text(encoding="utf-8")
    top, _, tables = config.partition("\n[")
    folder = f'templates_dir = "{(templates / "email").as_posix()}"'
    demo.config.write_text(f"{top}\n{folder}\n\n[{tables}", encoding="utf-8")
    return demo


def test_check_warns_when_a_family_template_mentions_a_listed_term(leaky_templates, capsys):
    assert cli.main(["--config", str(leaky_templates.config), "check"]) == 0
    out = capsys.readouterr().out
    assert (
        'warning: templates: family_outreach in English says "immigration status": family '
        "mail must never mention immigration status"
    ) in out


def test_check_uses_the_configured_list(leaky_templates, capsys):
    config = leaky_templates.config
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            "[jobs.family-outreach]\n", '[jobs.family-outreach]\nnever_mention = ["visa"]\n'
        ),
        encoding="utf-8",
    )
    assert cli.main(["--config", str(config), "check"]) == 0
    assert "immigration status" not in capsys.readouterr().out


def test_check_is_quiet_about_the_shipped_templates(demo, capsys):
    assert cli.main(["--config", str(demo.config), "check"]) == 0
    assert "must never mention" not in capsys.readouterr().out
