"""The one settings object, built once at start from the environment, `.env` and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from scheduler.errors import ConfigError
from scheduler.resources import PROTOCOLS_FILE

ENV_PREFIX = "RECOVERY_"

# Upper bounds keep every duration a datetime and a scheduler can hold, and catch a unit mistake.
HOUR = 3600
DAY = 24 * HOUR


def machine_zone() -> str:
    """The machine's IANA zone name: $TZ, /etc/timezone or the /etc/localtime link; UTC when unknown."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        candidates.append(timezone_file.read_text().strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name and _is_zone(name):
            return name
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "recovery-scheduler"


def _split_urls(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return value


class StravaSettings(BaseModel):
    client_id: int | None = Field(default=None, ge=1, lt=2**63)
    client_secret: SecretStr | None = None
    api_url: str = "https://www.strava.com/api/v3"
    oauth_url: str = "https://www.strava.com/oauth"
    poll_interval: int = Field(default=600, ge=30, le=DAY, description="seconds between polls of one athlete")
    # With live webhooks polling is only the backstop for lost events.
    webhook_poll_interval: int = Field(default=3600, ge=60, le=DAY)
    webhook_verify_token: SecretStr | None = None
    # Late uploads keep their old start time: re-read this much before the newest start seen.
    overlap_hours: float = Field(default=48.0, ge=0, le=30 * 24)
    # Fraction of each rate-limit window kept in reserve for interactive commands.
    rate_reserve: float = Field(default=0.1, ge=0, lt=1)

    @field_validator("api_url", "oauth_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class NotifySettings(BaseModel):
    urls: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    config: Path | None = None
    # Keep below half the dispatch lease: a send must end while its lease still holds.
    timeout: float = Field(default=25.0, gt=0, le=300, description="seconds one destination may take")

    _split = field_validator("urls", mode="before")(_split_urls)

    @field_validator("config")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    token: SecretStr | None = None
    # The base of every link in messages and on the page (a reverse proxy's address); None: http://host:port.
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value is not None else None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return self.public_url or f"http://{host}:{self.port}"


class DispatchSettings(BaseModel):
    lease_seconds: int = Field(default=60, ge=5, le=HOUR)
    max_attempts: int = Field(default=5, ge=1, le=100)
    sweep_interval: int = Field(default=30, ge=1, le=HOUR, description="seconds between safety-net sweeps")
    batch_size: int = Field(default=50, ge=1, le=10_000)
    workers: int = Field(default=8, ge=1, le=64)
    retry_first: int = Field(default=30, ge=1, le=DAY, description="seconds before the first retry")
    retry_max: int = Field(default=1800, ge=1, le=DAY, description="longest wait between retries")


class ImportSettings(BaseModel):
    """The watched folder of activity files (RECOVERY_IMPORT__…); off unless `dir` is set."""

    dir: Path | None = None
    # Whose files land in `dir` itself; without it, each sub-folder is named for its athlete's id.
    athlete: int | None = Field(default=None, ge=1, lt=2**63)
    # Polling instead of inotify (network shares send no events); None: decided by the folder's file system.
    poll: bool | None = None
    poll_interval: float = Field(default=2.0, ge=0.2, le=300, description="seconds between polling scans")
    # A file is read once its size has not changed for this long (or at once on inotify's close-write).
    settle: float = Field(default=1.0, ge=0, le=60)

    @field_validator("dir")
    @classmethod
    def _folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"not a folder: {value}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    timezone: str = Field(default_factory=machine_zone)
    protocols_file: Path = PROTOCOLS_FILE
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    strava: StravaSettings = Field(default_factory=StravaSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    # `import` is a keyword: declared through the namespace so the section is RECOVERY_IMPORT__… and [import].
    __annotations__["import"] = "ImportSettings"
    vars()["import"] = Field(default_factory=ImportSettings)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _is_zone(value):
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("protocols_file")
    @classmethod
    def _protocols_exist(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from scheduler.store.db import url_problem  # sqlalchemy is loaded only when a URL is given

        problem = url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _send_ends_inside_its_lease(self) -> Settings:
        # A send still running when its lease expires can be claimed and sent again by another instance.
        timeout, lease = self.notify.timeout, self.dispatch.lease_seconds
        if timeout > lease / 2:
            raise SettingsConflict(
                f"{{timeout}}: {timeout:g} s is more than half of {{lease}} ({lease} s); "
                "a send must end while its lease still holds",
                timeout=("notify", "timeout"),
                lease=("dispatch", "lease_seconds"),
            )
        return self

    @property
    def imports(self) -> ImportSettings:
        section: ImportSettings = getattr(self, "import")
        return section

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'recovery.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        toml_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_file)))
        return tuple(sources)

    # The keys sealing tokens and URLs in the database (scheduler.store.secret_keys): comma-separated, newest
    # first; or a file of them, one a line (default <data dir>/secret.key, created on first use).
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None


class SettingsConflict(Exception):
    """Settings valid one by one but not together. Not a ValueError, so pydantic passes it on unchanged and
    `load_settings` can name each setting where the user gave it: `template` holds a `{name}` per setting."""

    def __init__(self, template: str, **settings: tuple[str, ...]) -> None:
        super().__init__(template.format(**{key: _env_name(loc) for key, loc in settings.items()}))
        self.template = template
        self.settings = settings


def _env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc if isinstance(part, str))


@dataclass(frozen=True)
class _Sources:
    """Where the user's values came from, to name a bad one as the user wrote it."""

    environment: frozenset[str]  # upper-cased names set in the environment or the .env file
    toml_file: str | None
    toml: dict[str, Any]

    def name(self, loc: tuple[int | str, ...]) -> str:
        keys = tuple(str(part) for part in loc if isinstance(part, str))
        env = _env_name(keys)
        if self.toml_file is None or env in self.environment or not _holds(self.toml, keys):
            return env
        section, key = keys[:-1], keys[-1]
        return f"{self.toml_file}: [{'.'.join(section)}] {key}" if section else f"{self.toml_file}: {key}"


def _holds(data: dict[str, Any], keys: tuple[str, ...]) -> bool:
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _read_sources() -> _Sources:
    names = {key.upper() for key in os.environ if key.upper().startswith(ENV_PREFIX)}
    env_file = Path(".env")
    if env_file.is_file():
        names |= {key.upper() for key in dotenv_values(env_file)}
    toml_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
    if not toml_file:
        return _Sources(frozenset(names), None, {})
    try:
        toml = tomllib.loads(Path(toml_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{ENV_PREFIX}CONFIG_FILE: file not found: {toml_file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{ENV_PREFIX}CONFIG_FILE: cannot read {toml_file}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{toml_file}: not valid TOML: {exc}") from None
    unknown = _unknown_key(toml, Settings)
    if unknown is not None:
        raise ConfigError(f"{_Sources(frozenset(), toml_file, toml).name(unknown)}: unknown setting")
    return _Sources(frozenset(names), toml_file, toml)


def _unknown_key(data: dict[str, Any], model: type[BaseModel]) -> tuple[str, ...] | None:
    """The first key of the TOML file no setting has: a typo there would otherwise be ignored silently."""
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            return (key,)
        section = field.annotation
        if isinstance(value, dict) and isinstance(section, type) and issubclass(section, BaseModel):
            inner = _unknown_key(value, section)
            if inner is not None:
                return (key, *inner)
    return None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning any invalid value into one ConfigError line naming the setting where the
    user gave it: the environment variable, or the TOML file's section and key."""
    sources = _read_sources()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{sources.name(first['loc'])}: {message}") from None
    except SettingsConflict as exc:
        names = {key: sources.name(loc) for key, loc in exc.settings.items()}
        raise ConfigError(exc.template.format(**names)) from None
    except ValueError as exc:
        raise ConfigError(f"settings: {exc}") from None
