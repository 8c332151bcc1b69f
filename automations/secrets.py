"""Secret and private files must stay private: find the ones other users could read.

Secrets reach the tool only through environment variables or files; `check` warns when
such a file (a configured `*_file` key, a key file named by `credentials_env`, or the
Microsoft 365 token cache in the state directory) is readable by group or others. It
also warns about the state folder and every file in it (ledger and its backups,
errors.log, the lock file): the tool creates them private, older ones may not be.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from automations.config import Settings
from automations.private import loose

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
            who = _who(mode)
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


def _who(mode: int) -> str:
    return " and ".join(w for w, bits in (("group", 0o070), ("others", 0o007)) if mode & bits)


def exposed_state_files(settings: Settings) -> list[str]:
    """A warning for the state folder and each file in it that group or others can read."""
    state = settings.state_dir
    if not state.is_dir():
        return []
    warnings = []
    bits = loose(state)
    if bits:
        warnings.append(
            f"private: the state folder {state} can be opened by {_who(bits)} (mode "
            f"{state.stat().st_mode & 0o777:03o}); it holds the ledger with every family "
            f"address; run: chmod 700 {state}"
        )
    for path in sorted(state.rglob("*")):
        if path.name in TOKEN_CACHES or not path.is_file():
            continue  # the token cache is reported as a secret
        bits = loose(path)
        if bits:
            warnings.append(
                f"private: {path} can be read by {_who(bits)} (mode "
                f"{path.stat().st_mode & 0o777:03o}); run: chmod 600 {path}"
            )
    return warnings
