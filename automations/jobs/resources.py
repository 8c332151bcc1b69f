"""Job resources (MOU 3.0, 4.0, 5.d): a directory of help that stays true.

Every quarter families get "Resources near you" (the verified entries of their region, in
their language, in Bcc batches); an entry not verified for `verify_days` is left out and
its Contact Email (or the owner) is asked once to confirm what is on file. The tab's rows
(`automations.jobs.directory`) say which entries families see and why not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from automations.config import Options, Settings
from automations.errors import ConfigError
from automations.jobs import Job
from automations.jobs.announcements import Announcements, read_batch_size
from automations.jobs.directory import (
    RESOURCES,
    SHEET,
    Directory,
    Resource,
    help_by_region,
    help_near,
    reachable,
    read_directory,
    read_resources,
    region_group,
)
from automations.jobs.engine import alert_recipients, sample_messages
from automations.jobs.family import FAMILIES, SCHOOLS, Signature, read_families, read_signature
from automations.jobs.occasions import Occasion, bcc_batches
from automations.jobs.people import Person
from automations.jobs.rows import address_of, day_words, message_key, write
from automations.jobs.webinar_agendas import SAMPLE_HELP
from automations.languages import ENGLISH, Language, parse_language
from automations.plan import Action, JobInput, Message, Plan, StatusCell
from automations.quarters import quarters
from automations.rebuild import Rebuilt, RunLog, ran_since

NAME = "resources"


@dataclass(frozen=True)
class ResourcesOptions:
    """The directory's regions and freshness, when the quarterly mail goes, who confirms
    entries without a Contact Email, the flyers' languages and how family mail is signed."""

    directory: Directory
    send_day: int  # the quarter's day (1 = its first) from which its mail goes
    batch_size: int
    alert_to: tuple[str, ...]
    help_contact: str
    flyer_languages: tuple[Language, ...]
    batch_problem: str = ""
    signature: Signature = field(default_factory=Signature)

    @property
    def sender_name(self) -> str:
        """The From and visible To name of family mail (the batches use it)."""
        return self.signature.sender_name


def options(settings: Settings) -> ResourcesOptions:
    """Read [jobs.resources] (every key optional)."""
    reader = Options(settings, NAME)
    batches = read_batch_size(settings, NAME, reader, "families")
    flyers = []
    for code in reader.raw("flyer_languages") or ["en", "es"]:
        language = parse_language(str(code))
        if language is None:
            raise ConfigError(
                f'{settings.path}: jobs.{NAME}.flyer_languages: "{code}" is not a language '
                'we recognise (e.g. flyer_languages = ["en", "es", "ko"])'
            )
        flyers.append(language)
    read = ResourcesOptions(
        directory=read_directory(settings, reader),
        send_day=reader.integer("send_day", 1, minimum=1, maximum=60),
        batch_size=batches.size,
        alert_to=alert_recipients(reader.addresses("owner"), settings),
        help_contact=reader.string(
            "help_contact", address_of(settings.mail.reply_to or settings.mail.sender)
        ),
        flyer_languages=tuple(flyers),
        batch_problem=batches.problem,
        signature=read_signature(settings, NAME, reader),
    )
    reader.finish()
    return read


@dataclass(frozen=True)
class Quarterly:
    """The quarter's mail as an event of the Bcc engine: its ID is the quarter."""

    id: str
    start: dt.date
    ref: None = None


QUARTERLY = Occasion("near-you", template="resources_near_you", delivery=bcc_batches)
MAIL = Announcements(
    job_name=NAME,
    sheet=SHEET,
    kind="resources",
    id_column="",
    tab=RESOURCES.name,
    persons=("family", "families"),
    thing="resources message",
    first=QUARTERLY,
    reminder=QUARTERLY,
    cancel=QUARTERLY,
    count="",
    context=lambda event, given: {"help": given.options.help_contact},
    per_language=lambda given, language: {"family": given.options.signature.family(language)},
    hold=lambda given, event: None,
)


def this_quarter(given: JobInput[ResourcesOptions]) -> Quarterly | None:
    """The quarter whose mail is due today (None before its send_day or out of the term)."""
    settings = given.settings
    for quarter in quarters(settings.agreement_start, settings.agreement_end, settings.quarters):
        opens = quarter.start + dt.timedelta(days=given.options.send_day - 1)
        if given.today in quarter and given.today >= opens:
            return Quarterly(quarter.label.replace(" ", "-"), quarter.start)
    return None


def confirm_key(resource: Resource, address: str) -> str:
    """One request per entry, per Verified On value and per address."""
    verified = resource.verified_on.isoformat() if resource.verified_on else "never"
    return message_key(NAME, "confirm", resource.name, verified, address.casefold())


