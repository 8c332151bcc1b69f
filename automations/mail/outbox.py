"""The embedded default mailer: each message becomes one .eml file in a folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from automations.config import Settings
from automations.durable import fsync_directory
from automations.errors import ConfigError
from automations.mail.backend import SendResult

# `list` and `check` import this module for its (absent) sending limits; composing mail
# (the email package) is imported when a message is written.
if TYPE_CHECKING:
    from automations.mail.compose import Outgoing


class OutboxMailer:
    """Writes messages atomically (temp file then rename) as <job>-<key digest>.eml."""

    # Sending a key again replaces its file: a resend never duplicates, so the delivery
    # may record intents in batches (Delivery.batches).
    replaces_resends = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written = 0

    def _path(self, message: Outgoing) -> Path:
        from automations.mail.compose import key_digest

        return self.folder / f"{message.job}-{key_digest(message.key)}.eml"

    def send(self, message: Outgoing) -> SendResult:
        """Write the .eml; the rename makes it appear whole or not at all."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._path(message)
        handle, temp = tempfile.mkstemp(dir=self.folder, suffix=".eml.tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(message.data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp, target)
            # The rename is what `confirm` looks for after a crash: make it durable too.
            fsync_directory(self.folder)
        except OSError as err:
            Path(temp).unlink(missing_ok=True)
            return SendResult("failed", f"cannot write {target}: {err.strerror}")
        self.written += 1
        return SendResult("sent", provider_id=target.name)

    def confirm(self, message: Outgoing) -> bool | None:
        """The file either exists (sent) or not (never sent): never unknown."""
        return self._path(message).exists()

    def summary(self) -> str:
        """Where the outbox is and how many messages this run put there."""
        return (
            f"Outbox: {self.folder} ({self.written} new message{'s' if self.written != 1 else ''})"
        )

    def close(self) -> None:
        """Nothing to release."""


def open_mailer(settings: Settings) -> OutboxMailer:
    """The outbox folder configured as mail.outbox_dir (made when missing)."""
    folder = settings.mail.outbox_dir
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        what = "is a file" if blocker == folder else f"is inside {blocker}, which is a file"
        raise ConfigError(
            f"{settings.path}: mail.outbox_dir {folder} {what}, not a folder; point "
            "mail.outbox_dir at a folder (it is created when missing)"
        )
    return OutboxMailer(folder)
