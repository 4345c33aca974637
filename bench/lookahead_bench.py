"""The look-ahead's cost per athlete: learning run times, the 28-day hit rate and planning the next 36 h.

Stores 5 years of runs (4 a week at habitual times, ~1,040 runs) for one athlete in a fresh SQLite file, then
prints the CPU time of `lookahead.run_habits` (what the page computes) and of `lookahead.plan_athlete` (what
the daemon's job does every 10 minutes per athlete), first run and a repeat that changes nothing.

    .venv/bin/python bench/lookahead_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session, sessionmaker

from scheduler import lookahead
from scheduler.domain.habits import format_run_times
from scheduler.domain.protocols import default_protocols_path, load_protocols
from scheduler.domain.timing import wall_clock_on
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction

ZONE = ZoneInfo("America/Toronto")
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HABITS = ((1, 6, 30), (3, 6, 30), (5, 8, 0), (6, 8, 0))  # weekday, hour, minute


def seed(sessions: sessionmaker[Session]) -> int:
    count = occasions = 0
    with transaction(sessions) as session:
        athlete = models.Athlete(id=1, name="bench", timezone=ZONE.key, state="active", notify_urls=[])
        athlete.created_at = athlete.updated_at = NOW
        session.add(athlete)
        session.flush()
        day = NOW.astimezone(ZONE).date() - timedelta(days=5 * 365)
        while day < NOW.astimezone(ZONE).date():
            for weekday, hour, minute in HABITS:
                if day.weekday() != weekday:
                    continue
                occasions += 1
                if occasions % 9 != 4:  # now and then a run is missed
                    start = wall_clock_on(day, datetime.min.time().replace(hour=hour, minute=minute), ZONE)
                    count += 1
                    session.add(
                        models.Activity(
                            id=count, athlete_id=1, raw={}, name="Morning Run", sport_type="Run",
                            start_date=start, timezone=ZONE.key, elapsed_time=3000, moving_time=2900,
                            distance=9000.0, effort="easy", created_at=NOW, updated_at=NOW,
                        )
                    )  # fmt: skip
            day += timedelta(days=1)
    return count


def cpu(call: Callable[[], None]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def main() -> None:
    protocols = load_protocols(default_protocols_path())
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        runs = seed(sessions)

        def habits() -> None:
            with sessions() as session:
                athlete = session.get(models.Athlete, 1)
                assert athlete is not None
                known = lookahead.run_habits(session, athlete, NOW, "UTC")
                print(f"  learned {format_run_times(known.times)}; {known.hit_rate}")

        def plan() -> None:
            with transaction(sessions) as session:
                athlete = session.get(models.Athlete, 1)
                assert athlete is not None
                changes = lookahead.plan_athlete(session, athlete, protocols, NOW, "UTC")
                print(f"  {len(changes)} row(s) changed")

        print(f"{runs} runs over 5 years")
        print(f"run_habits (the page): {cpu(habits) * 1000:.1f} ms CPU")
        print(f"plan_athlete, first: {cpu(plan) * 1000:.1f} ms CPU")
        print(f"plan_athlete, repeat: {cpu(plan) * 1000:.1f} ms CPU")
        engine.dispose()


if __name__ == "__main__":
    main()
