"""Show a plan without carrying it out: `preview` files and the `--dry-run` listing.

`preview` writes every message a plan would send as .html, .txt and .eml files plus an
index page rendered from templates/preview/index.html; `--dry-run` prints what would be
sent and written. Neither sends, records or writes anything else.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from automations.cells import mask_email, shown_time, text
from automations.errors import TemplateProblem
from automations.jobs.rows import day_words
from automations.mail.compose import Outgoing
from automations.outcomes import RunSummary, describe_recipients
from automations.plan import History, Message, Plan
from automations.private import private_dir, write_private
from automations.render import Renderer
from automations.writeback import Tables, current_values, last_by_cell

INDEX = "index.html"
# Lines a dry run prints before "... and N more".
MAX_LISTED = 40
# How far `preview` looks for the next messages when nothing is due today.
LOOKAHEAD_DAYS = 120
# The files `preview` writes (and clears on the next preview), and nothing else.
OWN_FILE = re.compile(r"\d{3}-[a-z0-9_]+-[A-Za-z_]+\.(html|txt|eml)")


@dataclass(frozen=True)
class Previewed:
    """The files a preview wrote, and the later day they are for (None: today)."""

    files: list[Path]
    due_on: dt.date | None = None

    @property
    def messages(self) -> int:
        """How many messages were previewed."""
        return sum(1 for f in self.files if f.suffix == ".eml")


def unsent(planned: Any) -> list[Message]:
    """The messages of a Planned that were not sent before."""
    return [m for m in planned.plan.messages if not planned.history.was_sent(m.key)]


def whose(message: Message) -> str:
    """Whose message it is, for the index: the person's name with their masked address,
    or how many a Bcc batch goes to."""
    name = message.context.get("name")
    shown = describe_recipients(message.recipients)
    if message.bcc:
        return f"{len(message.bcc)} people in Bcc ({describe_recipients(message.bcc)})"
    return f"{name} ({shown})" if isinstance(name, str) and name.strip() else shown


def clear_old_previews(folder: Path) -> None:
    """Remove the files an earlier preview wrote in `folder` (only those)."""
    for path in folder.iterdir():
        if path.is_file() and (path.name == INDEX or OWN_FILE.fullmatch(path.name)):
            path.unlink()


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
    due_on: dt.date | None = None,
    looked_ahead: int = 0,
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
    :param due_on: the later day `plan` is for, when nothing was due on `now`'s day
    :param looked_ahead: how many days ahead were searched for messages
    """
    private_dir(folder)
    clear_old_previews(folder)
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
                "to": whose(message),
            }
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(preview_dir(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = env.get_template(INDEX).render(
        job=job,
        day=day_words(now.date()),
        due_on=day_words(due_on) if due_on else "",
        looked_ahead=looked_ahead,
        entries=entries,
    )
    written.append(write_private(folder / INDEX, page.encode("utf-8"), sync=False))
    return written


def dry_run_lines(
    plan: Plan, history: History, renderer: Renderer, tables: Tables | None = None
) -> tuple[list[str], int, list[str]]:
    """What a run would send and write, one line each; every message is rendered to
    prove it works. Returns the lines, how many messages would go, and template problems.

    With `tables` (the rows as read), only writes that change a cell are listed, then a
    count of those that would write what the cell already holds.
    """
    lines: list[str] = []
    planned = 0
    problems: list[str] = []
    # Only the first MAX_LISTED lines are shown: the rest are counted, not worded (a big
    # tab's dry run has hundreds of thousands).
    unlisted = 0

    def room() -> bool:
        nonlocal unlisted
        if len(lines) < MAX_LISTED:
            return True
        unlisted += 1
        return False

    for action in plan.actions:
        todo = [m for m in action.messages if not history.was_sent(m.key)]
        if not todo:
            continue
        for message in todo:
            try:
                renderer.check(message.template, message.language, message.context)
            except TemplateProblem as err:
                problems.append(str(err))
        planned += len(todo)
        if room():
            who = describe_recipients(r for m in todo for r in m.recipients)
            lines.append(f"  send  {action.description}: {len(todo)} message(s) to {who}")
    current = current_values(tables) if tables is not None else None
    unchanged = 0
    writes = last_by_cell(plan.writes + [w for a in plan.actions for w in a.on_success])
    for cell, write in writes.items():
        if current is not None and current.unchanged(write, cell):
            unchanged += 1
        elif room():
            where = write.row.key or "new row"
            lines.append(
                f"  write {write.row.tab} [{mask_email(where) if '@' in where else where}] "
                f"{write.column} = {shown(write.value)[:80]!r}"
            )
    for content in plan.tabs:
        if room():
            lines.append(f"  write tab {content.tab}: replaced by {len(content.rows)} rows")
    if unlisted:
        lines.append(f"  … and {unlisted} more")
    if unchanged:
        lines.append(f"  ({unchanged} cell(s) already hold what would be written: unchanged)")
    return lines, planned, problems


def show_dry_run(
    job: str,
    plan: Plan,
    history: History,
    renderer: Renderer,
    summary: RunSummary,
    out: Callable[[str], None],
    tables: Tables | None = None,
) -> None:
    """A dry run: print what would be sent and written (with `tables`, only writes that
    change a cell); count it, and each template that fails to render as a failure."""
    lines, summary.planned, problems = dry_run_lines(plan, history, renderer, tables)
    summary.problems.extend(problems)
    summary.failed += len(problems)
    out(f"[dry run] {job}: nothing is sent or written")
    for line in lines:
        out(line)


def shown(value: object) -> str:
    """A written value as its cell will show it (a recorded time: Dec 1, 2026 4:58 PM)."""
    return shown_time(value) if isinstance(value, dt.date) else text(value)  # type: ignore[arg-type]
