"""TCX files (Garmin Training Center XML), read with the standard library's ElementTree.

Not tcxreader: it drops the laps' own TotalTimeSeconds (the timer time, i.e. moving time), reads "…Z"
stamps as naive datetimes and by default drops every point without GPS, which empties a treadmill run. The
format is small and fixed by its schema, so the fields needed are read here directly.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from scheduler.files import sports
from scheduler.files.recording import FileRejected, RecordedLap, Recording

NS = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
# Per-point reads by the full tag of a direct child: ElementTree finds those in C, while a prefixed path goes
# through its Python path engine (most of the parse time of a long run).
TIME, POSITION, ALTITUDE = (f"{{{NS['t']}}}{name}" for name in ("Time", "Position", "AltitudeMeters"))
LATITUDE, LONGITUDE = (f"{{{NS['t']}}}{name}" for name in ("LatitudeDegrees", "LongitudeDegrees"))


def parse_tcx(data: bytes) -> Recording:
    try:
        root = ET.fromstring(data)  # noqa: S314  (expat refuses entity expansion bombs; no external entities)
    except ET.ParseError as exc:
        raise FileRejected(f"corrupt TCX file ({exc})") from None
    activity = root.find("t:Activities/t:Activity", NS)
    if activity is None:
        raise FileRejected("TCX file holds no activity (a course or workout file?)")
    lap_nodes = activity.findall("t:Lap", NS)
    if not lap_nodes:
        raise FileRejected("TCX activity has no laps")
    points = activity.findall("t:Lap/t:Track/t:Trackpoint", NS)
    times = [t for p in points if (t := _time(p.findtext(TIME))) is not None]
    starts = [t for lap in lap_nodes if (t := _time(lap.get("StartTime"))) is not None]
    start = min([*starts, *times], default=None) or _time(activity.findtext("t:Id", None, NS))
    if start is None:
        raise FileRejected("TCX activity has no start time")
    laps = tuple(_lap(node) for node in lap_nodes)
    moving = sum(lap.moving_time for lap in laps)
    elapsed = max((max(times) - start).total_seconds() if times else 0.0, moving)
    weighted = [(lap.average_heartrate, lap.moving_time) for lap in laps if lap.average_heartrate is not None]
    seconds = sum(w for _, w in weighted)
    maxima = [lap.max_heartrate for lap in laps if lap.max_heartrate is not None]
    position = _first_position(points)
    notes = (activity.findtext("t:Notes", "", NS) or "").strip()
    return Recording(
        sport_type=sports.from_word(activity.get("Sport")),
        start=start,
        elapsed_time=elapsed,
        moving_time=moving,
        distance=sum(lap.distance for lap in laps),
        elevation_gain=_ascent(points),
        average_heartrate=sum(hr * w for hr, w in weighted) / seconds if weighted and seconds > 0 else None,
        max_heartrate=max(maxima) if maxima else None,
        max_speed=max((lap.max_speed for lap in laps if lap.max_speed), default=None),
        name=notes.splitlines()[0][:200] if notes else None,
        trainer=position is None,
        first_position=position,
        device=(activity.findtext("t:Creator/t:Name", "", NS) or "").strip() or None,
        laps=laps if len(laps) > 1 else (),
    )


def _lap(node: ET.Element) -> RecordedLap:
    seconds = _number(node.findtext("t:TotalTimeSeconds", None, NS)) or 0.0
    times = [t for p in node.findall("t:Track/t:Trackpoint", NS) if (t := _time(p.findtext(TIME)))]
    start = _time(node.get("StartTime")) or (min(times) if times else None)
    elapsed = (max(times) - start).total_seconds() + 1 if times and start else seconds
    return RecordedLap(
        elapsed_time=max(elapsed, seconds),
        moving_time=seconds,
        distance=_number(node.findtext("t:DistanceMeters", None, NS)) or 0.0,
        average_heartrate=_number(node.findtext("t:AverageHeartRateBpm/t:Value", None, NS)),
        max_heartrate=_number(node.findtext("t:MaximumHeartRateBpm/t:Value", None, NS)),
        max_speed=_number(node.findtext("t:MaximumSpeed", None, NS)),
    )


def _first_position(points: list[ET.Element]) -> tuple[float, float] | None:
    for point in points:
        position = point.find(POSITION)
        if position is None:
            continue
        lat = _number(position.findtext(LATITUDE), allow_negative=True)
        lon = _number(position.findtext(LONGITUDE), allow_negative=True)
        if lat is not None and lon is not None:
            return lat, lon
    return None


def _ascent(points: list[ET.Element]) -> float:
    texts = (p.findtext(ALTITUDE) for p in points)
    heights = [h for text in texts if (h := _number(text, allow_negative=True)) is not None]
    return sum(max(0.0, b - a) for a, b in itertools.pairwise(heights))


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FileRejected(f"TCX time {text.strip()[:40]!r} is not an ISO 8601 instant") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _number(text: Any, allow_negative: bool = False) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise FileRejected(f"TCX value {str(text).strip()[:40]!r} is not a number") from None
    return value if allow_negative or value >= 0 else None
