"""Job family-outreach (MOU 6.b): families are asked to keep their emergency contacts up
to date, and given the family preparedness checklist.

Once per school year (July to June), from the first day of `ask_month`, every family whose
Emergency Contacts Updated is not a day of this school year gets a short message in their
language; `remind_days` later, if still not updated, one reminder. A family that updated
is never asked. Mail goes in Bcc batches per language, each batch reserved in the ledger
before it is sent (the webinar engine's batches), so each family gets each message once a
school year. This job writes only its own columns (Contacts Reminded, Contacts Status):
the Families tab's Status is the webinar job's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from automations.cells import CellValueError, parse_date, parse_link, parse_yes_no
from automations.config import Options, Settings
from automations.errors import ConfigError
from automations.jobs import Job
from automations.jobs.announcements import Announcements, read_batch_size
from automations.jobs.family import FAMILIES, SHEET, Signature, read_signature
from automations.jobs.occasions import Occasion, already_sent, bcc_batches
from automations.jobs.people import Person, read_people
from automations.jobs.rows import address_of, day_words, plural, row_ref, write
from automations.languages import ENGLISH
from automations.plan import Action, JobInput, Message, Plan
from automations.rebuild import Rebuilt, RunLog
from automations.sensitive_terms import read_terms
from automations.translations_tab import TRANSLATIONS

NAME = "family-outreach"
TEMPLATE = "family_outreach"
UPDATED, PLAN, REMINDED, STATUS = (
    "Emergency Contacts Updated",
    "Preparedness Plan",
    "Contacts Reminded",
    "Contacts Status",
)


@dataclass(frozen=True)
class OutreachOptions:
    """When families are asked, how to update, and how family mail is signed."""

    ask_month: int
    remind_days: int
    batch_size: int
    portal_link: str
    help_contact: str
    never_mention: tuple[str, ...]
    batch_problem: str = ""
    signature: Signature = field(default_factory=Signature)

    @property
    def sender_name(self) -> str:
        """The From and visible To name of family mail (the batches read it)."""
        return self.signature.sender_name


def options(settings: Settings) -> OutreachOptions:
    """Read [jobs.family-outreach] (every key optional)."""
    reader = Options(settings, NAME)
    batches = read_batch_size(settings, NAME, reader, "families")
    link = reader.string("portal_link", "")
    if link:
        try:
            link = parse_link(link)
        except CellValueError as err:
            raise ConfigError(f"{settings.path}: jobs.{NAME}.portal_link {err}") from None
    opts = OutreachOptions(
        ask_month=reader.integer("ask_month", 9, minimum=1, maximum=12),
        remind_days=reader.integer("remind_days", 21, minimum=1, maximum=180),
        batch_size=batches.size,
        portal_link=link,
        help_contact=reader.string(
            "help_contact", address_of(settings.mail.reply_to or settings.mail.sender)
        ),
        never_mention=read_terms(settings, NAME, reader),
        batch_problem=batches.problem,
        signature=read_signature(settings, NAME, reader),
    )
    reader.finish()
    return opts


@dataclass(frozen=True)
class SchoolYear:
    """The school year a day falls in (July to June), as the batches' event."""

    start: dt.date
    ref: Any = None  # no row of its own: each family's row says what happened

    @property
    def id(self) -> str:
        """'2026-27': part of every key, so a new school year asks everyone again."""
        return f"{self.start.year}-{(self.start.year + 1) % 100:02d}"

    def opens(self, month: int) -> dt.date:
        """The first day of `month` within this school year."""
        return dt.date(self.start.year + (month < 7), month, 1)


def school_year(day: dt.date) -> SchoolYear:
    """The school year of `day` (it starts on July 1)."""
    return SchoolYear(dt.date(day.year if day.month >= 7 else day.year - 1, 7, 1))


