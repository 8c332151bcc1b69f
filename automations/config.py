"""Load and validate jobs.toml. Every error names the key and says what is wrong."""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from automations import PROJECT_ROOT
from automations.cells import CellValueError, parse_email
from automations.errors import ConfigError
from automations.mail import MAIL_BACKENDS
from automations.schedules import Schedule, parse_schedule
from automations.sheets import SHEETS_BACKENDS
from automations.sheets.contract import Names

DEFAULT_CONFIG = Path("config/jobs.toml")
SPREADSHEETS = ("committee", "family", "pd")
# A key named like this must never hold the secret itself, only where to find it.
SECRET_KEYS = frozenset(
    {"password", "secret", "client_secret", "token", "private_key", "api_key", "key_json"}
)
_TOP_LEVEL = {
    "timezone",
    "state_dir",
    "templates_dir",
    "agreement",
    "demo",
    "sheets",
    "mail",
    "jobs",
    "google",
    "limits",
    "languages",
}


@dataclass(frozen=True)
class SpreadsheetConfig:
    """Where one spreadsheet lives: a workbook path, or (Google) an ID."""

    name: str
    path: Path | None = None
    id: str | None = None


@dataclass(frozen=True)
class MailConfig:
    """Who mail comes from and goes back to, and which backend delivers it."""

    backend: str
    sender: str
    organizer: str
    reply_to: str | None
    admin: str | None
    list_address: str | None
    outbox_dir: Path


