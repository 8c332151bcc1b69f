"""Errors a user can act on: one hierarchy under AutomationError.

The CLI prints them as one line; nothing else is caught there. Some never reach the CLI
because a caller settles them where they happen: a RowProblem becomes its row's Status,
an EventFailed the meeting's Status (tried again next run).
"""


class AutomationError(Exception):
    """Root of every error whose message tells a person what is wrong and how to fix it."""

    exit_code = 1


class ConfigError(AutomationError):
    """The configuration file is missing, unreadable or has a bad value."""

    exit_code = 2


class SheetError(AutomationError):
    """A spreadsheet, tab or required column cannot be used; the job sends nothing."""

    def __init__(
        self,
        message: str,
        *,
        spreadsheet: str = "",
        tab: str = "",
        column: str = "",
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"spreadsheet {spreadsheet}" if spreadsheet else "",
                f"tab '{tab}'" if tab else "",
                f"column '{column}'" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.spreadsheet, self.tab, self.column = spreadsheet, tab, column


class WorkbookInUse(SheetError):
    """A workbook is open in Excel or LibreOffice: it is not written until it is closed."""


class MailError(AutomationError):
    """The mail backend cannot send at all (not a single recipient's rejection)."""


class TemplateProblem(AutomationError):
    """A template is missing or fails to render."""


class LockHeld(AutomationError):
    """Another run holds the lock for this configuration."""

    exit_code = 75


class LedgerError(AutomationError):
    """The ledger database cannot be opened, written (disk full, read-only) or is damaged.

    `why` is the plain reason alone (e.g. "the disk is full; ..."), for messages that
    add their own context around it.
    """

    def __init__(self, message: str, why: str = "") -> None:
        super().__init__(message)
        self.why = why or message


class EventFailed(AutomationError):
    """One calendar event operation failed (the job goes on; the meeting is retried)."""


class RowProblem(AutomationError):
    """A row cannot be used; the message becomes its Status and the row is skipped."""
