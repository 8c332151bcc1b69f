"""Placing write-backs by key (sheets/contract.py:place_writes) at district scale.

Each write is compared with the others a bounded number of times: a write whose row is
gone (rows deleted while the job ran, or the key header renamed) must not be looked up in
a list of every write dropped so far, which made 75,000 of them take hours. How long it
takes is printed by bench/write_back.py, never asserted here.
"""

from __future__ import annotations

import pytest

from automations.sheets.contract import CellWrite, Column, Names, RowRef, TabSpec, place_writes

ROWS = 75_000
SPEC = TabSpec(
    "Staff",
    (
        Column("Employee ID", required=True),
        Column("Email", required=True),
        Column("Status", owned=True),
    ),
    key="Employee ID",
)


class Budget:
    """Counts equality comparisons between writes; more than `limit` means a quadratic."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise AssertionError(f"more than {self.limit} comparisons between writes")


class CountedWrite(CellWrite):
    """A CellWrite that counts its equality comparisons against a shared budget."""

    budget: Budget

    def __eq__(self, other: object) -> bool:
        type(self).budget.spend()
        return super().__eq__(other)

    __hash__ = CellWrite.__hash__


def writes_for(count: int, budget: Budget) -> list[CellWrite]:
    CountedWrite.budget = budget
    return [
        CountedWrite("pd", RowRef("Staff", f"E{number}"), "Status", "Reminder 1 of 6 sent")
        for number in range(count)
    ]


@pytest.mark.parametrize(
    "grid",
    [
        pytest.param([["Employee ID", "Email"], ["E-other", "x@example.org"]], id="rows deleted"),
        pytest.param([["Staff Number", "Email"], ["E1", "x@example.org"]], id="key renamed"),
    ],
)
def test_75000_writes_whose_rows_are_gone_are_dropped_comparing_each_a_few_times(grid):
    budget = Budget(limit=3 * ROWS)
    writes = writes_for(ROWS, budget)
    placement = place_writes(SPEC, Names(), grid, writes)
    assert placement.cells == {}
    assert len(placement.dropped) == ROWS
    assert placement.dropped[0] is writes[0] and placement.dropped[-1] is writes[-1]


def test_75000_writes_half_of_them_placed_keep_their_order_and_rows():
    grid = [["Employee ID", "Email"]] + [[f"E{n}", f"s{n}@example.org"] for n in range(0, ROWS, 2)]
    budget = Budget(limit=3 * ROWS)
    placement = place_writes(SPEC, Names(), grid, writes_for(ROWS, budget))
    assert len(placement.cells) == ROWS // 2 + ROWS % 2
    assert placement.cells[(1, 2)] == "Reminder 1 of 6 sent"  # E0 on the first data row
    assert [w.row.key for w in placement.dropped[:3]] == ["E1", "E3", "E5"]


def test_blank_key_rows_are_found_by_fingerprint_once_each_and_never_guessed():
    spec = TabSpec(
        "Sessions",
        (Column("Session ID"), Column("Topic", required=True), Column("Status", owned=True)),
        key="Session ID",
        fingerprint=("Topic",),
    )
    grid = [["Session ID", "Topic"], [None, "5a"], [None, "5b"], [None, "5b"], ["PD-1", "5c"]]
    writes = [
        CellWrite("pd", RowRef("Sessions", "PD-9", (("Topic", "5a"),)), "Session ID", "PD-9"),
        CellWrite("pd", RowRef("Sessions", "PD-8", (("Topic", "5b"),)), "Session ID", "PD-8"),
        CellWrite("pd", RowRef("Sessions", "PD-1"), "Status", "Listed"),
    ]
    placement = place_writes(spec, Names(), grid, writes)
    assert placement.cells == {(1, 0): "PD-9", (4, 2): "Listed"}
    assert placement.dropped == [writes[1]]  # two rows hold 5b: ambiguous, not guessed
