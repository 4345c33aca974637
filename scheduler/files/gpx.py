"""GPX files (1.0 and 1.1): one lap per track segment, heart rate from Garmin's TrackPointExtension.

The XML is read with the standard library's ElementTree, and the moving time, distance and climb are
gpxpy's (its segment and point classes, so its haversine, stop detection and elevation smoothing). Not
gpxpy.parse: it builds every optional field of every point through a per-field lookup, two thirds of the
time of a whole import of a 5-year archive; the points here carry only what the summary uses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from scheduler.files import sports
from scheduler.files.recording import FileRejected, RecordedLap, Recording

# Slower than this between two points counts as stopped (a walk at a crossing is 1 m/s and still moving).
STOPPED_SPEED = 0.3  # m/s
HEART_RATE_TAGS = ("hr", "heartrate")


def parse_gpx(data: bytes) -> Recording:
    import gpxpy.gpx  # on the first GPX file

    try:
        root = ET.fromstring(data)  # noqa: S314  (expat refuses entity expansion bombs; no external entities)
    except ET.ParseError as exc:
        raise FileRejected(f"corrupt GPX file ({exc})") from None
    if _local(root.tag) != "gpx":
        raise FileRejected("not a GPX file (no <gpx> root)")
    tracks = [child for child in root if _local(child.tag) == "trk"]
    segments: list[tuple[Any, list[float]]] = []  # (gpxpy segment, heart rates)
    for track in tracks:
        for node in track:
            if _local(node.tag) == "trkseg":
                segment, rates = _segment(node, gpxpy.gpx)
                if sum(1 for p in segment.points if p.time is not None) >= 2:
                    segments.append((segment, rates))
    if not segments:
        raise FileRejected("GPX file holds no timed track points (a route, not an activity?)")
    timed = [p for segment, _ in segments for p in segment.points if p.time is not None]
    start, end = timed[0].time, timed[-1].time
    laps = tuple(_lap(segment, rates) for segment, rates in segments)
    rates = [hr for _, segment_rates in segments for hr in segment_rates]
    first = tracks[0]
    return Recording(
        sport_type=sports.from_word(_text(first, "type")),
        start=start,
        elapsed_time=(end - start).total_seconds(),
        moving_time=sum(lap.moving_time for lap in laps),
        distance=sum(lap.distance for lap in laps),
        elevation_gain=sum(segment.get_uphill_downhill().uphill or 0.0 for segment, _ in segments),
        average_heartrate=sum(rates) / len(rates) if rates else None,
        max_heartrate=float(max(rates)) if rates else None,
        max_speed=max((lap.max_speed or 0.0 for lap in laps), default=None) or None,
        name=(_text(first, "name") or _document_name(root) or "").strip() or None,
        first_position=(timed[0].latitude, timed[0].longitude),
        device=root.get("creator"),
        laps=laps if len(laps) > 1 else (),
    )


def _segment(node: ET.Element, gpx: Any) -> tuple[Any, list[float]]:
    """The segment's points as gpxpy's (position, elevation, time), and the heart rates of its timed ones."""
    segment = gpx.GPXTrackSegment()
    rates: list[float] = []
    for point in node:
        if _local(point.tag) != "trkpt":
            continue
        elevation = time = None
        rate: float | None = None
        for child in point:
            name = _local(child.tag)
            if name == "ele":
                elevation = _number(child.text, "elevation")
            elif name == "time":
                time = _time(child.text)
            elif name == "extensions":
                rate = _heart_rate(child)
        segment.points.append(
            gpx.GPXTrackPoint(
                _number(point.get("lat"), "latitude"),
                _number(point.get("lon"), "longitude"),
                elevation=elevation,
                time=time,
            )
        )
        if rate is not None and time is not None:
            rates.append(rate)
    return segment, rates


def _lap(segment: Any, rates: list[float]) -> RecordedLap:
    timed = [p for p in segment.points if p.time is not None]
    moving = segment.get_moving_data(stopped_speed_threshold=STOPPED_SPEED)
    return RecordedLap(
        elapsed_time=(timed[-1].time - timed[0].time).total_seconds(),
        moving_time=float(moving.moving_time),
        distance=float(moving.moving_distance + moving.stopped_distance),
        average_heartrate=sum(rates) / len(rates) if rates else None,
        max_heartrate=float(max(rates)) if rates else None,
        max_speed=float(moving.max_speed) if moving.max_speed else None,
    )


def _heart_rate(extensions: ET.Element) -> float | None:
    for element in extensions.iter():
        if _local(element.tag).lower() in HEART_RATE_TAGS and element.text:
            try:
                value = float(element.text)
            except ValueError:
                return None
            return value if 20 <= value <= 260 else None
    return None


def _document_name(root: ET.Element) -> str | None:
    """GPX 1.1 names the file in <metadata>, GPX 1.0 at the root."""
    for child in root:
        if _local(child.tag) == "metadata":
            return _text(child, "name")
    return _text(root, "name")


def _text(node: ET.Element, name: str) -> str | None:
    for child in node:
        if _local(child.tag) == name:
            return child.text
    return None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _number(text: str | None, what: str) -> float:
    try:
        return float(text or "")
    except ValueError:
        raise FileRejected(f"corrupt GPX file ({what} {str(text)[:40]!r} is not a number)") from None


def _time(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        from gpxpy.gpxfield import parse_time  # the other spellings devices write, as gpxpy reads them

        try:
            parsed = parse_time(text.strip())
        except Exception:  # gpxpy raises its own exception for a time it cannot read
            parsed = None
        if parsed is None:
            raise FileRejected(f"corrupt GPX file (time {text.strip()[:40]!r})") from None
        value = parsed
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
