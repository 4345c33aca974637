"""App-wide facts in the `app_state` table, shared by every instance: written and locked race-free."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models
from scheduler.store.db import insert_for


def put(session: Session, key: str, value: dict[str, Any], now: datetime) -> None:
    """Insert or overwrite one entry in a single statement (safe when instances race)."""
    statement = insert_for(session, models.AppState).values(key=key, value=value, updated_at=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[models.AppState.key], set_={"value": value, "updated_at": now}
        )
    )


def locked(session: Session, key: str, default: dict[str, Any], now: datetime) -> models.AppState:
    """The entry, created with `default` if missing, locked for this transaction (PostgreSQL row lock;
    SQLite's BEGIN IMMEDIATE already holds the file)."""
    session.execute(
        insert_for(session, models.AppState)
        .values(key=key, value=default, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalars(select(models.AppState).where(models.AppState.key == key).with_for_update()).one()
    session.refresh(row)
    return row
