"""Holds on a plan: what may not go out this run whatever the job planned.

Two steps of the run, each a pure function from a plan to a new plan: rows whose
formulas were never calculated (and everything built on whole tabs) wait until they are,
and nothing is sent once the agreement has ended.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from automations.jobs.rows import day_words
from automations.plan import Plan
from automations.sheets.contract import CellWrite, RowRef, Table

UNCALCULATED = (
    "{columns} {verb} a formula that has not been calculated yet; open the workbook in Excel "
    "or LibreOffice and save it (this row waits until then)"
)


def agreement_ended(end: dt.date) -> str:
    """Why nothing is sent once the agreement is over (for statuses and the run line)."""
    return (
        f"the agreement ended on {day_words(end)}, so nothing is sent; if it was renewed, "
        "set the new end under [agreement] end in the config"
    )


def after_agreement(plan: Plan, end: dt.date) -> Plan:
    """The plan with nothing to send: each row that would have been mailed says why.

    Statuses and tool-owned tabs (the tracker's final figures) are still written.
    """
    reason = agreement_ended(end)
    stopped = [
        CellWrite(a.status.spreadsheet, a.status.row, a.status.column, f"Not sent: {reason}")
        for a in plan.actions
        if a.status is not None and a.messages
    ]
    return dataclasses.replace(
        plan, actions=[], writes=[*plan.writes, *stopped], problems=[reason, *plan.problems]
    )


def hold_uncalculated(plan: Plan, tables: Mapping[str, Mapping[str, Table]]) -> Plan:
    """Rows with an uncalculated formula were left out of the plan: say so in their Status,
    and hold what is built on whole tabs (alerts, summaries, the tracker tab) until then.

    Actions with messages but no row status are the ones built on whole tabs: a roster
    alert counted without a member whose Email is unknown would be false.
    """
    held = [
        (sheet, table, row, columns)
        for sheet, by_tab in tables.items()
        for table in by_tab.values()
        for row, columns in table.uncalculated
    ]
    if not held:
        return plan
    writes, problems = list(plan.writes), list(plan.problems)
    for sheet, table, row, columns in held:
        words = " and ".join(columns)
        problem = UNCALCULATED.format(columns=words, verb="hold" if len(columns) > 1 else "holds")
        spec = table.spec
        if spec.key is not None and any(c.name == "Status" and c.owned for c in spec.columns):
            fingerprint: tuple[tuple[str, str], ...] = ()
            if not row.text(spec.key):
                fingerprint = tuple((column, row.text(column)) for column in spec.fingerprint)
            ref = RowRef(spec.name, row.text(spec.key), fingerprint)
            writes.append(CellWrite(sheet, ref, "Status", f"Error: {problem}"))
        problems.append(f"{table.title} row {row.number}: {problem}")
    actions, tabs = plan.actions, plan.tabs
    waiting = [a for a in plan.actions if a.messages and a.status is None]
    if waiting or plan.tabs:
        gone = {id(a) for a in waiting}
        actions = [a for a in plan.actions if id(a) not in gone]
        what = [a.description for a in waiting] + [f"the '{t.tab}' tab" for t in plan.tabs]
        tabs = []
        problems.append(
            f"held until those formulas are calculated (they are built on every row): "
            f"{'; '.join(what)}"
        )
    return dataclasses.replace(
        plan,
        actions=actions,
        writes=writes,
        problems=problems,
        tabs=tabs,
        skipped=plan.skipped + len(held),
    )


def uncalculated_warnings(spreadsheet: str, table: Table) -> list[str]:
    """For `check`: one line per tab whose rows wait for formulas to be calculated."""
    if not table.uncalculated:
        return []
    rows = [row.number for row, _ in table.uncalculated]
    columns = sorted({c for _, found in table.uncalculated for c in found})
    shown = ", ".join(str(n) for n in rows[:10]) + (" …" if len(rows) > 10 else "")
    many = len(rows) > 1 or len(columns) > 1
    return [
        f"spreadsheet {spreadsheet}, tab '{table.title}': {', '.join(columns)} in "
        f"{'rows' if len(rows) > 1 else 'row'} {shown} "
        f"{'are formulas that have' if many else 'is a formula that has'} not been calculated "
        "yet; open the workbook in Excel or LibreOffice and save it (until then those rows "
        "are skipped)"
    ]
