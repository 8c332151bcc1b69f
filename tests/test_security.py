"""Injection and privacy: HTML/JS escaped in every template, unsafe links refused, no header
injection, write-backs stay text, families never see each other, secret files private."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import os
from email import policy
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automations.cli import main
from automations.errors import TemplateProblem
from automations.jobs import registry
from automations.jobs import webinar_agendas as wa
from automations.languages import Language
from automations.mail.compose import Envelope, compose
from automations.plan import History, JobInput
from automations.render import Renderer
from automations.sheets.contract import CellWrite, RowRef, RunLogEntry
from automations.sheets.workbook import WorkbookSpreadsheet
from tests.fixtures.mail import token_backend
from tests.fixtures.workbooks import TODAY, make_table, records

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FREE_TEXT = {
    "Name",
    "Location",
    "Agenda",
    "Title",
    "Family Preparedness",
    "We Are One",
    "Know Your Rights",
    "Other Topics",
    "Site",
}


def poison(value: Any, gentle: bool = False) -> Any:
    """Every string in a template context, with a script tag appended (`gentle`: only
    strings with a space, i.e. text a person typed, never lookup codes like "missed")."""
    if isinstance(value, str):
        typed = " " in value if gentle else len(value) > 3
        return value + SCRIPT if typed else value
    if isinstance(value, dict):
        return {
            k: v if k in {"code", "key", "id", "fingerprint"} else poison(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(poison(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: poison(getattr(value, f.name)) for f in dataclasses.fields(value)}
        try:
            return dataclasses.replace(value, **changes)
        except (TypeError, ValueError):
            return value
    return value


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "img", "iframe", "object"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().casefold().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")


def active_html(markup: str) -> list[str]:
    """Script-capable elements or attributes in `markup` (text inside attributes is inert)."""
    parser = _Tags()
    parser.feed(markup)
    return parser.found


def edit_cells(path: Path, change) -> None:
    """Rewrite every data cell of a workbook through change(header, value)."""
    workbook = openpyxl.load_workbook(path)
    for sheet in workbook:
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                name = header[cell.column - 1] if cell.column - 1 < len(header) else None
                cell.value = change(name, cell.value)
    workbook.save(path)


def html_parts(folder: Path) -> list[tuple[email.message.EmailMessage, str]]:
    parts = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("html",))
        parts.append((message, body.get_content() if body is not None else ""))
    return parts


def test_every_template_escapes_html_from_every_context_value(demo):
    settings_ = demo.settings
    renderer = Renderer(settings_.templates_dir)
    rendered = 0
    escaped: set[str] = set()
    for job in registry().values():
        for message in job.samples(settings_, job.options(settings_)):
            context = poison(message.context)
            for code in sorted(renderer.languages):
                if not renderer.has(code, message.template):
                    continue
                try:
                    result = renderer.render(message.template, Language(code, code), context)
                except TemplateProblem:
                    # Figures keyed by status words: poison the person's name only.
                    named = {**message.context, "name": f"{message.context.get('name')}{SCRIPT}"}
                    result = renderer.render(message.template, Language(code, code), named)
                assert not active_html(result.html), (job.name, message.template, code)
                escaped.add(job.name) if "&lt;script&gt;" in result.html else None
                rendered += 1
    assert rendered >= 10
    assert escaped == set(registry()), "each job's mail should show the text, escaped"


def test_html_in_sheet_cells_is_escaped_in_every_sent_message(demo):
    for book in demo.folder.glob("*.xlsx"):
        edit_cells(book, lambda h, v: f"{v}{SCRIPT}" if h in FREE_TEXT and v else v)
    for job in registry().values():
        demo.runner(out=lambda line: None).run(job)
    parts = html_parts(demo.outbox)
    assert len(parts) >= 10
    for message, body in parts:
        assert not active_html(body), message["Subject"]
    assert any("&lt;script&gt;" in body for _, body in parts)


@pytest.mark.parametrize(
    ("book", "tab", "column", "job"),
    [
        ("committee.xlsx", "Meetings", "Online Link", "committee-invites"),
        ("family.xlsx", "Webinars", "Join Link", "webinar-agendas"),
        ("pd.xlsx", "Sessions", "Join Link", "pd-reminders"),
        ("pd.xlsx", "Sessions", "Registration Link", "pd-reminders"),
    ],
)
@pytest.mark.parametrize("link", ["javascript:alert(document.cookie)", "data:text/html,<b>x</b>"])
def test_unsafe_links_are_refused_with_a_row_status(demo, book, tab, column, job, link):
    path = demo.folder / book
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[tab]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index(column) + 1, value=link)
    workbook.save(path)
    demo.runner(out=lambda line: None).run(registry()[job])
    status = records(path, tab)[0]["Status"] or ""
    assert status.startswith("Error") and column in status and "not a web link" in status, status
    for message, body in html_parts(demo.outbox):
        assert link not in body and link.split(":")[0] + ":" not in message.as_string()


def test_cr_lf_in_sheet_values_cannot_add_mail_headers(demo):
    evil = "Line\r\nBcc: evil@attacker.example\r\nX-Injected: yes"
    for book in demo.folder.glob("*.xlsx"):
        edit_cells(book, lambda h, v: f"{v}{evil}" if h in FREE_TEXT and v else v)
    for job in registry().values():
        demo.runner(out=lambda line: None).run(job)
    parts = html_parts(demo.outbox)
    assert parts
    for message, _ in parts:
        assert message["X-Injected"] is None
        for name in ("From", "To", "Cc", "Bcc", "Reply-To", "Sender"):
            assert "evil@attacker.example" not in str(message[name] or ""), name
        assert message["X-Injected"] is None


def test_compose_folds_a_subject_with_cr_lf_instead_of_adding_a_header(demo):
    renderer = Renderer(demo.settings.templates_dir)
    job = registry()["webinar-agendas"]
    sample = job.samples(demo.settings, job.options(demo.settings))[0]
    rendered = renderer.render(sample.template, Language("en", "en"), sample.context)
    rendered = dataclasses.replace(rendered, subject="Hi\r\nBcc: evil@attacker.example")
    mime = compose(
        key="k",
        job="webinar-agendas",
        envelope=Envelope("a@example.org", ("b@example.org",), (), None),
        rendered=rendered,
        now=dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC),
    ).mime
    parsed = email.message_from_bytes(mime.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert "evil@attacker.example" not in (parsed["To"] or "")


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "=1+1", "+SUM(A1)", "@cmd"])
def test_values_written_back_stay_text_in_a_workbook(demo, value):
    settings_ = demo.settings
    sheet = WorkbookSpreadsheet("committee", demo.committee, settings_.names)
    spec = registry()["committee-invites"].tabs(settings_)["committee"]
    specs = {s.name: s for s in spec}
    tables = sheet.read(list(spec))
    row = tables["Members"].rows[0]
    ref = RowRef("Members", row.text("Email"), "")
    write = CellWrite("committee", ref, "Status", value)
    entry = RunLogEntry(dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC), "t", False, 0, 0, 0, value)
    sheet.write([write], specs, entry)
    workbook = openpyxl.load_workbook(demo.committee)
    members = workbook["Members"]
    header = [c.value for c in members[1]]
    cell = members.cell(row=2, column=header.index("Status") + 1)
    assert cell.data_type == "s" and cell.value == value
    for log_row in workbook["Run Log"].iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in log_row)


def test_values_written_back_stay_text_on_google(google_demo):
    env = google_demo()
    sid = env.ids["committee"]
    env.emulator.sheet(sid, "Members").set(1, 0, "=1+1 <b>")  # a Name that looks like a formula
    members = env.values("committee", "Members")
    members[1][1] = "not an email"
    env.emulator.sheet(sid, "Members").set(1, 1, '=HYPERLINK("http://x")')
    env.runner(out=lambda line: None).run(registry()["committee-invites"])
    from tests.emulators.sheets_api import Formula

    for tab in ("Members", "Meetings", "Run Log"):
        for row in env.emulator.sheet(sid, tab).cells:
            assert not any(isinstance(v, Formula) for v in row), (tab, row)
    status = env.records("committee", "Members")[0]["Status"]
    assert status.startswith("Error") and "=HYPERLINK" in status


# -- families never see each other ----------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    emails=st.lists(
        st.from_regex(
            r"[a-z]{1,8}(\.[a-z]{1,5})?@(example|school|mail)\.(org|com)", fullmatch=True
        ),
        min_size=1,
        max_size=60,
    ),
    batch=st.integers(min_value=1, max_value=25),
    cases=st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_family_addresses_never_appear_together_in_to_or_cc(demo, emails, batch, cases):
    settings_ = demo.settings
    rows = [
        {"Email": e.upper() if flip else e, "Language": ""}
        for e, flip in zip(emails, cases, strict=False)
    ]
    webinar = {
        "Webinar ID": "W1",
        "Title": "Webinar",
        "Date": f"{(TODAY + dt.timedelta(days=3)):%m/%d/%Y}",
        "Start Time": "6 PM",
        "End Time": "7 PM",
        "Join Link": "https://example.org/join",
        "Family Preparedness": "Plan.",
        "We Are One": "Help.",
        "Know Your Rights": "Rights.",
    }
    options = dataclasses.replace(wa.options(settings_), batch_size=batch)
    tables = {
        "family": {
            "Webinars": make_table(wa.WEBINARS, [webinar]),
            "Families": make_table(wa.FAMILIES, rows),
        }
    }
    plan = wa.plan(
        JobInput(
            tables=tables,
            today=TODAY,
            now=dt.datetime.combine(TODAY, dt.time(7), settings_.timezone),
            settings=settings_,
            options=options,
            history=History(),
            languages=frozenset({"en", "es"}),
        )
    )
    families = {e.casefold() for e in emails}
    seen: list[str] = []
    for message in plan.messages:
        visible = [a.casefold() for a in message.to]
        assert not families & set(visible), message.to
        assert len(message.bcc) <= batch
        seen += [a.casefold() for a in message.bcc]
        mime = compose(
            key=message.key,
            job="webinar-agendas",
            envelope=Envelope(settings_.mail.sender, message.to, message.bcc, None),
            rendered=Renderer(settings_.templates_dir).render(
                message.template, message.language, message.context
            ),
            now=dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC),
        ).mime
        shown = {a.casefold() for _, a in getaddresses([str(mime[h] or "") for h in ("To", "Cc")])}
        assert not shown & families
    assert len(seen) == len(set(seen)), "a family got the same agenda twice"
    assert set(seen) <= families and seen


# -- secret files -----------------------------------------------------------------------------


def test_check_warns_about_a_key_or_token_file_others_can_read(demo, capsys):
    key = demo.folder / "keys" / "service-account.json"
    key.parent.mkdir()
    key.write_text("{}")
    text = demo.config.read_text() + f'\n[google]\ncredentials_file = "{key}"\n'
    demo.config.write_text(text)
    token = demo.folder / "state" / "o365_token.json"
    token.parent.mkdir(exist_ok=True)
    token.write_text(token_backend().serialize())
    os.chmod(key, 0o644)
    os.chmod(token, 0o640)
    main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert f"warning: secrets: google.credentials_file {key} can be read by group and others" in out
    assert f"chmod 600 {key}" in out
    assert f"warning: secrets: token cache {token} can be read by group (mode 640)" in out
    os.chmod(key, 0o600)
    os.chmod(token, 0o600)
    main(["--config", str(demo.config), "check"])
    assert "secrets:" not in capsys.readouterr().out


def test_check_follows_credentials_env_and_ignores_a_public_ca_file(demo, capsys, monkeypatch):
    key = demo.folder / "sa.json"
    key.write_text("{}")
    os.chmod(key, 0o604)
    ca = demo.folder / "ca.pem"
    ca.write_text("cert")
    os.chmod(ca, 0o644)
    monkeypatch.setenv("MY_KEY_PATH", str(key))
    text = demo.config.read_text()
    text += '\n[google]\ncredentials_env = "MY_KEY_PATH"\n'
    demo.config.write_text(text)
    main(["--config", str(demo.config), "check"])
    out = capsys.readouterr().out
    assert f"google.credentials_env ($MY_KEY_PATH) {key} can be read by others" in out
    assert "ca.pem" not in out
