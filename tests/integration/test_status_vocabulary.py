"""One status vocabulary, held by the schema: reminders.status and athletes.state take only its words, and the
migration that adds the CHECKs keeps every row (SQLite rebuilds the tables to add them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.status import (
    FINISHED,
    PAST,
    PENDING,
    SETTLED,
    UNSENT,
    AthleteState,
    ReminderStatus,
)
from scheduler.store import migrate
from scheduler.store.db import make_engine, transaction
from tests.doubles.outbox_seed import add_activity, add_athlete, add_reminders

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BEFORE = "0009"  # the revision before the CHECKs


def test_the_named_sets_cover_every_status_once() -> None:
    assert sorted(PENDING + PAST) == sorted(ReminderStatus)
    assert sorted((*SETTLED, *UNSENT, ReminderStatus.CANCELLED)) == sorted(ReminderStatus)
    assert set(FINISHED) <= set(PAST) and set(FINISHED) <= set(SETTLED)
    # The stored values are the plain strings: an enum member equals its string (which mypy cannot see).
    assert ReminderStatus.SENT == "sent"  # type: ignore[comparison-overlap]
    assert AthleteState.NEEDS_REAUTH == "needs_reauth"  # type: ignore[comparison-overlap]


def test_every_status_of_the_vocabulary_is_stored_and_any_other_word_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    add_athlete(sessions, NOW)
    add_activity(sessions, NOW, activity_id=100)
    for status in ReminderStatus:
        add_reminders(sessions, NOW, 1, activity_id=100, step_prefix=status.value, status=status.value)
    with pytest.raises(IntegrityError, match="ck_reminders_status"):
        add_reminders(sessions, NOW, 1, activity_id=100, step_prefix="typo", status="snet")
    with transaction(sessions) as session:
        stored = session.scalars(sa.text("SELECT status FROM reminders")).all()
    assert sorted(stored) == sorted(ReminderStatus)


def test_every_athlete_state_is_stored_and_any_other_word_is_refused(sessions: sessionmaker[Session]) -> None:
    for number, state in enumerate(AthleteState, start=1):
        add_athlete(sessions, NOW, athlete_id=number)
        with transaction(sessions) as session:
            session.execute(
                sa.text("UPDATE athletes SET state = :s WHERE id = :i"), {"s": state, "i": number}
            )
    with pytest.raises(IntegrityError, match="ck_athletes_state"), transaction(sessions) as session:
        session.execute(sa.text("UPDATE athletes SET state = 'reauth' WHERE id = 1"))
    with transaction(sessions) as session:
        assert session.scalar(sa.text("SELECT state FROM athletes WHERE id = 1")) == AthleteState.ACTIVE


def _insert(connection: sa.Connection, table: str, **given: Any) -> None:
    """A row of `table` as the database stands (not as the models declare it): required columns filled in."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    values = dict(given)
    for column in reflected.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        if isinstance(column.type, sa.JSON):
            values[column.name] = []
        elif isinstance(column.type, sa.DateTime):
            values[column.name] = NOW
        elif isinstance(column.type, sa.Date):
            values[column.name] = NOW.date()
        elif isinstance(column.type, sa.Boolean):
            values[column.name] = False
        elif isinstance(column.type, sa.Integer | sa.Float | sa.Numeric):
            values[column.name] = 0
        else:
            values[column.name] = "[]" if column.name == "notify_urls" else "x"
    connection.execute(sa.insert(reflected).values(**values))


def _counts(engine: sa.Engine) -> dict[str, int]:
    tables = ("athletes", "activities", "reminders", "deliveries")
    with engine.connect() as connection:
        return {t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_adding_the_checks_keeps_every_row_and_the_rows_that_reference_them(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, BEFORE)
    with engine.begin() as connection:
        _insert(connection, "athletes", id=1, state="needs_reauth")
        _insert(connection, "activities", id=100, athlete_id=1)
        _insert(connection, "reminders", id=7, activity_id=100, athlete_id=1, status="partial")
        _insert(connection, "deliveries", reminder_id=7, attempt=1)
    before = _counts(engine)

    migrate.upgrade(engine)

    assert _counts(engine) == before == {"athletes": 1, "activities": 1, "reminders": 1, "deliveries": 1}
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT status FROM reminders")).scalar_one() == "partial"
        assert migrate.schema_revision(connection) == migrate.HEAD
    engine.dispose()


def test_a_word_outside_the_vocabulary_stops_the_upgrade_with_its_id_and_changes_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, BEFORE)
    with engine.begin() as connection:
        _insert(connection, "athletes", id=1, state="active")
        _insert(connection, "athletes", id=2, state="banned")

    with pytest.raises(RuntimeError, match=r"athletes\.state .*ids 2 \('banned'\)"):
        migrate.upgrade(engine)

    with engine.connect() as connection:
        assert migrate.schema_revision(connection) == BEFORE
        assert connection.execute(sa.text("SELECT count(*) FROM athletes")).scalar_one() == 2
    engine.dispose()
