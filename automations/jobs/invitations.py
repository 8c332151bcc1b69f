"""Calendar invitations to a roster about the events of one tab (the committee's meetings).

Part of the occasion engine (see `automations.jobs.engine`). One message per person with
the calendar invite; versions follow the calendar's SEQUENCE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.cells import stamp_value
from automations.config import Settings
from automations.jobs.engine import missing_row_alert, responses_text
from automations.jobs.events import pending_status
from automations.jobs.occasions import Occasion
from automations.jobs.people import Person
from automations.jobs.rows import day_words, key_part, message_key, plural, write
from automations.plan import Action, Attendee, InviteSpec, JobInput, Message, Plan, StatusCell
from automations.rebuild import Rebuilt, partly_sent, whole


def _received(given: JobInput, prefix: str) -> set[str]:
    """Addresses (casefolded) that got a message whose key starts with `prefix`."""
    return {key_part(key, -1).casefold() for key in given.history.sent_with_prefix(prefix)}


def _previous(snapshot: Mapping[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """An event as its last snapshot had it, for an update's "was" values."""
    day = dt.date.fromisoformat(str(snapshot["date"]))
    values = {k: v for k, v in snapshot.items() if k not in ("date", "start", "end")}
    values.pop("sequence", None)
    values.pop("cancelled", None)
    return {
        "start": dt.datetime.combine(day, dt.time.fromisoformat(str(snapshot["start"])), zone),
        "end": dt.datetime.combine(day, dt.time.fromisoformat(str(snapshot["end"])), zone),
        **values,
    }


