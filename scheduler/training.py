"""An athlete's training load and form from the stored activities: the shell around domain.load and form.

Loads are recomputed from the activities (not read from `activities.load`, whose scale depends on whether a
threshold heart rate was set when the activity was classified), so a changed profile, a corrected class or a
late backfill is reflected at once. A 5-year history takes well under 0.2 s (bench/load_bench.py).

The daemon's daily job is incremental (`FormCache`): it keeps each athlete's picture with a fingerprint of
what it came from (the count and latest `updated_at` of their kept activities, the heart rates that scale
loads, the zones). While the fingerprint holds, a later day only continues the form series from the kept
state (scheduler.domain.form.continue_series), without reading the history again; any change to it (a new,
edited, corrected or deleted activity, a new heart rate) recomputes from scratch, because one activity can
change every load (the heart-rate scale is the history's highest believable maximum, the threshold pace
comes from the races before each run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.domain import form
from scheduler.domain.activity import RUN_SPORTS
from scheduler.domain.load import Workout, WorkoutLoad, daily_loads, workout_loads
from scheduler.domain.zones import zone_named
from scheduler.ingest import profile_of
from scheduler.lookahead import athlete_zone  # where the athlete is now: one rule for the page and jobs
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
            zone = zones[zone_name] = zone_named(zone_name) or fallback
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


def athlete_form(session: Session, athlete: models.Athlete, default_zone: str, now: datetime) -> AthleteForm:
    return _computed(session, athlete, default_zone, now).picture


@dataclass(frozen=True, slots=True)
class _Computed:
    picture: AthleteForm
    daily: dict[date, float]  # every day's load, also those after `today` (a wrong clock)
    state: form.FormState | None  # the series' state at the end of `picture.today`; None without a day


def _computed(session: Session, athlete: models.Athlete, default_zone: str, now: datetime) -> _Computed:
    zone = athlete_zone(session, athlete, default_zone)
    today = now.astimezone(zone).date()
    workouts = athlete_workouts(session, athlete.id, zone)
    loads = workout_loads(workouts, profile_of(athlete))
    daily = daily_loads(loads)
    # An activity dated in the future (a wrong clock) counts from its day but the series ends today.
    known = {day: load for day, load in daily.items() if day <= today}
    state = None
    days: list[form.FormDay] = []
    if known:
        days, state = form.continue_series(form.start(min(known)), known, today)
    return _Computed(AthleteForm(zone, today, workouts, loads, days), daily, state)


Fingerprint = tuple[object, ...]


def fingerprint(session: Session, athlete: models.Athlete, default_zone: str) -> Fingerprint:
    """What an athlete's loads and form depend on, in one small query: equal fingerprints, equal loads."""
    a = models.Activity
    count, latest = session.execute(
        select(func.count(a.id), func.max(a.updated_at)).where(
            a.athlete_id == athlete.id, a.deleted_at.is_(None)
        )
    ).one()
    profile = profile_of(athlete)
    return (
        count,
        latest,
        profile.max_hr,
        profile.rest_hr,
        profile.threshold_hr,
        athlete.timezone,
        default_zone,
    )


@dataclass(frozen=True, slots=True)
class _Kept:
    fingerprint: Fingerprint
    computed: _Computed


class FormCache:
    """Each athlete's form picture as the daily job last computed it, continued day by day while nothing it
    came from changed (see the module's docstring). One per process; `hits`/`misses` count its use."""

    def __init__(self) -> None:
        self._kept: dict[int, _Kept] = {}
        self.hits = 0
        self.misses = 0

    def athlete_form(
        self, session: Session, athlete: models.Athlete, default_zone: str, now: datetime
    ) -> AthleteForm:
        key = fingerprint(session, athlete, default_zone)
        kept = self._kept.get(athlete.id)
        if kept is not None and kept.fingerprint == key:
            continued = _continued(kept.computed, now)
            if continued is not None:
                self.hits += 1
                self._kept[athlete.id] = _Kept(key, continued)
                return continued.picture
        self.misses += 1
        computed = _computed(session, athlete, default_zone, now)
        self._kept[athlete.id] = _Kept(key, computed)
        return computed.picture

    def forget(self, athlete_id: int) -> None:
        self._kept.pop(athlete_id, None)


def _continued(kept: _Computed, now: datetime) -> _Computed | None:
    """The kept picture carried on to `now`'s day; None when it cannot be (no series yet, time went back)."""
    old = kept.picture
    today = now.astimezone(old.zone).date()
    if kept.state is None or today < old.today:
        return None
    if today == old.today:
        return kept
    added, state = form.continue_series(kept.state, kept.daily, today)
    picture = AthleteForm(old.zone, today, old.workouts, old.loads, [*old.days, *added])
    return _Computed(picture, kept.daily, state)
