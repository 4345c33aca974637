"""Migration 0005 moves the outbox key to (athlete, local day, step), keeping every existing row's history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scheduler.store import migrate
from scheduler.store.db import make_engine

NOW = datetime(2026, 5, 16, 23, 0, tzinfo=UTC)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column the test does not care about (other migrations add such columns)."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
        return 0
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.JSON):
        return []
    return ""


def insert(connection: sa.Connection, table: sa.Table, **values: Any) -> None:
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and isinstance(column.type, sa.Integer):
            continue
        values[column.name] = _filler(column)
    connection.execute(table.insert().values(**values))


def test_duplicate_steps_of_one_day_merge_and_history_is_kept(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0004")
    tables = sa.MetaData()
    tables.reflect(engine)
    athletes, activities, reminders = (
        tables.tables[name] for name in ("athletes", "activities", "reminders")
    )
    with engine.begin() as connection:
        insert(connection, athletes, id=7, name="Ada", state="active", created_at=NOW, updated_at=NOW)
        for activity_id, start in ((101, datetime(2026, 5, 16, 14, 10)), (102, datetime(2026, 5, 16, 15, 0))):
            insert(
                connection,
                activities,
                id=activity_id,
                athlete_id=7,
                raw={},
                sport_type="Run",
                start_date=start.replace(tzinfo=UTC),
                timezone="America/Toronto",
                elapsed_time=2600,
                moving_time=2600,
                distance=10000.0,
                created_at=NOW,
                updated_at=NOW,
            )
        # The doubled reminders of one race day: one foam roll already sent, one still planned.
        for reminder_id, activity_id, status in ((1, 101, "planned"), (2, 102, "sent"), (3, 101, "planned")):
            insert(
                connection,
                reminders,
                id=reminder_id,
                activity_id=activity_id,
                athlete_id=7,
                step="foam_roll" if reminder_id < 3 else "ice",
                due_at=NOW,
                expires_at=NOW,
                available_at=NOW,
                status=status,
                attempts=0,
                title="t",
                body="b",
                tags=[],
                created_at=NOW,
                updated_at=NOW,
            )

    migrate.upgrade(engine)
    with engine.begin() as connection:
        rows = connection.execute(sa.text("SELECT id, local_day, status FROM reminders ORDER BY id")).all()
        days = [
            row[1] if isinstance(row[1], date) else date.fromisoformat(row[1]) if row[1] else None
            for row in rows
        ]
        assert [(row[0], day, row[2]) for row, day in zip(rows, days, strict=True)] == [
            (1, None, "cancelled"),  # merged into the sent one: never sent beside it
            (2, date(2026, 5, 16), "sent"),
            (3, date(2026, 5, 16), "planned"),
        ]
    upgraded = sa.MetaData()
    upgraded.reflect(engine)
    values = {
        "activity_id": 102,
        "athlete_id": 7,
        "step": "foam_roll",
        "due_at": NOW,
        "expires_at": NOW,
        "available_at": NOW,
        "status": "planned",
        "title": "t",
        "body": "b",
        "tags": [],
        "created_at": NOW,
        "updated_at": NOW,
    }
    with engine.begin() as connection:  # another day's foam roll is fine
        insert(connection, upgraded.tables["reminders"], id=8, local_day=date(2026, 5, 17), **values)
    with pytest.raises(IntegrityError), engine.begin() as connection:  # a second one that day is not
        insert(connection, upgraded.tables["reminders"], id=9, local_day=date(2026, 5, 16), **values)
    migrate.downgrade(engine, "0004")
    with engine.connect() as connection:
        # Back to one row per (activity, step): row 8 repeated row 2's key and gives way to it.
        assert connection.execute(sa.text("SELECT id FROM reminders ORDER BY id")).scalars().all() == [
            1,
            2,
            3,
        ]
    engine.dispose()
