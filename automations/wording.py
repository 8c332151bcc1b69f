"""How rows read after this run's sends: the standard wording of every outcome.

An Action carries a Wording (this one unless its planner gives its own), so what a row
says about a send is decided on the job's side, never rewritten by the runner. Pure: it
turns outcomes into cell writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from automations.outcomes import Delivered, Outcome, describe_recipients
from automations.sheets.contract import CellWrite
from automations.throttle import QUEUED_STATUS

if TYPE_CHECKING:
    from automations.plan import Action, Message, StatusCell

Sends = Sequence[tuple["Message", Delivered]]


def status(cell: StatusCell, value: str) -> CellWrite:
    """The write of `value` into the cell `cell` points at (its standing status instead,
    unless `value` is an Error)."""
    if cell.standing and not value.startswith("Error"):
        value = cell.standing
    return CellWrite(cell.spreadsheet, cell.row, cell.column, value)


def refused_status(address: str, reason: str) -> str:
    """The status of a recipient's row once a mail server refused its address."""
    return f'Error: the mail server refused "{address}": {reason}'


def unreached_status(description: str, delivered: Delivered) -> str:
    """A recipient row's status when the message did not reach it ('' when it did)."""
    detail = delivered.detail
    if delivered.outcome is Outcome.FAILED:
        then = "" if "next run" in detail else "; will try again on the next run"
        return f"Not sent yet: {description}: {detail}{then}"
    if delivered.outcome is Outcome.REJECTED:
        return f"Error: {description} was refused by the mail server ({detail}); not retried"
    if delivered.outcome is Outcome.UNCERTAIN:
        return (
            f"Check: {description} may or may not have gone out (a run stopped while "
            "sending); it will not be resent automatically"
        )
    return ""


def completed(sends: Sends) -> bool:
    """True when every message of an action reached the mail server (now or before)."""
    return all(delivered.outcome.delivered for _, delivered in sends)


class Wording:
    """The standard statuses after an action's sends; a planner may subclass it.

    Rows the messages were for say what happened to them (queued, refused, not sent yet,
    uncertain); the action's own row (`Action.status`) says how many of its messages did
    not go. An action whose messages all went writes its `on_success` instead (kept in the
    ledger by the runner), so nothing here is written for it but individual refusals.
    """

    def after(self, action: Action, sends: Sends) -> list[CellWrite]:
        """The writes for an action whose messages were sent one by one."""
        writes: list[CellWrite] = []
        problems: list[str] = []
        uncertain = queued = 0
        retried = False
        for message, delivered in sends:
            if delivered.outcome is Outcome.QUEUED:
                queued += 1
                writes.extend(
                    status(cell, QUEUED_STATUS) for cell in message.recipient_rows.values()
                )
                continue
            rows = message.recipient_rows
            folded = {address.casefold(): cell for address, cell in rows.items()}
            refused = {address.casefold() for address in delivered.refused}
            for address, reason in delivered.refused.items():
                cell = rows.get(address) or folded.get(address.casefold())
                if cell is not None:
                    writes.append(status(cell, refused_status(address, reason)))
            if delivered.outcome is Outcome.UNCERTAIN:
                uncertain += 1
            elif not delivered.outcome.delivered:
                problems.append(f"{describe_recipients(message.recipients, 1)}: {delivered.detail}")
                retried = retried or delivered.outcome is not Outcome.REJECTED
            # Everyone else the message was for must not read as fine (e.g. "Receives mail
            # in English") while it did not reach them: their row says what happened.
            unreached = unreached_status(action.description, delivered)
            if unreached:
                writes.extend(
                    status(cell, unreached)
                    for address, cell in rows.items()
                    if address.casefold() not in refused
                )
        if action.status is None or not (problems or uncertain or queued):
            return writes
        total = len(action.messages)
        if queued and not problems and not uncertain:
            line = (
                f"Queued: daily sending limit reached; {queued} of {total} messages "
                "will go on the next run"
            )
        elif uncertain:
            line = (
                f"Check: {uncertain} of {total} messages may or may not have gone out (a run "
                "stopped while sending); they will not be resent automatically"
            )
        else:
            then = (
                "will try again on the next run"
                if retried
                else "refused for good, not retried (see the recipients' rows)"
            )
            line = f"Error: {len(problems)} of {total} messages not sent ({problems[0]}); {then}"
        writes.append(status(action.status, line))
        return writes

    def after_event(self, action: Action, sends: Sends) -> list[CellWrite]:
        """The writes for an action carried out as one provider calendar event."""
        if action.status is None or completed(sends):
            return []
        delivered = sends[0][1]
        if delivered.outcome is Outcome.QUEUED:
            return [status(action.status, QUEUED_STATUS)]
        return [status(action.status, f"Error: {delivered.detail}; will try again on the next run")]


STANDARD = Wording()
