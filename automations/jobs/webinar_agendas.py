"""Job webinar-agendas (MOU 7.0): parent and family academy webinars.

Every webinar must cover family preparedness, We Are One resources and Know Your
Rights before its agenda goes out; then families get it in their language, in Bcc
batches, plus a reminder the day before and a notice if it is cancelled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field

from automations.config import Options, Settings
from automations.jobs import Job
from automations.jobs.announcements import Announcements, Hold, batch_key, read_batch_size
from automations.jobs.directory import (
    OPTIONAL_RESOURCES,
    Directory,
    help_by_region,
    help_near,
    read_directory,
    read_resources,
    region_group,
)
from automations.jobs.engine import alert, alert_recipients, missing_row_context, sample_messages
from automations.jobs.family import (
    DEFAULT_SENDER_NAME,
    FAMILIES,
    SCHOOLS,
    SHEET,
    WEBINARS,
    Signature,
    Webinar,
    read_families,
    read_signature,
    read_webinars,
)
from automations.jobs.occasions import Occasion, already_sent, bcc_batches, before_start, on_cancel
from automations.jobs.rows import address_of, message_key, plural
from automations.languages import ENGLISH
from automations.plan import InviteSpec, JobInput, Message, Plan
from automations.rebuild import Rebuilt, RunLog
from automations.translations_tab import TRANSLATIONS
from automations.unsubscribe import UNSUBSCRIBES

__all__ = ["DEFAULT_SENDER_NAME", "FAMILIES", "NAME", "WEBINARS", "batch_key", "options", "plan"]

NAME = "webinar-agendas"


@dataclass(frozen=True)
class WebinarOptions:
    """Lead times, batch size, who hears about webinars missing content (config: owner),
    and how family mail is signed."""

    agenda_lead_days: int
    reminder_days: int
    batch_size: int  # families per Bcc message, already cut to what the mailer allows
    webinar_minutes: int
    alert_to: tuple[str, ...]
    help_contact: str
    # Why the configured batch_size was cut (for the run line and `check`), or "".
    batch_problem: str = ""
    signature: Signature = field(default_factory=Signature)
    # Regions and verify_days of the Resources tab ([jobs.resources]): "Help near you".
    directory: Directory = field(default_factory=Directory)

    @property
    def sender_name(self) -> str:
        """The From and visible To name of family mail."""
        return self.signature.sender_name


def options(settings: Settings) -> WebinarOptions:
    """Read [jobs.webinar-agendas] (every key optional)."""
    reader = Options(settings, NAME)
    batches = read_batch_size(settings, NAME, reader, "families")
    owners = reader.addresses("owner")
    plan = WebinarOptions(
        agenda_lead_days=reader.integer("agenda_lead_days", 7, minimum=1, maximum=90),
        reminder_days=reader.integer("reminder_days", 1, minimum=0, maximum=14),
        batch_size=batches.size,
        webinar_minutes=reader.integer("webinar_minutes", 60, minimum=15, maximum=600),
        alert_to=alert_recipients(owners, settings),
        help_contact=reader.string(
            "help_contact", address_of(settings.mail.reply_to or settings.mail.sender)
        ),
        batch_problem=batches.problem,
        signature=read_signature(settings, NAME, reader),
        directory=read_directory(settings),
    )
    reader.finish()
    return plan


def coverage(given: JobInput[WebinarOptions], webinar: Webinar) -> Hold | None:
    """MOU 7.0: no agenda goes out until all three required sections have text; the
    owner hears once per webinar."""
    missing = webinar.missing
    if not missing:
        return None
    words = webinar.missing_words
    hold = Hold(
        before=f". Add agenda text for {words} before then",
        status=f"Not sent: agenda text missing for {words} (MOU 7.0 requires all three); "
        "fill in the column(s) and the agenda goes out on the next run",
        problems=[f"webinar {webinar.id} is missing {words}"],
    )
    alert_to = given.options.alert_to
    if not alert_to:
        hold.problems.append(
            f"nobody to alert about webinar {webinar.id}: set jobs.{NAME}.owner or mail.admin"
        )
        return hold
    context = {"webinar": webinar.context(), "missing": list(missing)}
    key = (NAME, webinar.id, "coverage-alert")
    description = f"coverage alert for webinar {webinar.id}"
    hold.actions.append(alert(description, key, "webinar_coverage_alert", context, alert_to))
    return hold


def calendar(webinar: Webinar, given: JobInput[WebinarOptions], occasion: Occasion) -> InviteSpec:
    """The webinar's calendar entry: one UID for the agenda, the reminder and the notice.

    Families are in Bcc and are not attendees, so the agenda and reminder PUBLISH the
    event (added to the calendar, no RSVP); the notice CANCELs it with a higher SEQUENCE.
    """
    domain = address_of(given.settings.mail.organizer).rpartition("@")[2] or "mou.invalid"
    cancel = occasion.name == "cancel"
    return InviteSpec(
        uid=f"{webinar.id}.webinar@{domain}",
        sequence=1 if cancel else 0,
        method="CANCEL" if cancel else "PUBLISH",
        start=webinar.start,
        end=webinar.end,
        summary=webinar.title,
        url=webinar.join_link,
    )


MAIL = Announcements(
    job_name=NAME,
    sheet=SHEET,
    kind="webinar",
    id_column="Webinar ID",
    tab="Webinars",
    persons=("family", "families"),
    thing="agenda",
    first=Occasion(
        "agenda",
        template="webinar_agenda",
        when=before_start(days="agenda_lead_days"),
        stamp="Agenda Sent",
        delivery=bcc_batches,
    ),
    reminder=Occasion(
        "reminder",
        template="webinar_reminder",
        when=before_start(days="reminder_days"),
        audience=already_sent("agenda"),
        stamp="Reminder Sent",
        delivery=bcc_batches,
    ),
    cancel=Occasion(
        "cancel",
        template="webinar_cancel",
        when=on_cancel,
        audience=already_sent("agenda"),
        delivery=bcc_batches,
    ),
    count="Recipients",
    context=lambda webinar, given: {
        "webinar": webinar.context(),
        "help": given.options.help_contact,
        "sent_on": given.today,
    },
    per_language=lambda given, language: {"family": given.options.signature.family(language)},
    hold=coverage,
    calendar=calendar,
)
batch_key = functools.partial(batch_key, NAME)


def plan(given: JobInput[WebinarOptions]) -> Plan:
    """Check coverage, then plan agendas, reminders and cancellation notices."""
    plan = Plan()
    if given.options.batch_problem:
        plan.problems.append(given.options.batch_problem)
    families = read_families(given, given.options.directory)
    people = plan.take(families)
    webinars = plan.take(read_webinars(given, given.options.webinar_minutes))
    # "Help near you": each region's verified, reachable Resources, in the agendas.
    directory = given.options.directory
    help = help_by_region(read_resources(given, directory).items, given.today, directory)
    # Families of one region with help to show share batches whose agenda lists it.
    mail = dataclasses.replace(MAIL, group=region_group(help), per_group=help_near(help))
    mail.plan(given, webinars, people, plan, families.opted_out)
    return plan


def rebuild(given: JobInput[WebinarOptions], run_log: RunLog, out: Rebuilt) -> None:
    """The batches the webinars' marks show, and the coverage alerts their statuses name."""
    webinars = read_webinars(given, given.options.webinar_minutes).items
    MAIL.rebuild(given, webinars, read_families(given, given.options.directory).items, out)
    held = [
        w
        for w in webinars
        if not w.pending and w.row.text("Status").startswith("Not sent: agenda text missing for")
    ]
    for webinar in held:
        keys = (
            message_key(NAME, webinar.id, "coverage-alert", a.casefold())
            for a in given.options.alert_to
        )
        out.sent.update(keys)
    if held:
        out.report.append(
            f"Webinars: {plural(len(held), 'coverage alert')} the statuses mention, taken as sent"
        )


