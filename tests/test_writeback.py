"""Which cells a run writes back: the pure merge of pending, planned and completed writes."""

from __future__ import annotations

from automations.sheets.contract import CellWrite, Column, Names, RowRef, TabSpec, build_table
from automations.writeback import MAX_STATUS, merge

SPEC = TabSpec("Meetings", (Column("Meeting ID"), Column("Status", owned=True)), key="Meeting ID")


def tables(status: str = "Scheduled") -> dict:
    grid = [["Meeting ID", "Status"], ["M1", status]]
    return {"committee": {"Meetings": build_table("committee", "Meetings", SPEC, Names(), grid)}}


def status(value: str, key: str = "M1") -> CellWrite:
    return CellWrite("committee", RowRef("Meetings", key), "Status", value)


def test_the_last_word_per_cell_wins_in_order_earlier_planned_completed_after_sends():
    writes = merge(
        tables(),
        earlier=[status("earlier")],
        planned=[status("planned")],
        completed=[status("completed")],
        after_sends=[status("Error: 1 of 2 messages not sent")],
    )
    assert [w.value for w in writes] == ["Error: 1 of 2 messages not sent"]


def test_a_write_that_changes_nothing_is_dropped_unless_the_ledger_owes_it():
    assert merge(tables("Scheduled"), earlier=[], planned=[status("Scheduled")], completed=[]) == []
    owed = merge(tables("Scheduled"), earlier=[], planned=[], completed=[status("Scheduled")])
    assert [w.value for w in owed] == ["Scheduled"]


def test_statuses_are_made_fit_for_a_cell():
    (write,) = merge(tables(), earlier=[], planned=[status("a\x07b" + "x" * 2000)], completed=[])
    assert "\x07" not in write.value and len(write.value) == MAX_STATUS
