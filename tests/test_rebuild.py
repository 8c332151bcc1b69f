"""A lost, emptied or damaged ledger: rebuilt from the sheets' sent marks before anything is
sent (nothing resent, the admin told once), backed up after runs that send, restorable."""

from __future__ import annotations

import datetime as dt
import email
import os
import stat
import subprocess
from email import policy
from pathlib import Path

import openpyxl
import pytest
from icalendar import Calendar

from automations.jobs import committee_invites as ci
from automations.jobs import mou_tracker as tracker
from automations.jobs import pd_reminders as pd
from automations.plan import History
from automations.rebuild import RUN_LOG_SPEC, rebuild_job
from automations.sheets.contract import RUN_LOG_HEADERS
from tests.fixtures.faults import ROOT, run_all, run_jobs, tool_statuses
from tests.fixtures.workbooks import TODAY, make_table


def ledger_of(demo) -> Path:
    return demo.folder / "state" / "ledger.sqlite3"


def lose_ledger(demo, how: str) -> None:
    """Delete the ledger (with its WAL files), or leave it as an empty 0-byte file."""
    path = ledger_of(demo)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if how == "truncated":
        path.write_bytes(b"")


def new_mail(demo, before: set[Path]) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in demo.emls()
        if p not in before
    ]


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def settled_demo(demo) -> dict:
    """Run the demo twice (the second run words PD statuses from the ledger) -> statuses."""
    for _ in range(2):
        done = run_all(demo.config)
        assert done.returncode == 0, done.stdout + done.stderr
    return tool_statuses(demo.folder)


@pytest.mark.parametrize("how", ["deleted", "truncated"])
def test_lost_ledger_is_rebuilt_from_the_sheets_and_nothing_is_sent_again(demo, how):
    statuses = settled_demo(demo)
    before = set(demo.emls())
    lose_ledger(demo, how)
    done = run_all(demo.config)
    assert done.returncode == 0, done.stdout + done.stderr
    (alert,) = new_mail(demo, before)  # the admin's alert, and nothing else
    assert alert["To"] == "mou-admin@example.org"
    assert str(alert["Subject"]).startswith("MOU jobs: the ledger was rebuilt from the sheets")
    body = text_of(alert)
    assert "Meetings: 1 meeting marked Invite Sent: CM-20261210 (version 1)" in body
    assert "Webinars: 2 webinars marked Agenda Sent" in body
    assert "Sessions: reminders the statuses show as sent: PD-101 (2 people)" in body
    assert "1 coverage alert" in body
    assert "MOU Tracker: the Run Log shows this month's summary went out" in body
    assert tool_statuses(demo.folder) == statuses
    assert "ledger rebuilt from the sheets: 8 messages the sheets mark as sent" in done.stdout
    again = run_all(demo.config)
    assert again.returncode == 0 and len(new_mail(demo, before)) == 1