def read_updated(value: object, today: dt.date) -> dt.date | None:
    """Emergency Contacts Updated: blank, or a day on or before today (CellValueError)."""
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        return None
    day = parse_date(value)  # type: ignore[arg-type]
    if day > today:
        raise CellValueError(f"{day_words(day)} is after today")
    return day


def read_plan(value: object, today: dt.date) -> bool | None:
    """Preparedness Plan: a day on or before today or Yes means a plan; No or blank none."""
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_yes_no(value, default=False)  # type: ignore[arg-type]
    except CellValueError:
        pass
    try:
        return read_updated(value, today) is not None
    except CellValueError:
        raise CellValueError(f'"{value}" is not a date, Yes or No') from None


ASK = Occasion("ask", template=TEMPLATE, stamp=REMINDED, delivery=bcc_batches)
REMIND = Occasion("reminder", template=TEMPLATE, audience=already_sent("ask"), delivery=bcc_batches)
MAIL = Announcements(
    job_name=NAME,
    sheet=SHEET,
    kind="outreach",
    id_column="",
    tab=FAMILIES.name,
    persons=("family", "families"),
    thing="message",
    first=ASK,
    reminder=REMIND,
    cancel=REMIND,
    count="",
    context=lambda year, given: {},
    per_language=lambda given, language: {"family": given.options.signature.family(language)},
    hold=lambda given, year: None,
)


def _context(given: JobInput[OutreachOptions], reminder: bool) -> dict[str, Any]:
    opts = given.options
    return {"reminder": reminder, "portal_link": opts.portal_link, "help": opts.help_contact}


def _own_column(action: Action, writes: dict[str, list[Any]]) -> None:
    """Point a batch's per-family statuses at this job's columns (never the shared Status)
    and write each family's row once the batch went."""
    action.status = None
    action.messages = [
        dataclasses.replace(
            message,
            recipient_rows={
                address: dataclasses.replace(cell, column=STATUS)
                for address, cell in message.recipient_rows.items()
            },
        )
        for message in action.messages
    ]
    action.on_success = [
        w for message in action.messages for a in message.bcc for w in writes[a.casefold()]
    ]


def plan(given: JobInput[OutreachOptions]) -> Plan:
    """Ask the families whose contacts were not updated this school year, then remind."""
    out, opts, today = Plan(), given.options, given.today
    if opts.batch_problem:
        out.problems.append(opts.batch_problem)
    year = school_year(today)
    opens = year.opens(opts.ask_month)
    reading = read_people(
        given, SHEET, FAMILIES, consent="Opted Out", mailed="", not_mailed="",
        fields=lambda row: ({}, []),
    )  # fmt: skip
    people = {p.address: p for p in reading.items}  # the Status writes are the webinar job's
    asked = MAIL.sent_to(given.history, year.id, ASK)
    reminded = MAIL.sent_to(given.history, year.id, REMIND)
    to_ask: list[Person] = []
    to_remind: list[Person] = []
    writes: dict[str, list[Any]] = {}
    seen: set[str] = set()
    errors = 0
    table = given.table(SHEET, FAMILIES.name)
    for row in table or ():
        address, ref = row.text("Email").casefold(), row_ref(FAMILIES, row)
        if address in seen or not address:
            continue
        seen.add(address)

        def status(text: str, ref: Any = ref) -> None:
            out.writes.append(write(SHEET, ref, STATUS, text))

        if address in reading.opted_out:
            status("Opted out: never asked")
            continue
        person = people.get(address)
        if person is None:
            continue  # an unusable address: the Status column says why
        try:
            updated = read_updated(row[UPDATED], today)
        except CellValueError as err:
            errors += 1
            status(f"Error: {UPDATED} {err}, or clear it; not asked until then")
            continue
        note = ""
        try:
            read_plan(row[PLAN], today)
        except CellValueError as err:
            note = f". Check: {PLAN} {err}"
        if updated is not None and updated >= year.start:
            status(f"Contacts updated {day_words(updated)}: nothing to ask this school year{note}")
            continue
        if today < opens:
            status(f"Not updated this school year: asked on or after {day_words(opens)}{note}")
            continue
        done = f"Reminded {day_words(today)}: contacts not updated yet"
        writes[address] = [write(SHEET, ref, REMINDED, today)]
        if address not in asked:
            to_ask.append(person)
            writes[address].append(write(SHEET, ref, STATUS, f"Asked {day_words(today)}{note}"))
            continue
        try:
            last = parse_date(row[REMINDED])
        except CellValueError:
            status(
                f'Check: asked this school year, but {REMINDED} "{row.text(REMINDED)}" is not '
                f"a date: no reminder goes until it holds the day they were asked{note}"
            )
            continue
        if address in reminded:
            status(f"Asked and reminded this school year (last {day_words(last)}){note}")
            continue
        due = last + dt.timedelta(days=opts.remind_days)
        if today < due:
            status(f"Asked {day_words(last)}: reminded {day_words(due)} if not updated{note}")
            continue
        to_remind.append(person)
        writes[address].append(write(SHEET, ref, STATUS, f"{done}{note}"))
    if errors:
        out.problems.append(f"{plural(errors, 'family row')}: {UPDATED} unreadable (see {STATUS})")
    for occasion, targets in ((ASK, to_ask), (REMIND, to_remind)):
        context = _context(given, occasion is REMIND)
        actions, _ = MAIL.batches(given, year, occasion, targets, context, lambda total: [])
        for action in actions:
            if action.messages:
                _own_column(action, writes)
        out.actions.extend(actions)
    return out


