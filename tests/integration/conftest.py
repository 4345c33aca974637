"""What several integration modules set up the same way: the outbox's seeded athlete, a race's payload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.doubles.outbox_seed import add_activity, add_athlete

if TYPE_CHECKING:
    from tests.integration.test_web_page import Site

T0 = datetime(2026, 5, 3, 14, 0, tzinfo=UTC)  # the dispatch tests' "now": reminders fall due around it


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Athlete 1 with activity 100, ready for reminders (the dispatch tests' outbox)."""
    add_athlete(sessions, T0, athlete_id=1)
    add_activity(sessions, T0, activity_id=100, athlete_id=1)
    return sessions


def race(activity_id: int = 101, athlete_id: int = 7, **changes: Any) -> dict[str, Any]:
    """Strava's summary of a 10K race this morning in Toronto (ends 14:53 UTC on 2026-05-16)."""
    raw: dict[str, Any] = {
        "id": activity_id,
        "athlete": {"id": athlete_id},
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


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    """The runner's page on the real listener over the web tests' seed (Ada and Bo, Ada's race)."""
    # Imported here: test_web_page takes the race payload from this module.
    from tests.integration.test_web_page import seed, start_site

    seed(sessions)
    running = start_site(sessions)
    yield running
    running.server.stop()
