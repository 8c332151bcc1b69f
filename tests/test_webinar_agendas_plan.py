"""The webinar-agendas planner, as plain functions on rows and dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from automations.config import parse_settings
from automations.errors import ConfigError
from automations.jobs import webinar_agendas as wa
from automations.plan import History, Plan
from tests.fixtures.workbooks import TODAY, make_table


def day(offset: int) -> str:
    value = TODAY + dt.timedelta(days=offset)
    return f"{value.month}/{value.day}/{value.year}"


def webinar(ident: str = "W1", offset: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "Webinar ID": ident,
        "Title": f"Webinar {ident}",
        "Date": day(offset),
        "Start Time": "6 PM",
        "End Time": "7 PM",
        "Join Link": "https://example.org/join",
        "Family Preparedness": "Make a plan.",
        "We Are One": "Help near you.",
        "Know Your Rights": "What to do at the door.",
        **extra,
    }


def families(count: int, language: str = "", prefix: str = "f") -> list[dict[str, Any]]:
    return [{"Email": f"{prefix}{n:03d}@example.org", "Language": language} for n in range(count)]


@pytest.fixture
def plan_for(demo, job_input):
    settings = demo.settings

    def run(
        webinars: list[dict[str, Any]],
        family_rows: list[dict[str, Any]],
        *,
        today: dt.date = TODAY,
        sent: frozenset[str] | set[str] = frozenset(),
        states: dict[str, Any] | None = None,
        languages: frozenset[str] = frozenset({"en", "es"}),
        unsettled: frozenset[str] | set[str] = frozenset(),
        **overrides: Any,
    ) -> Plan:
        tables = {
            "Webinars": make_table(wa.WEBINARS, webinars),
            "Families": make_table(wa.FAMILIES, family_rows),
        }
        options = dataclasses.replace(wa.options(settings), **overrides)
        return wa.plan(
            job_input(
                {"family": tables},
                settings=settings,
                options=options,
                today=today,
                history=History(
                    sent=frozenset(sent), states=states or {}, unsettled=frozenset(unsettled)
                ),
                languages=languages,
            )
        )

    return run


def cell(plan: Plan, key: str, column: str) -> Any:
    writes = list(plan.writes) + [w for a in plan.actions for w in a.on_success]
    values = [
        w.value for w in writes if w.row.key.casefold() == key.casefold() and w.column == column
    ]
    return values[-1] if values else None


def batches(plan: Plan, template: str = "webinar_agenda") -> list:
    return [m for m in plan.messages if m.template == template]


def reserved_states(plan: Plan) -> dict[str, Any]:
    """What the ledger would hold after the plan's reservation actions complete."""
    return {a.state[0]: a.state[1] for a in plan.actions if a.state is not None}


def test_agenda_goes_in_bcc_to_every_family_in_their_language(plan_for, demo):
    rows = (
        families(2, "Spanish", "es")
        + families(3, "", "en")
        + [{"Email": "x@example.org", "Language": "Español"}]
    )
    plan = plan_for([webinar()], rows)
    sent = batches(plan)
    assert [(m.language.code, len(m.bcc)) for m in sent] == [("en", 3), ("es", 3)]
    sender = "immigrant-support@example.org"
    assert all(m.to == (sender,) for m in sent)
    assert all(m.context["webinar"]["sections"]["know_your_rights"] for m in sent)
    assert cell(plan, "W1", "Recipients") == 6
    assert cell(plan, "W1", "Status") == "Agenda sent to 6 families"


def test_to_is_the_list_address_when_one_is_configured(demo, job_input):
    data = {
        "sheets": {"spreadsheets": {"family": {"path": "family.xlsx"}}},
        "mail": {"sender": "Support <support@example.org>", "list_address": "families@example.org"},
    }
    settings = parse_settings(data, demo.config)
    tables = {
        "Webinars": make_table(wa.WEBINARS, [webinar()]),
        "Families": make_table(wa.FAMILIES, families(2)),
    }
    plan = wa.plan(job_input({"family": tables}, settings=settings, options=wa.options(settings)))
    assert [m.to for m in batches(plan)] == [("families@example.org",)]


