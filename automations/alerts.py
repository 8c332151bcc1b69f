"""Admin alerts: one email when a run fails or cannot start, at most once a day per failure,
and one when the ledger was rebuilt from the sheets."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from automations.backups import backup_folder, latest_backup
from automations.config import Settings
from automations.errors import AutomationError, LedgerError
from automations.jobs.rows import message_key
from automations.languages import ENGLISH
from automations.outcomes import Delivered, Outcome
from automations.plan import Message

if TYPE_CHECKING:
    from automations.delivery import Delivery
    from automations.ledger import Ledger
    from automations.mail.compose import Outgoing

log = logging.getLogger("automations")

ALERT_JOB = "admin-alerts"
MAX_PROBLEMS = 10


def admin_alert(
    settings: Settings,
    job: str,
    day: dt.date,
    summary: str,
    problems: Sequence[str],
    *,
    once: bool = False,
) -> Message | None:
    """The alert for a failed run of `job`, or None when no admin address is configured.

    The key holds the job, the day and a digest of the failure, so the same failure
    alerts once a day while a different one alerts again; `once` drops the day.
    """
    if not settings.mail.admin:
        return None
    shown = list(dict.fromkeys(problems))[:MAX_PROBLEMS]
    signature = "\n".join(shown) or summary
    digest = hashlib.sha256(signature.encode("utf-8")).hexdigest()[:12]
    return Message(
        key=message_key(ALERT_JOB, job, "once" if once else day.isoformat(), digest),
        template="admin_alert",
        language=ENGLISH,
        to=(settings.mail.admin,),
        context={
            "job": job,
            "day": day,
            "summary": summary,
            "problems": shown,
            "more": max(0, len(set(problems)) - len(shown)),
            "config": str(settings.path),
        },
    )


def rebuild_alert(
    settings: Settings, reports: Mapping[str, Sequence[str]], now: dt.datetime, ledger: Path
) -> Message | None:
    """The one email telling the admin the ledger was rebuilt and from what (None: no admin)."""
    if not settings.mail.admin:
        return None
    blob = "\n".join(f"{job}: {line}" for job, lines in sorted(reports.items()) for line in lines)
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    latest = latest_backup(ledger)
    return Message(
        key=message_key(ALERT_JOB, "ledger-rebuilt", now.date().isoformat(), digest),
        template="ledger_rebuilt",
        language=ENGLISH,
        to=(settings.mail.admin,),
        context={
            "day": now.date(),
            "ledger": str(ledger),
            "jobs": {job: list(lines) for job, lines in sorted(reports.items())},
            "backups": str(backup_folder(ledger)),
            "latest": latest.name if latest else "",
            "config": str(settings.path),
        },
    )


class Alerts:
    """Sends the admin's alerts through the ledger, so each goes at most once.

    :param settings: the configuration (mail.admin)
    :param ledger: the ledger (rebuild reports waiting to be sent)
    :param delivery: sends a message at most once
    :param prepare: composes a message (for an alert the ledger cannot record)
    :param clock: the current time
    """

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        delivery: Delivery,
        prepare: Callable[[str, Message], Outgoing],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.settings, self.ledger, self.delivery = settings, ledger, delivery
        self.prepare, self.clock = prepare, clock

    def failed_run(self, job: str, summary: str, problems: list[str], *, once: bool) -> None:
        """Email the admin: once per job, day and distinct failure (or once ever)."""
        day = self.clock().date()
        message = admin_alert(self.settings, job, day, summary, problems, once=once)
        if message is None:
            return
        delivered = self._send(message, unrecorded=True)
        if not delivered.outcome.delivered:
            log.error("%s: could not alert the admin: %s", job, delivered.detail)

    def rebuilds(self) -> bool:
        """Tell the admin, in one email, which jobs' ledger records were rebuilt and from
        what (kept until it goes). True when there was something to tell."""
        reports = self.ledger.rebuild_reports()
        if not reports:
            return False
        message = rebuild_alert(self.settings, reports, self.clock(), self.ledger.path)
        if message is None:
            log.warning("ledger rebuilt from the sheets; no mail.admin to tell")
            self.ledger.clear_rebuild_reports(reports)
            return True
        delivered = self._send(message)
        if delivered.outcome.delivered:
            self.ledger.clear_rebuild_reports(reports)
        else:  # kept in the ledger: the next run tries again
            log.error("could not tell the admin the ledger was rebuilt: %s", delivered.detail)
        return True

    def _send(self, message: Message, *, unrecorded: bool = False) -> Delivered:
        """Send an alert at most once; with `unrecorded`, even when the ledger cannot
        record it (disk full, read-only): that is exactly what the admin must hear."""
        try:
            return self.delivery.deliver(ALERT_JOB, message)
        except LedgerError as err:
            if not unrecorded:
                return Delivered(Outcome.FAILED, str(err))
            try:
                sent = self.delivery.mailer.send(self.prepare(ALERT_JOB, message))
            except AutomationError as again:
                return Delivered(Outcome.FAILED, str(again))
            return Delivered(Outcome(sent.state), sent.detail)
        except AutomationError as err:
            return Delivered(Outcome.FAILED, str(err))
