"""Real calendar meetings kept by the mail provider (Microsoft 365): create, update,
cancel, and the attendees' answers.

With such a provider an action's invitations (one InviteSpec for people who may see each
other) become one event operation keyed by the invite UID instead of one email each.
Every message key is still recorded (intent, then sent), so switching mailers later
never sends them again; the operation itself is idempotent (create carries a transaction
id, update and cancel set absolute values), so a run that stopped half-way does it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from automations.errors import EventFailed, MailError
from automations.faults import fault_point
from automations.ledger import Ledger
from automations.mail.backend import CalendarMailer
from automations.outcomes import Delivered, Outcome
from automations.plan import Action, AttendeeResponse, History, Message
from automations.throttle import QUEUED_STATUS, Throttle

log = logging.getLogger("automations")


class CalendarEvents:
    """Turns invitation actions into provider meetings, at most once per key.

    :param ledger: where keys and the provider's event ids are recorded
    :param calendar: the mailer, as one that keeps calendar events
    :param clock: the current time
    :param throttle: the mailbox's sending limits (an event counts its attendees)
    """

    def __init__(
        self,
        ledger: Ledger,
        calendar: CalendarMailer,
        clock: Callable[[], dt.datetime],
        throttle: Throttle | None = None,
    ) -> None:
        self.ledger = ledger
        self.calendar = calendar
        self.clock = clock
        self.throttle = throttle

    def takes(self, job: str, action: Action) -> bool:
        """Whether an action's invitations become one provider event operation.

        Only meetings the provider already keeps, or brand-new ones: a meeting first
        invited by email (another mailer) keeps getting emailed updates, so calendars
        never hold two copies of it.
        """
        first = action.messages[0].invite if action.messages else None
        if not action.as_event or first is None:
            return False
        if any(m.invite != first for m in action.messages):
            return False
        if self.ledger.event(first.uid) is not None:
            return True
        never_invited = (
            action.state is None or self.ledger.history(job).state(action.state[0]) is None
        )
        return first.method == "REQUEST" and never_invited

    def deliver(self, job: str, action: Action) -> list[tuple[Message, Delivered]]:
        """One create / update / cancel of the provider's event for all of an action's
        invitations; the outcome of each message not sent before.

        Raises MailError when the provider cannot be reached at all (the run stops).
        """
        first = action.messages[0].invite
        assert first is not None
        todo = [
            m
            for m in action.messages
            if (record := self.ledger.record(m.key)) is None or record.state != "sent"
        ]
        if not todo:
            return []
        recipients = sum(len(m.recipients) for m in todo)
        if self.throttle is not None and not self.throttle.allows_today(recipients):
            return [(m, Delivered(Outcome.QUEUED, QUEUED_STATUS)) for m in todo]
        event = self.ledger.event(first.uid)
        now = self.clock()
        for message in todo:
            self.ledger.intent(message.key, job, f"event:{first.uid}", len(message.recipients), now)
        fault_point("after-intent")
        if self.throttle is not None:
            self.throttle.wait_turn()
        try:
            if first.method == "CANCEL":
                event_id = event.event_id if event else ""
                if event is not None and not event.cancelled:
                    self.calendar.cancel_event(event.event_id, first)
                verb = "cancelled"
            else:
                reuse = event.event_id if event is not None and not event.cancelled else None
                event_id = self.calendar.save_event(first, reuse)
                verb = "updated" if reuse else "created"
        except EventFailed as err:
            detail = f"calendar event not saved: {err}"
            for message in todo:
                self.ledger.outcome(message.key, "failed", self.clock(), detail)
            log.warning("%s: %s: %s", job, action.description, detail)
            return [(m, Delivered(Outcome.FAILED, detail)) for m in todo]
        except MailError:
            for message in todo:
                self.ledger.forget(message.key)
            raise
        if self.throttle is not None:
            self.throttle.record(recipients)
        fault_point("after-send")
        done = self.clock()
        self.ledger.save_event(
            first.uid, job, event_id, first.sequence, first.method == "CANCEL", first.start, done
        )
        detail = f"Exchange meeting {verb}; the provider sent the invitation"
        for message in todo:
            self.ledger.outcome(message.key, "sent", done, detail, event_id)
        log.info("%s: %s: calendar event %s", job, action.description, verb)
        return [(m, Delivered(Outcome.SENT, detail)) for m in todo]


def sync_responses(
    ledger: Ledger,
    calendar: CalendarMailer | None,
    job: str,
    history: History,
    now: dt.datetime,
    stamp: dt.datetime | None = None,
) -> History:
    """`history` with the attendees' answers to the job's events, read from the provider.

    Events cancelled or more than a day past keep their last answers; the answers read
    now are kept in the ledger (unless it is read-only) at `stamp` (default `now`), for
    when the provider is down. Without a provider that keeps events, `history` is
    returned as it is.
    """
    if calendar is None:
        return history
    responses: dict[str, tuple[AttendeeResponse, ...]] = {}
    for event in ledger.events(job):
        starts = dt.datetime.fromisoformat(event.starts_at)
        if event.cancelled or starts < now - dt.timedelta(days=1):
            responses[event.uid] = event.responses  # settled: keep the last answers
            continue
        try:
            answers = tuple(calendar.event_responses(event.event_id))
        except EventFailed as err:
            log.warning("%s: responses for %s not read: %s", job, event.uid, err)
            answers = event.responses
        else:
            if not ledger.read_only:
                ledger.save_responses(event.uid, answers, stamp or now)
        responses[event.uid] = answers
    return dataclasses.replace(history, responses=responses)
