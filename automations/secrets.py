"""Secret files must stay private: find key and token files other users could read.

Secrets reach the tool only through environment variables or files; `check` warns when
such a file (a configured `*_file` key, a key file named by `credentials_env`, or the
Microsoft 365 token cache in the state directory) is readable by group or others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from automations.config import Settings

SECRET_SECTIONS = ("google", "smtp", "microsoft365")
# Keys ending in _file that name public material (a CA certificate), not a secret.
NOT_SECRET = frozenset({"ca_file"})
TOKEN_CACHES = ("o365_token.json",)


def secret_files(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> list[tuple[str, Path]]:
    """(where it is configured, path) for every secret file that exists."""
    environ = os.environ if environ is None else environ
    found: list[tuple[str, Path]] = []
    for name in SECRET_SECTIONS:
        for key, value in settings.section(name).items():
            if not isinstance(value, str) or not value:
                continue
            if key.endswith("_file") and key not in NOT_SECRET:
                found.append((f"{name}.{key}", _resolve(settings, value)))
            elif key == "credentials_env" and environ.get(value):
                found.append((f"{name}.{key} (${value})", _resolve(settings, environ[value])))
    for cache in TOKEN_CACHES:
        found.append(("token cache", settings.state_dir / cache))
    return [(where, path) for where, path in found if path.is_file()]


def exposed_secret_files(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each secret file readable (or writable) by group or others."""
    warnings = []
    for where, path in secret_files(settings, environ):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            who = " and ".join(
                w for w, bits in (("group", 0o070), ("others", 0o007)) if mode & bits
            )
            warnings.append(
                f"secrets: {where} {path} can be read by {who} (mode {mode:03o}); "
                f"run: chmod 600 {path}"
            )
    return warnings


def _resolve(settings: Settings, value: str) -> Path:
    path = Path(value).expanduser()
    if path.is_absolute() or settings.path is None:
        return path
    return settings.path.parent / path
