"""Deliver one message at most once: intent, send, confirm, outcome (the exactly-once rule).

The ledger records the intent to send a key before the mailer is called and the outcome
after it, so a key recorded as sent is never sent again, and a key left at "intent" by a
run that stopped is confirmed with the mailer (or reported uncertain) instead of being
sent blindly. The fault points (`after-intent`, `after-send`, `after-outcome`) are where
the kill tests stop a run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from email.utils import parseaddr

from automations.calendar_events import CalendarEvents
from automations.config import Settings
from automations.errors import LedgerError, MailError, TemplateProblem
from automations.faults import fault_point
from automations.ledger import QUEUED, Completion, Intent, Ledger
from automations.ledger import Outcome as SendOutcome
from automations.mail.backend import Mailer
from automations.mail.compose import Envelope, Outgoing, compose
from automations.outcomes import Delivered, Outcome, describe_recipients
from automations.plan import Action, Message
from automations.render import Renderer
from automations.sheets.contract import CellWrite
from automations.throttle import QUEUED_STATUS, Throttle
from automations.unsubscribe import UNSUBSCRIBE_SUBJECT
from automations.wording import completed

log = logging.getLogger("automations")
UNPREPARED = (
    "the email's text could not be prepared (the admin sees why with `python jobs.py check`)"
)


def unsubscribe_header(reply_address: str) -> str:
    """List-Unsubscribe for bulk mail: a mailto to the reply address whose subject the
    mailbox check recognises (automations/unsubscribe.py)."""
    return f"<mailto:{parseaddr(reply_address)[1]}?subject={UNSUBSCRIBE_SUBJECT}>"


# Messages whose intents are recorded in one synced commit, when the mailer allows
# batches (Delivery.batches): a crash leaves at most this many intents to look at again.
INTENT_BATCH = 500


def prepare(
    settings: Settings, renderer: Renderer, job: str, message: Message, now: dt.datetime
) -> Outgoing:
    """Render and compose one message (with its .ics when it carries an invitation).

    :param settings: the configuration (sender, organizer, reply-to)
    :param renderer: the templates
    :param job: the job's name, carried in the message's headers
    :param message: what to send
    :param now: the time stamped on the message and its invitation
    """
    rendered = renderer.render(message.template, message.language, message.context)
    mail = settings.mail
    ics = None
    if message.invite is not None:
        from automations.ical import build_ics  # icalendar: only when there is an invite

        name, email = parseaddr(mail.organizer)
        ics = build_ics(message.invite, (name, email), now, rendered.calendar_title or None)
    reply_to = message.reply_to or mail.reply_to
    envelope = Envelope(
        mail.sender,
        message.to,
        message.bcc,
        reply_to,
        message.display_name,
        unsubscribe_header(mail.reply_to or mail.sender) if message.unsubscribe else "",
    )
    return compose(
        key=message.key,
        job=job,
        envelope=envelope,
        rendered=rendered,
        now=now,
        ics=ics,
        ics_method=message.invite.method if message.invite else None,
    )


class Delivery:
    """Sends messages through the mailer at most once each, as the ledger records them.

    :param ledger: where intents and outcomes are recorded
    :param mailer: the configured mail backend
    :param compose: turns (job, message) into the MIME message to send
    :param clock: the current time (timestamps of intents and outcomes)
    :param throttle: the mailer's sending limits, or None for none (the outbox)
    :param events: turns invitations into provider meetings (Microsoft 365), or None
    """

    def __init__(
        self,
        ledger: Ledger,
        mailer: Mailer,
        compose: Callable[[str, Message], Outgoing],
        clock: Callable[[], dt.datetime],
        throttle: Throttle | None = None,
        events: CalendarEvents | None = None,
    ) -> None:
        self.ledger = ledger
        self.mailer = mailer
        self.compose = compose
        self.clock = clock
        self.throttle = throttle
        self.events = events

    @property
    def batches(self) -> bool:
        """True when sends go in batches: one synced commit for a batch's intents.

        Only for a mailer whose resend of a key replaces the earlier message (the outbox:
        one file per key), unthrottled and without calendar events: a power cut may lose a
        batch's unsynced marks, and then a message is sent again, harmlessly only there.
        """
        return (
            self.throttle is None
            and self.events is None
            and bool(getattr(self.mailer, "replaces_resends", False))
        )

    def carry_out_all(
        self,
        job: str,
        actions: Iterable[Action],
        count: Callable[[Delivered], None],
        writes: list[CellWrite],
    ) -> None:
        """carry_out for each action, in batches of about INTENT_BATCH messages when the
        mailer allows (see `batches`), adding to `writes` what rows say about sends that did
        not go. `writes` keeps what was done before a MailError stops the sends."""
        if not self.batches:
            for action in actions:
                writes.extend(self.carry_out(job, action, count))
            return
        chunk: list[Action] = []
        keys: set[str] = set()
        try:
            for action in actions:
                own = [m.key for m in action.messages]
                if len(set(own)) != len(own):  # a key twice: each send must see the last
                    writes.extend(self._batch(job, chunk, count))
                    chunk, keys = [], set()
                    writes.extend(self.carry_out(job, action, count))
                    continue
                if keys.intersection(own) or len(keys) + len(own) > INTENT_BATCH:
                    writes.extend(self._batch(job, chunk, count))
                    chunk, keys = [], set()
                chunk.append(action)
                keys.update(own)
            writes.extend(self._batch(job, chunk, count))
        except MailError:
            self.ledger.flush()
            raise
        self.ledger.flush()  # the last batch's outcomes and write-backs on the disk

    def _batch(
        self, job: str, actions: list[Action], count: Callable[[Delivered], None]
    ) -> list[CellWrite]:
        """Compose a batch, record its intents in one synced commit, then send one by one."""
        if not actions:
            return []
        ready = [[self._ready(job, message) for message in a.messages] for a in actions]
        queued = [
            Intent(message.key, job, item.message_id, len(item.recipients))
            for action, items in zip(actions, ready, strict=True)
            for message, item in zip(action.messages, items, strict=True)
            if isinstance(item, Outgoing)
        ]
        if queued:
            self.ledger.intents(queued, self.clock())
        unsent = [intent.key for intent in queued]
        writes: list[CellWrite] = []
        for action, items in zip(actions, ready, strict=True):
            sends: list[tuple[Message, Delivered]] = []
            for message, item in zip(action.messages, items, strict=True):
                if isinstance(item, Delivered):
                    delivered = item
                else:
                    fault_point("after-intent")
                    try:
                        delivered = self._send(job, message, item, batched=True)
                    except MailError:
                        for key in unsent:  # queued, never handed to the mailer
                            self.ledger.forget(key)
                        raise
                    unsent.remove(message.key)
                count(delivered)
                sends.append((message, delivered))
            writes.extend(self._finish(job, action, sends, as_event=False, batched=True))
        return writes

    def carry_out(
        self, job: str, action: Action, count: Callable[[Delivered], None]
    ) -> list[CellWrite]:
        """Send an action's messages (or make its calendar event) and, once all of them
        went, keep its write-backs and snapshot in the ledger.

        Returns the action's own wording (Action.wording) of what did not go.

        :param job: the job's name
        :param action: the messages and what to record once they all went
        :param count: called with each message's outcome as it is known
        """
        as_event = self.events is not None and self.events.takes(job, action)
        sends: list[tuple[Message, Delivered]] = []
        if self.events is not None and as_event:
            sends = self.events.deliver(job, action)
            for _, delivered in sends:
                count(delivered)
        else:
            for message in action.messages:
                delivered = self.deliver(job, message)
                count(delivered)
                sends.append((message, delivered))
        return self._finish(job, action, sends, as_event=as_event, batched=False)

    def _finish(
        self,
        job: str,
        action: Action,
        sends: list[tuple[Message, Delivered]],
        *,
        as_event: bool,
        batched: bool,
    ) -> list[CellWrite]:
        """Keep a fully sent action's write-backs; the wording of what did not go."""
        if completed(sends):
            if batched:
                done = Completion(job, tuple(action.on_success), action.state)
                self.ledger.settle([], [done], self.clock())
            else:
                self.ledger.complete(job, action.on_success, action.state, self.clock())
        elif not as_event:
            outcomes = [d.outcome for _, d in sends]
            log.warning(
                "%s: %s: %d not sent, %d uncertain",
                job,
                action.description,
                sum(o in (Outcome.FAILED, Outcome.REJECTED) for o in outcomes),
                outcomes.count(Outcome.UNCERTAIN),
            )
        if as_event:
            return action.wording.after_event(action, sends)
        return action.wording.after(action, sends)

    def deliver(self, job: str, message: Message) -> Delivered:
        """Send `message` unless the ledger says it went (or may have gone) already.

        Raises MailError when the mailer cannot send at all (the run stops; the intent is
        forgotten, so the next run sends the message) and LedgerError when an outcome
        cannot be recorded (the next run confirms that message instead of resending it).

        :param job: the job's name, under which the key is recorded
        :param message: the message; its `key` decides whether it was sent before
        """
        ready = self._ready(job, message)
        if isinstance(ready, Delivered):
            return ready
        outgoing = ready
        recipients = len(outgoing.recipients)
        now = self.clock()
        if self.throttle is not None:
            too_many = self.throttle.too_many_recipients(recipients)
            if too_many:
                return Delivered(Outcome.FAILED, too_many)
            if not self.throttle.allows_today(recipients):
                return Delivered(Outcome.QUEUED, QUEUED_STATUS)
            self.throttle.wait_turn()
            now = self.clock()
        self.ledger.intent(message.key, job, outgoing.message_id, recipients, now)
        fault_point("after-intent")
        return self._send(job, message, outgoing, batched=False)

    def _ready(self, job: str, message: Message) -> Delivered | Outgoing:
        """What an earlier run settled about `message`, or the message composed to send."""
        record = self.ledger.record(message.key)
        if record is not None:
            # Refused recipients keep their own row status on every later run too.
            if record.state == "sent":
                return Delivered(Outcome.ALREADY, refused=self.ledger.refusals(message.key))
            if record.state == "rejected":
                refused = self.ledger.refusals(message.key) or (
                    {message.recipients[0]: record.detail} if len(message.recipients) == 1 else {}
                )
                return Delivered(Outcome.REJECTED, record.detail, refused, earlier=True)
            if record.state == "uncertain":
                return Delivered(Outcome.UNCERTAIN, record.detail, earlier=True)
        try:
            outgoing = self.compose(job, message)
        except TemplateProblem as err:
            # Rows are read by staff: they say what happened and where to look; the
            # template's name and line go to the log (and `check`), not into a Status.
            log.error("%s: %s", job, err)
            return Delivered(Outcome.FAILED, UNPREPARED)
        except ValueError as err:  # e.g. an address the email library cannot put in a header
            return Delivered(Outcome.FAILED, f"the message could not be composed: {err}")
        # A run stopped between recording the intent and the outcome; an intent still
        # queued in a batch never reached the mailer (Ledger.sending), so it is just sent.
        if record is not None and record.state == "intent" and record.detail != QUEUED:
            now = self.clock()
            delivered = self.mailer.confirm(outgoing)
            if delivered is True:
                self.ledger.outcome(message.key, "sent", now, "confirmed after an interrupted run")
                return Delivered(Outcome.ALREADY)
            if delivered is None:
                self.ledger.outcome(
                    message.key, "uncertain", now, "a run stopped while sending; not resent"
                )
                return Delivered(Outcome.UNCERTAIN, "outcome unknown")
        return outgoing

    def _send(self, job: str, message: Message, outgoing: Outgoing, *, batched: bool) -> Delivered:
        """Hand a message whose intent is recorded to the mailer and record the outcome."""
        recipients = len(outgoing.recipients)
        if batched:
            self.ledger.sending(message.key)
        try:
            sent = self.mailer.send(outgoing)
        except MailError:
            self.ledger.forget(message.key)
            raise
        if self.throttle is not None:
            delivered_to = recipients - len(sent.rejected) if sent.state == "sent" else 0
            self.throttle.record(delivered_to, delivered_to > 0)
        fault_point("after-send")
        try:
            if batched:
                settled = SendOutcome(
                    message.key, sent.state, sent.detail, sent.provider_id, sent.rejected
                )
                self.ledger.settle([settled], [], self.clock())
            else:
                if sent.rejected:
                    self.ledger.refuse(message.key, sent.rejected)
                self.ledger.outcome(
                    message.key, sent.state, self.clock(), sent.detail, sent.provider_id
                )
        except LedgerError as err:
            raise LedgerError(
                f"{err} (while recording the {message.template} to "
                f"{describe_recipients(message.recipients, 1)}: the next run checks that "
                "message rather than sending it again)",
                err.why,
            ) from err
        fault_point("after-outcome")
        outcome = Outcome(sent.state)
        if outcome is Outcome.SENT:
            log.debug(
                "%s: sent %s to %s", job, message.template, describe_recipients(message.recipients)
            )
        else:
            log.warning(
                "%s: %s %s to %s: %s",
                job,
                sent.state,
                message.template,
                describe_recipients(message.recipients),
                sent.detail,
            )
        return Delivered(outcome, sent.detail, sent.rejected)
