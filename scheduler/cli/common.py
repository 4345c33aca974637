"""Helpers shared by the commands: settings, the database, JSON input and output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scheduler.errors import InputError
from scheduler.settings import Settings, load_settings
from scheduler.store import migrate, secret_keys
from scheduler.store.db import make_engine, make_sessionmaker


@dataclass(frozen=True)
class Store:
    engine: Engine
    sessions: sessionmaker[Session]


def settings() -> Settings:
    return load_settings()


def open_store(config: Settings, upgrade: bool = True) -> Store:
    """The database of `config`, migrated to head first so every command sees the current schema."""
    engine = make_engine(config.db_url)
    if upgrade:
        migrate.upgrade(engine)
    secret_keys.unlock(engine, config)  # seals tokens and URLs from now on; refuses a wrong key
    return Store(engine, make_sessionmaker(engine))


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def read_json_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--now: not an ISO 8601 instant: {value!r}") from None
    if parsed.tzinfo is None:
        raise InputError(f"--now: give a UTC offset (e.g. {value}Z or {value}+02:00)")
    return parsed


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
