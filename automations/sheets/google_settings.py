"""The [google] section of jobs.toml: where the service-account key is, API base URL, retries.

    [google]
    credentials_file = "/etc/mou-automations/service-account.json"  # or:
    credentials_env = "GOOGLE_APPLICATION_CREDENTIALS"  # env var holding the key file path
    api_base_url = "https://sheets.googleapis.com"      # a proxy or a loopback emulator
    timeout_seconds = 60
    retry_attempts = 6
    retry_max_seconds = 150
    retry_initial_seconds = 2
    max_request_bytes = 2000000

The key itself never goes in this file: only a path, or the name of a variable holding one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automations.config import Settings
from automations.errors import ConfigError
from automations.sheets.retry import RetryPolicy

GOOGLE_API = "https://sheets.googleapis.com"
DEFAULT_CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
# Google's guidance for one request's payload; larger writes are split.
DEFAULT_MAX_REQUEST_BYTES = 2_000_000
_KEYS = {
    "credentials_file",
    "credentials_env",
    "api_base_url",
    "timeout_seconds",
    "retry_attempts",
    "retry_max_seconds",
    "retry_initial_seconds",
    "max_request_bytes",
}
_ID = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_URL = re.compile(r"/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class GoogleSettings:
    """Validated [google] settings."""

    credentials_file: Path | None
    credentials_env: str
    api_base_url: str
    timeout_seconds: float
    retry: RetryPolicy
    max_request_bytes: int

    @property
    def custom_endpoint(self) -> bool:
        """True when api_base_url points somewhere other than Google (a proxy or emulator)."""
        return self.api_base_url != GOOGLE_API

    def key_file(self, environ: Mapping[str, str] | None = None) -> Path:
        """The service-account key file: credentials_file, else the credentials_env variable."""
        if self.credentials_file is not None:
            return self.credentials_file
        value = (os.environ if environ is None else environ).get(self.credentials_env, "")
        if not value.strip():
            raise ConfigError(
                f"no Google service-account key: set the environment variable "
                f"{self.credentials_env} to the key file's path, or set "
                '[google] credentials_file = "/path/outside/the/repo.json" '
                "(see docs/google-sheets.md)"
            )
        return Path(value.strip()).expanduser()


def _number(
    section: Mapping[str, Any], key: str, default: float, path: Path, low: float, high: float
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{path}: google.{key} must be a number between {low:g} and {high:g}")
    return value


def google_settings(settings: Settings) -> GoogleSettings:
    """Validate the [google] section; every error names the key."""
    section = settings.section("google")
    path = settings.path
    for key in section:
        if key not in _KEYS:
            raise ConfigError(
                f"{path}: google.{key} is not a known setting; known: {', '.join(sorted(_KEYS))}"
            )
    credentials_file = None
    if "credentials_file" in section:
        value = section["credentials_file"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: google.credentials_file must be a file path in quotes")
        candidate = Path(value.strip()).expanduser()
        credentials_file = candidate if candidate.is_absolute() else path.parent / candidate
    env = section.get("credentials_env", DEFAULT_CREDENTIALS_ENV)
    if not isinstance(env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        raise ConfigError(
            f"{path}: google.credentials_env must be an environment variable name "
            "like GOOGLE_APPLICATION_CREDENTIALS"
        )
    base = section.get("api_base_url", GOOGLE_API)
    if not isinstance(base, str) or not re.match(r"^https?://[^/\s]+", base):
        raise ConfigError(
            f"{path}: google.api_base_url must be a URL like {GOOGLE_API} (no path needed)"
        )
    attempts = int(_number(section, "retry_attempts", 6, path, 1, 20))
    policy = RetryPolicy(
        attempts=attempts,
        max_total_seconds=_number(section, "retry_max_seconds", 150, path, 0, 3600),
        initial_delay=_number(section, "retry_initial_seconds", 2, path, 0, 60),
    )
    return GoogleSettings(
        credentials_file=credentials_file,
        credentials_env=env,
        api_base_url=base.rstrip("/"),
        timeout_seconds=_number(section, "timeout_seconds", 60, path, 1, 600),
        retry=policy,
        max_request_bytes=int(
            _number(section, "max_request_bytes", DEFAULT_MAX_REQUEST_BYTES, path, 10_000, 10**8)
        ),
    )


def spreadsheet_key(value: str, where: str = "") -> str:
    """The spreadsheet ID from an ID or a full Google Sheets URL."""
    value = value.strip()
    match = _URL.search(value)
    if match:
        return match.group(1)
    if _ID.match(value):
        return value
    raise ConfigError(
        f"{where or 'spreadsheet'}: {value!r} is neither a spreadsheet ID nor a Google Sheets "
        "URL; copy the address from the browser (https://docs.google.com/spreadsheets/d/…)"
    )
