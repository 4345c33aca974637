"""What a parser reads from an activity file, and how it becomes the Strava-shaped summary ingest takes.

Every format ends here, so the id scheme, the default name, the sport names and the time zone are decided once
for all of them. The summary has a `laps` key even when empty: a file holds everything there is to know, so
ingest never asks Strava for a detail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.files.zones import choose_zone

# File activities get ids in [2^62, 2^63): Strava's are far below (about 1.6e10 in 2026) and grow by ~1e9 a
# year, and every id stays a positive BIGINT. The low 62 bits are the file's SHA-256, so the same bytes give
# the same id whatever the file is called.
FILE_ID_BASE = 1 << 62


class FileRejected(Exception):
    """The file is not a usable activity (corrupt, truncated, empty, not an activity): one line saying why."""


@dataclass(frozen=True, slots=True)
class RecordedLap:
    elapsed_time: float
    moving_time: float
    distance: float
    average_heartrate: float | None = None
    max_heartrate: float | None = None
    max_speed: float | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """One activity as a file records it. Times are aware UTC; `utc_offset` is the device's, when it says."""

    sport_type: str  # Strava's names: Run, TrailRun, VirtualRun, Ride, Walk, Hike, Swim, Workout …
    start: datetime
    elapsed_time: float
    moving_time: float
    distance: float
    elevation_gain: float = 0.0
    average_heartrate: float | None = None
    max_heartrate: float | None = None
    max_speed: float | None = None
    name: str | None = None
    trainer: bool = False  # indoors: a treadmill, no GPS
    utc_offset: timedelta | None = None
    first_position: tuple[float, float] | None = None  # (lat, lon) degrees
    device: str | None = None
    laps: tuple[RecordedLap, ...] = field(default_factory=tuple)


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_activity_id(digest: str) -> int:
    return FILE_ID_BASE | (int(digest[:16], 16) >> 2)


def is_file_activity(activity_id: int) -> bool:
    return activity_id >= FILE_ID_BASE


def default_name(sport_type: str, local_start: datetime) -> str:
    """Strava's automatic name for an unnamed activity ("Morning Run"), which the classifier ignores."""
    hour = local_start.hour
    part = (
        "Morning"
        if 4 <= hour < 11
        else "Lunch"
        if hour < 14 and hour >= 11
        else "Afternoon"
        if 14 <= hour < 17
        else "Evening"
        if 17 <= hour < 21
        else "Night"
    )
    noun = {"TrailRun": "Trail Run", "VirtualRun": "Run", "WeightTraining": "Weight Training"}.get(
        sport_type, sport_type
    )
    return f"{part} {noun}"


def summary(
    recording: Recording, digest: str, athlete_id: int, athlete_zone: str | None, source: str
) -> dict[str, Any]:
    """The Strava-shaped activity JSON ingest stores, classifies and plans like one read from Strava."""
    zone = choose_zone(recording.start, recording.utc_offset, recording.first_position, athlete_zone)
    local = recording.start.astimezone(_zone_info(zone)) if zone else recording.start
    moving = recording.moving_time or recording.elapsed_time
    laps = [
        {
            "lap_index": index + 1,
            "elapsed_time": round(lap.elapsed_time),
            "moving_time": round(lap.moving_time or lap.elapsed_time),
            "distance": lap.distance,
            "average_speed": lap.distance / lap.moving_time if lap.moving_time > 0 else None,
            "max_speed": lap.max_speed,
            "average_heartrate": lap.average_heartrate,
            "max_heartrate": lap.max_heartrate,
        }
        for index, lap in enumerate(recording.laps)
    ]
    return {
        "id": file_activity_id(digest),
        "athlete": {"id": athlete_id},
        "name": recording.name or default_name(recording.sport_type, local),
        "sport_type": recording.sport_type,
        "type": recording.sport_type,
        "start_date": recording.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "start_date_local": local.replace(tzinfo=None).isoformat() + "Z",
        "timezone": zone,
        "elapsed_time": round(recording.elapsed_time),
        "moving_time": round(moving),
        "distance": recording.distance,
        "total_elevation_gain": recording.elevation_gain,
        "average_speed": recording.distance / moving if moving > 0 else None,
        "max_speed": recording.max_speed,
        "has_heartrate": recording.average_heartrate is not None,
        "average_heartrate": recording.average_heartrate,
        "max_heartrate": recording.max_heartrate,
        "trainer": recording.trainer,
        "manual": False,
        "device_name": recording.device,
        "external_id": source,
        "file_sha256": digest,
        "laps": laps,
    }


def _zone_info(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