def rebuild(given: JobInput[OutreachOptions], run_log: RunLog, out: Rebuilt) -> None:
    """Families whose Contacts Reminded is a day of this school year's asking were asked
    (and reminded, when their status says so): taken as sent, never asked twice."""
    year = school_year(given.today)
    opens = year.opens(given.options.ask_month)
    people = {p.address: p for p in read_people(
        given, SHEET, FAMILIES, consent="Opted Out", mailed="", not_mailed=""
    ).items}  # fmt: skip
    asked, reminded = [], []
    for row in given.table(SHEET, FAMILIES.name) or ():
        person = people.get(row.text("Email").casefold())
        try:
            day = parse_date(row[REMINDED]) if row.text(REMINDED) else None
        except CellValueError:
            day = None
        if person is None or day is None or day < opens:
            continue
        asked.append(person)
        if row.text(STATUS).startswith(("Reminded", "Asked and reminded")):
            reminded.append(person)
    for occasion, targets in ((ASK, asked), (REMIND, reminded)):
        actions, _ = MAIL.batches(given, year, occasion, targets, {}, lambda total: [])
        out.take(actions)
    if asked:
        out.report.append(
            f"Families: {plural(len(asked), 'family')} with {REMINDED} this school year taken "
            f"as asked, {len(reminded)} as reminded"
        )


def samples(settings: Settings, opts: OutreachOptions) -> list[Message]:
    """The message and its reminder with made-up data, for `check`."""
    base = {
        "portal_link": opts.portal_link or "https://example.org/parent-portal",
        "help": opts.help_contact,
        "family": opts.signature.family(ENGLISH),
    }
    return [
        Message(f"sample/{TEMPLATE}/{occasion}", TEMPLATE, ENGLISH, ("sample@example.org",),
                {**base, "reminder": occasion == "reminder"})
        for occasion in ("ask", "reminder")
    ]  # fmt: skip


JOB = Job(
    name=NAME,
    summary="Emergency contacts (MOU 6.b): once a school year, families who have not "
    "updated them are asked (and reminded), with the preparedness checklist",
    order=40,
    default_schedule="weekdays at 08:00",
    tabs=lambda settings: {SHEET: (FAMILIES, TRANSLATIONS)},
    options=options,
    plan=plan,
    samples=samples,
    config_problems=lambda settings, opts: [opts.batch_problem] if opts.batch_problem else [],
    rebuild=rebuild,
)
