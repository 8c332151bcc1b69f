"""Show a plan without carrying it out: `preview` files and the `--dry-run` listing.

`preview` writes every message a plan would send as .html, .txt and .eml files plus an
index page rendered from templates/preview/index.html; `--dry-run` prints what would be
sent and written. Neither sends, records or writes anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import jinja2

from automations.cells import mask_email, text
from automations.errors import TemplateProblem
from automations.mail.compose import Outgoing
from automations.outcomes import RunSummary, describe_recipients
from automations.plan import History, Message, Plan
from automations.private import private_dir, write_private
from automations.render import Renderer

INDEX = "index.html"
# Lines a dry run prints before "... and N more".
MAX_LISTED = 40


def preview_dir(templates_dir: Path) -> Path:
    """Where the index template lives: templates/preview next to templates/email."""
    return templates_dir.parent / "preview"


def write_preview(
    job: str,
    plan: Plan,
    history: History,
    folder: Path,
    *,
    renderer: Renderer,
    prepare: Callable[[Message], Outgoing],
    now: dt.datetime,
    templates_dir: Path,
) -> list[Path]:
    """Write each message `plan` would send (not sent before) as files, plus index.html.

    :param job: the job's name, shown on the index page
    :param plan: the plan, as a real run would carry it out
    :param history: what was sent before (those messages are left out)
    :param folder: where the files go; previews hold whole Bcc lists, so the files are
        private (0600, in a 0700 folder when it is new)
    :param renderer: the templates (to name each message's language as rendered)
    :param prepare: renders and composes one message
    :param now: the time the index page names
    :param templates_dir: the email templates (the index template is next to them)
    """
    private_dir(folder)
    written: list[Path] = []
    entries: list[dict[str, str]] = []
    todo = [m for m in plan.messages if not history.was_sent(m.key)]
    for number, message in enumerate(todo, start=1):
        outgoing = prepare(message)
        language = renderer.resolve(message.language, message.template).code
        stem = f"{number:03d}-{message.template}-{language}"
        for suffix, content in (
            (".html", outgoing.rendered.html.encode("utf-8")),
            (".txt", outgoing.rendered.text.encode("utf-8")),
            (".eml", outgoing.mime.as_bytes()),
        ):
            written.append(write_private(folder / f"{stem}{suffix}", content, sync=False))
        entries.append(
            {
                "stem": stem,
                "subject": outgoing.rendered.subject,
                "language": language,
                "to": describe_recipients(message.recipients),
            }
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(preview_dir(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = env.get_template(INDEX).render(job=job, day=f"{now:%Y-%m-%d}", entries=entries)
    written.append(write_private(folder / INDEX, page.encode("utf-8"), sync=False))
    return written


def dry_run_lines(
    plan: Plan, history: History, renderer: Renderer
) -> tuple[list[str], int, list[str]]:
    """What a run would send and write, one line each; every message is rendered to
    prove it works. Returns the lines, how many messages would go, and template problems.
    """
    lines: list[str] = []
    planned = 0
    problems: list[str] = []
    for action in plan.actions:
        todo = [m for m in action.messages if not history.was_sent(m.key)]
        if not todo:
            continue
        for message in todo:
            try:
                renderer.render(message.template, message.language, message.context)
            except TemplateProblem as err:
                problems.append(str(err))
        planned += len(todo)
        who = describe_recipients(r for m in todo for r in m.recipients)
        lines.append(f"  send  {action.description}: {len(todo)} message(s) to {who}")
    for write in plan.writes + [w for a in plan.actions for w in a.on_success]:
        where = write.row.key or "new row"
        lines.append(
            f"  write {write.row.tab} [{mask_email(where) if '@' in where else where}] "
            f"{write.column} = {text(write.value)[:80]!r}"
        )
    for content in plan.tabs:
        lines.append(f"  write tab {content.tab}: replaced by {len(content.rows)} rows")
    if len(lines) > MAX_LISTED:
        lines = [*lines[:MAX_LISTED], f"  … and {len(lines) - MAX_LISTED} more"]
    return lines, planned, problems


def show_dry_run(
    job: str,
    plan: Plan,
    history: History,
    renderer: Renderer,
    summary: RunSummary,
    out: Callable[[str], None],
) -> None:
    """A dry run: print what would be sent and written; count it, and each template that
    fails to render as a failure."""
    lines, summary.planned, problems = dry_run_lines(plan, history, renderer)
    summary.problems.extend(problems)
    summary.failed += len(problems)
    out(f"[dry run] {job}: nothing is sent or written")
    for line in lines:
        out(line)
