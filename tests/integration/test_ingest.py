"""Ingestion through a real database: activity → class → plan → outbox rows, idempotent and reconciling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.protocols import load_protocols
from scheduler.ingest import IngestConfig, delete_activity, forget_athlete, ingest_activity, ingest_history
from scheduler.settings import REPO_CONFIG_DIR
from scheduler.store import models

NOW = datetime(2026, 5, 16, 15, 0, tzinfo=UTC)  # 11:00 in Toronto


@pytest.fixture
def config() -> IngestConfig:
    return IngestConfig(protocols=load_protocols(REPO_CONFIG_DIR / "protocols.yaml"), default_zone="UTC")


def add_athlete(session: Session, athlete_id: int = 7) -> models.Athlete:
    athlete = models.Athlete(
        id=athlete_id, name="Ada Runner", state="active", created_at=NOW, updated_at=NOW, notify_urls=[]
    )
    session.add(athlete)
    session.flush()
    return athlete


def race(activity_id: int = 101, **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": activity_id,
        "athlete": {"id": 7},
        "name": "Harbourfront 10K",
        "sport_type": "Run",
        "type": "Run",
        "workout_type": 1,
        "distance": 10_000.0,
        "moving_time": 2_580,
        "elapsed_time": 2_600,
        "total_elevation_gain": 12.0,
        "start_date": "2026-05-16T14:10:00Z",
        "timezone": "(GMT-05:00) America/Toronto",
        "average_speed": 3.87,
        "has_heartrate": True,
        "average_heartrate": 172.0,
        "max_heartrate": 186,
    }
    raw.update(changes)
    return raw


def reminders(session: Session, activity_id: int = 101) -> dict[str, str]:
    rows = session.scalars(select(models.Reminder).where(models.Reminder.activity_id == activity_id))
    return {r.step: r.status for r in rows}


def test_a_new_race_plans_its_steps_once(sessions: sessionmaker[Session], config: IngestConfig) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        result = ingest_activity(session, athlete, race(), config, NOW)
    assert result.created and result.effort == "race"
    assert {"ice", "leg_massager", "foot_massager", "foam_roll"} <= set(result.planned)
    with sessions() as session:
        first = reminders(session)
        assert first["ice"] == "planned"
        ice = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
        assert ice.due_at <= NOW + timedelta(minutes=1) and ice.expires_at > NOW
        assert "Harbourfront 10K" in ice.title

    with sessions.begin() as session:
        athlete = session.get(models.Athlete, 7)
        assert athlete is not None
        again = ingest_activity(session, athlete, race(), config, NOW + timedelta(minutes=5))
    assert not again.changed
    with sessions() as session:
        assert reminders(session) == first
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == len(first)


def test_retagging_replans_keeps_sent_steps_and_cancels_the_rest(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        ingest_activity(session, athlete, race(workout_type=3, name="Track 6x800m"), config, NOW)
    with sessions.begin() as session:
        assert "foot_massager" not in reminders(session)  # speedwork has no foot massager step
        ice = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
        ice.status, ice.sent_at = "sent", NOW

    with sessions.begin() as session:
        athlete = session.get(models.Athlete, 7)
        assert athlete is not None
        result = ingest_activity(session, athlete, race(), config, NOW + timedelta(minutes=10))
    assert result.changed and result.effort == "race"
    with sessions() as session:
        steps = reminders(session)
    assert steps["ice"] == "sent"  # never sent twice
    assert steps["foot_massager"] == "planned"  # a race adds it

    with sessions.begin() as session:
        athlete = session.get(models.Athlete, 7)
        assert athlete is not None
        easy = race(workout_type=0, name="Easy shakeout jog", average_heartrate=128.0, max_heartrate=140)
        ingest_activity(session, athlete, easy, config, NOW + timedelta(minutes=20))
    with sessions() as session:
        steps = reminders(session)
    assert steps["ice"] == "sent"
    assert steps["leg_massager"] == "cancelled"
    assert steps["foam_roll"] == "cancelled"


def test_deleting_an_activity_cancels_only_unsent_reminders(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        ingest_activity(session, athlete, race(), config, NOW)
        session.flush()
        ice = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
        ice.status = "sent"
    with sessions.begin() as session:
        cancelled = delete_activity(session, 101, NOW + timedelta(hours=1))
    with sessions() as session:
        steps = reminders(session)
    assert cancelled == len(steps) - 1
    assert steps["ice"] == "sent"
    assert {status for step, status in steps.items() if step != "ice"} == {"cancelled"}


def test_backfill_classifies_history_without_any_reminder(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        result = ingest_activity(session, athlete, race(), config, NOW, backfill=True)
    assert result.effort == "race" and result.planned == []
    with sessions() as session:
        assert reminders(session) == {}
        row = session.get(models.Activity, 101)
        assert row is not None and row.effort == "race" and row.reasons


def test_deauthorization_forgets_the_athletes_strava_data(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        athlete.access_token, athlete.refresh_token = "a", "r"
        ingest_activity(session, athlete, race(), config, NOW)
    with sessions.begin() as session:
        forget_athlete(session, 7, NOW)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Activity)) == 0
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == 0
        athlete = session.get(models.Athlete, 7)
        assert athlete is not None
        assert athlete.state == "deauthorized" and athlete.refresh_token is None and athlete.name == ""


def test_an_activity_noticed_late_skips_what_is_no_longer_useful(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    late = NOW + timedelta(hours=6)
    with sessions.begin() as session:
        athlete = add_athlete(session)
        ingest_activity(session, athlete, race(), config, late)
    with sessions() as session:
        steps = reminders(session)
    assert steps["ice"] == "skipped"
    assert steps["foam_roll"] == "planned"


def test_a_backfill_page_is_classified_in_one_pass_without_reminders(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    easy_days = [
        race(
            200 + day,
            name="Morning Run",
            workout_type=None,
            start_date=f"2026-05-{day:02d}T10:00:00Z",
            distance=8_000.0,
            moving_time=2_900,
            elapsed_time=2_950,
            average_heartrate=135.0,
            max_heartrate=150,
        )
        for day in range(1, 15)
    ]
    page = [*easy_days, race()]
    with sessions.begin() as session:
        athlete = add_athlete(session)
        results = ingest_history(session, athlete, page, NOW)
    efforts = {r.activity_id: r.effort for r in results}
    assert efforts[101] == "race" and {efforts[a["id"]] for a in easy_days} == {"easy"}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == 0
        assert all(row.backfilled for row in session.scalars(select(models.Activity)))
    with sessions.begin() as session:
        athlete = session.get(models.Athlete, 7)
        assert athlete is not None
        assert ingest_history(session, athlete, page, NOW) == []  # unchanged: nothing to redo
