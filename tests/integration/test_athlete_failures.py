"""An athlete whose polls fail shows it: /healthz says `degraded` (still healthy) and /status names the error
and since when; a successful poll ends it. On SQLite and PostgreSQL (migration 0008's columns)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.daemon.health import HealthTracker
from scheduler.domain.protocols import load_protocols
from scheduler.http.status import status_report
from scheduler.ingest import IngestConfig
from scheduler.settings import Settings
from scheduler.store import athletes as athlete_store
from scheduler.store.db import transaction
from scheduler.strava.port import StravaUnavailable
from scheduler.strava.sync import Poller
from tests.doubles.memory_strava import MemoryStrava

FAILING, FINE = 101, 102
START = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def connect(sessions: sessionmaker[Session], strava: MemoryStrava, athlete_id: int) -> None:
    grant = strava.connect(athlete_id, f"Runner {athlete_id}")
    with transaction(sessions) as session:
        athlete_store.upsert_connected(
            session,
            athlete_id,
            name=f"Runner {athlete_id}",
            timezone=None,
            grant=grant,
            scope="read",
            now=START,
        )


def test_a_failing_athlete_makes_health_degraded_and_shows_in_status(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    clock = FakeClock()
    strava = MemoryStrava(clock=clock)
    for athlete_id in (FAILING, FINE):
        connect(sessions, strava, athlete_id)
    settings = Settings(data_dir=tmp_path, timezone="UTC")
    config = IngestConfig(load_protocols(settings.protocols_file), "UTC")
    poller = Poller(sessions, settings, strava.port, config, clock)
    tracker = HealthTracker(
        instance_id="test-1",
        engine=engine,
        sessions=sessions,
        clock=clock,
        dispatch_stale_after=timedelta(minutes=5),
        scheduler_running=lambda: True,
    )
    assert tracker.report()[1]["status"] == "ok"

    strava.fail_next(StravaUnavailable("activity list: 502 Bad Gateway"), "list_activities")
    assert poller.poll_athlete(FAILING).outcome == "failed"
    assert poller.poll_athlete(FINE).outcome == "synced"
    tracker.dispatched(clock.now)

    healthy, report = tracker.report()
    assert healthy  # still 200: dispatch and the other athlete work
    assert report["status"] == "degraded"
    assert report["athletes"] == {
        "ok": False,
        "failing": [
            {
                "id": FAILING,
                "failing_since": START.isoformat(),
                "failed_polls": 1,
                "last_error": "activity list: 502 Bad Gateway",
            }
        ],
    }
    _, public = tracker.report(detailed=False)
    assert public["status"] == "degraded" and public["athletes"] == {"ok": False, "failing": 1}
    assert str(FAILING) not in json.dumps(public)  # who is connected is not public

    with sessions() as session:
        listed = {row["id"]: row for row in status_report(session, clock.now)["athletes"]}
    assert listed[FAILING]["failing_since"] == START.isoformat()
    assert listed[FAILING]["failed_polls"] == 1 and "502" in listed[FAILING]["last_error"]
    assert (listed[FINE]["failing_since"], listed[FINE]["failed_polls"]) == (None, 0)

    clock.now += timedelta(minutes=10)
    assert poller.poll_athlete(FAILING).outcome == "synced"
    tracker.dispatched(clock.now)
    assert tracker.report()[1]["status"] == "ok"