def test_webinar_language_targets_only_families_who_speak_it(plan_for):
    rows = (
        families(2, "es", "es")
        + families(2, "English", "en")
        + [{"Email": "k@example.org", "Language": "Korean"}]
    )
    plan = plan_for([webinar(Language="Spanish"), webinar("W2", Language="Korean")], rows)
    spanish = [m for m in batches(plan) if m.key.startswith("webinar-agendas/W1/")]
    korean = [m for m in batches(plan) if m.key.startswith("webinar-agendas/W2/")]
    assert [sorted(m.bcc) for m in spanish] == [["es000@example.org", "es001@example.org"]]
    # Korean families get the Korean webinar's agenda, in English until a template exists.
    assert [(m.bcc, m.language.code) for m in korean] == [(("k@example.org",), "en")]
    assert cell(plan, "W1", "Status") == "Agenda sent to 2 families (Spanish)"
    assert cell(plan, "k@example.org", "Status") == (
        "Receives mail in English. Check: sent in English: no Korean translation yet"
    )


def test_opted_out_families_are_never_mailed(plan_for):
    rows = [
        *families(3),
        {"Email": "no@example.org", "Opted Out": "Yes"},
        {"Email": "NO@example.org"},
    ]
    plan = plan_for([webinar()], rows)
    everyone = [a.casefold() for m in plan.messages for a in m.recipients]
    assert "no@example.org" not in everyone
    assert cell(plan, "no@example.org", "Status") == "Opted out: never mailed"


def test_duplicate_addresses_are_mailed_once_and_flagged(plan_for):
    rows = [*families(2), {"Email": "F000@Example.org", "Name": "Second row"}]
    plan = plan_for([webinar()], rows)
    bcc = [a.casefold() for m in batches(plan) for a in m.bcc]
    assert sorted(bcc) == ["f000@example.org", "f001@example.org"]
    assert cell(plan, "f000@example.org", "Status") == (
        "Receives mail in English. Check: the same email is on rows 2 and 4; mailed once"
    )


def test_bad_family_rows_get_a_status(plan_for):
    rows = [{"Email": "tia@"}, {"Email": "ok@example.org", "Language": "Klingonese"}]
    plan = plan_for([webinar()], rows)
    assert cell(plan, "tia@", "Status") == 'Error: Email "tia@" is not a valid email address'
    assert cell(plan, "ok@example.org", "Status") == (
        "Receives mail in English. Check: "
        'sent in English: "Klingonese" is not a language we recognise'
    )
    assert [m.bcc for m in batches(plan)] == [("ok@example.org",)]


def test_missing_required_content_blocks_the_agenda_and_alerts_the_owner_once(plan_for):
    plan = plan_for(
        [webinar(**{"Know Your Rights": "", "We Are One": " "})],
        families(3),
        alert_to=("owner@example.org",),
    )
    assert batches(plan) == []
    assert cell(plan, "W1", "Status") == (
        "Not sent: agenda text missing for We Are One, Know Your Rights (MOU 7.0 requires all "
        "three); fill in the column(s) and the agenda goes out on the next run"
    )
    (alert,) = batches(plan, "webinar_coverage_alert")
    assert alert.to == ("owner@example.org",)
    assert alert.context["missing"] == ["We Are One", "Know Your Rights"]
    tomorrow = plan_for(
        [webinar(offset=2, **{"Know Your Rights": ""})],
        families(3),
        today=TODAY + dt.timedelta(days=1),
        alert_to=("owner@example.org",),
    )
    # The same key every run: the ledger lets it go out once per webinar.
    assert batches(tomorrow, "webinar_coverage_alert")[0].key == alert.key


def test_webinars_beyond_the_lead_time_wait_and_warn_early(plan_for):
    plan = plan_for([webinar(offset=20, **{"Know Your Rights": ""})], families(3))
    assert plan.messages == []
    assert cell(plan, "W1", "Status") == (
        "Scheduled for Dec 20, 2026: the agenda goes out on Dec 13, 2026. "
        "Add agenda text for Know Your Rights before then"
    )


