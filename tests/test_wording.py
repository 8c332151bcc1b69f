"""The standard wording of what a run's sends did, and how outcomes are counted."""

from __future__ import annotations

from automations.languages import ENGLISH
from automations.outcomes import Delivered, Outcome, RunSummary
from automations.plan import Action, Message, StatusCell
from automations.sheets.contract import RowRef
from automations.throttle import QUEUED_STATUS
from automations.wording import STANDARD, refused_status

MEETING = StatusCell("committee", RowRef("Meetings", "M1"))


def row(address: str, standing: str = "") -> StatusCell:
    return StatusCell("family", RowRef("Families", address), standing=standing)


def message(*addresses: str, standing: str = "") -> Message:
    return Message(
        key="job/M1/x",
        template="t",
        language=ENGLISH,
        to=("list@example.org",),
        bcc=addresses,
        context={},
        recipient_rows={a: row(a, standing) for a in addresses},
    )


def action(*messages: Message) -> Action:
    return Action("agenda of webinar W1", list(messages), status=MEETING)


def statuses(writes) -> dict[str, str]:
    return {w.row.key: w.value for w in writes}


def test_a_message_that_went_writes_nothing_but_refusals_on_their_own_rows():
    sent = message("a@example.org", "b@example.org")
    delivered = Delivered(Outcome.SENT, refused={"B@example.org": "550 no such user"})
    writes = STANDARD.after(action(sent), [(sent, delivered)])
    assert statuses(writes) == {
        "b@example.org": refused_status("B@example.org", "550 no such user")
    }


def test_a_queued_message_says_so_on_its_rows_and_its_action():
    queued = message("a@example.org")
    writes = STANDARD.after(action(queued), [(queued, Delivered(Outcome.QUEUED))])
    assert statuses(writes) == {
        "a@example.org": QUEUED_STATUS,
        "M1": "Queued: daily sending limit reached; 1 of 1 messages will go on the next run",
    }


def test_an_earlier_refusal_outranks_what_a_later_send_did_unless_it_is_an_error():
    standing = refused_status("a@example.org", "550 gone")
    failed = message("a@example.org", standing=standing)
    writes = STANDARD.after(action(failed), [(failed, Delivered(Outcome.UNCERTAIN))])
    assert statuses(writes)["a@example.org"] == standing
    writes = STANDARD.after(action(failed), [(failed, Delivered(Outcome.REJECTED, "550 x"))])
    assert statuses(writes)["a@example.org"].startswith("Error: agenda of webinar W1 was refused")


def test_failed_sends_say_how_many_and_whether_they_are_tried_again():
    one, two = message("a@example.org"), message("b@example.org")
    sends = [(one, Delivered(Outcome.SENT)), (two, Delivered(Outcome.FAILED, "451 busy"))]
    line = statuses(STANDARD.after(action(one, two), sends))["M1"]
    assert line.startswith("Error: 1 of 2 messages not sent (") and line.endswith(
        "451 busy); will try again on the next run"
    )


def test_a_calendar_event_that_failed_says_so_on_the_meeting_row_only():
    invite = message("a@example.org")
    sends = [(invite, Delivered(Outcome.FAILED, "calendar event not saved: 503"))]
    writes = STANDARD.after_event(action(invite), sends)
    assert statuses(writes) == {
        "M1": "Error: calendar event not saved: 503; will try again on the next run"
    }


def test_outcomes_are_counted_once_and_an_earlier_refusal_is_not_a_new_failure():
    summary = RunSummary("job")
    for outcome, earlier in [
        (Outcome.SENT, False),
        (Outcome.ALREADY, True),
        (Outcome.FAILED, False),
        (Outcome.REJECTED, False),
        (Outcome.REJECTED, True),
        (Outcome.UNCERTAIN, True),
        (Outcome.QUEUED, False),
    ]:
        summary.count(Delivered(outcome, earlier=earlier))
    assert (summary.sent, summary.failed, summary.uncertain, summary.queued) == (1, 2, 1, 1)
    assert summary.exit_code == 1
