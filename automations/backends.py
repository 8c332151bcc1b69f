"""Build the configured sheets and mail backends (the only place that chooses them)."""

from __future__ import annotations

from automations.config import Settings
from automations.errors import ConfigError
from automations.mail.backend import Mailer
from automations.mail.outbox import OutboxMailer
from automations.sheets.backend import Spreadsheet
from automations.sheets.workbook import WorkbookSpreadsheet


def open_spreadsheet(settings: Settings, name: str) -> Spreadsheet:
    """The spreadsheet configured as [sheets.spreadsheets.<name>]."""
    config = settings.spreadsheets.get(name)
    if config is None:
        raise ConfigError(
            f"{settings.path}: sheets.spreadsheets.{name} is missing; add "
            f'[sheets.spreadsheets.{name}] with path = "..." or disable the jobs that use it'
        )
    if settings.sheets_backend == "workbook":
        assert config.path is not None
        return WorkbookSpreadsheet(name, config.path, settings.names)
    if settings.sheets_backend == "google":
        from automations.sheets.google import open_google_spreadsheet

        assert config.id is not None
        return open_google_spreadsheet(settings, name, config.id)
    raise ConfigError(
        f'{settings.path}: sheets.backend = "{settings.sheets_backend}" is not available in '
        'this version; use "workbook"'
    )


def open_mailer(settings: Settings) -> Mailer:
    """The mailer configured as [mail] backend."""
    if settings.mail.backend == "outbox":
        return OutboxMailer(settings.mail.outbox_dir)
    raise ConfigError(
        f'{settings.path}: mail.backend = "{settings.mail.backend}" is not available in '
        'this version; use "outbox"'
    )