@pytest.mark.parametrize(
    ("count", "sizes"), [(99, [99]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])]
)
def test_batches_hold_at_most_the_batch_size_and_every_family_once(plan_for, count, sizes):
    plan = plan_for([webinar()], families(count))
    sent = batches(plan)
    assert [len(m.bcc) for m in sent] == sizes
    everyone = [a for m in sent for a in m.bcc]
    assert len(everyone) == len(set(everyone)) == count
    assert len({m.key for m in sent}) == len(sent)
    assert all(set(m.recipient_rows) == set(m.bcc) for m in sent)


def test_batch_size_above_the_ceiling_is_a_config_error(demo):
    data = {
        "sheets": {"spreadsheets": {"family": {"path": "family.xlsx"}}},
        "mail": {"sender": "s@example.org"},
        "jobs": {"webinar-agendas": {"batch_size": 501}},
    }
    with pytest.raises(ConfigError, match=r"batch_size is 501.*500 or less"):
        wa.options(parse_settings(data, demo.config))


def test_a_batch_that_went_out_is_never_resent_and_new_families_get_a_new_batch(plan_for):
    first = plan_for([webinar()], families(3))
    states = reserved_states(first)
    sent = {m.key for m in batches(first)}
    later = plan_for([webinar()], families(4), sent=sent, states=states)
    (extra,) = batches(later)
    assert extra.bcc == ("f003@example.org",)
    assert extra.key not in sent
    assert cell(later, "W1", "Recipients") == 4


def test_a_reserved_batch_not_yet_sent_is_replanned_under_the_same_key(plan_for):
    """A run stopped after reserving a batch: the rerun sends that batch, minus opt-outs."""
    first = plan_for([webinar()], families(5), batch_size=2)
    states = reserved_states(first)
    keys = [m.key for m in batches(first)]
    # Batch 1 went out; then the run stopped. Meanwhile f002 opted out, f009 joined.
    rows = [*families(5), {"Email": "f009@example.org"}]
    rows[2]["Opted Out"] = "yes"
    rerun = plan_for([webinar()], rows, sent={keys[0]}, states=states, batch_size=2)
    replanned = {m.key: m.bcc for m in batches(rerun)}
    assert keys[0] not in replanned
    assert replanned[keys[1]] == ("f003@example.org",)
    assert replanned[keys[2]] == ("f004@example.org",)
    (new_key,) = set(replanned) - set(keys)
    assert replanned[new_key] == ("f009@example.org",)


def test_a_reserved_batch_over_the_batch_size_is_cut_unless_its_send_was_started(plan_for):
    """Batches reserved under a higher limit (an earlier version counted Bcc only) are cut
    to the size that can be sent, the rest going into a new batch; a batch whose send was
    started keeps its members (the ledger confirms or reports it, never resends it)."""
    first = plan_for([webinar()], families(5), batch_size=5)
    states = reserved_states(first)
    (key,) = [m.key for m in batches(first)]
    cut = plan_for([webinar()], families(5), states=states, batch_size=3)
    assert [(m.key == key, len(m.bcc)) for m in batches(cut)] == [(True, 3), (False, 2)]
    (batch,) = [entity for entity in states if entity.endswith(":agenda:1")]
    assert set(reserved_states(cut)[batch]["recipients"]) == set(batches(cut)[0].bcc)
    assert sorted(a for m in batches(cut) for a in m.bcc) == sorted(batches(first)[0].bcc)
    assert cell(cut, "W1", "Recipients") == 5
    started = plan_for([webinar()], families(5), states=states, unsettled={key}, batch_size=3)
    assert [m.bcc for m in batches(started)] == [batches(first)[0].bcc]


def test_batches_leave_room_for_the_visible_to_address_on_a_real_mailer(demo):
    data = {
        "sheets": {"spreadsheets": {"family": {"path": "family.xlsx"}}},
        "mail": {"sender": "s@example.org", "backend": "smtp"},
        "smtp": {"host": "smtp.example.org"},
    }
    assert wa.options(parse_settings(data, demo.config)).batch_size == 99
    data["smtp"]["recipients_per_message"] = 500
    assert wa.options(parse_settings(data, demo.config)).batch_size == 100
    data["jobs"] = {"webinar-agendas": {"batch_size": 500}}
    opts = wa.options(parse_settings(data, demo.config))
    assert opts.batch_size == 499
    assert "batch_size = 500 can never be sent" in opts.batch_problem
    data["mail"]["backend"] = "outbox"
    assert wa.options(parse_settings(data, demo.config)).batch_size == 500