def _confirm(given: JobInput[ResourcesOptions], resource: Resource, plan: Plan) -> str:
    """The status of a stale entry; a confirmation request when nobody was asked yet."""
    opts, verified = given.options, resource.verified_on
    why = (
        f"last verified {day_words(verified)}, more than {opts.directory.verify_days} days ago"
        if verified
        else "never verified (Verified On is blank)"
    )
    base = f"Not shown to families: {why}"
    to = (resource.contact,) if resource.contact else opts.alert_to
    if not to:
        plan.problems.append(f"Resources: nobody to ask about {resource.name}")
        return f"{base}; nobody to ask: add a Contact Email or set jobs.{NAME}.owner"
    who = " and ".join(to)
    keys = {address: confirm_key(resource, address) for address in to}
    # One wording whether the request went this run or an earlier one (a run killed
    # before its write-back must leave the same status as one that was not): the day
    # asked is the Confirm Asked cell's.
    asked = (
        f"{base}; asked {who} to confirm the details on file (address, phone, hours, "
        "languages, cost, website; the day is in Confirm Asked); update Verified On once "
        "they answer"
    )
    if all(given.history.was_sent(k) for k in keys.values()):
        return asked
    context = {
        "resource": resource.on_file(),
        "verified": day_words(verified) if verified else "(never)",
    }
    messages = [
        Message(key, "resource_confirm", ENGLISH, (address,), context)
        for address, key in keys.items()
        if not given.history.was_sent(key)
    ]
    plan.actions.append(
        Action(
            description=f"confirmation request for {resource.name}",
            messages=messages,
            on_success=[
                write(SHEET, resource.ref, "Confirm Asked", given.today),
                write(SHEET, resource.ref, "Status", asked),
            ],
            status=StatusCell(SHEET, resource.ref),
        )
    )
    return f"{base}; asking {who} to confirm the details"


def shown_status(resource: Resource, directory: Directory) -> str:
    """The status of an entry families see: where, and until when without a new check."""
    verified, due = resource.verified_on, resource.due(directory)
    assert verified is not None and due is not None  # a shown entry is not stale
    return (
        f"Shown to families in the {resource.region} region (verified {day_words(verified)}; "
        f"confirm again by {day_words(due)})"
    )


def plan(given: JobInput[ResourcesOptions]) -> Plan:
    """Each entry's status and confirmation request, then the quarter's family mail."""
    out, opts = Plan(), given.options
    if opts.batch_problem:
        out.problems.append(opts.batch_problem)
    families = read_families(given, opts.directory)
    people = out.take(families)
    resources = out.take(read_resources(given, opts.directory))
    for resource in resources:
        if not reachable(resource):
            status = "Not shown to families: no phone or website (add one so families can reach it)"
        elif resource.stale(given.today, opts.directory):
            status = _confirm(given, resource, out)
        else:
            status = shown_status(resource, opts.directory)
        out.writes.append(write(SHEET, resource.ref, "Status", status))
    quarter = this_quarter(given)
    if quarter is not None:
        out.actions.extend(quarterly(given, quarter, people, resources))
    return out


def quarterly(
    given: JobInput[ResourcesOptions],
    quarter: Quarterly,
    people: Sequence[Person],
    resources: Sequence[Resource],
) -> list[Action]:
    """ "Resources near you" to every family of a region with help to show, once a quarter
    (Bcc batches per language and region, each reserved in the ledger first)."""
    help = help_by_region(resources, given.today, given.options.directory)
    mail = dataclasses.replace(MAIL, group=region_group(help), per_group=help_near(help))
    targets = [p for p in people if p.fields.get("region", "") in help]
    context = mail.context(quarter, given)
    actions, _ = mail.batches(given, quarter, QUARTERLY, targets, context, lambda total: [])
    return actions


def rebuild(given: JobInput[ResourcesOptions], run_log: RunLog, out: Rebuilt) -> None:
    """Requests the Confirm Asked cells show; this quarter's mail when the Run Log shows a
    run this quarter that sent mail (taken as sent to everyone it would go to now)."""
    opts = given.options
    for resource in read_resources(given, opts.directory).items:
        if resource.asked and resource.stale(given.today, opts.directory):
            to = (resource.contact,) if resource.contact else opts.alert_to
            out.sent.update(confirm_key(resource, address) for address in to)
    quarter = this_quarter(given)
    if quarter is None:
        return
    if ran_since(run_log(SHEET), NAME, quarter.start, sending=True):
        people = read_families(given, opts.directory).items
        out.take(quarterly(given, quarter, people, read_resources(given, opts.directory).items))
        out.report.append(f"Resources: the Run Log shows the {quarter.id} mail went; taken as sent")


def samples(settings: Settings, opts: ResourcesOptions) -> list[Message]:
    """One message per template with made-up data, for `check`."""
    on_file = {
        "Name": "Eastside Immigrant Legal Clinic",
        "Region": "East",
        "Phone": "(213) 555-0142",
    }
    return sample_messages(
        {
            "resources_near_you": {
                "help": opts.help_contact,
                "family": opts.signature.family(ENGLISH),
                "region": "East",
                "help_near": SAMPLE_HELP,
            },
            "resource_confirm": {"resource": on_file, "verified": "Mar 3, 2026"},
        }
    )


JOB = Job(
    name=NAME,
    summary="Resources (MOU 3.0, 4.0, 5.d): a directory families can trust; quarterly "
    '"Resources near you", confirmation requests, flyers (`jobs.py resources --out DIR`)',
    order=35,
    default_schedule="daily at 07:45",
    tabs=lambda settings: {SHEET: (RESOURCES, FAMILIES, SCHOOLS)},
    options=options,
    plan=plan,
    samples=samples,
    config_problems=lambda settings, opts: [opts.batch_problem] if opts.batch_problem else [],
    rebuild=rebuild,
)
