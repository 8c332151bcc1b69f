"""The Translations tab: staff translations merged over the catalogs, checked, synced."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from automations import catalogs, translations
from automations.catalogs import Overrides, Source
from automations.cli import main
from automations.jobs import webinar_agendas
from automations.languages import Language
from automations.render import Renderer
from automations.sheets.contract import Names, RowRef, Table, build_table
from automations.sheets.workbook import WorkbookSpreadsheet
from automations.translations import (
    TRANSLATIONS,
    english_text,
    plan_sync,
    read_tab,
    row_key,
)
from tests.fixtures.workbooks import records
from tests.test_google_jobs import FIRST_RUN_WITH_IDS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
DEAR = Source("Dear %(name)s,", files=("committee_invite.html",))
WHEN = Source("The date is now %(date)s (it was %(previous)s).", files=("_changes.html",))
TOPICS = Source(
    "Your training: %(num)s topic still to take",
    "Your training: %(num)s topics still to take",
    files=("pd_digest.txt",),
)
SOURCES = (DEAR, WHEN, TOPICS)


def tab(rows: list[dict[str, object]], headers: list[str] | None = None) -> Table:
    """A Translations tab with these rows (headers: the rows' keys, in order)."""
    if headers is None:
        headers = list(dict.fromkeys(h for row in rows for h in row))
    grid = [headers] + [[row.get(h) for h in headers] for row in rows]
    return build_table("family", "Translations", TRANSLATIONS, Names(), grid)


def row(source: Source, **cells: object) -> dict[str, object]:
    return {"Key": row_key(source), "English": english_text(source), **cells}


def statuses(read) -> dict[str, str]:
    return {w.row.key: w.value for w in read.writes if w.column == "Status"}


def test_a_translated_cell_is_used_for_its_string():
    read = read_tab(tab([row(DEAR, **{"Korean ✓": "{name} 님께,"})]), "family", SOURCES)
    assert read.overrides.strings == {"ko": {DEAR.key: ("%(name)s 님께,",)}}
    assert read.overrides.reviewed == {"ko"}
    assert statuses(read) == {}


def test_a_cell_that_drops_a_placeholder_is_not_used_and_its_row_says_why():
    read = read_tab(
        tab([row(WHEN, Korean="날짜가 바뀌었습니다 (이전: {previous}).")]), "f", SOURCES
    )
    assert read.overrides.strings == {}
    assert statuses(read) == {
        row_key(WHEN): "Korean not used: it must keep {date}, {previous} like the English"
    }


def test_a_placeholder_the_english_does_not_have_is_not_used():
    read = read_tab(tab([row(DEAR, Spanish="Estimado/a {nombre}:")]), "f", SOURCES)
    assert read.overrides.strings == {}
    assert statuses(read)[row_key(DEAR)] == (
        "Spanish not used: {nombre} is not in the English; keep {name} as they are (not translated)"
    )


def test_percent_signs_typed_by_translators_stay_percent_signs():
    source = Source("%(percent)s%%", files=("mou_summary.html",))
    read = read_tab(tab([row(source, Russian="{percent} %")]), "f", (source,))
    assert read.overrides.strings["ru"][source.key] == ("%(percent)s %%",)


def test_a_language_is_reviewed_by_a_tick_in_its_header_or_on_the_reviewed_row():
    rows = [
        {"Key": "Reviewed", "Korean": "", "Mixteco": True, "Vietnamese": "x"},
        row(DEAR, **{"Korean": "{name} 님께,", "Mixteco": "{name}", "Vietnamese": "{name}"}),
    ]
    read = read_tab(tab(rows, ["Key", "English", "Korean", "Mixteco", "Vietnamese ✓"]), "f", ())
    assert read.overrides.reviewed == {"mix", "vi"}


def test_headers_that_are_not_languages_are_not_read_as_columns_of_translations():
    read = read_tab(tab([row(DEAR, Comments="looks fine", Spanish="Hola {name}:")]), "f", SOURCES)
    assert [c.code for c in read.columns] == ["es"]


def test_strings_that_count_take_one_form_or_the_forms_the_language_has():
    rows = [
        row(TOPICS, Russian="Осталась {num} тема | Осталось {num} темы"),
        row(TOPICS, Korean="남은 주제 {num}개"),
    ]
    read = read_tab(tab(rows), "f", SOURCES)
    assert "ru" not in read.overrides.strings
    assert read.overrides.strings["ko"][TOPICS.key] == ("남은 주제 %(num)s개",)
    assert "Russian not used: write 1 form, or 3 forms separated by |" in statuses(read).values()
    three = row(TOPICS, Russian="Осталась {num} тема | Осталось {num} темы | Осталось {num} тем")
    read = read_tab(tab([three]), "f", SOURCES)
    assert len(read.overrides.strings["ru"][TOPICS.key]) == 3


def test_a_row_whose_english_changed_is_not_used_until_a_translator_clears_previous_english():
    old = "Dear %(name)s:"
    rows = [row(DEAR, **{"Previous English": old, "Korean ✓": "{name} 님께,"})]
    read = read_tab(tab(rows), "f", SOURCES)
    assert read.overrides.strings == {}
    assert statuses(read)[row_key(DEAR)].startswith(
        'Not used until checked: the English changed (it was: "Dear %(name)s:"); check Korean'
    )


def test_a_row_no_message_uses_any_more_says_it_can_be_deleted():
    read = read_tab(tab([{"Key": "S-00000000", "English": "Gone", "Spanish": "Ido"}]), "f", ())
    assert statuses(read) == {
        "S-00000000": "Not used: no message has this English any more; the row can be deleted"
    }


def test_sync_adds_new_strings_after_the_last_row_and_never_writes_a_language_column():
    existing = tab([row(DEAR, **{"Where Used": "committee_invite", "Korean": "{name} 님께,"})])
    plan = plan_sync(existing, "family", SOURCES)
    assert {w.column for w in plan.writes} <= {"Key", "English", "Where Used", "Note", "Status"}
    added = {w.row.key for w in plan.writes if w.row.new}
    assert added == {row_key(WHEN), row_key(TOPICS)}
    note = next(w.value for w in plan.writes if w.row.key == row_key(TOPICS) and w.column == "Note")
    assert "separated by |" in str(note)
    assert plan.summary() == "2 new string(s), 0 changed (marked for review), 0 no longer used"


def test_sync_marks_a_changed_english_for_review_and_keeps_its_translations():
    old = Source("The date is now %(date)s (before: %(previous)s).", files=("_changes.html",))
    before = tab(
        [row(old, **{"Where Used": "_changes", "Korean": "날짜: {date} (이전: {previous})"})]
    )
    plan = plan_sync(before, "family", (WHEN,))
    by_column = {
        w.column: w.value for w in plan.writes if w.row == RowRef("Translations", row_key(old))
    }
    assert by_column["Key"] == row_key(WHEN)
    assert by_column["English"] == english_text(WHEN)
    assert by_column["Previous English"] == "The date is now {date} (before: {previous})."
    assert by_column["Status"].startswith("Not used until checked")
    assert plan.changed == 1 and not plan.new_rows


def test_overrides_win_over_the_catalog_and_are_text_in_html():
    renderer = Renderer(TEMPLATES)
    key = catalogs.message_key("Dear %(name)s,")
    strings = {"es": {key: ("<b>Querida</b> %(name)s:",)}}
    renderer.use_translations(Overrides(strings, reviewed=frozenset({"es"})))
    start = dt.datetime(2026, 3, 3, 18, tzinfo=ZoneInfo("America/Los_Angeles"))
    meeting = {"id": "CM-1", "start": start, "end": start + dt.timedelta(hours=1)}
    context = {
        "name": "Ana",
        "meeting": {**meeting, "location": "", "online_link": "", "agenda": ""},
    }
    rendered = renderer.render("committee_invite", Language("es", "Spanish"), context)
    assert "<b>Querida</b> Ana:" in rendered.text
    assert "&lt;b&gt;Querida&lt;/b&gt; Ana:" in rendered.html
    assert "Invitación" in rendered.subject  # the rest still comes from the catalog
    renderer.use_translations(Overrides(strings))  # not reviewed: a draft over a reviewed one
    assert (
        "Estimado/a Ana:"
        in renderer.render("committee_invite", Language("es", "Spanish"), context).text
    )


# -- end to end: a language with no catalog, filled in the tab ------------------------


MIXTECO = {
    # What a translator would type (stand-in text for the test, not real Mixteco).
    "Dear families,": "[mix] Ta̱ ñayiu,",
    "You are invited: %(title)s, %(date)s": "[mix] Kuvi ku̱ʼvi̱: {title}, {date}",
    "Join the class": "[mix] Ki̱ʼvi̱ clase",
}


def mixteco_family_and_column(path: Path) -> None:
    """Add a Mixteco-reading family and a reviewed Mixteco column to the demo workbook."""
    book = openpyxl.load_workbook(path)
    book["Families"].append(["mixteco.family@example.org", "Familia López", "Mixteco", ""])
    sheet = book["Translations"]
    headers = [c.value for c in sheet[1]]
    column = len(headers) + 1
    sheet.cell(1, column, "Mixteco ✓")
    english = headers.index("English") + 1
    for number in range(2, sheet.max_row + 1):
        text = sheet.cell(number, english).value
        for msgid, translated in MIXTECO.items():
            if text == translations.display(msgid):
                sheet.cell(number, column, translated)
    book.save(path)


def mixteco_mail(outbox: Path) -> email.message.EmailMessage:
    for path in sorted(outbox.glob("webinar-agendas-*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "mixteco.family@example.org" in str(mail["Bcc"]):
            return mail
    raise AssertionError("no agenda went to the Mixteco family")


def test_a_mixteco_column_reaches_mixteco_families_on_a_workbook(demo):
    mixteco_family_and_column(demo.folder / "family.xlsx")
    result = demo.runner().run(webinar_agendas.JOB)
    assert result.error is None and result.failed == 0
    mail = mixteco_mail(demo.outbox)
    assert str(mail["Subject"]).startswith("[mix] Kuvi ku̱ʼvi̱: Keeping your family ready, ")
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert 'lang="mix"' in html and "[mix] Ta̱ ñayiu," in text
    assert "[mix] Ki̱ʼvi̱ clase" in html
    assert "Join our free online class" in text  # strings the column lacks stay English
    # Dates: Mixteco has no locale data; its families read the Spanish of Mexico.
    assert "de diciembre de 2026" in str(mail["Subject"])
    family = next(
        r
        for r in records(demo.folder / "family.xlsx", "Families")
        if r["Email"] == "mixteco.family@example.org"
    )
    assert family["Status"].startswith("Receives mail in Mixtec. Check: Mixtec 1%: ")
    assert family["Status"].endswith(" strings in English")


def test_an_unreviewed_column_is_a_draft_and_its_families_get_english(demo):
    path = demo.folder / "family.xlsx"
    mixteco_family_and_column(path)
    book = openpyxl.load_workbook(path)
    sheet = book["Translations"]
    for cell in sheet[1]:
        if cell.value == "Mixteco ✓":
            cell.value = "Mixteco"
    book.save(path)
    demo.runner().run(webinar_agendas.JOB)
    mail = mixteco_mail(demo.outbox)
    assert str(mail["Subject"]).startswith("You are invited:")
    family = next(
        r for r in records(path, "Families") if r["Email"] == "mixteco.family@example.org"
    )
    assert family["Status"] == (
        "Receives mail in English. Check: sent in English: the Mixtec translation is a draft "
        "not yet reviewed"
    )


def test_a_mixteco_column_reaches_mixteco_families_on_google_within_the_request_budget(
    google_demo, sheets_api
):
    google = google_demo()
    family = sheets_api.sheet(google.ids["family"], "Families")
    family.set(len(family.values()), 0, "mixteco.family@example.org")
    family.set(len(family.values()) - 1, 2, "Mixteco")
    sheet = sheets_api.sheet(google.ids["family"], "Translations")
    grid = sheet.values()
    column = len(grid[0])
    sheet.set(0, column, "Mixteco ✓")
    english = grid[0].index("English")
    for number, values in enumerate(grid):
        for msgid, translated in MIXTECO.items():
            if values[english] == translations.display(msgid):
                sheet.set(number, column, translated)
    sheets_api.reset_log()
    result = google.runner().run(webinar_agendas.JOB)
    assert result.error is None and result.failed == 0
    assert sheets_api.calls(spreadsheet=google.ids["family"]) == FIRST_RUN_WITH_IDS
    mail = mixteco_mail(google.outbox)
    assert str(mail["Subject"]).startswith("[mix] Kuvi ku̱ʼvi̱:")


# -- translations sync -----------------------------------------------------------------


@pytest.fixture
def no_tab(demo):
    """The demo without its Translations tab."""
    path = demo.folder / "family.xlsx"
    book = openpyxl.load_workbook(path)
    del book["Translations"]
    book.save(path)
    return demo


def test_sync_creates_the_tab_with_every_string_and_a_column_per_language(no_tab, capsys):
    assert main(["--config", str(no_tab.config), "translations", "sync"]) == 0
    rows = records(no_tab.folder / "family.xlsx", "Translations")
    wanted = translations.counted(catalogs.sources())
    assert rows[0]["Key"] == "Reviewed"
    assert [r["English"] for r in rows[1:]] == [english_text(s) for s in wanted]
    headers = list(rows[0])
    assert {"Spanish", "Korean", "Traditional Chinese", "Arabic"} <= set(headers)
    assert headers[-2:] == ["Previous English", "Status"]
    assert "created with" in capsys.readouterr().out


def test_sync_appends_new_strings_without_touching_typed_translations(demo, capsys):
    path = demo.folder / "family.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["Translations"]
    headers = [c.value for c in sheet[1]]
    korean = headers.index("Korean") + 1
    sheet.cell(3, korean, "번역 {x}")  # a translator's (broken) cell: never overwritten
    last = sheet.max_row
    gone = [sheet.cell(last, c).value for c in range(1, len(headers) + 1)]
    sheet.delete_rows(last)  # a string the tab does not have yet
    book.save(path)
    assert main(["--config", str(demo.config), "translations", "sync"]) == 0
    assert "1 new string(s)" in capsys.readouterr().out
    after = openpyxl.load_workbook(path)["Translations"]
    assert after.cell(3, korean).value == "번역 {x}"
    assert [after.cell(last, c).value for c in range(1, 5)] == gone[:4]
    assert main(["--config", str(demo.config), "translations", "sync"]) == 0
    assert "0 new string(s), 0 changed" in capsys.readouterr().out


def test_sync_on_google_creates_the_tab_then_appends(google_demo, sheets_api, capsys):
    google = google_demo()
    sheet = sheets_api.sheet(google.ids["family"], "Translations")
    grid = sheet.values()
    for column in range(len(grid[0])):
        sheet.set(len(grid) - 1, column, None)  # the last string's row is missing
    assert main(["--config", str(google.config), "translations", "sync"]) == 0
    assert "1 new string(s)" in capsys.readouterr().out
    assert sheet.values()[len(grid) - 1][:2] == grid[-1][:2]


def test_check_prints_the_languages_table(demo, capsys):
    assert main(["--config", str(demo.config), "check"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("languages (") :]
    lines = {line.split()[0]: line for line in table.splitlines()[1:] if line.startswith("  ")}
    assert set(lines) >= {"en", "es", "ko", "hy", "zh_Hant", "zh_Hans", "fil", "vi", "ru", "fa"}
    assert "100%" in lines["es"] and "reviewed" in lines["es"] and "sent" in lines["es"]
    assert "draft" in lines["ko"] and 'not sent: list "ko" in [languages] use' in lines["ko"]


def test_a_language_listed_in_use_is_sent_as_a_draft(demo):
    settings_text = demo.config.read_text(encoding="utf-8")
    demo.config.write_text(settings_text + '\n[languages]\nuse = ["Korean"]\n', encoding="utf-8")
    assert demo.settings.languages_use == ("ko",)
    renderer = Renderer(TEMPLATES, use=demo.settings.languages_use)
    assert "ko" in renderer.languages and "vi" not in renderer.languages


def test_a_language_in_use_that_is_not_one_is_a_configuration_error(demo, capsys):
    text = demo.config.read_text(encoding="utf-8")
    demo.config.write_text(text + '\n[languages]\nuse = ["Klingonese"]\n', encoding="utf-8")
    assert main(["--config", str(demo.config), "check"]) == 2
    assert '"Klingonese" is not a language we recognise' in capsys.readouterr().err


def test_workbook_read_keeps_the_language_columns_of_the_tab(demo):
    spreadsheet = WorkbookSpreadsheet("family", demo.folder / "family.xlsx", Names())
    table = spreadsheet.read([TRANSLATIONS])["Translations"]
    assert "Korean" in table.extra and "Spanish" in table.extra
    assert "Key" not in table.extra and "Status" not in table.extra