def test_rebuilt_meeting_keeps_its_version_so_a_change_is_an_update(demo):
    settled_demo(demo)
    lose_ledger(demo, "deleted")
    assert run_all(demo.config).returncode == 0
    workbook = openpyxl.load_workbook(demo.committee)
    sheet = workbook["Meetings"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("Start Time") + 1).value = "5 PM"
    workbook.save(demo.committee)
    before = set(demo.emls())
    assert run_jobs(demo.config, "run", "committee-invites", "--today", str(TODAY)).returncode == 0
    sent = new_mail(demo, before)
    assert len(sent) == 8
    assert {str(m["Subject"]).split(":")[0] for m in sent} == {"Changed", "Cambio"}
    for message in sent:
        (part,) = [p for p in message.walk() if p.get_filename() == "invite.ics"]
        (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert event["SEQUENCE"] == 1
        assert str(event["UID"]) == "CM-20261210.committee@example.org"


def test_families_added_after_the_agenda_are_taken_as_having_it(demo):
    """Fail closed: the sheet cannot say which families got an agenda, so everyone now does."""
    settled_demo(demo)
    workbook = openpyxl.load_workbook(demo.folder / "family.xlsx")
    workbook["Families"].append(["new.family@example.org", "New family", "English", "No"])
    workbook.save(demo.folder / "family.xlsx")
    lose_ledger(demo, "deleted")
    before = set(demo.emls())
    assert run_all(demo.config).returncode == 0
    sent = new_mail(demo, before)
    # The new family is asked for its emergency contacts (family-outreach); the families
    # asked before the ledger was lost are not asked again.
    (asked,) = [m for m in sent if str(m["Subject"]) == "Are your emergency contacts up to date?"]
    assert str(asked["Bcc"]) == "new.family@example.org"
    (alert,) = [m for m in sent if m is not asked]
    body = text_of(alert)
    assert "WB-20261203 (agenda to 8 families)" in body
    assert "WB-20261203: Recipients says 7, 8 families would get it now" in body


def test_dry_run_on_a_lost_ledger_says_nothing_would_be_resent(demo):
    settled_demo(demo)
    lose_ledger(demo, "deleted")
    dry = run_jobs(demo.config, "run", "all", "--dry-run", "--today", str(TODAY))
    assert dry.returncode == 0, dry.stderr
    assert "committee-invites: would send 0" in dry.stdout
    assert "webinar-agendas: would send 0" in dry.stdout
    assert "mou-tracker: would send 0" in dry.stdout
    assert (
        "[dry run] committee-invites: the ledger knows nothing of this job; a real run first "
        "records the 8 messages the sheets mark as sent" in dry.stdout
    )
    assert not ledger_of(demo).exists()


# -- backups and a damaged ledger ---------------------------------------------------------------


def backups_of(demo) -> list[Path]:
    return sorted((demo.folder / "state" / "backups").glob("ledger-*.sqlite3"))


def test_a_run_that_sends_leaves_a_private_backup_and_a_quiet_run_none(demo):
    assert run_all(demo.config).returncode == 0
    (backup,) = backups_of(demo)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    assert run_all(demo.config).returncode == 0  # sends nothing
    assert backups_of(demo) == [backup]


def test_damaged_ledger_is_one_line_naming_the_backup_and_the_restore_works(demo):
    settled_demo(demo)
    (backup,) = backups_of(demo)
    path = ledger_of(demo)
    path.write_bytes(b"this is not a ledger " * 400)
    before = set(demo.emls())
    broken = run_all(demo.config)
    assert broken.returncode == 1
    (line,) = broken.stderr.strip().splitlines()
    assert line.startswith(f"error: the ledger {path} is damaged (file is not a database)")
    assert f"restore the latest backup ({backup.name})" in line
    assert "Traceback" not in broken.stderr
    # Nothing is sent but the admin's alert that the run stopped (issue 11).
    assert [p.name.split("-")[0] for p in demo.emls() if p not in before] == ["admin"]
    before = set(demo.emls())
    command = line.split("`")[1]
    assert command == (
        f"mv {path} {path}.damaged && rm -f {path}-wal {path}-shm && cp {backup} {path}"
    )
    subprocess.run(command, shell=True, check=True, cwd=ROOT)
    restored = run_all(demo.config)
    assert restored.returncode == 0, restored.stderr
    assert new_mail(demo, before) == []


def test_damaged_ledger_without_a_backup_says_how_to_start_a_rebuilt_one(demo):
    path = ledger_of(demo)
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(8192))
    broken = run_all(demo.config)
    assert broken.returncode == 1
    assert "no backup exists in" in broken.stderr
    assert f"`mv {path} {path}.damaged && rm -f {path}-wal {path}-shm`" in broken.stderr
    assert "the new ledger is rebuilt from the sheets' sent marks" in broken.stderr


# -- marks that are not on the demo's day ------------------------------------------------------


def test_session_reminders_the_statuses_show_are_not_resent(demo, job_input):
    settings = demo.settings
    tomorrow = (TODAY + dt.timedelta(days=1)).strftime("%-m/%-d/%Y")
    sessions = [
        {
            "Session ID": "S1",
            "Topic": "Safe Zones",
            "Date": tomorrow,
            "Start Time": "3:30 PM",
            "Status": "Reminder sent to 2 registered people",
        },
        {"Session ID": "S2", "Topic": "5b", "Date": tomorrow, "Start Time": "5 PM"},
    ]
    staff = [{"Employee ID": "E1", "Email": "e1@example.org"}]
    registrations = [
        {"Session ID": "S1", "Employee ID": "E1"},
        {"Session ID": "S1", "Email": "guest@example.org"},
        {"Session ID": "S2", "Employee ID": "E1"},
    ]
    tables = {
        "pd": {
            "Sessions": make_table(pd.SESSIONS, sessions),
            "Staff": make_table(pd.STAFF, staff),
            "Registrations": make_table(pd.REGISTRATIONS, registrations),
        }
    }
    job = job_input(tables, settings=settings, options=pd.options(settings))
    rebuilt = rebuild_job(pd.NAME, job, lambda sheet: None)
    assert sorted(rebuilt.sent) == [
        "pd-reminders/S1/session-reminder/e1@example.org",
        "pd-reminders/S1/session-reminder/guest@example.org",
    ]
    planned = pd.plan(
        job_input(
            tables,
            settings=settings,
            options=pd.options(settings),
            history=rebuilt.merged(History()),
        )
    )
    reminders = [m.key for m in planned.messages if m.template == "pd_session_reminder"]
    assert [k for k in reminders if k not in rebuilt.sent] == [
        "pd-reminders/S2/session-reminder/e1@example.org"
    ]


