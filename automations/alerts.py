"""Admin alerts: one email when a run fails or cannot start, at most once a day per failure."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from automations.config import Settings
from automations.jobs.rows import message_key
from automations.languages import ENGLISH
from automations.plan import Message

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