def test_reminder_goes_the_day_before_to_families_who_got_the_agenda(plan_for):
    first = plan_for([webinar(offset=1)], families(2))
    states = reserved_states(first)
    sent = {m.key for m in batches(first)}
    assert batches(first, "webinar_reminder") == []  # nobody has the agenda yet
    plan = plan_for([webinar(offset=1)], families(3), sent=sent, states=states)
    (reminder,) = batches(plan, "webinar_reminder")
    assert sorted(reminder.bcc) == ["f000@example.org", "f001@example.org"]
    states |= reserved_states(plan)
    sent |= {m.key for m in plan.messages}
    # f002 got the agenda late (in that second run): its reminder follows, once.
    again = plan_for([webinar(offset=1)], families(3), sent=sent, states=states)
    (late,) = batches(again, "webinar_reminder")
    assert late.bcc == ("f002@example.org",)
    states |= reserved_states(again)
    sent |= {late.key}
    final = plan_for([webinar(offset=1)], families(3), sent=sent, states=states)
    assert final.messages == []


def test_cancellation_after_the_agenda_went_out_is_sent_once(plan_for):
    first = plan_for([webinar()], families(3))
    states = reserved_states(first)
    sent = {m.key for m in batches(first)}
    rows = families(4)
    rows[1]["Opted Out"] = "Yes"
    cancelled = plan_for([webinar(Cancelled="Yes")], rows, sent=sent, states=states)
    assert batches(cancelled) == []
    (notice,) = batches(cancelled, "webinar_cancel")
    assert sorted(notice.bcc) == ["f000@example.org", "f002@example.org"]
    assert cell(cancelled, "W1", "Status") == "Cancelled: notice sent to 2 families"
    states |= reserved_states(cancelled)
    sent |= {notice.key}
    assert plan_for([webinar(Cancelled="Yes")], rows, sent=sent, states=states).messages == []


def test_cancelled_before_any_agenda_sends_nothing(plan_for):
    plan = plan_for([webinar(Cancelled="Yes")], families(3))
    assert plan.messages == []
    assert cell(plan, "W1", "Status") == "Cancelled: no agenda was sent, nobody to tell"


def test_bad_webinar_rows_get_a_status(plan_for):
    plan = plan_for(
        [
            webinar("W1", Date="soon"),
            webinar("W2", Language="Elvish"),
            webinar("W3", **{"Join Link": "javascript:alert(1)"}),
            webinar("W4"),
        ],
        families(1),
    )
    assert cell(plan, "W1", "Status").startswith('Error: Date "soon" is not a date')
    assert cell(plan, "W2", "Status").startswith('Error: Language "Elvish" is not a language')
    assert "is not a web link" in cell(plan, "W3", "Status")
    assert [m.key.split("/")[1] for m in batches(plan)] == ["W4"]


@pytest.mark.parametrize(
    "placeholder",
    ["TBD", "TBA", "N/A", "-", "?", "pending", "coming soon", "por definir", "pendiente"],
)
def test_placeholder_text_does_not_cover_a_required_topic(plan_for, placeholder):
    plan = plan_for(
        [webinar(**{"Know Your Rights": placeholder})], families(3), alert_to=("o@example.org",)
    )
    assert batches(plan) == []
    assert cell(plan, "W1", "Status") == (
        f'Not sent: agenda text missing for Know Your Rights ("{placeholder}" is a '
        "placeholder) (MOU 7.0 requires all three); fill in the column(s) and the agenda goes "
        "out on the next run"
    )
    (alert,) = batches(plan, "webinar_coverage_alert")
    assert alert.context["missing"] == ["Know Your Rights"]


