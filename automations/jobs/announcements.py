"""One-way mail about the events of one tab to a list, in Bcc batches (family webinars).

Part of the occasion engine (see `automations.jobs.engine`). Each batch's members are
reserved in the ledger before the batch is sent, so a rerun after a crash sends that very
batch or nothing, and nobody is ever in two batches of one occasion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from automations.cells import CellValue, CellValueError, parse_stamp, stamp_value, text
from automations.config import Options, Settings
from automations.errors import ConfigError
from automations.jobs.engine import missing_row_alert
from automations.jobs.events import known_events, pending_status
from automations.jobs.occasions import Occasion
from automations.jobs.people import Person
from automations.jobs.rows import address_of, chunks, day_words, message_key, plural, write
from automations.languages import ENGLISH, Language, parse_language
from automations.plan import Action, History, InviteSpec, JobInput, Message, Plan, StatusCell
from automations.rebuild import Rebuilt, partly_sent, whole
from automations.sheets.contract import CellWrite


@dataclass(frozen=True)
class Batch:
    """One Bcc message of an occasion of one event."""

    number: int
    language: Language
    recipients: tuple[str, ...]  # casefolded addresses
    # What else its members share that the message depends on (a family's region), or "".
    group: str = ""


def batch_key(given: str, event: str, occasion: str, number: int) -> str:
    """The message key of batch `number`: fixed once the batch is reserved."""
    return message_key(given, event, occasion, "batch", number)


def _batch_entity(kind: str, event: str, occasion: str, number: int | None = None) -> str:
    base = f"{kind}:{event}:{occasion}:"
    return base if number is None else f"{base}{number}"


def reserved_batches(history: History, kind: str, event: str, occasion: str) -> list[Batch]:
    """Batches of `occasion` of an event reserved in earlier runs (sent or not), by number."""
    prefix = _batch_entity(kind, event, occasion)
    batches = []
    for entity, state in history.states.items():
        if entity.startswith(prefix) and entity[len(prefix) :].isdigit():
            language = parse_language(str(state.get("language", "en"))) or ENGLISH
            recipients = tuple(state.get("recipients", ()))
            group = str(state.get("group", ""))
            batches.append(Batch(int(entity[len(prefix) :]), language, recipients, group))
    return sorted(batches, key=lambda b: b.number)


def sent_recipients(
    history: History, given: str, kind: str, event: str, occasion: str
) -> dict[str, Language]:
    """Addresses (casefolded) in batches of `occasion` that went out, with their language."""
    return {
        address: batch.language
        for batch in reserved_batches(history, kind, event, occasion)
        if history.was_sent(batch_key(given, event, occasion, batch.number))
        for address in batch.recipients
    }


def sent_in(language: Language | None, targets: Sequence[Person]) -> str:
    """What a status adds about languages: the event's, and the mail's when they differ
    (" (Korean session; emails in English)"), so a row never claims mail nobody got."""
    if language is None:
        return ""
    names = sorted({p.language.name for p in targets})
    if not targets or names == [language.name]:
        return f" ({language.name})"
    return f" ({language.name} session; emails in {', '.join(names)})"


@dataclass
class Hold:
    """A rule of the job that keeps an event's first occasion from going out yet.

    `before` is added to the status while the occasion is not due; once it is due the
    row says `status`, the run line `problems`, and `actions` go (e.g. an alert).
    """

    before: str
    status: str
    problems: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


@dataclass(frozen=True)
class Announcements:
    """One-way mail about the events of one tab, to a list, in Bcc batches per language.

    The first occasion goes `first.when` before the event to everyone the event is for
    (those who asked for its language when it names one); a reminder to those who got the
    first; a notice, if the event is cancelled before it happens, to everyone who got the
    first (and has not opted out since). Each batch's members are reserved in the ledger
    before it is sent, so a rerun sends that very batch (or nothing), people added later
    go into new batches, and nobody is ever in two batches of one occasion.

    :param job_name: the job's name (the first part of every key)
    :param sheet: the spreadsheet of the event rows
    :param kind: what an event is called ("webinar"), in statuses and ledger entities
    :param id_column: the events' ID column ("Webinar ID")
    :param tab: the events' tab ("Webinars")
    :param persons: what a recipient is called, one and many ("family", "families")
    :param thing: what the first occasion is called in statuses ("agenda")
    :param first: the first occasion (its `stamp` keeps the time it first went)
    :param reminder: the reminder occasion
    :param cancel: the cancellation notice
    :param count: the tool-owned column that shows how many got the first occasion
    :param context: the template values of an event (batch values are added per language)
    :param per_language: template values that depend on a batch's language
    :param hold: a rule of the job that may hold the first occasion (see Hold)
    :param calendar: the calendar entry each occasion's message carries (same UID for
        every occasion of an event), or None for mail without one
    :param group: what else splits the batches besides language (a family's region), so
        `per_group` can add what depends on it ("" for everyone: one group)
    :param per_group: template values that depend on a batch's group and language
    """

    job_name: str
    sheet: str
    kind: str
    id_column: str
    tab: str
    persons: tuple[str, str]
    thing: str
    first: Occasion
    reminder: Occasion
    cancel: Occasion
    count: str
    context: Callable[[Any, JobInput], Mapping[str, Any]]
    per_language: Callable[[JobInput, Language], Mapping[str, Any]]
    hold: Callable[[JobInput, Any], Hold | None]
    calendar: Callable[[Any, JobInput, Occasion], InviteSpec | None] | None = None
    group: Callable[[JobInput, Person], str] | None = None
    per_group: Callable[[JobInput, str, Language], Mapping[str, Any]] | None = None

    def sent_to(self, history: History, event: str, occasion: Occasion) -> dict[str, Language]:
        """Who got `occasion` of `event` (casefolded addresses), in the language they had."""
        return sent_recipients(history, self.job_name, self.kind, event, occasion.name)

    def people(self, count: int) -> str:
        """'1 family' / '3 families'."""
        return f"{count} {self.persons[0] if count == 1 else self.persons[1]}"

    def plan(
        self,
        given: JobInput,
        events: Sequence[Any],
        people: Sequence[Person],
        plan: Plan,
        opted_out: set[str],
    ) -> None:
        """Plan every event's first occasion, reminder and cancellation notice.

        :param events: the events read (with `language` (or None), `identity()`)
        :param people: everyone on the list who may be mailed
        :param opted_out: addresses that asked not to be mailed (no cancellation notice)
        """
        for event in events:
            if event.pending:
                then = (
                    f"its {self.thing} goes out" if event.day >= given.today else "the row is used"
                )
                status = pending_status(self.id_column, event.id, event.pending, then)
                plan.writes.append(write(self.sheet, event.ref, "Status", status))
            elif event.cancelled:
                self._cancelled(given, event, people, opted_out, plan)
            else:
                self._on(given, event, people, plan)
        plan.actions.extend(self._missing(given, events, plan))

    def audience(self, event: Any, people: Sequence[Person]) -> list[Person]:
        """Who an event is for: everyone, or those who asked for its language."""
        if event.language is None:
            return list(people)
        code = event.language.code
        return [p for p in people if p.wanted is not None and p.wanted.code == code]

    def _on(self, given: JobInput, event: Any, people: Sequence[Person], plan: Plan) -> None:
        """An event that is on: past, scheduled, held by a rule, or its mail due."""
        first, row = self.first, event.row
        assert first.when is not None
        days = (event.day - given.today).days
        if days < 0:
            if not reserved_batches(given.history, self.kind, event.id, first.name):
                status = f"Past: no {self.thing} was sent (dated {day_words(event.day)})"
                plan.writes.append(write(self.sheet, event.ref, "Status", status))
            return
        hold = self.hold(given, event)
        if days > first.when.lead(given.options):
            opens = first.when.opens(event.day, given.options)
            status = (
                f"Scheduled for {day_words(event.day)}: the {self.thing} goes out on "
                f"{day_words(opens)}{hold.before if hold else ''}"
            )
            plan.writes.append(write(self.sheet, event.ref, "Status", status))
            return
        if hold is not None:
            plan.writes.append(write(self.sheet, event.ref, "Status", hold.status))
            plan.problems.extend(hold.problems)
            plan.actions.extend(hold.actions)
            return
        targets = self.audience(event, people)
        context = self.context(event, given)
        now = stamp_value(given.now)
        # Reuse the first send's time so later batches do not move the stamp's date.
        sent_at = recorded(row[first.stamp], given.settings.timezone) if first.stamp else None
        sent_at = sent_at or now
        done = f"{self.thing.capitalize()} sent to {{total}}{sent_in(event.language, targets)}"

        def first_writes(total: int) -> list[CellWrite]:
            stamps = [write(self.sheet, event.ref, first.stamp, sent_at)] if first.stamp else []
            return [
                *stamps,
                write(self.sheet, event.ref, self.count, total),
                write(self.sheet, event.ref, "Status", done.format(total=self.people(total))),
            ]

        actions, total = self.batches(given, event, first, targets, context, first_writes)
        known = event.identity()
        if total and given.history.state(f"{self.kind}:{event.id}") != known:
            # Kept before any batch is sent, so the ID is never reinvented for this event.
            plan.actions.append(
                Action(
                    description=f"remember {self.kind} {event.id}",
                    messages=[],
                    state=(f"{self.kind}:{event.id}", known),
                )
            )
        plan.actions.extend(actions)
        if not total:
            language = f" with {event.language.name} as their language" if event.language else ""
            status = f"Not sent: no {self.persons[1]}{language} to send it to"
            plan.writes.append(write(self.sheet, event.ref, "Status", status))
            return
        when = self.reminder.when
        assert when is not None
        lead = when.lead(given.options)
        if lead and days <= lead and event.start > given.now:
            received = sent_recipients(
                given.history, self.job_name, self.kind, event.id, first.name
            )
            reminded = [p for p in targets if p.address in received]
            first_done = done.format(total=self.people(total))

            def reminder_writes(count: int) -> list[CellWrite]:
                stamps = []
                if self.reminder.stamp:
                    stamps = [write(self.sheet, event.ref, self.reminder.stamp, now)]
                status = f"{first_done}; reminder sent to {self.people(count)}"
                return [*stamps, write(self.sheet, event.ref, "Status", status)]

            reminders, _ = self.batches(
                given, event, self.reminder, reminded, context, reminder_writes
            )
            plan.actions.extend(reminders)

    def _cancelled(
        self,
        given: JobInput,
        event: Any,
        people: Sequence[Person],
        opted_out: set[str],
        plan: Plan,
    ) -> None:
        """A notice, once, to everyone the first occasion went to (unless they opted out
        since); people who left the tab get it in the language they had."""
        received = sent_recipients(
            given.history, self.job_name, self.kind, event.id, self.first.name
        )
        if not received:
            status = f"Cancelled: no {self.thing} was sent, nobody to tell"
            plan.writes.append(write(self.sheet, event.ref, "Status", status))
            return
        if event.day < given.today:
            return
        current = {p.address: p for p in people}
        targets = [
            current.get(address) or Person(address, language=language)
            for address, language in sorted(received.items())
            if address not in opted_out
        ]
        actions, _ = self.batches(
            given,
            event,
            self.cancel,
            targets,
            self.context(event, given),
            lambda total: [
                write(
                    self.sheet,
                    event.ref,
                    "Status",
                    f"Cancelled: notice sent to {self.people(total)}",
                )
            ],
        )
        plan.actions.extend(actions)

    def batches(
        self,
        given: JobInput,
        event: Any,
        occasion: Occasion,
        targets: Sequence[Person],
        context: Mapping[str, Any],
        on_success: Callable[[int], list[CellWrite]],
    ) -> tuple[list[Action], int]:
        """Actions that bring every target exactly one message of `occasion`.

        A batch's members are reserved in the ledger by an action of its own *before*
        the batch is sent, so a rerun after a crash plans that very batch under the same
        key (the ledger then refuses to send it twice), people added since go into new
        batches, and nobody who was in a batch is ever put in another one.
        `on_success(total)` gives each batch's write-backs, `total` being how many people
        the occasion covers in all. Returns the actions and that total.
        """
        opts = given.options
        by_address = {p.address: p for p in targets}
        reserved = reserved_batches(given.history, self.kind, event.id, occasion.name)
        covered = {address for batch in reserved for address in batch.recipients}
        visible = visible_recipients(given.settings)
        actions: list[Action] = []

        def send(batch: Batch, people: Sequence[Person]) -> Action:
            extra = {}
            if self.per_group is not None:
                extra = self.per_group(given, batch.group, batch.language)
            group = f", {batch.group}" if batch.group else ""
            return Action(
                description=(
                    f"{occasion.name} of {self.kind} {event.id}, batch {batch.number} "
                    f"({batch.language.name}{group}, {self.people(len(people))})"
                ),
                messages=[
                    Message(
                        key=batch_key(self.job_name, event.id, occasion.name, batch.number),
                        template=occasion.template,
                        language=batch.language,
                        to=visible,
                        bcc=tuple(p.email for p in people),
                        context={**context, **self.per_language(given, batch.language), **extra},
                        recipient_rows={k: v for p in people for k, v in p.rows().items()},
                        display_name=opts.sender_name,
                        invite=self.calendar(event, given, occasion) if self.calendar else None,
                        unsubscribe=True,
                    )
                ],
                on_success=[],  # filled in once the total is known
                status=StatusCell(self.sheet, event.ref) if event.ref is not None else None,
            )

        for batch in reserved:
            key = batch_key(self.job_name, event.id, occasion.name, batch.number)
            if given.history.was_sent(key):
                continue
            # Reserved but not sent (a run stopped or the send failed): the same batch
            # again, without anyone who has since opted out or left the tab.
            people = [by_address[a] for a in batch.recipients if a in by_address]
            if len(people) > opts.batch_size and key not in given.history.unsettled:
                # Reserved when the limit was higher (or miscounted) and never handed to the
                # mail server: keep what fits, and the rest go into new batches below.
                people = people[: opts.batch_size]
                covered -= set(batch.recipients) - {p.address for p in people}
                code = batch.language.code
                actions.append(
                    self._reserve(event, occasion, batch.number, code, people, batch.group)
                )
            if people:
                actions.append(send(batch, people))
        fresh: dict[tuple[str, str], list[Person]] = {}
        for person in targets:
            if person.address not in covered:
                group = self.group(given, person) if self.group is not None else ""
                fresh.setdefault((person.language.code, group), []).append(person)
        number = max((b.number for b in reserved), default=0)
        total = len(covered)
        for code, group in sorted(fresh):
            members = sorted(fresh[code, group], key=lambda p: p.address)
            for people in chunks(members, opts.batch_size):
                number += 1
                addresses = tuple(p.address for p in people)
                batch = Batch(number, people[0].language, addresses, group)
                total += len(people)
                actions.append(self._reserve(event, occasion, number, code, people, group))
                actions.append(send(batch, people))
        for action in actions:
            if action.messages:
                action.on_success.extend(on_success(total))
        return actions, total

    def _reserve(
        self,
        event: Any,
        occasion: Occasion,
        number: int,
        code: str,
        people: Sequence[Person],
        group: str = "",
    ) -> Action:
        """Record batch `number`'s members (and group) in the ledger before it is sent."""
        state: dict[str, Any] = {"language": code, "recipients": [p.address for p in people]}
        if group:
            state["group"] = group
        return Action(
            description=f"reserve batch {number} of the {occasion.name} of {event.id}",
            messages=[],
            state=(_batch_entity(self.kind, event.id, occasion.name, number), state),
        )

    def _missing(self, given: JobInput, events: Sequence[Any], plan: Plan) -> list[Action]:
        """Alert once about each event whose first occasion went out and whose row is gone.

        Nothing is cancelled automatically: a deleted row may be a slip of the mouse.
        """
        alert_to = given.options.alert_to
        table = given.table(self.sheet, self.tab)
        on_tab = {row.text(self.id_column).casefold() for row in table or ()}
        on_tab |= {e.id.casefold() for e in events}
        actions = []
        history = given.history
        for ident in sorted(known_events(history, self.kind)):
            state = history.state(f"{self.kind}:{ident}") or {}
            day = dt.date.fromisoformat(str(state["date"]))
            if day < given.today or ident.casefold() in on_tab:
                continue
            first = sent_recipients(history, self.job_name, self.kind, ident, self.first.name)
            if not first or sent_recipients(
                history, self.job_name, self.kind, ident, self.cancel.name
            ):
                continue
            sent = f"the {self.thing} to {self.people(len(first))}"
            reminded = self.sent_to(history, ident, self.reminder)
            if reminded:
                sent += f", a reminder to {self.people(len(reminded))}"
            title = str(state.get("title", ""))
            plan.problems.append(
                f"{self.kind} {ident} ({title}) on {day.isoformat()} was sent ({sent}) but its "
                f"row is gone from the {self.tab} tab: restore the row or mark it Cancelled"
            )
            if not alert_to:
                continue
            actions.append(
                missing_row_alert(
                    job_name=self.job_name,
                    kind=self.kind,
                    ident=ident,
                    state=state,
                    settings=given.settings,
                    what=f'family {self.kind} "{title}"' if title else f"family {self.kind}",
                    tab=self.tab,
                    column=self.id_column,
                    sent=sent,
                    recipients=alert_to,
                )
            )
        return actions

    def rebuild(
        self, given: JobInput[Any], events: Sequence[Any], people: Sequence[Person], out: Rebuilt
    ) -> None:
        """What the rows' marks (the first occasion's and the reminder's stamps, a notice's
        status) show was sent: the batches a first run would make for everyone the event
        is for now, taken as sent (fail closed; the report says where counts differ)."""
        words = {self.reminder.name: "reminder", self.cancel.name: "cancellation notice"}
        sent: list[str] = []
        notes: list[str] = []
        for event in events:
            row, status = event.row, event.row.text("Status")
            if event.pending or not (self.first.stamp and row.text(self.first.stamp)):
                continue
            targets = self.audience(event, people)
            occasions = [self.first]
            if self.reminder.stamp and row.text(self.reminder.stamp):
                occasions.append(self.reminder)
            if event.cancelled and status.startswith("Cancelled: notice sent"):
                occasions.append(self.cancel)
            for occasion in occasions:
                # The batches a first run would make for everyone now: keys and members.
                actions, _ = self.batches(given, event, occasion, targets, {}, lambda total: [])
                out.take(actions)
            out.states[f"{self.kind}:{event.id}"] = event.identity()
            said = [f"{self.thing} to {self.people(len(targets))}"]
            said += [words[occasion.name] for occasion in occasions[1:]]
            sent.append(f"{event.id} ({', '.join(said)})")
            recorded = whole(row.text(self.count))
            if recorded != len(targets) or partly_sent(status):
                notes.append(
                    f"{event.id}: {self.count} says {recorded or 'nothing'}, "
                    f"{self.people(len(targets))} would get it now; all of them are taken as "
                    f"having it (send it by hand to any {self.persons[0]} who does not)"
                )
        if sent:
            out.report.append(
                f"{self.tab}: {plural(len(sent), self.kind)} marked {self.first.stamp}: "
                f"{', '.join(sent)}; every {self.persons[0]} who would get them now is taken "
                "as having them"
            )
        out.report.extend(f"{self.tab} {note}" for note in notes)


# -- how many recipients one Bcc message carries --------------------------------------------

# Most recipients one Bcc message may carry, whatever the config says (Exchange default).
BATCH_CEILING = 500
DEFAULT_BATCH = 100


def visible_recipients(settings: Settings) -> tuple[str, ...]:
    """The To address every Bcc batch shows: the list address, else the sender."""
    return (address_of(settings.mail.list_address or settings.mail.sender),)


@dataclass(frozen=True)
class BatchLimit:
    """Recipients per Bcc message, and why the configured batch_size could not be used."""

    size: int
    problem: str = ""


def read_batch_size(settings: Settings, job_name: str, reader: Options, persons: str) -> BatchLimit:
    """[jobs.<job>] batch_size (default 100), cut to what the mailer allows (batch_limit)."""
    size = reader.integer("batch_size", DEFAULT_BATCH, minimum=1, maximum=10**6)
    if size > BATCH_CEILING:
        raise ConfigError(
            f"{settings.path}: jobs.{job_name}.batch_size is {size}; mail servers refuse more than "
            f"{BATCH_CEILING} recipients per message, so use {BATCH_CEILING} or less"
        )
    return batch_limit(
        settings, job_name, size, "batch_size" in settings.job(job_name).options, persons
    )


def batch_limit(
    settings: Settings, job_name: str, requested: int, explicit: bool, persons: str = "families"
) -> BatchLimit:
    """The one place a batch size is decided: batch_size cut to what the mailer allows.

    The mailer's recipients_per_message counts every recipient of a message, the visible
    To address too, so a batch holds at most that limit minus the visible recipients.
    A batch_size over it is cut (smaller batches only mean more messages; refusing would
    hold back everyone's mail) and, when the admin set it, reported as a problem. A limit
    that leaves no room for even one recipient is a configuration error.
    """
    from automations.backends import mail_limits  # the mailers, only when a job is set up

    limits = mail_limits(settings)
    if limits is None:  # the outbox: files, no recipient limit
        return BatchLimit(requested)
    visible = len(visible_recipients(settings))
    limit = limits.recipients_per_message
    room = limit - visible
    key = f"{settings.mail.backend}.recipients_per_message"
    if room < 1:
        raise ConfigError(
            f"{settings.path}: {key} = {limit} leaves no room for {persons} in a Bcc message "
            f"(it counts the visible To address too) and jobs.{job_name} sends agendas in Bcc "
            f"batches; set {key} to {visible + 1} or more, or enabled = false under "
            f"[jobs.{job_name}]"
        )
    if requested <= room:
        return BatchLimit(requested)
    if not explicit:
        return BatchLimit(room)
    return BatchLimit(
        room,
        f"jobs.{job_name}.batch_size = {requested} can never be sent: {key} = {limit} counts the "
        f"visible To address too, so a message holds at most {room} {persons}; runs send "
        f"batches of {room}; set batch_size to {room} or less, or remove it",
    )


def recorded(value: CellValue, zone: dt.tzinfo) -> dt.datetime | str | None:
    """The time a stamp cell records (None when blank); text that is no time is kept as
    it is, so rewriting it changes nothing."""
    if text(value) == "":
        return None
    try:
        return parse_stamp(value, zone)
    except CellValueError:
        return text(value)
