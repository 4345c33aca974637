"""A backfill stored page by page through the database gets the classes and reasons one pass over the
whole log gives: each page's stored year carries the baselines forward without being re-classified."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.activity import Activity, parse_activity
from scheduler.domain.effort import classify_series
from scheduler.ingest import ingest_history, profile_of
from scheduler.store import models
from tests.unit.test_effort_series import synthetic

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def strava_json(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id + 1,  # Strava ids start at 1
        "name": a.name,
        "sport_type": a.sport_type,
        "start_date": a.start_date.isoformat().replace("+00:00", "Z"),
        "timezone": "(GMT+00:00) UTC",
        "elapsed_time": a.elapsed_time,
        "moving_time": a.moving_time,
        "distance": a.distance,
        "total_elevation_gain": a.total_elevation_gain,
        "average_speed": a.distance / a.moving_time,
        "has_heartrate": a.average_heartrate is not None,
        "average_heartrate": a.average_heartrate,
        "max_heartrate": a.max_heartrate,
    }


def test_page_by_page_backfill_matches_one_pass(sessions: sessionmaker[Session]) -> None:
    raws = [strava_json(a) for a in synthetic(700, seed=3, days_apart=0.8)]
    with sessions.begin() as session:
        session.add(models.Athlete(id=7, name="Ada", state="active", created_at=NOW, updated_at=NOW))
    for start in range(0, len(raws), 200):
        with sessions.begin() as session:
            athlete = session.get(models.Athlete, 7)
            assert athlete is not None
            ingest_history(session, athlete, raws[start : start + 200], NOW)
    with sessions() as session:
        stored = {
            row.id: (row.effort, tuple(row.reasons)) for row in session.scalars(select(models.Activity))
        }
        athlete = session.get(models.Athlete, 7)
        assert athlete is not None
    acts = [parse_activity(raw) for raw in raws]
    expected = {
        a.id: (c.effort.value, c.reasons)
        for a, c in zip(acts, classify_series(acts, profile_of(athlete)), strict=True)
    }
    assert stored == expected
    assert len({effort for effort, _ in stored.values()}) == 5  # every class, so every path is compared
