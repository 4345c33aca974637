"""How many Strava reads polling costs: per athlete per day, per new activity, and athletes per app.

Runs the real poller (stravalib adapter, SQLite) against the HTTP Strava double on a simulated clock that
steps by the poll interval, twice: a quiet week (no activity) and a typical runner's week (9 activities,
some uploaded late, one needing its detail, one re-tagged, one deleted). Prints the figures.

    .venv/bin/python bench/strava_reads.py [--days 7]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.domain.protocols import load_protocols
from scheduler.ingest import IngestConfig
from scheduler.settings import Settings, StravaSettings
from scheduler.store import migrate
from scheduler.store.db import make_engine, make_sessionmaker
from scheduler.strava import budget, oauth
from scheduler.strava.client import client_factory
from scheduler.strava.sync import Poller
from tests.doubles.strava_double import StravaDouble

ATHLETE = 101
START = datetime(2026, 5, 11, 0, 0, tzinfo=UTC)  # a Monday
ZONE_OFFSET = timedelta(hours=-4)  # Toronto in May


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Planned:
    day: int
    local_start: tuple[int, int]  # hour, minute (Toronto)
    name: str
    distance: float
    moving_time: int
    upload_delay: timedelta = timedelta(minutes=10)
    fields: tuple[tuple[str, Any], ...] = ()


WEEK = [
    Planned(0, (6, 30), "Morning Run", 8000, 2700, fields=(("average_heartrate", 138.0),)),
    Planned(1, (18, 0), "Club Night - 6x800, 5x300", 10000, 3100, fields=(("average_heartrate", 158.0),)),
    # No heart rate, an automatic name: the summary cannot decide, the laps can.
    Planned(2, (6, 45), "Morning Run", 9000, 3000),
    Planned(3, (12, 10), "Lunch Run", 6000, 2000, fields=(("average_heartrate", 136.0),)),
    # Recorded on the watch, synced the next morning after a phone-recorded walk: a late upload.
    Planned(4, (19, 0), "Evening Run", 7000, 2400, timedelta(hours=14), (("average_heartrate", 141.0),)),
    Planned(5, (7, 30), "Walk", 3000, 2400, fields=(("sport_type", "Walk"),)),
    Planned(5, (8, 0), "Long run", 28000, 9600, fields=(("average_heartrate", 145.0),)),
    Planned(
        6, (9, 0), "parkrun #412", 5000, 1150, fields=(("average_heartrate", 176.0), ("workout_type", 1))
    ),
    Planned(6, (9, 40), "Cool down", 2500, 900, fields=(("average_heartrate", 130.0),)),
]


@dataclass
class Result:
    reads: int
    polls: int
    details: int
    checks: int
    activities: int
    changed: int
    deleted: int
    seconds: float


def simulate(days: int, plan: list[Planned]) -> Result:
    logging.disable(logging.WARNING)
    clock = Clock()
    with StravaDouble() as double, tempfile.TemporaryDirectory() as tmp:
        double.use_clock(clock)
        double.add_athlete(ATHLETE, "Ada", "Runner")
        settings = Settings(
            data_dir=Path(tmp),
            timezone="UTC",
            strava=StravaSettings(
                client_id=double.client_id,
                client_secret=double.client_secret,
                api_url=double.api_url,
                oauth_url=double.oauth_url,
            ),
        )
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        factory = client_factory(settings.strava, clock)
        oauth.connect(
            sessions, factory, oauth.Callback(double.issue_code(ATHLETE), "read,activity:read_all"), clock
        )
        poller = Poller(
            sessions,
            settings,
            factory,
            IngestConfig(load_protocols(settings.protocols_file), "UTC"),
            clock,
        )
        interval = timedelta(seconds=settings.strava.poll_interval)
        clock.now = START + timedelta(seconds=poller.poll_offset(ATHLETE, settings.strava.poll_interval))
        # The first poll after connecting reads the whole overlap window; the simulated days start after it.
        poller.poll_athlete(ATHLETE)
        clock.now += interval
        double.clear_requests()
        pending = sorted(plan, key=lambda p: p.day * 1440 + p.local_start[0] * 60 + p.local_start[1])
        added: dict[str, tuple[int, datetime]] = {}  # name -> (id, uploaded at)
        polls = details = checks = count = changed = deleted = 0
        started = time.monotonic()
        end = clock.now + timedelta(days=days)
        while clock.now < end:
            for item in list(pending):
                start = START + timedelta(
                    days=item.day, hours=item.local_start[0], minutes=item.local_start[1]
                )
                start -= ZONE_OFFSET
                if start + timedelta(seconds=item.moving_time) + item.upload_delay > clock.now:
                    continue
                fields = dict(item.fields)
                uploaded_at = start + timedelta(seconds=item.moving_time) + item.upload_delay
                created = double.add_activity(
                    ATHLETE,
                    name=item.name,
                    start_date=start,
                    distance=item.distance,
                    moving_time=item.moving_time,
                    uploaded_at=uploaded_at,
                    **fields,
                )
                added[item.name] = (int(created["id"]), uploaded_at)
                count += 1
                pending.remove(item)
            _weekly_edits(double, added, clock.now)
            report = poller.poll_athlete(ATHLETE)
            polls += 1
            details += report.details
            checks += report.checks
            changed += len(report.changed)
            deleted += len(report.deleted)
            clock.now += interval
        seconds = time.monotonic() - started
        with sessions() as session:
            state = budget.load(session)
        assert state.blocked_until is None
        engine.dispose()
        return Result(double.reads_count, polls, details, checks, count, changed, deleted, seconds)


def _weekly_edits(double: StravaDouble, added: dict[str, tuple[int, datetime]], now: datetime) -> None:
    """An hour after uploading, the athlete renames the parkrun's cool-down and deletes the stray walk."""
    cool_down = added.get("Cool down")
    if cool_down is not None and now - cool_down[1] >= timedelta(hours=1):
        double.update_activity(cool_down[0], name="Cool down after parkrun")
        del added["Cool down"]
    walk = added.get("Walk")
    if walk is not None and now - walk[1] >= timedelta(hours=1):
        double.delete_activity(walk[0])
        del added["Walk"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    default_interval = Settings().strava.poll_interval

    quiet = simulate(args.days, [])
    busy = simulate(args.days, WEEK if args.days >= 7 else [p for p in WEEK if p.day < args.days])
    per_day = busy.reads / args.days
    quiet_per_day = quiet.reads / args.days
    extra = (busy.reads - quiet.reads) / busy.activities if busy.activities else 0.0
    reserve = Settings().strava.rate_reserve
    daily_budget = budget.usable(1000, reserve)
    short_budget = budget.usable(100, reserve)
    by_day = int(daily_budget // per_day)
    by_quarter = int(short_budget // (per_day / 96 * 1.5))  # polls are spread; allow 50 % bunching
    print(
        f"poll interval {default_interval} s, {args.days} simulated days, real client against the HTTP double"
    )
    print(f"quiet athlete:   {quiet.reads} reads in {quiet.polls} polls = {quiet_per_day:.1f} reads/day")
    print(
        f"typical runner: {busy.reads} reads in {busy.polls} polls = {per_day:.1f} reads/day "
        f"({busy.activities} new activities, {busy.changed} changed, {busy.deleted} deleted; "
        f"{busy.details} detail reads, {busy.checks} deletion checks)"
    )
    per_activity = busy.details / busy.activities if busy.activities else 0.0
    print(
        f"extra reads per new activity: {per_activity:.2f} (detail reads; pages cost nothing extra), "
        f"{extra:.2f} with the deletion checks"
    )
    print(
        f"athletes per app at the default 1,000 reads/day (keeping the {reserve:.0%} reserve): {by_day} "
        f"(15-minute window allows {by_quarter})"
    )
    print(f"simulation time: {quiet.seconds + busy.seconds:.1f} s")


if __name__ == "__main__":
    main()
