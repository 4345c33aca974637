"""Two processes storing the same activity at the same moment: the webhook work and a poll each find it new
and insert it. The one that loses the race keeps going; nothing fails, nothing is planned twice.

PostgreSQL only: there both transactions read "not stored" and the second insert hits the primary key. On
SQLite every transaction takes the writer lock at BEGIN, so the other process waits and then sees the row.
The race is made exact, not waited for: the moment the webhook's transaction has looked the activity up,
another engine (the other process) stores it and commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.ingest import ingest_activity
from scheduler.store import models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.strava import webhooks
from scheduler.strava.sync import Poller
from scheduler.strava.webhooks import WebhookDeps
from tests.doubles.strava_double import StravaDouble
from tests.integration import test_strava_sync as shared
from tests.integration import test_strava_webhooks as webhook_tests
from tests.integration.test_strava_sync import ATHLETE, FakeClock, reminders, stored

db_url = shared.db_url
strava_double = shared.strava_double
clock = shared.clock
app_settings = shared.app_settings
notifier = shared.notifier
poller = shared.poller
connected = shared.connected
receiver = webhook_tests.receiver
subscribed = webhook_tests.subscribed

POSTGRES_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


class OtherProcess:
    """Stores one activity through its own engine the moment `engine` first looks that activity up."""

    def __init__(self, engine: Engine, url: str, poller: Poller, activity: dict[str, Any]) -> None:
        self.engine = engine
        self.other = make_engine(url)
        self.sessions = make_sessionmaker(self.other)
        self.poller = poller
        self.activity = activity
        self.stored = False
        event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        looked_up = "FROM activities" in statement and self.activity["id"] in dict(parameters or {}).values()
        if self.stored or not statement.lstrip().startswith("SELECT") or not looked_up:
            return
        self.stored = True
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, ATHLETE)
            assert athlete is not None
            ingest_activity(session, athlete, self.activity, self.poller.ingest_config, self.poller.clock())

    def close(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self._after)
        self.other.dispose()


@pytest.fixture
def race(
    sessions: sessionmaker[Session],
    db_url: str,
    poller: Poller,
    strava_double: StravaDouble,
    clock: FakeClock,
) -> Iterator[OtherProcess]:
    activity = strava_double.add_activity(
        ATHLETE,
        name="Harbourfront 10K",
        start_date=clock.now - timedelta(minutes=50),
        distance=10000.0,
        moving_time=2700,
        workout_type=1,
    )
    bind = sessions.kw["bind"]
    assert isinstance(bind, Engine)
    other = OtherProcess(bind, db_url, poller, dict(activity))
    yield other
    other.close()


def _reminder_rows(sessions: sessionmaker[Session], activity_id: int) -> int:
    with sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(models.Reminder)
            .where(models.Reminder.activity_id == activity_id)
        )
    return int(count or 0)


@POSTGRES_ONLY
@pytest.mark.usefixtures("connected", "subscribed")
def test_a_webhook_that_loses_the_race_for_an_activity_finishes_its_event_without_a_failure(
    race: OtherProcess, strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller
) -> None:
    activity_id = int(race.activity["id"])
    strava_double.send_event("activity", activity_id, "create", ATHLETE)

    report = webhooks.process_events(WebhookDeps.of(poller))

    assert race.stored, "the other process stored the activity mid-transaction"
    assert report.failed == [] and report.parked == []
    assert report.processed == 1
    [row] = webhook_tests.events(sessions)
    assert row.processed_at is not None and row.failures == 0 and row.last_error is None
    assert stored(sessions)[activity_id].effort == "race"
    steps = reminders(sessions, activity_id)
    assert "ice" in steps and _reminder_rows(sessions, activity_id) == len(steps)  # each step once
    assert webhooks.process_events(WebhookDeps.of(poller)).processed == 0  # nothing left to retry


@POSTGRES_ONLY
@pytest.mark.usefixtures("connected")
def test_a_poll_that_loses_the_race_for_an_activity_syncs_without_a_failure(
    race: OtherProcess, sessions: sessionmaker[Session], poller: Poller
) -> None:
    activity_id = int(race.activity["id"])

    report = poller.poll_athlete(ATHLETE)

    assert race.stored
    assert report.outcome == "synced" and report.skipped_invalid == []
    assert stored(sessions)[activity_id].effort == "race"
    steps = reminders(sessions, activity_id)
    assert "ice" in steps and _reminder_rows(sessions, activity_id) == len(steps)
