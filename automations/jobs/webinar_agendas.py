"""Job webinar-agendas (MOU 7.0): parent and family academy webinars.

Every webinar must cover family preparedness, We Are One resources and Know Your
Rights before its agenda goes out; then families get it in their language, in Bcc
batches, plus a reminder the day before and a notice if it is cancelled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.backends import mail_limits
from automations.cells import is_placeholder, parse_email, parse_link, parse_yes_no, strip_bidi
from automations.config import Options, Settings
from automations.errors import ConfigError
from automations.jobs import Job
from automations.jobs.rows import (
    RowProblem,
    address_of,
    choose_language,
    chunks,
    day_words,
    duplicates,
    error_status,
    event_times,
    field,
    identified_rows,
    known_events,
    message_key,
    pending_status,
    row_ref,
    rows_phrase,
    standing_refusal,
    unless_refused,
    write,
)
from automations.languages import ENGLISH, Language, parse_language
from automations.plan import Action, JobInput, Message, Plan, StatusCell
from automations.sheets.contract import CellWrite, Column, Row, RowRef, TabSpec

NAME = "webinar-agendas"
SHEET = "family"
# The three sections MOU 7.0 requires, by column, with the key templates use.
REQUIRED_SECTIONS = (
    ("Family Preparedness", "preparedness"),
    ("We Are One", "we_are_one"),
    ("Know Your Rights", "know_your_rights"),
)
# Most recipients one Bcc message may carry, whatever the config says (Exchange default).
BATCH_CEILING = 500
DEFAULT_BATCH = 100
# Family mail is read on shared phones: the name it comes from must not label the family.
DEFAULT_SENDER_NAME = "LAUSD Family Engagement"

WEBINARS = TabSpec(
    "Webinars",
    (
        Column("Webinar ID"),
        Column("Title", required=True),
        Column("Date", required=True),
        Column("Start Time", required=True),
        Column("End Time"),
        Column("Language"),
        Column("Join Link", required=True),
        *(Column(column, required=True) for column, _ in REQUIRED_SECTIONS),
        Column("Other Topics"),
        Column("Cancelled", controls=True, aliases=("Canceled",)),
        Column("Agenda Sent", owned=True),
        Column("Reminder Sent", owned=True),
        Column("Recipients", owned=True),
        Column("Status", owned=True),
    ),
    key="Webinar ID",
    fingerprint=("Title", "Date", "Start Time"),
)
FAMILIES = TabSpec(
    "Families",
    (
        Column("Email", required=True),
        Column("Name"),
        Column("Language"),
        Column("Opted Out", controls=True),
        Column("Status", owned=True),
    ),
    key="Email",
    fingerprint=("Name",),
)


@dataclass(frozen=True)
class WebinarOptions:
    """Lead times, batch size and who hears about webinars missing content."""

    agenda_lead_days: int
    reminder_days: int
    batch_size: int  # families per Bcc message, already cut to what the mailer allows
    webinar_minutes: int
    owners: tuple[str, ...]
    help_contact: str
    # Why the configured batch_size was cut (for the run line and `check`), or "".
    batch_problem: str = ""
    # The From and visible To name of family mail, and its footer line by language code
    # ("*": every language; none: the template's own line in the family's language).
    sender_name: str = DEFAULT_SENDER_NAME
    footers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def family(self, language: Language) -> dict[str, str]:
        """What family templates need to sign a message in `language`."""
        footer = self.footers.get(language.code, self.footers.get("*", ""))
        return {"sender": self.sender_name, "footer": footer}


def options(settings: Settings) -> WebinarOptions:
    """Read [jobs.webinar-agendas] (every key optional)."""
    reader = Options(settings, NAME)
    size = reader.integer("batch_size", DEFAULT_BATCH, minimum=1, maximum=10**6)
    if size > BATCH_CEILING:
        raise ConfigError(
            f"{settings.path}: jobs.{NAME}.batch_size is {size}; mail servers refuse more than "
            f"{BATCH_CEILING} recipients per message, so use {BATCH_CEILING} or less"
        )
    batches = batch_limit(settings, size, "batch_size" in settings.job(NAME).options)
    owners = reader.addresses("owner")
    result = WebinarOptions(
        agenda_lead_days=reader.integer("agenda_lead_days", 7, minimum=1, maximum=90),
        reminder_days=reader.integer("reminder_days", 1, minimum=0, maximum=14),
        batch_size=batches.size,
        webinar_minutes=reader.integer("webinar_minutes", 60, minimum=15, maximum=600),
        owners=owners or ((address_of(settings.mail.admin),) if settings.mail.admin else ()),
        help_contact=reader.string(
            "help_contact", address_of(settings.mail.reply_to or settings.mail.sender)
        ),
        batch_problem=batches.problem,
        sender_name=_sender_name(settings, reader.string("sender_name", DEFAULT_SENDER_NAME)),
        footers=_footers(settings, reader),
    )
    reader.finish()
    return result


def visible_recipients(settings: Settings) -> tuple[str, ...]:
    """The To address every Bcc batch shows: the list address, else the sender."""
    return (address_of(settings.mail.list_address or settings.mail.sender),)


@dataclass(frozen=True)
class BatchLimit:
    """Families per Bcc message, and why the configured batch_size could not be used."""

    size: int
    problem: str = ""


def batch_limit(settings: Settings, requested: int, explicit: bool) -> BatchLimit:
    """The one place the batch size is decided: batch_size cut to what the mailer allows.

    The mailer's recipients_per_message counts every recipient of a message, the visible
    To address too, so a batch holds at most that limit minus the visible recipients.
    A batch_size over it is cut (smaller batches only mean more messages; refusing would
    hold back every family's agenda) and, when the admin set it, reported as a problem.
    A limit that leaves no room for even one family is a configuration error.
    """
    limits = mail_limits(settings)
    if limits is None:  # the outbox: files, no recipient limit
        return BatchLimit(requested)
    visible = len(visible_recipients(settings))
    limit = limits.recipients_per_message
    room = limit - visible
    key = f"{settings.mail.backend}.recipients_per_message"
    if room < 1:
        raise ConfigError(
            f"{settings.path}: {key} = {limit} leaves no room for families in a Bcc message "
            f"(it counts the visible To address too) and jobs.{NAME} sends agendas in Bcc "
            f"batches; set {key} to {visible + 1} or more, or enabled = false under [jobs.{NAME}]"
        )
    if requested <= room:
        return BatchLimit(requested)
    if not explicit:
        return BatchLimit(room)
    return BatchLimit(
        room,
        f"jobs.{NAME}.batch_size = {requested} can never be sent: {key} = {limit} counts the "
        f"visible To address too, so a message holds at most {room} families; runs send "
        f"batches of {room}; set batch_size to {room} or less, or remove it",
    )


def config_problems(settings: Settings, opts: WebinarOptions) -> list[str]:
    """Settings that are each valid but cannot work together (for `check`)."""
    return [opts.batch_problem] if opts.batch_problem else []


def _sender_name(settings: Settings, value: str) -> str:
    name = " ".join(strip_bidi(value).split())
    if not name:
        raise ConfigError(
            f"{settings.path}: jobs.{NAME}.sender_name must not be blank, "
            f'e.g. "{DEFAULT_SENDER_NAME}"'
        )
    return name


def _footers(settings: Settings, reader: Options) -> dict[str, str]:
    """`footer = "..."` (every language) or `footer = { en = "...", es = "..." }`."""
    value = reader.raw("footer")
    where = f"{settings.path}: jobs.{NAME}.footer"
    if value is None:
        return {}
    if isinstance(value, str):
        return {"*": " ".join(value.split())}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(
            f'{where} must be text in quotes, or one per language: {{ en = "...", es = "..." }}'
        )
    footers = {}
    for key, text in value.items():
        language = parse_language(str(key))
        if language is None:
            raise ConfigError(f'{where}.{key}: "{key}" is not a language we recognise')
        footers[language.code] = " ".join(text.split())
    return footers


def tabs(settings: Settings) -> Mapping[str, Sequence[TabSpec]]:
    """The family-engagement spreadsheet's Webinars and Families tabs."""
    return {SHEET: (WEBINARS, FAMILIES)}


# -- families -------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A family that may be mailed: its address, the language it asked for and gets."""

    ref: RowRef
    email: str
    wanted: Language | None
    language: Language
    # The row's status since a server refused this address ('' when none did).
    refused: str = ""

    def rows(self) -> dict[str, StatusCell]:
        """Where what happens to this family's mail is written."""
        return {self.email: StatusCell(SHEET, self.ref, standing=self.refused)}

    @property
    def address(self) -> str:
        """The address compared case-insensitively."""
        return self.email.casefold()


def read_families(job: JobInput, plan: Plan) -> tuple[list[Family], set[str]]:
    """Families to mail (one per address) and the addresses that opted out."""
    table = job.table(SHEET, "Families")
    assert table is not None
    doubled = duplicates(table, lambda r: r.text("Email"))
    rows_by_address: dict[str, list[Row]] = {}
    for row in table:
        ref = row_ref(FAMILIES, row)
        try:
            email = field(row, "Email", parse_email)
            field(row, "Opted Out", parse_yes_no, default=False)
        except RowProblem as problem:
            plan.writes.append(write(SHEET, ref, "Status", error_status(problem)))
            plan.skipped += 1
            continue
        rows_by_address.setdefault(email.casefold(), []).append(row)
    families: list[Family] = []
    opted_out: set[str] = set()
    for address, rows in rows_by_address.items():
        first = rows[0]
        ref = row_ref(FAMILIES, first)
        notes = []
        if first.text("Email").casefold() in doubled or len(rows) > 1:
            numbers = doubled.get(first.text("Email").casefold(), [r.number for r in rows])
            notes.append(f"the same email is on {rows_phrase(numbers)}; mailed once")
        standing = standing_refusal(job.history, ref)
        # One opt-out on any of the rows wins: never mail someone who asked not to be.
        if any(parse_yes_no(r["Opted Out"], default=False) for r in rows):
            opted_out.add(address)
            status = "Opted out: never mailed"
            plan.writes.append(write(SHEET, ref, "Status", unless_refused(status, standing)))
            continue
        choice = choose_language(first.text("Language"), job.languages)
        if choice.note:
            notes.append(choice.note)
        status = f"Receives mail in {choice.used.name}"
        if notes:
            status += f". Check: {'; '.join(notes)}"
        plan.writes.append(write(SHEET, ref, "Status", unless_refused(status, standing)))
        email = parse_email(first["Email"])
        families.append(Family(ref, email, choice.wanted, choice.used, standing))
    families.sort(key=lambda f: f.address)
    return families, opted_out


# -- webinars -------------------------------------------------------------------


@dataclass(frozen=True)
class Webinar:
    """A webinar row read and checked (coverage is checked separately)."""

    row: Row
    ref: RowRef
    id: str
    title: str
    start: dt.datetime
    end: dt.datetime
    language: Language | None
    join_link: str
    sections: Mapping[str, str]
    other_topics: str
    cancelled: bool
    # Why the Webinar ID is not in the sheet yet ('' when it is): not acted on until it is.
    pending: str = ""

    @property
    def missing(self) -> list[str]:
        """The required sections (column names) with no agenda text.

        Placeholder text (TBD, N/A, -, pending, por definir, ...) is no agenda text:
        it does not cover the topic MOU 7.0 requires.
        """
        return [
            column
            for column, key in REQUIRED_SECTIONS
            if not self.sections[key] or is_placeholder(self.sections[key])
        ]

    @property
    def missing_words(self) -> str:
        """The missing sections for a status: 'Know Your Rights ("TBD" is a placeholder)'."""
        words = []
        for column, key in REQUIRED_SECTIONS:
            if column in self.missing:
                held = self.sections[key]
                words.append(f'{column} ("{held}" is a placeholder)' if held else column)
        return ", ".join(words)

    def context(self) -> dict[str, Any]:
        """Template variables describing the webinar."""
        return {
            "id": self.id,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "join_link": self.join_link,
            "sections": dict(self.sections),
            "other_topics": self.other_topics,
        }

    def targets(self, families: Iterable[Family]) -> list[Family]:
        """Families whose language matches (every family when the webinar has none)."""
        if self.language is None:
            return list(families)
        code = self.language.code
        return [f for f in families if f.wanted is not None and f.wanted.code == code]


def read_webinars(job: JobInput, plan: Plan, minutes: int) -> list[Webinar]:
    """Webinars whose rows are usable; bad rows get an Error status."""
    table = job.table(SHEET, "Webinars")
    assert table is not None
    zone = job.settings.timezone
    window = (job.settings.agreement_start, job.settings.agreement_end)
    webinars = []
    known = known_events(job.history, "webinar")
    for row, ref, ident, pending in identified_rows(
        table, WEBINARS, SHEET, plan, "WB", "webinar", known
    ):
        try:
            if not row.text("Title"):
                raise RowProblem("Title is blank")
            start, end = event_times(row, zone, minutes, agreement=window)
            language = None
            if row.text("Language"):
                language = parse_language(row.text("Language"))
                if language is None:
                    raise RowProblem(
                        f'Language "{row.text("Language")}" is not a language we recognise '
                        "(leave it blank to invite every family in their own language)"
                    )
            link = field(row, "Join Link", parse_link)
            cancelled = field(row, "Cancelled", parse_yes_no, default=False)
        except RowProblem as problem:
            plan.writes.append(write(SHEET, ref, "Status", error_status(problem)))
            plan.skipped += 1
            continue
        webinars.append(
            Webinar(
                row,
                ref,
                ident,
                row.text("Title"),
                start,
                end,
                language,
                link,
                {key: row.text(column) for column, key in REQUIRED_SECTIONS},
                row.text("Other Topics"),
                cancelled,
                pending,
            )
        )
    return webinars


# -- Bcc batches --------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One Bcc message of an occasion (agenda, reminder, cancel) of one webinar."""

    number: int
    language: Language
    recipients: tuple[str, ...]  # casefolded addresses


def _entity(webinar: str, occasion: str, number: int | None = None) -> str:
    base = f"webinar:{webinar}:{occasion}:"
    return base if number is None else f"{base}{number}"


def batch_key(webinar: str, occasion: str, number: int) -> str:
    """The message key of batch `number`: fixed once the batch is reserved."""
    return message_key(NAME, webinar, occasion, "batch", number)


def reserved_batches(job: JobInput, webinar: str, occasion: str) -> list[Batch]:
    """Batches reserved in earlier runs (sent or not), by number."""
    prefix = _entity(webinar, occasion)
    batches = []
    for entity, state in job.history.states.items():
        if entity.startswith(prefix) and entity[len(prefix) :].isdigit():
            code = str(state.get("language", "en"))
            language = parse_language(code) or ENGLISH
            batches.append(
                Batch(int(entity[len(prefix) :]), language, tuple(state.get("recipients", ())))
            )
    return sorted(batches, key=lambda b: b.number)


def sent_recipients(job: JobInput, webinar: str, occasion: str) -> dict[str, Language]:
    """Addresses (casefolded) in batches of `occasion` that went out, with their language."""
    return {
        address: batch.language
        for batch in reserved_batches(job, webinar, occasion)
        if job.history.was_sent(batch_key(webinar, occasion, batch.number))
        for address in batch.recipients
    }


def plan_batches(
    job: JobInput,
    webinar: Webinar,
    occasion: str,
    targets: Sequence[Family],
    template: str,
    context: Mapping[str, Any],
    on_success: Callable[[int], list[CellWrite]],
) -> tuple[list[Action], int]:
    """Actions that bring every target family exactly one message of `occasion`.

    A batch's members are recorded (reserved) in the ledger by an action of its own
    *before* the batch is sent, so a rerun after a crash re-plans that very batch under
    the same key (the ledger then refuses to send it twice), families added since go
    into new batches, and nobody who was in a batch is ever put in another one.
    `on_success(total)` gives each batch's write-backs, `total` being how many families
    the occasion covers in all. Returns the actions and that total.
    """
    opts: WebinarOptions = job.options
    by_address = {f.address: f for f in targets}
    reserved = reserved_batches(job, webinar.id, occasion)
    covered = {address for batch in reserved for address in batch.recipients}
    visible = visible_recipients(job.settings)
    actions: list[Action] = []

    def send(batch: Batch, people: Sequence[Family]) -> Action:
        return Action(
            description=(
                f"{occasion} of webinar {webinar.id}, batch {batch.number} "
                f"({batch.language.name}, {_families_word(len(people))})"
            ),
            messages=[
                Message(
                    key=batch_key(webinar.id, occasion, batch.number),
                    template=template,
                    language=batch.language,
                    to=visible,
                    bcc=tuple(f.email for f in people),
                    context={**context, "family": opts.family(batch.language)},
                    recipient_rows={k: v for f in people for k, v in f.rows().items()},
                    display_name=opts.sender_name,
                )
            ],
            on_success=[],  # filled in once the total is known
            status=StatusCell(SHEET, webinar.ref),
        )

    for batch in reserved:
        key = batch_key(webinar.id, occasion, batch.number)
        if job.history.was_sent(key):
            continue
        # Reserved but not sent (a run stopped or the send failed): the same batch
        # again, without anyone who has since opted out or left the tab.
        people = [by_address[a] for a in batch.recipients if a in by_address]
        if len(people) > opts.batch_size and key not in job.history.unsettled:
            # Reserved when the limit was higher (or miscounted) and never handed to the
            # mail server: keep what fits, and the rest go into new batches below.
            people = people[: opts.batch_size]
            covered -= set(batch.recipients) - {f.address for f in people}
            actions.append(_reserve(webinar, occasion, batch.number, batch.language.code, people))
        if people:
            actions.append(send(batch, people))
    fresh: dict[str, list[Family]] = {}
    for family in targets:
        if family.address not in covered:
            fresh.setdefault(family.language.code, []).append(family)
    number = max((b.number for b in reserved), default=0)
    total = len(covered)
    for code in sorted(fresh):
        for people in chunks(sorted(fresh[code], key=lambda f: f.address), opts.batch_size):
            number += 1
            batch = Batch(number, people[0].language, tuple(f.address for f in people))
            total += len(people)
            actions.append(_reserve(webinar, occasion, number, code, people))
            actions.append(send(batch, people))
    for action in actions:
        if action.messages:
            action.on_success.extend(on_success(total))
    return actions, total


def _reserve(
    webinar: Webinar, occasion: str, number: int, code: str, people: Sequence[Family]
) -> Action:
    """Record batch `number`'s members in the ledger before the batch is sent."""
    return Action(
        description=f"reserve batch {number} of the {occasion} of {webinar.id}",
        messages=[],
        state=(
            _entity(webinar.id, occasion, number),
            {"language": code, "recipients": [f.address for f in people]},
        ),
    )


# -- planning -----------------------------------------------------------------


def _families_word(count: int) -> str:
    return f"{count} {'family' if count == 1 else 'families'}"


def plan(job: JobInput) -> Plan:
    """Check coverage, then plan agendas, reminders and cancellation notices."""
    result = Plan()
    opts: WebinarOptions = job.options
    if opts.batch_problem:
        result.problems.append(opts.batch_problem)
    families, opted_out = read_families(job, result)
    webinars = read_webinars(job, result, opts.webinar_minutes)
    for webinar in webinars:
        if webinar.pending:
            then = "its agenda goes out" if webinar.start.date() >= job.today else "the row is used"
            status = pending_status("Webinar ID", webinar.id, webinar.pending, then)
            result.writes.append(write(SHEET, webinar.ref, "Status", status))
        elif webinar.cancelled:
            _plan_cancelled(job, webinar, families, opted_out, result)
        else:
            _plan_webinar(job, webinar, families, result)
    result.actions.extend(_missing_rows(job, webinars, result))
    return result


def identity(webinar: Webinar) -> dict[str, str]:
    """What the ledger keeps about a webinar whose agenda went out: enough to find its
    row again if the Webinar ID is lost, and to name it if the row disappears."""
    return {
        "date": webinar.start.date().isoformat(),
        "start": webinar.start.strftime("%H:%M"),
        "title": webinar.title,
    }


def _plan_webinar(
    job: JobInput, webinar: Webinar, families: Sequence[Family], result: Plan
) -> None:
    opts: WebinarOptions = job.options
    days = (webinar.start.date() - job.today).days
    ever = reserved_batches(job, webinar.id, "agenda")
    missing = webinar.missing
    missing_words = webinar.missing_words
    if days < 0:
        if not ever:
            status = f"Past: no agenda was sent (dated {day_words(webinar.start.date())})"
            result.writes.append(write(SHEET, webinar.ref, "Status", status))
        return
    if days > opts.agenda_lead_days:
        opens = webinar.start.date() - dt.timedelta(days=opts.agenda_lead_days)
        status = (
            f"Scheduled for {day_words(webinar.start.date())}: the agenda goes out on "
            f"{day_words(opens)}"
        )
        if missing:
            status += f". Add agenda text for {missing_words} before then"
        result.writes.append(write(SHEET, webinar.ref, "Status", status))
        return
    if missing:
        result.writes.append(
            write(
                SHEET,
                webinar.ref,
                "Status",
                f"Not sent: agenda text missing for {missing_words} (MOU 7.0 requires all "
                "three); fill in the column(s) and the agenda goes out on the next run",
            )
        )
        result.problems.append(f"webinar {webinar.id} is missing {missing_words}")
        result.actions.extend(_coverage_alert(job, webinar, missing, result))
        return
    targets = webinar.targets(families)
    context = {"webinar": webinar.context(), "help": opts.help_contact}
    now_text = job.now.isoformat(timespec="minutes")
    # Reuse the first send's time so later batches do not move the Agenda Sent date.
    sent_at = webinar.row.text("Agenda Sent") or now_text
    in_language = f" ({webinar.language.name})" if webinar.language is not None else ""

    def agenda_writes(total: int) -> list[CellWrite]:
        return [
            write(SHEET, webinar.ref, "Agenda Sent", sent_at),
            write(SHEET, webinar.ref, "Recipients", total),
            write(
                SHEET, webinar.ref, "Status", f"Agenda sent to {_families_word(total)}{in_language}"
            ),
        ]

    actions, total = plan_batches(
        job, webinar, "agenda", targets, "webinar_agenda", context, agenda_writes
    )
    known = identity(webinar)
    if total and job.history.state(f"webinar:{webinar.id}") != known:
        # Kept before any batch is sent, so the ID is never reinvented for this webinar.
        result.actions.append(
            Action(
                description=f"remember webinar {webinar.id}",
                messages=[],
                state=(f"webinar:{webinar.id}", known),
            )
        )
    result.actions.extend(actions)
    if not total:
        language = f" with {webinar.language.name} as their language" if webinar.language else ""
        result.writes.append(
            write(SHEET, webinar.ref, "Status", f"Not sent: no families{language} to send it to")
        )
        return
    if opts.reminder_days and days <= opts.reminder_days and webinar.start > job.now:
        received = sent_recipients(job, webinar.id, "agenda")
        reminded = [f for f in targets if f.address in received]
        agenda_status = f"Agenda sent to {_families_word(total)}{in_language}"

        def reminder_writes(count: int) -> list[CellWrite]:
            return [
                write(SHEET, webinar.ref, "Reminder Sent", now_text),
                write(
                    SHEET,
                    webinar.ref,
                    "Status",
                    f"{agenda_status}; reminder sent to {_families_word(count)}",
                ),
            ]

        reminders, _ = plan_batches(
            job, webinar, "reminder", reminded, "webinar_reminder", context, reminder_writes
        )
        result.actions.extend(reminders)


def _plan_cancelled(
    job: JobInput,
    webinar: Webinar,
    families: Sequence[Family],
    opted_out: set[str],
    result: Plan,
) -> None:
    """A notice, once, to every family the agenda went to (unless they opted out since)."""
    received = sent_recipients(job, webinar.id, "agenda")
    if not received:
        result.writes.append(
            write(SHEET, webinar.ref, "Status", "Cancelled: no agenda was sent, nobody to tell")
        )
        return
    if webinar.start.date() < job.today:
        return
    current = {f.address: f for f in families}
    targets = []
    for address, language in sorted(received.items()):
        if address in opted_out:
            continue
        # A family that left the tab still gets the notice, in the agenda's language.
        targets.append(
            current.get(address) or Family(RowRef("Families", address), address, None, language)
        )
    context = {"webinar": webinar.context(), "help": job.options.help_contact}
    actions, _ = plan_batches(
        job,
        webinar,
        "cancel",
        targets,
        "webinar_cancel",
        context,
        lambda total: [
            write(
                SHEET, webinar.ref, "Status", f"Cancelled: notice sent to {_families_word(total)}"
            )
        ],
    )
    result.actions.extend(actions)


def _missing_rows(job: JobInput, webinars: Sequence[Webinar], result: Plan) -> list[Action]:
    """Alert the owner once about each webinar whose agenda went out and whose row is gone.

    Nothing is cancelled automatically: a deleted row may be a slip of the mouse.
    """
    opts: WebinarOptions = job.options
    table = job.table(SHEET, "Webinars")
    on_tab = {row.text("Webinar ID").casefold() for row in table or ()}
    on_tab |= {w.id.casefold() for w in webinars}
    actions = []
    for ident in sorted(known_events(job.history, "webinar")):
        state = job.history.state(f"webinar:{ident}") or {}
        day = dt.date.fromisoformat(str(state["date"]))
        if day < job.today or ident.casefold() in on_tab:
            continue
        agenda = sent_recipients(job, ident, "agenda")
        if not agenda or sent_recipients(job, ident, "cancel"):
            continue
        sent = f"the agenda to {_families_word(len(agenda))}"
        reminded = sent_recipients(job, ident, "reminder")
        if reminded:
            sent += f", a reminder to {_families_word(len(reminded))}"
        title = str(state.get("title", ""))
        result.problems.append(
            f"webinar {ident} ({title}) on {day.isoformat()} was sent ({sent}) but its row is "
            "gone from the Webinars tab: restore the row or mark it Cancelled"
        )
        if not opts.owners:
            continue
        start = dt.datetime.combine(
            day, dt.time.fromisoformat(str(state["start"])), job.settings.timezone
        )
        context = {
            "what": f'family webinar "{title}"' if title else "family webinar",
            "id": ident,
            "start": start,
            "tab": "Webinars",
            "column": "Webinar ID",
            "sent": sent,
        }
        actions.append(
            Action(
                description=f"missing-row alert for webinar {ident}",
                messages=[
                    Message(
                        key=message_key(NAME, ident, "missing-alert", owner.casefold()),
                        template="missing_row_alert",
                        language=ENGLISH,
                        to=(owner,),
                        context=context,
                    )
                    for owner in opts.owners
                ],
            )
        )
    return actions


def _coverage_alert(
    job: JobInput, webinar: Webinar, missing: Sequence[str], result: Plan
) -> list[Action]:
    """One email per webinar (not per run) to the family-engagement owner."""
    opts: WebinarOptions = job.options
    if not opts.owners:
        result.problems.append(
            f"nobody to alert about webinar {webinar.id}: set jobs.{NAME}.owner or mail.admin"
        )
        return []
    context = {"webinar": webinar.context(), "missing": list(missing)}
    return [
        Action(
            description=f"coverage alert for webinar {webinar.id}",
            messages=[
                Message(
                    key=message_key(NAME, webinar.id, "coverage-alert", owner.casefold()),
                    template="webinar_coverage_alert",
                    language=ENGLISH,
                    to=(owner,),
                    context=context,
                )
                for owner in opts.owners
            ],
        )
    ]


def samples(settings: Settings, opts: WebinarOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    start = dt.datetime(2027, 3, 3, 18, 0, tzinfo=settings.timezone)
    webinar = {
        "id": "WB-20270303",
        "title": "Keeping your family ready",
        "start": start,
        "end": start + dt.timedelta(minutes=60),
        "join_link": "https://example.org/webinar",
        "sections": {
            "preparedness": "Make a family plan.",
            "we_are_one": "Where to find help in your community.",
            "know_your_rights": "What to do if someone knocks on your door.",
        },
        "other_topics": "Questions and answers",
    }
    base = {"webinar": webinar, "help": opts.help_contact, "family": opts.family(ENGLISH)}
    contexts = {
        "webinar_agenda": base,
        "webinar_reminder": base,
        "webinar_cancel": base,
        "webinar_coverage_alert": {"webinar": webinar, "missing": ["Know Your Rights"]},
        "missing_row_alert": {
            "what": f'family webinar "{webinar["title"]}"',
            "id": webinar["id"],
            "start": start,
            "tab": "Webinars",
            "column": "Webinar ID",
            "sent": "the agenda to 120 families",
        },
    }
    return [
        Message(f"sample/{template}", template, ENGLISH, ("sample@example.org",), context)
        for template, context in contexts.items()
    ]


JOB = Job(
    name=NAME,
    summary="Family webinars (MOU 7.0): coverage check, agendas in families' languages "
    "(Bcc batches), reminders, cancellation notices",
    default_schedule="daily at 07:30",
    tabs=tabs,
    options=options,
    plan=plan,
    samples=samples,
    config_problems=config_problems,
)
