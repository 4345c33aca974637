"""The time zone of a file's activity: the device's offset, the place it started, else the athlete's."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def choose_zone(
    start: datetime,
    utc_offset: timedelta | None,
    position: tuple[float, float] | None,
    athlete_zone: str | None,
) -> str | None:
    """An IANA zone for the activity; None leaves it to RECOVERY_TIMEZONE (ingest's default zone).

    The device's offset is what its clock showed, so it wins; but an offset is not a zone (wall-clock steps
    the next day need DST rules), so the place's zone or the athlete's is taken when it has that offset at the
    start, and a fixed `Etc/GMT±N` zone only when neither does.
    """
    candidates = [zone for zone in (position_zone(position), athlete_zone) if zone]
    if utc_offset is None:
        return candidates[0] if candidates else None
    for zone in candidates:
        if start.astimezone(ZoneInfo(zone)).utcoffset() == utc_offset:
            return zone
    return fixed_offset_zone(utc_offset) or (candidates[0] if candidates else None)


def fixed_offset_zone(offset: timedelta) -> str | None:
    """`Etc/GMT-2` is UTC+2 (POSIX signs); only whole hours exist."""
    seconds = round(offset.total_seconds())
    if seconds % 3600:
        return None
    hours = seconds // 3600
    name = "Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def position_zone(position: tuple[float, float] | None) -> str | None:
    if position is None:
        return None
    lat, lon = position
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    name = _finder().timezone_at(lng=lon, lat=lat)
    return str(name) if name else None


@functools.cache
def _finder() -> Any:
    # Imported on the first file with coordinates: its data and numpy stay out of an idle daemon.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()
