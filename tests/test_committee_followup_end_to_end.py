"""committee-followup end to end on the demo: workbooks and Google Sheets (emulated),
through the runner and the CLI, with `check` covering the tab and the options."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from automations.cells import parse_date
from automations.cli import main
from automations.jobs import registry
from tests.fixtures.workbooks import TODAY, read_tab, records, write_workbook
from tests.test_google_init import empty_spreadsheets

FOLLOWUP = registry()["committee-followup"]
INVITES = registry()["committee-invites"]


def mails(paths: list[Path], prefix: str) -> list[Any]:
    return [
        message_from_bytes(p.read_bytes(), policy=default_policy)
        for p in paths
        if p.name.startswith(prefix)
    ]


def statuses(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {r["Recommendation"][:20]: r["Status"] for r in rows}


def first_meeting(rows: list[dict[str, Any]]) -> tuple[str, dt.date]:
    return rows[0]["Meeting ID"], parse_date(rows[0]["Date"])  # typed text or a serial


def run_through(env: Any, rows: Any) -> None:
    """The demo's story on one backend: `rows(tab)` reads a committee tab as dicts."""
    assert env.runner().run(INVITES, TODAY).error is None
    first = env.runner().run(FOLLOWUP, TODAY)
    assert first.error is None and first.sent == 2
    recs = rows("Recommendations")
    assert all(r["Recommendation ID"].startswith("REC-") for r in recs)
    assert statuses(recs) == {
        "Translate the Know Y": "Owner reminded Nov 30, 2026 (reminder 1 of 4): due soon",
        "Partner with a legal": "Owner reminded Nov 30, 2026 (reminder 1 of 4): overdue "
        "since Nov 20, 2026",
        "Open a family resour": "Open: due Jan 14, 2027; the owner is reminded from Jan 11, 2027",
        "Add a Family Resourc": "Done (closed Nov 30, 2026)",
        "Interpretation into ": "Open: due Dec 30, 2026; the owner is reminded from Dec 27, 2026",
    }
    digests = mails(env.emls(), "committee-followup")
    by_to = {str(m["To"]): m for m in digests}
    assert set(by_to) == {"mj.hernandez@example.org", "t.aguilar@example.org"}
    spanish = by_to["mj.hernandez@example.org"]
    assert str(spanish["Subject"]) == "Su recomendación del comité: 1 pendiente (MOU 2.0)"
    assert "fecha límite" in spanish.get_body(("plain",)).get_content()
    overdue = by_to["t.aguilar@example.org"].get_body(("plain",)).get_content()
    assert "OVERDUE" in overdue and "Partner with a legal aid clinic" in overdue
    # The invitations list the open recommendations under the agenda, oldest first.
    (invited,) = [m for m in mails(env.emls(), "committee-invites") if "okafor" in str(m["To"])]
    invitation = invited.get_body(("plain",)).get_content()
    listed = invitation.split("Open recommendations (oldest first):")[1]
    assert listed.index("Partner with a legal") < listed.index("Open a family resource")
    assert "Add a Family Resources PD" not in listed
    # The next day: nothing new for anyone.
    assert env.runner().run(FOLLOWUP, TODAY + dt.timedelta(days=1)).sent == 0
    # Two days after the first meeting: the members' follow-up, once.
    ident, day = first_meeting(rows("Meetings"))
    later = day + dt.timedelta(days=2)
    moment = dt.datetime.combine(later, dt.time(7, 15), env.settings.timezone)

    def followups() -> int:
        return sum(
            str(m["Subject"]).startswith(("Follow-up:", "Seguimiento:"))
            for m in mails(env.emls(), "committee-followup")
        )

    assert env.runner(now=moment).run(FOLLOWUP, later).error is None
    assert followups() == 8  # every active member, in their language
    assert env.runner(now=moment).run(FOLLOWUP, later).sent == 0
    next_day = later + dt.timedelta(days=1)
    env.runner(now=moment + dt.timedelta(days=1)).run(FOLLOWUP, next_day)
    assert followups() == 8
    assert ident


def test_recommendations_on_workbooks_from_digest_to_follow_up(demo):
    run_through(demo, lambda tab: records(demo.committee, tab))


def test_recommendations_on_google_sheets_from_digest_to_follow_up(google_demo):
    google = google_demo()
    run_through(google, lambda tab: google.records("committee", tab))


def test_check_names_a_missing_recommendations_tab_and_bad_options(demo, capsys):
    config = str(demo.config)
    book = demo.committee
    tabs = {title: read_tab(book, title) for title in ("Members", "Meetings")}
    write_workbook(book, tabs)
    assert main(["--config", config, "check"]) == 1
    out = capsys.readouterr().out
    assert "there is no tab named 'Recommendations'" in out
    # The invitations still go: for them the tab is optional.
    assert main(["--config", config, "run", "committee-invites", "--today", str(TODAY)]) == 0
    text = demo.config.read_text(encoding="utf-8")
    demo.config.write_text(text.replace("notice_days = 3", "notice_days = 90"), encoding="utf-8")
    assert main(["--config", config, "check"]) == 2
    assert "notice_days" in capsys.readouterr().err


def test_a_near_miss_progress_header_stops_the_job_and_sends_nothing(demo, capsys):
    book = demo.committee
    tabs = {title: read_tab(book, title) for title in ("Members", "Meetings", "Recommendations")}
    tabs["Recommendations"][0] = [
        "Progres" if h == "Progress" else h for h in tabs["Recommendations"][0]
    ]
    write_workbook(book, tabs)
    args = ["--config", str(demo.config), "run", "committee-followup", "--today", str(TODAY)]
    assert main(args) == 1
    out = capsys.readouterr()
    assert "Progres" in out.out + out.err
    assert not [p for p in demo.emls() if p.name.startswith("committee-followup")]


def test_init_adds_the_recommendations_tab_with_its_dropdowns_on_google(google_demo, capsys):
    google = empty_spreadsheets(google_demo())
    assert main(["--config", str(google.config), "init"]) == 0
    tab = google.emulator.sheet(google.ids["committee"], "Recommendations")
    headers = tab.values()[0]
    assert headers[:3] == ["Recommendation ID", "Raised On", "Recommendation"]
    assert {"Progress", "Last Reminded", "Closed On", "Status"} <= set(headers)
    rule = tab.validation_at(3, headers.index("Progress"))
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == [
        "Open",
        "In progress",
        "Done",
        "Dropped",
    ]
    assert tab.validation_at(3, headers.index("Area")) is not None


def test_a_near_miss_progress_header_does_not_stop_the_invitations(demo, capsys):
    book = demo.committee
    tabs = {title: read_tab(book, title) for title in ("Members", "Meetings", "Recommendations")}
    tabs["Recommendations"][0] = [
        "Progres" if h == "Progress" else h for h in tabs["Recommendations"][0]
    ]
    write_workbook(book, tabs)
    args = ["--config", str(demo.config), "run", "committee-invites", "--today", str(TODAY)]
    assert main(args) == 0
    assert len([p for p in demo.emls() if p.name.startswith("committee-invites")]) == 8
