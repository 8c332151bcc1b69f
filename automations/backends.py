"""Build the configured sheets and mail backends (the only place that chooses them)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from automations.config import Settings
from automations.errors import ConfigError
from automations.mail import MAIL_BACKENDS
from automations.mail.backend import Mailer
from automations.sheets import SHEETS_BACKENDS
from automations.sheets.backend import Spreadsheet
from automations.throttle import Limits


def open_spreadsheet(settings: Settings, name: str) -> Spreadsheet:
    """The spreadsheet configured as [sheets.spreadsheets.<name>]."""
    if name not in settings.spreadsheets:
        raise ConfigError(
            f"{settings.path}: sheets.spreadsheets.{name} is missing; add "
            f'[sheets.spreadsheets.{name}] with path = "..." or disable the jobs that use it'
        )
    module = _module(
        SHEETS_BACKENDS, settings.sheets_backend, settings, "sheets.backend", "workbook"
    )
    return module.open_spreadsheet(settings, name)  # type: ignore[no-any-return]


def open_mailer(settings: Settings) -> Mailer:
    """The mailer configured as [mail] backend."""
    return _mail_module(settings).open_mailer(settings)  # type: ignore[no-any-return]


def mail_limits(settings: Settings) -> Limits | None:
    """The sending limits of the configured mailer (None for the outbox: no limits)."""
    limits = getattr(_mail_module(settings), "mail_limits", None)
    return limits(settings) if limits is not None else None


def _mail_module(settings: Settings) -> Any:
    return _module(MAIL_BACKENDS, settings.mail.backend, settings, "mail.backend", "outbox")


def _module(
    backends: Mapping[str, str], backend: str, settings: Settings, key: str, default: str
) -> Any:
    """The module of a configured backend, imported only when it is used."""
    module = backends.get(backend)
    if module is None:
        raise ConfigError(
            f'{settings.path}: {key} = "{backend}" is not available in this version; '
            f'use "{default}"'
        )
    return importlib.import_module(module)
