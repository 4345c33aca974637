"""A run imported from a file, then the same run read from Strava by the real poll path: one activity.

Strava's record takes over the file's: its id and name, the file's laps and the day's reminders kept, and a
reminder already sent is not sent again. Runs on SQLite and PostgreSQL; only Strava is a double.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.domain.protocols import load_protocols
from scheduler.domain.status import ReminderStatus
from scheduler.files.importer import ALREADY, DUPLICATE, IMPORTED, import_file
from scheduler.files.recording import is_file_activity
from scheduler.ingest import IngestConfig
from scheduler.notify.memory import MemoryNotifier
from scheduler.settings import DispatchSettings, Settings
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava.sync import Poller
from tests.data.files.samples import easy_run, race_10k, write_fit, write_gpx
from tests.doubles import strava_data
from tests.doubles.memory_strava import MemoryStrava

ATHLETE = 101
STRAVA_ID = 17_000_000_001
NOW = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)
# The race ended a quarter of an hour before NOW: "ice now" is due.
RACE_START = NOW - timedelta(seconds=race_10k(NOW).elapsed_seconds) - timedelta(minutes=15)


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def strava(clock: FakeClock) -> MemoryStrava:
    return MemoryStrava(clock=clock)


@pytest.fixture
def config(tmp_path: Path) -> IngestConfig:
    settings = Settings(data_dir=tmp_path, timezone="UTC")
    return IngestConfig(load_protocols(settings.protocols_file), "UTC")


@pytest.fixture
def poller(
    sessions: sessionmaker[Session],
    tmp_path: Path,
    strava: MemoryStrava,
    config: IngestConfig,
    clock: FakeClock,
) -> Poller:
    grant = strava.connect(ATHLETE, "Ada Runner")
    with transaction(sessions) as session:
        athlete_store.upsert_connected(
            session,
            ATHLETE,
            name="Ada Runner",
            timezone=None,
            grant=grant,
            scope="read,activity:read_all",
            now=clock(),
        )
    settings = Settings(data_dir=tmp_path, timezone="UTC")
    return Poller(sessions, settings, strava.port, config, clock)


def dispatcher(sessions: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock) -> Dispatcher:
    settings = DispatchSettings(lease_seconds=60, max_attempts=3, batch_size=50, workers=2)
    return Dispatcher(sessions, notifier, settings, "test", clock)


def activities(sessions: sessionmaker[Session]) -> list[models.Activity]:
    with sessions() as session:
        return list(session.scalars(select(models.Activity).order_by(models.Activity.start_date)))


def reminders(sessions: sessionmaker[Session]) -> dict[str, tuple[int | None, str]]:
    """step → (activity id, status)"""
    with sessions() as session:
        rows = session.scalars(select(models.Reminder).where(models.Reminder.activity_id.is_not(None)))
        return {r.step: (r.activity_id, r.status) for r in rows}


def strava_race(start: datetime, distance: float = 10_012.0) -> dict[str, object]:
    return strava_data.summary_activity(
        STRAVA_ID,
        ATHLETE,
        "Harbourfront 10K",
        start,
        distance,
        2380,
        workout_type=1,
        timezone="(GMT-05:00) America/Toronto",
        average_heartrate=176.0,
        max_heartrate=180.0,
    )


def test_strava_after_the_file_keeps_one_activity_with_stravas_id_and_name_and_sends_nothing_twice(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    config: IngestConfig,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    race = write_fit(race_10k(RACE_START), tmp_path / "race.fit")
    imported = import_file(sessions, ATHLETE, race, config, clock())
    assert imported.outcome == IMPORTED and imported.effort == "race"
    assert imported.activity_id is not None and is_file_activity(imported.activity_id)
    notifier = MemoryNotifier()
    assert dispatcher(sessions, notifier, clock).run_once().sent == 1  # ice, due at once
    [ice] = notifier.messages
    planned = reminders(sessions)
    assert planned["ice"] == (imported.activity_id, ReminderStatus.SENT)

    # The watch also synced to Strava: the same run 20 s later by Strava's clock, 12 m longer by its GPS.
    strava.add_activity(ATHLETE, strava_race(RACE_START + timedelta(seconds=20)))
    clock.now += timedelta(minutes=2)
    assert poller.poll_athlete(ATHLETE).outcome == "synced"

    [activity] = activities(sessions)
    assert activity.id == STRAVA_ID
    assert activity.name == "Harbourfront 10K"
    assert activity.effort == "race"
    assert len(activity.raw["laps"]) == 10  # the file's laps stay: no detail to ask Strava for
    assert strava.count("get_activity") == 0
    after = reminders(sessions)
    assert set(after) == set(planned)
    assert {activity_id for activity_id, _ in after.values()} == {STRAVA_ID}
    assert after["ice"] == (STRAVA_ID, ReminderStatus.SENT)
    assert dispatcher(sessions, notifier, clock).run_once().sent == 0
    assert notifier.messages == [ice]

    # The file again, or the same run exported as GPX: nothing new, both point at Strava's activity.
    again = import_file(sessions, ATHLETE, race, config, clock())
    assert (again.outcome, again.activity_id) == (ALREADY, STRAVA_ID)
    gpx = write_gpx(race_10k(RACE_START), tmp_path / "race.gpx")
    export = import_file(sessions, ATHLETE, gpx, config, clock())
    assert (export.outcome, export.activity_id) == (DUPLICATE, STRAVA_ID)
    assert [a.id for a in activities(sessions)] == [STRAVA_ID]
    assert reminders(sessions) == after


@pytest.mark.parametrize(
    ("shift", "distance"),
    [(timedelta(minutes=5), 10_012.0), (timedelta(seconds=20), 4_000.0)],
    ids=["later start", "other distance"],
)
def test_a_different_run_from_strava_stays_its_own_activity(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    config: IngestConfig,
    clock: FakeClock,
    tmp_path: Path,
    shift: timedelta,
    distance: float,
) -> None:
    run = write_fit(easy_run(RACE_START - timedelta(days=1)), tmp_path / "easy.fit")
    race = write_fit(race_10k(RACE_START), tmp_path / "race.fit")
    file_ids = {import_file(sessions, ATHLETE, path, config, clock()).activity_id for path in (run, race)}

    strava.add_activity(ATHLETE, strava_race(RACE_START + shift, distance))
    assert poller.poll_athlete(ATHLETE).outcome == "synced"

    assert {a.id for a in activities(sessions)} == {*file_ids, STRAVA_ID}


def test_a_strava_backfill_of_runs_imported_from_files_adds_none_of_them_again(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    config: IngestConfig,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    starts = [RACE_START - timedelta(days=days) for days in (30, 20, 10)]
    for number, start in enumerate(starts):
        path = write_fit(easy_run(start), tmp_path / f"easy{number}.fit")
        assert import_file(sessions, ATHLETE, path, config, clock()).outcome == IMPORTED
    strava_ids = []
    for number, start in enumerate(starts):
        run = easy_run(start)
        activity = strava_data.summary_activity(
            STRAVA_ID + number,
            ATHLETE,
            f"Easy {number}",
            start + timedelta(seconds=5),
            run.distance + 30,
            run.moving_seconds,
            average_heartrate=138.0,
        )
        strava_ids.append(strava.add_activity(ATHLETE, activity)["id"])

    assert poller.poll_athlete(ATHLETE, backfill_days=60).outcome == "synced"

    stored = activities(sessions)
    assert [a.id for a in stored] == strava_ids
    assert [a.name for a in stored] == ["Easy 0", "Easy 1", "Easy 2"]
    assert all(a.backfilled for a in stored)
    assert reminders(sessions) == {}  # history: nothing to send about