def test_webinar_statuses_name_the_date_they_read(plan_for):
    past = plan_for([webinar(Date="10/12/2026")], families(1))
    assert cell(past, "W1", "Status") == "Past: no agenda was sent (dated Oct 12, 2026)"
    later = plan_for([webinar(Date="1/12/2027")], families(1))
    assert cell(later, "W1", "Status") == (
        "Scheduled for Jan 12, 2027: the agenda goes out on Jan 5, 2027"
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Date": "3/8/2026", "Start Time": "2:30 AM", "End Time": None}, "does not exist"),
        ({"Date": "11/1/2026", "Start Time": "1:30 AM", "End Time": None}, "happens twice"),
        ({"Date": "12/3/2062"}, 'Date "12/3/2062" reads as Dec 3, 2062, far outside'),
    ],
)
def test_webinar_rows_at_skipped_or_repeated_times_or_far_years_are_errors(plan_for, change, words):
    plan = plan_for([webinar(**change)], families(2), today=dt.date(2026, 3, 1))
    assert batches(plan) == []
    assert cell(plan, "W1", "Status").startswith("Error: ")
    assert words in cell(plan, "W1", "Status")


# -- identity: IDs stored before use, lost IDs recovered, rows that disappear -------------


def sent_webinar(ident: str, offset: int = 3, count: int = 3) -> tuple[set[str], dict[str, Any]]:
    """Ledger records of a webinar whose agenda went to `count` families in one batch."""
    states = {
        f"webinar:{ident}": {
            "date": day_iso(offset),
            "start": "18:00",
            "title": f"Webinar {ident}",
        },
        f"webinar:{ident}:agenda:1": {
            "language": "en",
            "recipients": [f"f{n:03d}@example.org" for n in range(count)],
        },
    }
    return {wa.batch_key(ident, "agenda", 1)}, states


def day_iso(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def test_webinar_without_id_gets_one_but_no_agenda_until_it_is_stored(plan_for):
    plan = plan_for([webinar("")], families(3))
    ident = (TODAY + dt.timedelta(days=3)).strftime("WB-%Y%m%d")
    assert [(w.column, w.value) for w in plan.assigned] == [("Webinar ID", ident)]
    assert plan.messages == []
    assert cell(plan, ident, "Status") == (
        f"Webinar ID {ident} assigned; its agenda goes out once it is saved in the sheet"
    )


def test_webinar_that_lost_its_id_gets_it_back_and_no_second_agenda(plan_for):
    sent, states = sent_webinar("WB-OLD")
    plan = plan_for([webinar("")], families(3), sent=sent, states=states)
    assert [w.value for w in plan.assigned] == ["WB-OLD"]
    assert plan.messages == []
    assert cell(plan, "WB-OLD", "Status").startswith("Webinar ID WB-OLD recovered from the ledger")


def test_agenda_is_sent_under_an_id_the_ledger_remembers_with_its_date_and_time(plan_for):
    plan = plan_for([webinar()], families(3))
    assert reserved_states(plan)["webinar:W1"] == {
        "date": day_iso(3),
        "start": "18:00",
        "title": "Webinar W1",
    }
    descriptions = [a.description for a in plan.actions]
    assert descriptions.index("remember webinar W1") < min(
        i for i, a in enumerate(plan.actions) if a.messages
    )


def test_webinar_whose_row_is_gone_after_its_agenda_alerts_the_owner_once(plan_for):
    sent, states = sent_webinar("WB-GONE", offset=4)
    plan = plan_for([webinar()], families(3), sent=sent, states=states, alert_to=("o@example.org",))
    (alert,) = batches(plan, "missing_row_alert")
    assert alert.to == ("o@example.org",)
    assert alert.key == wa.message_key(wa.NAME, "WB-GONE", "missing-alert", "o@example.org")
    assert alert.context["sent"] == "the agenda to 3 families"
    assert alert.context["what"] == 'family webinar "Webinar WB-GONE"'
    (problem,) = [p for p in plan.problems if "WB-GONE" in p]
    assert "restore the row or mark it Cancelled" in problem
    assert not batches(plan, "webinar_cancel")
    past = plan_for(
        [webinar()], families(3), sent=sent, states=states, today=TODAY + dt.timedelta(days=5)
    )
    assert not batches(past, "missing_row_alert")
