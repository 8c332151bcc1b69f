"""Reminders to a row's person while the row owes something (PD digests).

Part of the occasion engine (see `automations.jobs.engine`). No more often than every
`cooldown` days and at most `limit` times; the row keeps when it was last reminded and
how many reminders it had, and those two make the message key, so a rerun after a crash
finds the reminder already sent while the next due one gets a new key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from automations.jobs.occasions import Occasion
from automations.jobs.rows import day_words, message_key, write
from automations.languages import Language
from automations.plan import Action, JobInput, Message, StatusCell
from automations.sheets.contract import RowRef


class Reminded(Protocol):
    """A row a reminder is about: its person and what the row says of earlier reminders."""

    id: str
    ref: RowRef
    email: str
    language: Language
    last_reminded: dt.date | None
    reminders_sent: int


@dataclass(frozen=True)
class Reminders:
    """Reminders of one occasion to the people of one tab.

    :param job_name: the job's name (the first part of every key)
    :param sheet: the spreadsheet of the rows
    :param occasion: the reminder's key part and template
    :param cooldown: the option holding the days between two reminders
    :param limit: the option holding how many reminders a row gets at most
    :param description: the action's description, with `{number}` and `{id}`
    :param last: the tool-owned column with the day of the last reminder
    :param count: the tool-owned column with how many reminders were sent
    """

    job_name: str
    sheet: str
    occasion: Occasion
    cooldown: str
    limit: str
    description: str
    last: str = "Last Reminded"
    count: str = "Reminders Sent"

    def plan(
        self,
        given: JobInput[Any],
        row: Reminded,
        *,
        owes: str,
        owing: str,
        context: Mapping[str, Any],
        note: str = "",
        reply_to: str = "",
    ) -> Action | str:
        """The reminder due for `row`, or the status saying why none is due.

        :param owes: what the row owes, for statuses ("owes Safe Zones; ...")
        :param owing: the same, short ("Owes 2 topics")
        :param context: the template values (the reminder's number and limit are added)
        :param note: added to the status (e.g. ". Check: ...")
        :param reply_to: where replies go, when not the configured reply address
        """
        limit = int(getattr(given.options, self.limit))
        if row.reminders_sent >= limit:
            return f"Reminder limit reached ({limit} sent); still {owes}"
        if row.last_reminded is not None:
            due = row.last_reminded + dt.timedelta(days=int(getattr(given.options, self.cooldown)))
            if given.today < due:
                return (
                    f"{owing}; reminded {day_words(row.last_reminded)}, next reminder on or "
                    f"after {day_words(due)}{note}"
                )
        number = row.reminders_sent + 1
        # The count and the date of the previous reminder make the key: a rerun after a
        # crash finds this reminder already sent; the next due one gets a new key.
        previous = row.last_reminded.isoformat() if row.last_reminded else "never"
        address = row.email.casefold()
        message = Message(
            key=message_key(self.job_name, row.id, self.occasion.name, number, previous, address),
            template=self.occasion.template,
            language=row.language,
            to=(row.email,),
            context={**context, "reminder_number": number, "reminder_limit": limit},
            reply_to=reply_to,
        )
        status = f"Reminder {number} of {limit} sent {day_words(given.today)}: {owes}{note}"
        return Action(
            description=self.description.format(number=number, id=row.id),
            messages=[message],
            on_success=[
                write(self.sheet, row.ref, self.last, given.today),
                write(self.sheet, row.ref, self.count, number),
                write(self.sheet, row.ref, "Status", status),
            ],
            status=StatusCell(self.sheet, row.ref),
        )