def test_tracker_summary_counts_as_sent_only_when_the_run_log_shows_it_this_month(demo, job_input):
    settings = demo.settings
    options = tracker.options(settings)

    def rebuilt(*runs: tuple[str, str, int]):
        grid = [
            dict(zip(RUN_LOG_HEADERS, (when, job, "No", sent, 0, 0, ""), strict=True))
            for when, job, sent in runs
        ]
        log = make_table(RUN_LOG_SPEC, grid)
        tables = {
            "committee": {
                "Members": make_table(
                    ci.MEMBERS, [{"Name": "A", "Email": "a@example.org", "Group": "UTLA"}]
                ),
                "Meetings": make_table(ci.MEETINGS, []),
            }
        }
        job = job_input(tables, settings=settings, options=options)
        return rebuild_job(tracker.NAME, job, lambda sheet: log)

    month = f"{TODAY:%Y-%m}"
    this_month = rebuilt((f"{TODAY.isoformat()}T07:00:00-08:00", "mou-tracker", 3))
    assert tracker.summary_key(month, "rebuilt", "a@example.org") in this_month.sent
    assert this_month.states["summary"] == {"month": month, "fingerprint": "rebuilt"}
    assert not rebuilt(("2026-10-01T07:00:00-07:00", "mou-tracker", 3)).sent
    assert not rebuilt((f"{TODAY.isoformat()}T07:00:00-08:00", "mou-tracker", 0)).sent
    assert not rebuilt((f"{TODAY.isoformat()}T07:00:00-08:00", "committee-invites", 8)).sent


def test_meeting_marks_give_back_version_cancellation_reminder_and_partial_sends(demo, job_input):
    settings = demo.settings
    day = (TODAY + dt.timedelta(days=10)).strftime("%-m/%-d/%Y")
    base = {"Date": day, "Start Time": "6 PM", "Invite Sent": "2026-11-01T07:00"}
    meetings = [
        {
            **base,
            "Meeting ID": "M1",
            "Invite Version": 3,
            "Cancelled": "Yes",
            "Status": "Cancelled: cancellation sent to 2 members",
        },
        {
            **base,
            "Meeting ID": "M2",
            "Invite Sent": None,
            "Status": "Check: 1 of 2 messages may or may not have gone out (a run stopped)",
        },
        {
            **base,
            "Meeting ID": "M3",
            "Invite Sent": None,
            "Status": "Error: 2 of 2 messages not sent (refused); will try again on the next run",
        },
        {**base, "Meeting ID": "M4", "Invite Version": 1, "Reminder Sent": "2026-11-29T07:00"},
        {
            **base,
            "Meeting ID": "M5",
            "Invite Version": 2,
            "Cancelled": "Yes",
            "Status": "Invitation sent to 2 members (version 2)",
        },  # cancelled since: not yet told
    ]
    members = [
        {"Name": "A", "Email": "a@example.org", "Group": "UTLA"},
        {"Name": "B", "Email": "B@example.org", "Group": "District"},
    ]
    tables = {
        "committee": {
            "Members": make_table(ci.MEMBERS, members),
            "Meetings": make_table(ci.MEETINGS, meetings),
        }
    }
    rebuilt = rebuild_job(
        ci.NAME, job_input(tables, settings=settings, options=ci.options(settings)), lambda s: None
    )
    states = {e: (s["sequence"], s["cancelled"]) for e, s in rebuilt.states.items()}
    assert states == {
        "meeting:M1": (2, True),
        "meeting:M2": (0, False),
        "meeting:M4": (0, False),
        "meeting:M5": (1, False),
    }
    keys = {k.removeprefix("committee-invites/") for k in rebuilt.sent}
    assert keys == {
        *(f"M1/cancel/2/{a}" for a in ("a@example.org", "b@example.org")),
        *(f"M1/request/1/{a}" for a in ("a@example.org", "b@example.org")),
        *(f"M2/request/0/{a}" for a in ("a@example.org", "b@example.org")),
        *(f"M4/request/0/{a}" for a in ("a@example.org", "b@example.org")),
        *(f"M4/reminder/{a}" for a in ("a@example.org", "b@example.org")),
        *(f"M5/request/1/{a}" for a in ("a@example.org", "b@example.org")),
    }
    assert any(
        line.startswith("Meetings M2: the last run said only some messages went")
        for line in rebuilt.report
    )
    # M5's cancellation still goes out, as version 3, to everyone taken as invited.
    planned = ci.plan(
        job_input(
            tables,
            settings=settings,
            options=ci.options(settings),
            history=rebuilt.merged(History()),
        )
    )
    (cancel,) = [a for a in planned.actions if a.description == "cancellation of meeting M5"]
    assert {m.invite.sequence for m in cancel.messages} == {2}
