"""The one settings object, built once at start from the environment, `.env` and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from scheduler.errors import ConfigError

ENV_PREFIX = "RECOVERY_"
REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


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
    client_id: int | None = None
    client_secret: SecretStr | None = None
    api_url: str = "https://www.strava.com/api/v3"
    oauth_url: str = "https://www.strava.com/oauth"
    poll_interval: int = Field(default=600, ge=30, description="seconds between polls of one athlete")
    # With live webhooks polling is only the backstop for lost events.
    webhook_poll_interval: int = Field(default=3600, ge=60)
    webhook_verify_token: SecretStr | None = None
    # Late uploads keep their old start time: re-read this much before the newest start seen.
    overlap_hours: float = Field(default=48.0, ge=0)
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


class DispatchSettings(BaseModel):
    lease_seconds: int = Field(default=60, ge=5)
    max_attempts: int = Field(default=5, ge=1)
    sweep_interval: int = Field(default=30, ge=1, description="seconds between safety-net sweeps")
    batch_size: int = Field(default=50, ge=1)
    workers: int = Field(default=8, ge=1, le=64)
    retry_first: int = Field(default=30, ge=1, description="seconds before the first retry")
    retry_max: int = Field(default=1800, ge=1, description="longest wait between retries")


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
    protocols_file: Path = REPO_CONFIG_DIR / "protocols.yaml"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    strava: StravaSettings = Field(default_factory=StravaSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)

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


def _env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc if isinstance(part, str))


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning any invalid value into one ConfigError line naming the setting."""
    toml_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
    if toml_file and not Path(toml_file).is_file():
        raise ConfigError(f"{ENV_PREFIX}CONFIG_FILE: file not found: {toml_file}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{_env_name(first['loc'])}: {message}") from None
    except ValueError as exc:  # e.g. a TOML file that does not parse
        raise ConfigError(f"settings: {exc}") from None
