"""GPX files through gpxpy: one lap per track segment, heart rate from Garmin's TrackPointExtension."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheduler.files import sports
from scheduler.files.recording import FileRejected, RecordedLap, Recording

# Slower than this between two points counts as stopped (a walk at a crossing is 1 m/s and still moving).
STOPPED_SPEED = 0.3  # m/s


def parse_gpx(data: bytes) -> Recording:
    import gpxpy  # on the first GPX file
    import gpxpy.gpx

    try:
        gpx = gpxpy.parse(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FileRejected("GPX file is not UTF-8 text") from None
    except gpxpy.gpx.GPXException as exc:
        raise FileRejected(f"corrupt GPX file ({str(exc).splitlines()[0]})") from None
    segments = [s for track in gpx.tracks for s in track.segments if _timed(s.points)]
    if not segments:
        raise FileRejected("GPX file holds no timed track points (a route, not an activity?)")
    points = [p for s in segments for p in s.points if p.time is not None]
    times = [_utc(p.time) for p in points if p.time is not None]
    start, end = times[0], times[-1]
    laps = tuple(_segment_lap(s) for s in segments)
    rates = [hr for p in points if (hr := _heart_rate(p)) is not None]
    uphill = sum(s.get_uphill_downhill().uphill or 0.0 for s in segments)
    track = gpx.tracks[0]
    return Recording(
        sport_type=sports.from_word(track.type),
        start=start,
        elapsed_time=(end - start).total_seconds(),
        moving_time=sum(lap.moving_time for lap in laps),
        distance=sum(lap.distance for lap in laps),
        elevation_gain=uphill,
        average_heartrate=sum(rates) / len(rates) if rates else None,
        max_heartrate=float(max(rates)) if rates else None,
        max_speed=max((lap.max_speed or 0.0 for lap in laps), default=None) or None,
        name=(track.name or gpx.name or "").strip() or None,
        first_position=(points[0].latitude, points[0].longitude),
        device=gpx.creator,
        laps=laps if len(laps) > 1 else (),
    )


def _timed(points: list[Any]) -> bool:
    return sum(1 for p in points if p.time is not None) >= 2


def _segment_lap(segment: Any) -> RecordedLap:
    timed = [p for p in segment.points if p.time is not None]
    moving = segment.get_moving_data(stopped_speed_threshold=STOPPED_SPEED)
    rates = [hr for p in timed if (hr := _heart_rate(p)) is not None]
    return RecordedLap(
        elapsed_time=(_utc(timed[-1].time) - _utc(timed[0].time)).total_seconds(),
        moving_time=float(moving.moving_time),
        distance=float(moving.moving_distance + moving.stopped_distance),
        average_heartrate=sum(rates) / len(rates) if rates else None,
        max_heartrate=float(max(rates)) if rates else None,
        max_speed=float(moving.max_speed) if moving.max_speed else None,
    )


def _heart_rate(point: Any) -> float | None:
    for extension in point.extensions:
        for element in extension.iter():
            if element.tag.rsplit("}", 1)[-1].lower() in ("hr", "heartrate") and element.text:
                try:
                    value = float(element.text)
                except ValueError:
                    return None
                return value if 20 <= value <= 260 else None
    return None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