@dataclass(frozen=True)
class Invitations:
    """Calendar invitations about the events of one tab to everyone on a roster.

    An event's invitation goes out `invite.when` before it, one message per person with
    the calendar invite; a change to a `watched` field sends an update (a new version, with
    a higher SEQUENCE) and a cancellation goes to everyone ever invited; un-cancelling sends
    "back on"; people added later get the current version; the reminder goes to those who
    have it. Events are known in the ledger as `<kind>:<ID>` with their last snapshot.

    :param job_name: the job's name (the first part of every key)
    :param sheet: the spreadsheet of the event rows
    :param kind: what an event is called ("meeting")
    :param id_column: the events' ID column ("Meeting ID")
    :param person: what a recipient is called ("member")
    :param tab: the roster's tab, named when nobody can be invited ("Members")
    :param invite: the invitation occasion (with its `update`, `reinstated` and `version`)
    :param reminder: the reminder occasion
    :param cancel: the cancellation occasion
    :param watched: snapshot fields whose change sends an update, with the words for them
    :param calendar: the event's calendar entry (its sequence, method and attendees are
        filled in per message)
    """

    job_name: str
    sheet: str
    kind: str
    id_column: str
    person: str
    tab: str
    invite: Occasion
    reminder: Occasion
    cancel: Occasion
    watched: Mapping[str, str]
    calendar: Callable[[Any, Settings], InviteSpec]

    def plan(
        self,
        given: JobInput,
        events: Sequence[Any],
        people: Sequence[Person],
        plan: Plan,
        *,
        note: str = "",
    ) -> None:
        """Plan every event's invitations, updates, cancellations and reminders.

        :param given: the planner's input (the ledger's snapshots and keys sent)
        :param events: the events read (Event subclasses with the watched fields as
            attributes and `context()` for templates)
        :param people: everyone on the roster who may be invited
        :param plan: the plan the actions and statuses go into
        :param note: added to the statuses of events still to come (e.g. a roster problem)
        """
        by_email = {p.address: p for p in people}
        for event in events:
            state = given.history.state(f"{self.kind}:{event.id}")
            extra = note if event.day >= given.today and not event.cancelled else ""
            if event.pending:
                then = "invitations go out" if state is None else "the row is used again"
                status = pending_status(self.id_column, event.id, event.pending, then)
                plan.writes.append(write(self.sheet, event.ref, "Status", status))
                continue
            if state is None:
                status = self._first(given, event, people, extra, plan)
            else:
                status = self._again(given, event, people, by_email, state, extra, plan)
            answers = given.history.responses.get(self.calendar(event, given.settings).uid)
            if answers:
                # Read from the calendar provider (Microsoft 365) before planning.
                text = responses_text(answers)
                plan.writes.append(write(self.sheet, event.ref, "Responses", text))
                declined = [a.name or a.email for a in answers if a.response == "declined"]
                if status is not None and declined and not event.cancelled:
                    status += f"; declined: {', '.join(declined)}"
            if status is not None:
                plan.writes.append(write(self.sheet, event.ref, "Status", status))
            if event.day > given.settings.agreement_end and state is None:
                plan.problems.append(f"{self.kind} {event.id} is after the agreement ends")

    def key(self, event: str, occasion: Occasion, *parts: object) -> str:
        """The message key of `occasion` of `event` (then version and address)."""
        return message_key(self.job_name, event, occasion.name, *parts)

    def snapshot(self, event: Any) -> dict[str, str]:
        """What recipients know about an event (its watched fields), to see changes later."""
        times = {
            "date": event.start.date().isoformat(),
            "start": event.start.strftime("%H:%M"),
            "end": event.end.strftime("%H:%M"),
        }
        return {f: times[f] if f in times else getattr(event, f) for f in self.watched}

    def sample_contexts(
        self, event: Mapping[str, Any], changed: Mapping[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Made-up values for each template of these invitations (for `check`): `event`
        as the template sees it, `changed` what an update says it was before."""
        base: dict[str, Any] = {"name": "Ana", self.kind: event, "changes": [], "previous": {}}
        update = {**base, "changes": list(changed), "previous": {**event, **changed}}
        contexts = {self.invite.template: base}
        if self.invite.update:
            contexts[self.invite.update] = update
        contexts[self.cancel.template] = base
        contexts[self.reminder.template] = base
        if self.invite.reinstated:
            contexts[self.invite.reinstated] = base
        return contexts

    def _first(
        self, given: JobInput, event: Any, people: Sequence[Person], note: str, plan: Plan
    ) -> str | None:
        """An event never invited: its invitation when due, else why not yet."""
        day, end = event.day, given.settings.agreement_end
        assert self.invite.when is not None
        if event.cancelled:
            return "Cancelled; no invitations were sent"
        if day < given.today:
            return f"Past: not invited (dated {day_words(day)})"
        if day > end:
            return f"Not sent: the {self.kind} is after the agreement ends ({end:%Y-%m-%d})"
        if (day - given.today).days > self.invite.when.lead(given.options):
            opens = self.invite.when.opens(day, given.options)
            return f"Scheduled for {day_words(day)}: invitations go out on {day_words(opens)}"
        if not people:
            return f"Not sent: no active {self.person}s with a valid email on the {self.tab} tab"
        plan.actions.append(self._request(given, event, people, 0, note, first=True))
        return None

    def _again(
        self,
        given: JobInput,
        event: Any,
        people: Sequence[Person],
        by_email: Mapping[str, Person],
        state: Mapping[str, Any],
        note: str,
        plan: Plan,
    ) -> str | None:
        """An event invited before: a cancellation, back on, an update, late people, the
        reminder, or the status it stands at."""
        sequence = int(state["sequence"])
        was_cancelled = bool(state.get("cancelled"))
        prefix = message_key(self.job_name, event.id)
        sent_to = _received(given, f"{prefix}/{self.invite.name}/")
        if event.cancelled and not was_cancelled:
            plan.actions.append(self._cancel(given, event, sent_to, by_email, sequence + 1))
            return None
        if event.cancelled:
            return f"Cancelled: cancellation sent to {plural(len(sent_to), self.person)}"
        if event.day < given.today:
            return None  # a past event keeps its last status
        if was_cancelled:
            action = self._request(given, event, people, sequence + 1, note, reinstated=True)
            plan.actions.append(action)
            return None
        snapshot = self.snapshot(event)
        changed = [f for f in self.watched if state.get(f) != snapshot[f]]
        if changed:
            change = (changed, _previous(state, given.settings.timezone))
            plan.actions.append(self._request(given, event, people, sequence + 1, note, change))
            return None
        status = None
        current = _received(given, f"{prefix}/{self.invite.name}/{sequence}/")
        late = [p for p in people if p.address not in current]
        if late:
            plan.actions.append(self._request(given, event, people, sequence, note, only=late))
        else:
            status = (
                f"Invitation sent to {plural(len(current), self.person)} (version {sequence + 1})"
            )
            if self.reminder.stamp and event.row.text(self.reminder.stamp):
                status += "; reminder sent"
            status += note
        when = self.reminder.when
        assert when is not None
        if (
            when.lead(given.options)
            and when.opens(event.day, given.options) <= given.today <= event.day
            and not (self.reminder.stamp and event.row.text(self.reminder.stamp))
        ):
            reminded = [p for p in people if p.address in current]
            if reminded:
                plan.actions.append(self._reminder(given, event, reminded, note))
        return status

    def _entry(
        self, given: JobInput, event: Any, sequence: int, method: str, people: Sequence[Person]
    ) -> InviteSpec:
        base = self.calendar(event, given.settings)
        attendees = tuple(Attendee(p.email, p.name) for p in people)
        return InviteSpec(
            uid=base.uid,
            sequence=sequence,
            method=method,
            start=base.start,
            end=base.end,
            summary=base.summary,
            location=base.location,
            url=base.url,
            description=base.description,
            attendees=attendees,
        )

    def _request(
        self,
        given: JobInput,
        event: Any,
        people: Sequence[Person],
        sequence: int,
        note: str,
        change: tuple[list[str], dict[str, Any]] | None = None,
        *,
        first: bool = False,
        only: Sequence[Person] | None = None,
        reinstated: bool = False,
    ) -> Action:
        """An invitation (first, to people added late), an update (with what changed), or
        the news that a cancelled event is back on (`reinstated`)."""
        occasion, kind, who = self.invite, self.kind, self.person
        prefix = message_key(self.job_name, event.id)
        ever = _received(given, f"{prefix}/{occasion.name}/")
        targets = list(only if only is not None else people)
        invite = self._entry(given, event, sequence, "REQUEST", people)
        messages = []
        for person in targets:
            template = occasion.template
            if person.address in ever and (change is not None or reinstated):
                template = (occasion.reinstated if reinstated else occasion.update) or template
            messages.append(
                Message(
                    key=message_key(
                        self.job_name, event.id, occasion.name, sequence, person.address
                    ),
                    template=template,
                    language=person.language,
                    to=(person.email,),
                    context={
                        "name": person.name,
                        kind: event.context(),
                        "changes": change[0] if change else [],
                        "previous": change[1] if change else {},
                    },
                    invite=invite,
                    recipient_rows=person.rows(),
                )
            )
        total, version = len(people), sequence + 1
        if reinstated:
            status = f"Back on: invitation sent again to {plural(total, who)} (version {version})"
            description = f"{kind} {event.id} back on after its cancellation"
        elif change is not None:
            words = ", ".join(self.watched[f] for f in change[0])
            status = f"Update sent to {plural(total, who)}: {words} changed (version {version})"
            description = f"update of {kind} {event.id} ({words} changed)"
        elif only is not None:
            status = (
                f"Invitation sent to {plural(total, who)} (version {version}); "
                f"{plural(len(targets), who)} added since"
            )
            description = (
                f"invitation to {plural(len(targets), f'new {who}')} for {kind} {event.id}"
            )
        else:
            status = f"Invitation sent to {plural(total, who)} (version {version})"
            description = f"invitation for {kind} {event.id} on {event.start:%Y-%m-%d}"
        writes = [write(self.sheet, event.ref, "Status", status + note)]
        if occasion.version:
            writes.insert(0, write(self.sheet, event.ref, occasion.version, version))
        if first and occasion.stamp:
            stamp = stamp_value(given.now)
            writes.insert(0, write(self.sheet, event.ref, occasion.stamp, stamp))
        return Action(
            description=description,
            messages=messages,
            on_success=writes,
            status=StatusCell(self.sheet, event.ref),
            state=(
                f"{kind}:{event.id}",
                {**self.snapshot(event), "sequence": sequence, "cancelled": False},
            ),
            as_event=True,
        )

    def _cancel(
        self,
        given: JobInput,
        event: Any,
        sent_to: set[str],
        by_email: Mapping[str, Person],
        sequence: int,
    ) -> Action:
        """A cancellation to everyone who was ever sent an invitation for the event."""
        recipients = [by_email.get(email) or Person(email) for email in sorted(sent_to)]
        invite = self._entry(given, event, sequence, "CANCEL", recipients)
        occasion = self.cancel
        messages = [
            Message(
                key=message_key(self.job_name, event.id, occasion.name, sequence, person.address),
                template=occasion.template,
                language=person.language,
                to=(person.email,),
                context={"name": person.name, self.kind: event.context()},
                invite=invite,
                recipient_rows=person.rows(),
            )
            for person in recipients
        ]
        status = f"Cancelled: cancellation sent to {plural(len(recipients), self.person)}"
        versioned = [self.invite.version] if self.invite.version else []
        return Action(
            description=f"cancellation of {self.kind} {event.id}",
            messages=messages,
            on_success=[
                *(write(self.sheet, event.ref, column, sequence + 1) for column in versioned),
                write(self.sheet, event.ref, "Status", status),
            ],
            status=StatusCell(self.sheet, event.ref),
            state=(
                f"{self.kind}:{event.id}",
                {**self.snapshot(event), "sequence": sequence, "cancelled": True},
            ),
            as_event=True,
        )

    def _reminder(self, given: JobInput, event: Any, people: Sequence[Person], note: str) -> Action:
        """A reminder shortly before the event, once per person."""
        occasion = self.reminder
        messages = [
            Message(
                key=message_key(self.job_name, event.id, occasion.name, person.address),
                template=occasion.template,
                language=person.language,
                to=(person.email,),
                context={
                    "name": person.name,
                    self.kind: event.context(),
                    "sent_on": given.today,
                },
                recipient_rows=person.rows(),
            )
            for person in people
        ]
        writes = [
            write(
                self.sheet,
                event.ref,
                "Status",
                f"Reminder sent to {plural(len(people), self.person)}{note}",
            )
        ]
        if occasion.stamp:
            stamp = stamp_value(given.now)
            writes.insert(0, write(self.sheet, event.ref, occasion.stamp, stamp))
        return Action(
            description=f"reminder for {self.kind} {event.id}",
            messages=messages,
            on_success=writes,
            status=StatusCell(self.sheet, event.ref),
        )

    def missing(
        self,
        given: JobInput,
        events: Sequence[Any],
        tab: str,
        alert_to: Sequence[str],
        plan: Plan,
        what: str,
    ) -> list[Action]:
        """Alert once about each invited event whose row left its tab.

        Nothing is cancelled automatically: a deleted row may be a slip of the mouse.
        """
        table = given.table(self.sheet, tab)
        on_tab = {row.text(self.id_column).casefold() for row in table or ()}
        on_tab |= {e.id.casefold() for e in events}
        actions = []
        known = {
            entity.removeprefix(f"{self.kind}:"): state
            for entity, state in given.history.states.items()
            if entity.startswith(f"{self.kind}:") and "date" in state
        }
        for ident, state in sorted(known.items()):
            day = dt.date.fromisoformat(str(state["date"]))
            if state.get("cancelled") or day < given.today or ident.casefold() in on_tab:
                continue
            prefix = message_key(self.job_name, ident)
            sequence = int(state.get("sequence", 0))
            invited = len(_received(given, f"{prefix}/{self.invite.name}/{sequence}/"))
            sent = f"the invitation (version {sequence + 1}) to {plural(invited, self.person)}"
            reminded = len(_received(given, f"{prefix}/{self.reminder.name}/"))
            if reminded:
                sent += f", a reminder to {plural(reminded, self.person)}"
            plan.problems.append(
                f"{self.kind} {ident} on {day.isoformat()} was invited ({sent}) but its row is "
                f"gone from the {tab} tab: restore the row or mark it Cancelled"
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
                    what=what,
                    tab=tab,
                    column=self.id_column,
                    sent=sent,
                    recipients=alert_to,
                )
            )
        return actions

    def rebuild(
        self, given: JobInput[Any], events: Sequence[Any], people: Sequence[Person], out: Rebuilt
    ) -> bool:
        """What the rows' marks (the invitation's stamp and version, the reminder's stamp,
        a cancellation's status) show was sent, taken as sent to everyone on the roster
        now (fail closed). True when some event was marked as invited."""
        addresses = sorted({p.address for p in people})
        invited: list[str] = []
        unsure: list[str] = []
        reminded_column = self.reminder.stamp or ""
        for event in events:
            if event.pending:
                continue  # no ID in the sheet: nothing was ever sent under one
            row, status = event.row, event.row.text("Status")
            version = whole(row.text(self.invite.version)) if self.invite.version else 0
            partly = partly_sent(status)
            if not ((self.invite.stamp and row.text(self.invite.stamp)) or version or partly):
                continue
            if partly:
                unsure.append(event.id)
            sequence = max(version, 1) - 1
            cancelled = event.cancelled and status.startswith("Cancelled: cancellation sent")
            reminded = bool(reminded_column and row.text(reminded_column))
            for address in addresses:
                if cancelled:
                    out.sent.add(
                        message_key(self.job_name, event.id, self.cancel.name, sequence, address)
                    )
                if not cancelled or sequence:
                    # The invitation everyone on the roster now is taken to have.
                    invited_at = sequence - 1 if cancelled else sequence
                    out.sent.add(
                        message_key(self.job_name, event.id, self.invite.name, invited_at, address)
                    )
                if reminded:
                    out.sent.add(message_key(self.job_name, event.id, self.reminder.name, address))
            out.states[f"{self.kind}:{event.id}"] = {
                **self.snapshot(event),
                "sequence": sequence,
                "cancelled": cancelled,
            }
            invited.append(
                f"{event.id} (version {sequence + 1}"
                + (", cancelled" if cancelled else "")
                + (", reminded" if reminded else "")
                + ")"
            )
        tab = f"{self.kind.capitalize()}s"
        if invited:
            out.report.append(
                f"{tab}: {plural(len(invited), self.kind)} marked {self.invite.stamp}: "
                f"{', '.join(invited)}; taken as sent to the "
                f"{plural(len(addresses), f'active {self.person}')} on the {self.tab} tab now, "
                "with the date, time and place the row shows now"
            )
        if unsure:
            out.report.append(
                f"{tab} {', '.join(unsure)}: the last run said only some messages went; taken "
                "as sent to everyone (check who has it)"
            )
        return bool(invited)

    def relinked(self, given: JobInput[Any]) -> list[str]:
        """After a rebuild: what becomes of the provider's calendar events (Microsoft 365)."""
        if given.settings.mail.backend != "microsoft365":
            return []
        return [
            "Microsoft 365: the calendar events made before are no longer linked to their "
            f"{self.kind}s; changes now go out as emailed updates with the same calendar UID"
        ]
