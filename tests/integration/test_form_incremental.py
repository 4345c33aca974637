"""The daily form job is incremental (scheduler.training.FormCache): day after day it continues each athlete's
series from the state it kept and gives exactly what recomputing the whole history gives; a new, edited or
corrected activity, or a new heart rate, changes the fingerprint and the next picture is recomputed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from scheduler import weekly
from scheduler.corrections import set_effort
from scheduler.domain.protocols import load_protocols
from scheduler.domain.timing import wall_clock_on
from scheduler.ingest import IngestConfig, ingest_activity
from scheduler.resources import PROTOCOLS_FILE
from scheduler.store import models
from scheduler.store.athletes import ProfileChange, set_profile
from scheduler.store.db import transaction
from scheduler.training import AthleteForm, FormCache, athlete_form

TORONTO = ZoneInfo("America/Toronto")
ADA = 7
FIRST = datetime(2026, 10, 1, 10, 30, tzinfo=UTC)  # 06:30 in Toronto


def config() -> IngestConfig:
    return IngestConfig(protocols=load_protocols(PROTOCOLS_FILE), default_zone="UTC")


def run(activity_id: int, start: datetime, km: float, heartrate: float | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": activity_id,
        "athlete": {"id": ADA},
        "name": "Morning Run",
        "sport_type": "Run",
        "distance": km * 1000,
        "moving_time": int(km * 330),
        "elapsed_time": int(km * 340),
        "start_date": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": "(GMT-05:00) America/Toronto",
        "average_speed": 1000 / 330,
        "total_elevation_gain": 40.0,
    }
    if heartrate is not None:
        raw.update(has_heartrate=True, average_heartrate=heartrate, max_heartrate=heartrate + 25)
    return raw


def ingest(sessions: sessionmaker[Session], raw: dict[str, Any], now: datetime) -> None:
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        ingest_activity(session, athlete, raw, config(), now)


def seed(sessions: sessionmaker[Session]) -> None:
    """Six weeks of runs every other day, some with heart rate, one long race-like effort."""
    with transaction(sessions) as session:
        session.add(
            models.Athlete(
                id=ADA, name="Ada", timezone="America/Toronto", state="active",
                created_at=FIRST, updated_at=FIRST, notify_urls=[],
            )
        )  # fmt: skip
    for n in range(21):
        start = FIRST + timedelta(days=2 * n)
        km = 21.1 if n == 10 else 6.0 + n % 4
        ingest(sessions, run(100 + n, start, km, 140.0 + n if n % 3 else None), start + timedelta(hours=1))


def both(sessions: sessionmaker[Session], cache: FormCache, now: datetime) -> tuple[AthleteForm, AthleteForm]:
    with sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        return cache.athlete_form(session, athlete, "UTC", now), athlete_form(session, athlete, "UTC", now)


def assert_same(kept: AthleteForm, full: AthleteForm) -> None:
    assert kept.today == full.today and kept.zone == full.zone
    assert kept.days == full.days  # every day's load, ATL, CTL, TSB and ratio, exactly
    assert kept.loads == full.loads and kept.workouts == full.workouts


def test_continuing_day_by_day_equals_recomputing_the_history(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    cache = FormCache()
    evening = wall_clock_on((FIRST + timedelta(days=41)).astimezone(TORONTO).date(), time(19, 30), TORONTO)
    kept, full = both(sessions, cache, evening)
    assert_same(kept, full)
    assert (cache.misses, cache.hits) == (1, 0) and len(full.days) == 42
    for offset in range(1, 15):  # two weeks without a run: fatigue falls day by day
        kept, full = both(sessions, cache, evening + timedelta(days=offset))
        assert_same(kept, full)
    assert (cache.misses, cache.hits) == (1, 14)
    assert kept.days[-1].atl < kept.days[-15].atl and len(kept.days) == 56

    # The same evening again: the kept picture as it is.
    again, _ = both(sessions, cache, evening + timedelta(days=14, minutes=10))
    assert again.days == kept.days and cache.hits == 15


def test_a_new_edited_or_corrected_activity_or_heart_rate_recomputes(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    cache = FormCache()
    day = FIRST + timedelta(days=42, hours=10)
    first, _ = both(sessions, cache, day)

    # A new run today.
    ingest(sessions, run(200, day - timedelta(hours=2), 12.0, 150.0), day)
    kept, full = both(sessions, cache, day + timedelta(minutes=10))
    assert_same(kept, full)
    assert cache.misses == 2 and kept.days[-1].load > first.days[-1].load

    # An old run edited on Strava (longer: its load and every day after it change).
    edited = run(105, FIRST + timedelta(days=10), 30.0, 145.0)
    ingest(sessions, edited, day + timedelta(hours=1))
    kept, full = both(sessions, cache, day + timedelta(hours=1, minutes=10))
    assert_same(kept, full)
    assert cache.misses == 3 and kept.days[10].load != first.days[10].load

    # A run without heart rate corrected to a race by the runner: the threshold pace its race sets changes
    # the pace-based loads of the runs after it.
    uncorrected = kept
    with transaction(sessions) as session:
        set_effort(session, 109, "race", config(), day + timedelta(hours=2))
    before_misses = cache.misses
    kept, full = both(sessions, cache, day + timedelta(hours=2, minutes=10))
    assert_same(kept, full)
    assert cache.misses == before_misses + 1 and kept.loads != uncorrected.loads

    # A threshold heart rate set: hrTSS on the new scale.
    with transaction(sessions) as session:
        set_profile(session, ADA, ProfileChange(threshold_hr=150), day + timedelta(hours=3))
    kept, full = both(sessions, cache, day + timedelta(hours=3, minutes=10))
    assert_same(kept, full)
    assert cache.misses == before_misses + 2

    # A deleted activity.
    with transaction(sessions) as session:
        row = session.get(models.Activity, 200)
        assert row is not None
        row.deleted_at = day + timedelta(hours=4)
    kept, full = both(sessions, cache, day + timedelta(hours=4, minutes=10))
    assert_same(kept, full)
    assert cache.misses == before_misses + 3 and all(w.id != 200 for w in kept.workouts)


def test_the_evening_job_with_the_cache_plans_what_it_plans_without(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    cache = FormCache()
    sunday = wall_clock_on(datetime(2026, 11, 15).date(), time(19, 30), TORONTO)
    assert sunday.astimezone(TORONTO).weekday() == 6
    assert weekly.plan_evenings(sessions, sunday, "UTC", cache) == {ADA: ["weekly_summary"]}
    with sessions() as session:
        summary = weekly.last_summary(session, ADA)
        assert summary is not None
        body = summary.body
    with transaction(sessions) as session:
        session.delete(session.get(models.Reminder, summary.id))
    # The same Sunday planned afresh, without the cache: the same summary, word for word.
    assert weekly.plan_evenings(sessions, sunday, "UTC") == {ADA: ["weekly_summary"]}
    with sessions() as session:
        again = weekly.last_summary(session, ADA)
        assert again is not None and again.body == body
    assert cache.misses == 1
