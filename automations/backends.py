"""Build the configured sheets and mail backends (the only place that chooses them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automations.errors import ConfigError

if TYPE_CHECKING:
    from automations.config import Settings
    from automations.mail.backend import Mailer
    from automations.sheets.backend import Spreadsheet
    from automations.throttle import Limits

# Each backend is imported when it is opened: a command pays only for the libraries of
# the backends it uses (`--help` and `list` open none).


def open_spreadsheet(settings: Settings, name: str) -> Spreadsheet:
    """The spreadsheet configured as [sheets.spreadsheets.<name>]."""
    config = settings.spreadsheets.get(name)
    if config is None:
        raise ConfigError(
            f"{settings.path}: sheets.spreadsheets.{name} is missing; add "
            f'[sheets.spreadsheets.{name}] with path = "..." or disable the jobs that use it'
        )
    if settings.sheets_backend == "workbook":
        from automations.sheets.workbook import WorkbookSpreadsheet

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
        folder = settings.mail.outbox_dir
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            what = "is a file" if blocker == folder else f"is inside {blocker}, which is a file"
            raise ConfigError(
                f"{settings.path}: mail.outbox_dir {folder} {what}, not a folder; point "
                "mail.outbox_dir at a folder (it is created when missing)"
            )
        from automations.mail.outbox import OutboxMailer

        return OutboxMailer(folder)
    if settings.mail.backend == "smtp":
        from automations.mail import smtp

        config = smtp.read_config(settings.section("smtp"), settings.path)
        return smtp.SmtpMailer(config, smtp.password_from_env(config))
    if settings.mail.backend == "microsoft365":
        from automations.mail import microsoft365 as m365

        m365_config = m365.read_config(
            settings.section("microsoft365"), settings.path, settings.mail.sender
        )
        return m365.Microsoft365Mailer(
            m365_config,
            m365.secret_from_env(m365_config),
            m365.token_backend_in(settings.state_dir),
            timezone=settings.timezone,
        )
    raise ConfigError(
        f'{settings.path}: mail.backend = "{settings.mail.backend}" is not available in '
        'this version; use "outbox"'
    )


def mail_limits(settings: Settings) -> Limits | None:
    """The sending limits of the configured mailer (None for the outbox: no limits)."""
    if settings.mail.backend == "smtp":
        from automations.mail import smtp

        return smtp.read_config(settings.section("smtp"), settings.path).limits
    if settings.mail.backend == "microsoft365":
        from automations.mail import microsoft365 as m365

        section = settings.section("microsoft365")
        return m365.read_config(section, settings.path, settings.mail.sender).limits
    return None
