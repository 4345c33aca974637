"""An activity as the domain sees it, parsed from Strava's JSON (SummaryActivity or DetailedActivity)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.errors import InputError

RUN_SPORTS = frozenset({"Run", "TrailRun", "VirtualRun"})

# The largest value of a field that is still a measurement; beyond it (or negative, NaN, infinite) the field
# is treated as unknown, so one broken sensor or a hand-edited file never stops an athlete's activity from
# being classified and planned with what is known.
_LIMITS: dict[str, float] = {
    "elapsed_time": 14 * 86400.0,
    "moving_time": 14 * 86400.0,
    "distance": 5_000_000.0,
    "total_elevation_gain": 100_000.0,
    "average_speed": 50.0,
    "max_speed": 100.0,
    "average_heartrate": 260.0,
    "max_heartrate": 260.0,
}
# Instants outside these years are not real activities (wall-clock arithmetic near datetime's limits fails).
_FIRST_YEAR, _LAST_YEAR = 1970, 2200

# Strava writes "(GMT-05:00) America/Toronto"; the IANA name is the last token.
_TZ_RE = re.compile(r"^\s*(?:\(GMT[^)]*\)\s*)?(?P<name>[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)*)\s*$")


@dataclass(frozen=True, slots=True)
class Lap:
    elapsed_time: int
    moving_time: int
    distance: float
    average_speed: float | None = None
    max_speed: float | None = None
    average_heartrate: float | None = None
    max_heartrate: float | None = None
    lap_index: int | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    name: str
    sport_type: str
    start_date: datetime  # aware, UTC
    elapsed_time: int  # seconds
    moving_time: int  # seconds
    distance: float  # metres
    athlete_id: int | None = None
    workout_type: int | None = None
    timezone: str | None = None  # IANA name, validated
    total_elevation_gain: float = 0.0
    average_speed: float | None = None  # m/s
    max_speed: float | None = None
    average_heartrate: float | None = None
    max_heartrate: float | None = None
    trainer: bool = False
    commute: bool = False
    manual: bool = False
    private: bool = False
    description: str | None = None
    laps: tuple[Lap, ...] = field(default_factory=tuple)

    @property
    def end(self) -> datetime:
        """An activity ends at start_date + elapsed_time (Strava's own definition)."""
        return self.start_date + timedelta(seconds=self.elapsed_time)

    @property
    def is_run(self) -> bool:
        return self.sport_type in RUN_SPORTS

    @property
    def has_heartrate(self) -> bool:
        return self.average_heartrate is not None and self.average_heartrate > 0

    def zone(self, default: str) -> ZoneInfo:
        """The activity's own IANA zone, else `default` (already validated by settings)."""
        return ZoneInfo(self.timezone or default)


def parse_timezone(value: str, where: str) -> str:
    """Return the IANA zone name in a Strava `timezone` string, or raise InputError naming `where`."""
    match = _TZ_RE.match(value)
    name = match.group("name") if match else value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{where}: unknown time zone {value!r}") from None
    return name


def parse_instant(value: Any, where: str, field_name: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: missing {field_name}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: {field_name} is not an ISO 8601 instant: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # Strava's start_date is UTC even when unmarked
    if not _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
        raise InputError(f"{where}: {field_name} {value!r} is not a plausible date")
    return parsed.astimezone(UTC)


def _num(raw: Mapping[str, Any], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: {key} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    if not math.isfinite(number) or number < 0 or number > _LIMITS.get(key, math.inf):
        return None
    return number


def _int(raw: Mapping[str, Any], key: str, where: str, default: int = 0) -> int:
    value = _num(raw, key, where)
    return default if value is None else round(value)


def _parse_lap(raw: Any, where: str) -> Lap:
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: a lap must be an object")
    return Lap(
        elapsed_time=_int(raw, "elapsed_time", where),
        moving_time=_int(raw, "moving_time", where),
        distance=_num(raw, "distance", where) or 0.0,
        average_speed=_num(raw, "average_speed", where),
        max_speed=_num(raw, "max_speed", where),
        average_heartrate=_num(raw, "average_heartrate", where),
        max_heartrate=_num(raw, "max_heartrate", where),
        lap_index=_int(raw, "lap_index", where) if raw.get("lap_index") is not None else None,
    )


def parse_activity(raw: Any, where: str = "activity") -> Activity:
    """Parse one Strava activity object; raise InputError with a one-line reason naming `where`."""
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    activity_id = raw.get("id")
    if isinstance(activity_id, bool) or not isinstance(activity_id, int):
        raise InputError(f"{where}: missing or non-integer id")
    where = f"{where} (id {activity_id})"
    start = parse_instant(raw.get("start_date"), where, "start_date")
    tz_raw = raw.get("timezone")
    timezone = parse_timezone(tz_raw, where) if isinstance(tz_raw, str) and tz_raw.strip() else None
    sport = raw.get("sport_type") or raw.get("type") or "Run"
    athlete = raw.get("athlete")
    athlete_id = athlete.get("id") if isinstance(athlete, Mapping) else None
    workout_type = raw.get("workout_type")
    laps_raw = raw.get("laps") or []
    if not isinstance(laps_raw, list):
        raise InputError(f"{where}: laps must be an array")
    elapsed = _int(raw, "elapsed_time", where)
    moving = _int(raw, "moving_time", where, default=elapsed)
    heart = _num(raw, "average_heartrate", where)
    if raw.get("has_heartrate") is False:
        heart = None
    return Activity(
        id=activity_id,
        name=str(raw.get("name") or ""),
        sport_type=str(sport),
        start_date=start,
        elapsed_time=elapsed,
        moving_time=moving or elapsed,
        distance=_num(raw, "distance", where) or 0.0,
        athlete_id=athlete_id if isinstance(athlete_id, int) else None,
        workout_type=workout_type
        if isinstance(workout_type, int) and not isinstance(workout_type, bool)
        else None,
        timezone=timezone,
        total_elevation_gain=_num(raw, "total_elevation_gain", where) or 0.0,
        average_speed=_num(raw, "average_speed", where),
        max_speed=_num(raw, "max_speed", where),
        average_heartrate=heart,
        max_heartrate=_num(raw, "max_heartrate", where) if heart is not None else None,
        trainer=bool(raw.get("trainer")),
        commute=bool(raw.get("commute")),
        manual=bool(raw.get("manual")),
        private=bool(raw.get("private")),
        description=raw.get("description") if isinstance(raw.get("description"), str) else None,
        laps=tuple(_parse_lap(lap, f"{where} lap {i}") for i, lap in enumerate(laps_raw)),
    )
