"""Job mou-tracker (all sections): one place where both parties see the promises kept.

Reads the committee, family-engagement and PD spreadsheets (writes nothing in their
tabs but the Error status of a row it leaves out), rewrites its own `MOU Tracker` tab
in the committee spreadsheet on every run, and sends a summary email with bars and a
quarter strip to the committee and owners once a month. A run by name
(`run mou-tracker`) refreshes the tab and sends the month's summary only if it has not
gone out yet; `--resend` sends it again with newer figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automations.config import Settings
from automations.jobs import Job, committee, committee_invites, family, pd, webinar_agendas
from automations.jobs.declare import number, option, read_options
from automations.jobs.directory import OPTIONAL_RESOURCES
from automations.jobs.engine import alert_recipients, sample_messages
from automations.jobs.recommendations import RECOMMENDATIONS_IF_ANY
from automations.jobs.rows import key_part, message_key
from automations.languages import ENGLISH, Language
from automations.plan import Action, JobInput, Message, Plan, TabContent
from automations.rebuild import REBUILT_FIGURES, Rebuilt, RunLog, ran_since

# The figures and their views are imported by the planner: `--help` and `list` import every
# job module, and the tracker's dataclasses are a good part of what that costs.
if TYPE_CHECKING:
    from automations.tracker import Figures

__all__ = ["TAB", "TrackerOptions", "plan", "sample_context", "summary_key"]

NAME = "mou-tracker"
SHEET = committee.SHEET
TAB = "MOU Tracker"
TEMPLATE = "mou_summary"


@dataclass(frozen=True)
class TrackerOptions:
    """Who gets the summary besides the committee (config: owners), from which day of
    the month, how many names the tab lists."""

    owners: tuple[str, ...] = option(lambda r, k, s: alert_recipients(r.addresses(k), s))
    summary_day: int = number(1, minimum=1, maximum=28)
    listed_staff: int = number(200, minimum=0, maximum=100_000)


def options(settings: Settings) -> TrackerOptions:
    """Read [jobs.mou-tracker] (every key optional)."""
    return read_options(settings, NAME, TrackerOptions)


@dataclass(frozen=True)
class Recipient:
    """Someone who gets the summary, in their language."""

    email: str
    name: str
    language: Language


def recipients(given: JobInput[TrackerOptions]) -> list[Recipient]:
    """Active committee members (in their language), then the configured owners."""
    opts = given.options
    members = committee.read_members(given).items  # the Members statuses are not ours
    plan = [Recipient(m.email, m.name, m.language) for m in members]
    seen = {r.email.casefold() for r in plan}
    for owner in opts.owners:
        if owner.casefold() not in seen:
            seen.add(owner.casefold())
            plan.append(Recipient(owner, "", ENGLISH))
    return plan


def summary_key(month: str, fingerprint: str, address: str) -> str:
    """The key of one summary: month, figures and recipient.

    Every run sends at most one per recipient per month; `run mou-tracker --resend`
    sends again only when the figures changed, because the same month and fingerprint
    give the same key, which the ledger never resends.
    """
    return message_key(NAME, "summary", month, fingerprint, address.casefold())


def sample_context() -> dict[str, Any]:
    """A made-up but plausible summary (automations.tracker_views.sample_context)."""
    from automations.tracker_views import sample_context

    return sample_context()


def _summary_action(given: JobInput[TrackerOptions], figures: Figures, plan: Plan) -> Action | None:
    from automations.tracker_views import summary_context

    opts = given.options
    month = f"{given.today:%Y-%m}"
    if given.today.day < opts.summary_day and not given.on_demand:
        return None
    context = summary_context(figures)
    this_month = {
        key_part(key, -1) for key in given.history.sent_with_prefix(f"{NAME}/summary/{month}/")
    }
    # A summary a stopped run may have sent: plan that same key (the runner confirms it or
    # reports it uncertain), never a second one with newer figures.
    unsettled = {
        key_part(key, -1): key
        for key in given.history.unsettled
        if key.startswith(f"{NAME}/summary/{month}/")
    }
    people = recipients(given)
    messages = []
    for person in people:
        address = person.email.casefold()
        key = unsettled.get(address) or summary_key(month, context["fingerprint"], address)
        if given.history.was_sent(key) or (address in this_month and not given.resend):
            continue  # the month's summary went out; only --resend sends newer figures
        messages.append(
            Message(
                key=key,
                template=TEMPLATE,
                language=person.language,
                to=(person.email,),
                context={**context, "name": person.name},
            )
        )
    if not people:
        plan.problems.append(
            f"no one to send the summary to: no active committee members with a valid email "
            f"and no jobs.{NAME}.owners or mail.admin in the config"
        )
        return None
    if not messages:
        return None
    return Action(
        description=f"MOU summary for {month} to {len(messages)} "
        + ("person" if len(messages) == 1 else "people"),
        messages=messages,
        state=("summary", {"month": month, "fingerprint": context["fingerprint"]}),
    )


def plan(given: JobInput[TrackerOptions]) -> Plan:
    """Compute the figures, rewrite the tracker tab, and plan the summary email."""
    from automations.tracker import compute_with_statuses
    from automations.tracker_views import tab_rows

    opts = given.options
    plan = Plan()
    figures, statuses = compute_with_statuses(given)
    plan.problems.extend(n for n in (figures.left_out_note, *figures.notes) if n)
    # The rows left out get the Error status their own job would give them, so the tab's
    # and the summary's "left out: Meetings row 9" points to a Status that says why.
    plan.writes.extend(statuses)
    plan.skipped += figures.skipped_rows
    plan.tabs.append(TabContent(SHEET, TAB, tab_rows(figures, opts.listed_staff)))
    action = _summary_action(given, figures, plan)
    if action is not None:
        plan.actions.append(action)
    return plan


def rebuild(given: JobInput[TrackerOptions], run_log: RunLog, out: Rebuilt) -> None:
    """This month's summary, when the Run Log shows a run this month that sent mail."""
    month = f"{given.today:%Y-%m}"
    if not ran_since(run_log(SHEET), NAME, given.today.replace(day=1), sending=True):
        return
    people = recipients(given)
    out.sent.update(summary_key(month, REBUILT_FIGURES, person.email) for person in people)
    out.states["summary"] = {"month": month, "fingerprint": REBUILT_FIGURES}
    who = f"{len(people)} {'person' if len(people) == 1 else 'people'}"
    out.report.append(
        f"MOU Tracker: the Run Log shows this month's summary went out; taken as sent to the "
        f"{who} who would get it now"
    )


def samples(settings: Settings, opts: TrackerOptions) -> list[Message]:
    """The summary with made-up figures, for `check`."""
    return sample_messages({TEMPLATE: {**sample_context(), "name": "Ana"}})


JOB = Job(
    name=NAME,
    summary="MOU tracker (all sections): the MOU Tracker tab, a monthly summary email with "
    "bars, and `jobs.py report`",
    order=90,
    default_schedule="monthly on day 1 at 07:00",
    # The tabs of the three spreadsheets the tracker reads (read-only).
    tabs=lambda settings: {
        committee.SHEET: (committee.MEMBERS, committee.MEETINGS, RECOMMENDATIONS_IF_ANY),
        family.SHEET: (family.WEBINARS, family.FAMILIES, OPTIONAL_RESOURCES, family.SCHOOLS),
        pd.SHEET: (pd.STAFF,),
    },
    options=options,
    plan=plan,
    samples=samples,
    histories=(committee_invites.NAME, webinar_agendas.NAME),
    rebuild=rebuild,
)