@dataclass(frozen=True)
class JobConfig:
    """One job's schedules and its own options (read by the job itself)."""

    name: str
    enabled: bool = True
    schedules: tuple[Schedule, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """The whole validated configuration."""

    path: Path
    timezone: ZoneInfo
    state_dir: Path
    templates_dir: Path
    agreement_start: dt.date
    agreement_end: dt.date
    quarters: str
    sheets_backend: str
    spreadsheets: Mapping[str, SpreadsheetConfig]
    names: Names
    create_demo_when_missing: bool
    mail: MailConfig
    jobs: Mapping[str, JobConfig]
    raw: Mapping[str, Any]
    # Draft translations the admin chose to send ([languages] use), as language codes.
    languages_use: tuple[str, ...] = ()

    def job(self, name: str) -> JobConfig:
        """The config of job `name` (defaults when it has no section)."""
        return self.jobs.get(name, JobConfig(name))

    def section(self, name: str) -> Mapping[str, Any]:
        """A raw backend section such as [smtp] or [google] (empty when absent)."""
        value = self.raw.get(name, {})
        return value if isinstance(value, Mapping) else {}


def _where(path: Path, key: str) -> str:
    return f"{path}: {key}"


def _table(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = data.get(key.rsplit(".", 1)[-1], {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{_where(path, key)} must be a table like [{key}]")
    return value


def _string(data: Mapping[str, Any], key: str, path: Path, default: str | None = None) -> str:
    value = data.get(key.rsplit(".", 1)[-1], default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{_where(path, key)} must be a non-empty text value")
    return value.strip()


def _choice(data: Mapping[str, Any], key: str, path: Path, choices: tuple[str, ...]) -> str:
    value = _string(data, key, path, choices[0])
    if value not in choices:
        raise ConfigError(f'{_where(path, key)} is "{value}"; choose one of: {", ".join(choices)}')
    return value


def _date(data: Mapping[str, Any], key: str, path: Path, default: dt.date) -> dt.date:
    value = data.get(key.rsplit(".", 1)[-1], default)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{_where(path, key)} must be a date like 2028-06-30") from None


def _address(data: Mapping[str, Any], key: str, path: Path, default: str | None) -> str | None:
    value = data.get(key.rsplit(".", 1)[-1], default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{_where(path, key)} must be an email address in quotes")
    address = value.rsplit("<", 1)[-1].rstrip(">").strip()
    try:
        parse_email(address)
    except CellValueError as err:
        raise ConfigError(f"{_where(path, key)}: {err}") from None
    return value.strip()


def _reject_secrets(data: Mapping[str, Any], path: Path, prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _reject_secrets(value, path, f"{dotted}.")
        elif key.lower() in SECRET_KEYS:
            raise ConfigError(
                f"{_where(path, dotted)} holds a secret; secrets never go in this file. "
                f'Put it in an environment variable and set {key}_env = "VARIABLE_NAME"'
                " (or a file path outside the repository)"
            )


def unset_variable(key: str, example: str) -> str:
    """The error for a `*_env` key whose environment variable is not set.

    It never shows the key's value: a secret typed there by mistake (password_env =
    "the password") must not end up in a log, a cron mail or an admin alert.
    """
    return (
        f"{key} names an environment variable that is not set; export it before running "
        f"(the name is not repeated here in case it is the secret itself: {key} must hold "
        f"a variable name such as {example}, never the secret)"
    )


def _check_keys(data: Mapping[str, Any], allowed: set[str], path: Path, section: str) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            where = f"{section}.{key}" if section else key
            raise ConfigError(f"{_where(path, where)} is not a known setting{hint}")


def load_settings(path: Path) -> Settings:
    """Read and validate the configuration file at `path`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no configuration file at {path}; pass --config PATH "
            "or create a demo with `python jobs.py init --demo DIR`"
        ) from None
    except IsADirectoryError:
        inside = path / "jobs.toml"
        hint = f"--config {inside}" if inside.is_file() else "--config with the path of jobs.toml"
        raise ConfigError(
            f"--config {path} is a folder, not a configuration file; pass {hint}"
        ) from None
    except OSError as err:
        raise ConfigError(
            f"cannot read the configuration file {path} ({err.strerror or err}); "
            "make it readable by this user"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file in UTF-8; save jobs.toml as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    return parse_settings(data, path)


def parse_settings(data: Mapping[str, Any], path: Path) -> Settings:
    """Validate an already-parsed TOML document (paths resolve next to `path`)."""
    base = path.resolve().parent
    # Each mail backend reads its own section ([smtp], [microsoft365]).
    _check_keys(data, _TOP_LEVEL | set(MAIL_BACKENDS), path, "")
    _reject_secrets(data, path)

    def resolve(value: str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    zone_name = _string(data, "timezone", path, "America/Los_Angeles")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a region such as "America" is a folder of the time zone database.
        raise ConfigError(
            f'{_where(path, "timezone")} "{zone_name}" is not a time zone; '
            "use a name like America/Los_Angeles"
        ) from None

    agreement = _table(data, "agreement", path)
    _check_keys(agreement, {"start", "end", "quarters"}, path, "agreement")
    start = _date(agreement, "agreement.start", path, dt.date(2025, 7, 1))
    end = _date(agreement, "agreement.end", path, dt.date(2028, 6, 30))
    if end <= start:
        raise ConfigError(f"{_where(path, 'agreement.end')} must be after agreement.start")
    quarters = _choice(agreement, "agreement.quarters", path, ("calendar", "school-year"))

    sheets = _table(data, "sheets", path)
    _check_keys(sheets, {"backend", "spreadsheets", "tabs", "columns"}, path, "sheets")
    backend = _choice(sheets, "sheets.backend", path, tuple(SHEETS_BACKENDS))
    spreadsheets: dict[str, SpreadsheetConfig] = {}
    configured = _table(sheets, "sheets.spreadsheets", path)
    for name, entry in configured.items():
        key = f"sheets.spreadsheets.{name}"
        if name not in SPREADSHEETS:
            raise ConfigError(
                f"{_where(path, key)} is not a known spreadsheet; use {', '.join(SPREADSHEETS)}"
            )
        if not isinstance(entry, Mapping):
            raise ConfigError(f'{_where(path, key)} must be a table with path = "..."')
        _check_keys(entry, {"path", "id", "url"}, path, key)
        if backend == "workbook":
            spreadsheets[name] = SpreadsheetConfig(name, path=resolve(_string(entry, "path", path)))
        else:
            ident = entry.get("id") or entry.get("url")
            if not isinstance(ident, str) or not ident.strip():
                raise ConfigError(f'{_where(path, key)} needs id = "..." (or url = "...")')
            spreadsheets[name] = SpreadsheetConfig(name, id=ident.strip())

    tabs = _table(sheets, "sheets.tabs", path)
    columns = _table(sheets, "sheets.columns", path)
    for key, value in tabs.items():
        if not isinstance(value, str):
            raise ConfigError(f"{_where(path, f'sheets.tabs.{key}')} must be a tab name in quotes")
    for tab, mapping in columns.items():
        if not isinstance(mapping, Mapping) or not all(
            isinstance(v, str) for v in mapping.values()
        ):
            raise ConfigError(
                f"{_where(path, f'sheets.columns.{tab}')} must map default headers to "
                'your headers, e.g. "Start Time" = "Hora"'
            )
    names = Names(tabs=dict(tabs), columns={k: dict(v) for k, v in columns.items()})

    demo = _table(data, "demo", path)
    _check_keys(demo, {"create_when_missing"}, path, "demo")
    create_demo = bool(demo.get("create_when_missing", False))

    mail_data = _table(data, "mail", path)
    _check_keys(
        mail_data,
        {"backend", "sender", "organizer", "reply_to", "admin", "list_address", "outbox_dir"},
        path,
        "mail",
    )
    sender = _address(mail_data, "mail.sender", path, None)
    if sender is None:
        raise ConfigError(f'{_where(path, "mail.sender")} is required, e.g. "Name <a@b.org>"')
    mail = MailConfig(
        backend=_choice(mail_data, "mail.backend", path, tuple(MAIL_BACKENDS)),
        sender=sender,
        organizer=_address(mail_data, "mail.organizer", path, sender) or sender,
        reply_to=_address(mail_data, "mail.reply_to", path, None),
        admin=_address(mail_data, "mail.admin", path, None),
        list_address=_address(mail_data, "mail.list_address", path, None),
        outbox_dir=resolve(_string(mail_data, "mail.outbox_dir", path, "outbox")),
    )

    languages_use = _languages_use(data, path)

    from automations.jobs import registry  # the jobs import this module: import late

    known = list(registry())
    jobs: dict[str, JobConfig] = {}
    for name, entry in _table(data, "jobs", path).items():
        key = f"jobs.{name}"
        if name not in known:
            # A misspelt section would silently leave the real job on its defaults.
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean [jobs.{close[0]}]?" if close else f"jobs are: {', '.join(known)}"
            raise ConfigError(f"{_where(path, key)} is not a job; {hint}")
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{_where(path, key)} must be a table [jobs.{name}]")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            # bool("no") is True: a quoted value would leave the job running.
            raise ConfigError(
                f"{_where(path, key + '.enabled')} must be true or false without quotes "
                f"(it is {enabled!r})"
            )
        raw_schedules = entry.get("schedule", [])
        if isinstance(raw_schedules, str):
            raw_schedules = [raw_schedules]
        schedules = []
        for raw in raw_schedules:
            try:
                schedules.append(parse_schedule(str(raw)))
            except ValueError as err:
                raise ConfigError(f"{_where(path, key + '.schedule')}: {err}") from None
        options = {k: v for k, v in entry.items() if k not in {"schedule", "enabled"}}
        jobs[name] = JobConfig(name, enabled, tuple(schedules), options)

    return Settings(
        path=path.resolve(),
        timezone=zone,
        state_dir=resolve(_string(data, "state_dir", path, "state")),
        templates_dir=resolve(data["templates_dir"])
        if "templates_dir" in data
        else PROJECT_ROOT / "templates" / "email",
        agreement_start=start,
        agreement_end=end,
        quarters=quarters,
        sheets_backend=backend,
        spreadsheets=spreadsheets,
        names=names,
        create_demo_when_missing=create_demo,
        mail=mail,
        jobs=jobs,
        raw=data,
        languages_use=languages_use,
    )


def _languages_use(data: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """[languages] use = ["ko", "Vietnamese", ...]: draft translations to send anyway."""
    from automations.languages import parse_language

    section = _table(data, "languages", path)
    _check_keys(section, {"use"}, path, "languages")
    value = section.get("use", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f'{_where(path, "languages.use")} must be a list of languages, e.g. ["ko", "vi"]'
        )
    codes = []
    for item in value:
        language = parse_language(item)
        if language is None:
            raise ConfigError(
                f'{_where(path, "languages.use")}: "{item}" is not a language we recognise; '
                'write a code or a name, e.g. "ko" or "Korean"'
            )
        codes.append(language.code)
    return tuple(dict.fromkeys(codes))


class Options:
    """Typed access to a job's options, with errors that name the exact key."""

    def __init__(self, settings: Settings, job: str) -> None:
        self._values = settings.job(job).options
        self._prefix = f"jobs.{job}"
        self._path = settings.path
        self._seen: set[str] = set()

    def _error(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{_where(self._path, f'{self._prefix}.{key}')} {what}")

    def integer(self, key: str, default: int, *, minimum: int = 0, maximum: int = 10**6) -> int:
        """An integer option between minimum and maximum."""
        self._seen.add(key)
        value = self._values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, "must be a whole number")
        if not minimum <= value <= maximum:
            raise self._error(key, f"must be between {minimum} and {maximum}")
        return value

    def addresses(self, key: str) -> tuple[str, ...]:
        """A list of email addresses."""
        self._seen.add(key)
        value = self._values.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self._error(key, 'must be a list of addresses, e.g. ["a@b.org"]')
        result = []
        for item in value:
            try:
                result.append(parse_email(str(item).rsplit("<", 1)[-1].rstrip(">")))
            except CellValueError as err:
                raise self._error(key, f"has a bad address: {err}") from None
        return tuple(result)

    def string(self, key: str, default: str) -> str:
        """A text option."""
        self._seen.add(key)
        value = self._values.get(key, default)
        if not isinstance(value, str):
            raise self._error(key, "must be text in quotes")
        return value

    def raw(self, key: str) -> Any:
        """An option as written (None when absent), for the job to check itself."""
        self._seen.add(key)
        return self._values.get(key)

    def finish(self) -> None:
        """Reject options the job does not know (typos)."""
        for key in self._values:
            if key not in self._seen:
                close = difflib.get_close_matches(key, self._seen, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise self._error(key, f"is not a setting of this job{hint}")
