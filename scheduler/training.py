"""An athlete's training load and form from the stored activities: the shell around domain.load and form.

Loads are recomputed from the activities each time (not read from `activities.load`, whose scale depends on
whether a threshold heart rate was set when the activity was classified), so a changed profile, a corrected
class or a late backfill is reflected at once. A 5-year history takes well under 0.2 s (bench/load_bench.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import form
from scheduler.domain.activity import RUN_SPORTS
from scheduler.domain.load import Workout, WorkoutLoad, daily_loads, workout_loads
from scheduler.ingest import profile_of
from scheduler.store import models


@dataclass(frozen=True, slots=True)
class AthleteForm:
    zone: ZoneInfo
    today: date
    workouts: list[Workout]
    loads: list[WorkoutLoad]  # per activity, in start order
    days: list[form.FormDay]  # from the first activity's day through `today`

    def last(self, count: int) -> list[form.FormDay]:
        return self.days[-count:] if count > 0 else []

    def load_of(self) -> dict[int, WorkoutLoad]:
        return {item.id: item for item in self.loads}


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ValueError, KeyError):
        return None


def athlete_workouts(session: Session, athlete_id: int, fallback: ZoneInfo) -> list[Workout]:
    """Every kept activity of the athlete, its day the local day it ended on (as day plans count days)."""
    a = models.Activity
    rows = session.execute(
        select(
            a.id,
            a.start_date,
            a.elapsed_time,
            a.timezone,
            a.sport_type,
            a.effort,
            a.moving_time,
            a.distance,
            a.raw["total_elevation_gain"].as_float(),
            a.average_heartrate,
            a.max_heartrate,
        ).where(a.athlete_id == athlete_id, a.deleted_at.is_(None))
    ).all()
    zones: dict[str | None, ZoneInfo] = {}
    workouts = []
    for id_, start, elapsed, zone_name, sport, effort, moving, distance, gain, average, peak in rows:
        zone = zones.get(zone_name)
        if zone is None:
            zone = zones[zone_name] = _zone(zone_name) or fallback
        end = start + timedelta(seconds=elapsed or 0)
        workouts.append(
            Workout(
                id=id_,
                day=end.astimezone(zone).date(),
                start=start,
                is_run=sport in RUN_SPORTS,
                effort=effort,
                moving_time=moving or 0,
                distance=distance or 0.0,
                elevation_gain=gain or 0.0,
                average_hr=average,
                max_hr=peak,
            )
        )
    return workouts


def athlete_zone(session: Session, athlete: models.Athlete, default_zone: str) -> ZoneInfo:
    """Where the athlete is now: their latest activity's zone, else their profile's, else the default."""
    latest = session.scalar(
        select(models.Activity.timezone)
        .where(models.Activity.athlete_id == athlete.id, models.Activity.deleted_at.is_(None))
        .order_by(models.Activity.start_date.desc())
        .limit(1)
    )
    return _zone(latest) or _zone(athlete.timezone) or ZoneInfo(default_zone)


def athlete_form(session: Session, athlete: models.Athlete, default_zone: str, now: datetime) -> AthleteForm:
    zone = athlete_zone(session, athlete, default_zone)
    today = now.astimezone(zone).date()
    workouts = athlete_workouts(session, athlete.id, zone)
    loads = workout_loads(workouts, profile_of(athlete))
    # An activity dated in the future (a wrong clock) counts from its day but the series ends today.
    daily = {day: load for day, load in daily_loads(loads).items() if day <= today}
    return AthleteForm(zone, today, workouts, loads, form.series(daily, today))
