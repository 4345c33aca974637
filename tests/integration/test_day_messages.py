"""The daemon jobs that plan messages about a day go athlete by athlete: one athlete's failure is logged and
told to the job, and the others still get their messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import day_messages, models
from scheduler.store.db import transaction

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def add(session: Session, athlete_id: int, state: str) -> None:
    session.add(
        models.Athlete(id=athlete_id, name=f"a{athlete_id}", state=state, created_at=NOW, updated_at=NOW)
    )


def test_one_athletes_failure_keeps_no_other_from_its_messages(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with transaction(sessions) as session:
        add(session, 1, "active")
        add(session, 2, "files")
        add(session, 3, "suspended")  # nothing is planned for them
        add(session, 4, "active")

    def plan(session: Session, athlete: models.Athlete) -> str:
        if athlete.id == 1:
            raise ValueError("bad data")
        # Written in the athlete's own transaction: kept although athlete 1 failed.
        athlete.name = "planned"
        return athlete.state

    failed: list[int] = []
    results = day_messages.for_each_athlete(sessions, plan, "test planning", on_failure=failed.append)

    assert results == {2: "files", 4: "active"}
    assert failed == [1]
    assert "test planning failed for athlete 1" in caplog.text
    with sessions() as session:
        names = {a.id: a.name for a in session.query(models.Athlete)}
    assert names == {1: "a1", 2: "planned", 3: "a3", 4: "planned"}
