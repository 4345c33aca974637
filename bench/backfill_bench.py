"""A 5-year backfill through the real ingestion path: store, classify and record 5 years into SQLite.

`recovery sync --backfill` hands each page of old activities to `ingest_history`, which classifies the page
in one `classify_series` pass; the stored year before the page only carries the baselines forward (it is
read, not re-classified). Prints the CPU time for the synthetic 5-year log of bench/classify_eval.py,
page by page (200 a page, as Strava serves them), and the same one activity at a time (`ingest_activity`).

    .venv/bin/python bench/backfill_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classify_eval import synthetic_years
from scheduler.domain.activity import Activity
from scheduler.domain.effort import classify_series
from scheduler.domain.history import HISTORY_SPAN
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols
from scheduler.ingest import IngestConfig, ingest_activity, ingest_history
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker

PAGE = 200


def strava_json(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "sport_type": a.sport_type,
        "workout_type": a.workout_type,
        "start_date": a.start_date.isoformat().replace("+00:00", "Z"),
        "timezone": a.timezone,
        "elapsed_time": a.elapsed_time,
        "moving_time": a.moving_time,
        "distance": a.distance,
        "total_elevation_gain": a.total_elevation_gain,
        "average_speed": a.average_speed,
        "average_heartrate": a.average_heartrate,
        "max_heartrate": a.max_heartrate,
    }


def timed(
    raws: list[dict[str, Any]], load: Callable[[Any, models.Athlete, list[dict[str, Any]]], None]
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/backfill.db")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        now = datetime.now(UTC)
        with sessions.begin() as session:
            session.add(models.Athlete(id=1, name="Ada", state="active", created_at=now, updated_at=now))
        began = time.process_time()
        with sessions.begin() as session:
            athlete = session.get(models.Athlete, 1)
            assert athlete is not None
            load(session, athlete, raws)
        cpu = time.process_time() - began
        engine.dispose()
    return cpu


def main() -> None:
    raws = [strava_json(a) for a in synthetic_years()]
    now = datetime.now(UTC)
    config = IngestConfig(load_protocols(default_protocols_path()), "UTC")

    def by_page(session: Any, athlete: models.Athlete, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), PAGE):
            ingest_history(session, athlete, items[start : start + PAGE], now)

    def one_by_one(session: Any, athlete: models.Athlete, items: list[dict[str, Any]]) -> None:
        for raw in items:
            ingest_activity(session, athlete, raw, config, now, backfill=True)

    print(f"5-year backfill into SQLite: {len(raws)} activities")
    print(f"  ingest_history, {PAGE} a page: {timed(raws, by_page):.2f} s CPU (store + classify)")
    print(f"  ingest_activity one by one:   {timed(raws, one_by_one):.2f} s CPU")
    carried, again = pages_cpu(synthetic_years(), history_only=True), pages_cpu(synthetic_years(), False)
    print(f"  classification alone, by page: {carried:.2f} s CPU ({again:.2f} s re-classifying each year)")


def pages_cpu(acts: list[Activity], history_only: bool) -> float:
    """The pure classification of the pages, each with the year before it as ingestion reads it."""
    profile = AthleteProfile()
    began = time.process_time()
    for start in range(0, len(acts), PAGE):
        page = acts[start : start + PAGE]
        earlier = [a for a in acts[:start] if a.start_date >= page[0].start_date - HISTORY_SPAN]
        if history_only:
            classify_series(page, profile, history=earlier)
        else:
            classify_series([*earlier, *page], profile)
    return time.process_time() - began


if __name__ == "__main__":
    main()