SAMPLE_HELP = [
    {
        "kind": "legal services",
        "items": [
            {
                "name": "Eastside Immigrant Legal Clinic",
                "kind": "legal services",
                "address": "2130 E 1st St, Los Angeles, CA 90033",
                "map_link": "https://www.google.com/maps/search/?api=1&query=2130+E+1st+St",
                "phone": "(213) 555-0142",
                "tel": "tel:+12135550142",
                "hours": "Mon–Fri 9–5",
                "languages": ["en", "es"],
                "cost": "free",
                "website": "https://legal.example.org",
            }
        ],
    }
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
        "interpretation": ["es", "ko"],
        "language": "en",
    }
    base = {
        "webinar": webinar,
        "help": opts.help_contact,
        "family": opts.signature.family(ENGLISH),
        "region": "East",
        "help_near": SAMPLE_HELP,
    }
    what = f'family webinar "{webinar["title"]}"'
    sent = "the agenda to 120 families"
    return sample_messages(
        {
            "webinar_agenda": base,
            "webinar_reminder": base,
            "webinar_cancel": base,
            "webinar_coverage_alert": {"webinar": webinar, "missing": ["Know Your Rights"]},
            "missing_row_alert": missing_row_context(
                what, "WB-20270303", start, "Webinars", "Webinar ID", sent
            ),
        }
    )


JOB = Job(
    name=NAME,
    summary="Family webinars (MOU 7.0): coverage check, agendas in families' languages "
    "(Bcc batches), reminders, cancellation notices",
    order=30,
    default_schedule="daily at 07:30",
    # The optional Translations tab is read in the same request; the run merges it into
    # rendering (automations/translations.py).
    tabs=lambda settings: {SHEET: (WEBINARS, FAMILIES, TRANSLATIONS, OPTIONAL_RESOURCES, SCHOOLS)},
    options=options,
    plan=plan,
    samples=samples,
    config_problems=lambda settings, opts: [opts.batch_problem] if opts.batch_problem else [],
    rebuild=rebuild,
    # Families' replies asking to stop, read from the mailbox where the backend can.
    histories=(UNSUBSCRIBES,),
)
