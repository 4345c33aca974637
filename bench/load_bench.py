"""Loads and form for a 5-year history: the pure computation, and `athlete_form` reading it from SQLite.

The history is bench/classify_eval.py's synthetic 5 years (the same as bench/backfill_bench.py), stored
through the real backfill path; each run's class comes from the classifier, as in the database. Prints the
CPU time of computing every activity's load plus the daily ATL/CTL/TSB/ratio series (best of 5), of the
same from the database (the query included), as `recovery load` and the page do it, and of the daemon's
incremental daily step (scheduler.training.FormCache: the fingerprint query and one more day continued from
the kept state, as the evening job does each day while no activity changed).

    .venv/bin/python bench/load_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backfill_bench import PAGE, strava_json
from bench.classify_eval import synthetic_years
from scheduler.domain import form
from scheduler.domain.effort import classify_series
from scheduler.domain.load import Workout, daily_loads, workout_loads
from scheduler.domain.profile import AthleteProfile
from scheduler.ingest import ingest_history
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker
from scheduler.training import FormCache, athlete_form

LIMIT = 0.2  # seconds of CPU, the figure


def best_cpu(work: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        work()
        best = min(best, time.process_time() - began)
    return best


def main() -> None:
    activities = synthetic_years()
    profile = AthleteProfile()
    classes = classify_series(activities, profile)
    workouts = [
        Workout(
            a.id,
            a.end.date(),
            a.start_date,
            a.is_run,
            c.effort.value,
            a.moving_time,
            a.distance,
            a.total_elevation_gain,
            a.average_heartrate if a.has_heartrate else None,
            a.max_heartrate,
        )
        for a, c in zip(activities, classes, strict=True)
    ]
    through = max(w.day for w in workouts)

    def pure() -> object:
        return form.series(daily_loads(workout_loads(workouts, profile)), through)

    days = pure()
    assert isinstance(days, list)
    print(f"5-year history: {len(workouts)} activities, {len(days)} days")
    pure_cpu = best_cpu(pure)
    print(f"  loads + ATL/CTL/TSB/ratio (pure):         {pure_cpu * 1000:.0f} ms CPU")

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/load.db")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        now = datetime.now(UTC)
        raws = [strava_json(a) for a in activities]
        with sessions.begin() as session:
            athlete = models.Athlete(id=1, name="Ada", state="active", created_at=now, updated_at=now)
            session.add(athlete)
            session.flush()
            for start in range(0, len(raws), PAGE):
                ingest_history(session, athlete, raws[start : start + PAGE], now)
        at = max(a.end for a in activities) + timedelta(hours=1)

        def from_db() -> object:
            with sessions() as session:
                row = session.get(models.Athlete, 1)
                assert row is not None
                return athlete_form(session, row, "UTC", at)

        db_cpu = best_cpu(from_db)

        cache = FormCache()
        with sessions() as session:
            row = session.get(models.Athlete, 1)
            assert row is not None
            cache.athlete_form(session, row, "UTC", at)  # the first run: from scratch
        later = [at]

        def next_day() -> object:
            later[0] += timedelta(days=1)
            with sessions() as session:
                row = session.get(models.Athlete, 1)
                assert row is not None
                return cache.athlete_form(session, row, "UTC", later[0])

        daily_cpu = best_cpu(next_day)
        assert cache.misses == 1, "the daily step recomputed the history"
        engine.dispose()
    print(f"  the same read from SQLite (athlete_form): {db_cpu * 1000:.0f} ms CPU")
    print(f"  the daily job's next day (FormCache):      {daily_cpu * 1000:.1f} ms CPU")
    verdict = "under" if max(pure_cpu, db_cpu) < LIMIT else "OVER"
    print(f"  {verdict} the {LIMIT * 1000:.0f} ms budget")


if __name__ == "__main__":
    main()
