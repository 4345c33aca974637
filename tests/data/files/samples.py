"""Write small but real FIT, GPX and TCX activity files: laps, pauses, heart rate or none, GPS or a treadmill.

A `Run` describes the activity; `write_fit`, `write_gpx` and `write_tcx` encode it as a device would. Points
are one a second along a straight line north from (lat, lon), so distances and speeds are known exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport, SubSport

# Records every 5 s, as watches with smart recording write them (and fit-tool encodes slowly).
FIT_RECORD_EVERY = 5
FIT_EPOCH = 631_065_600  # 1989-12-31T00:00:00Z in Unix seconds
METRES_PER_DEGREE = 111_195.0  # along a meridian, on the sphere fitdecode/gpxpy-style haversine assumes


@dataclass(frozen=True)
class Lap:
    seconds: int
    speed: float  # m/s
    heart_rate: int | None = None


@dataclass(frozen=True)
class Run:
    start: datetime  # UTC
    laps: tuple[Lap, ...]
    lat: float | None = 43.64  # None: no GPS (treadmill)
    lon: float | None = -79.38
    utc_offset: timedelta | None = None  # FIT's local timestamp offset
    pause_after_lap: int | None = None  # index of the lap after which the watch was paused
    pause: timedelta = timedelta(minutes=5)
    name: str | None = None
    sport: str = "running"
    points: list[tuple[datetime, float, int | None]] = field(default_factory=list, compare=False)

    @property
    def distance(self) -> float:
        return sum(lap.seconds * lap.speed for lap in self.laps)

    @property
    def moving_seconds(self) -> int:
        return sum(lap.seconds for lap in self.laps)

    @property
    def elapsed_seconds(self) -> int:
        paused = self.pause.total_seconds() if self.pause_after_lap is not None else 0
        return int(self.moving_seconds + paused)


def race_10k(start: datetime, **changes: object) -> Run:
    """A 10 km race: ten 1 km laps at 4.2 m/s (39:41), hard heart rate."""
    laps = tuple(Lap(seconds=238, speed=1000 / 238, heart_rate=176) for _ in range(10))
    return Run(start=start, laps=laps, name="Harbourfront 10K race", **changes)  # type: ignore[arg-type]


def easy_run(start: datetime, minutes: int = 40, **changes: object) -> Run:
    laps = tuple(Lap(seconds=300, speed=2.9, heart_rate=138) for _ in range(minutes // 5))
    return Run(start=start, laps=laps, **changes)  # type: ignore[arg-type]


def _samples(run: Run) -> list[tuple[datetime, float, int | None, int]]:
    """(time, cumulative distance, heart rate, lap index) for each second of recording."""
    out = []
    at, distance = run.start, 0.0
    for index, lap in enumerate(run.laps):
        for _ in range(lap.seconds):
            out.append((at, distance, lap.heart_rate, index))
            at += timedelta(seconds=1)
            distance += lap.speed
        if run.pause_after_lap == index:
            at += run.pause
    return out


def _lat(run: Run, distance: float) -> float:
    assert run.lat is not None
    return run.lat + distance / METRES_PER_DEGREE


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def write_fit(run: Run, path: Path) -> Path:
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = 3113
    file_id.serial_number = 0x12345678
    file_id.time_created = _ms(run.start)
    builder.add(file_id)
    start_event = EventMessage()
    start_event.event = Event.TIMER
    start_event.event_type = EventType.START
    start_event.timestamp = _ms(run.start)
    builder.add(start_event)
    samples = _samples(run)
    sport = {"running": Sport.RUNNING, "cycling": Sport.CYCLING}[run.sport]
    lap_start = run.start
    for index, lap in enumerate(run.laps):
        for at, distance, heart_rate, lap_index in samples[::FIT_RECORD_EVERY]:
            if lap_index != index:
                continue
            record = RecordMessage()
            record.timestamp = _ms(at)
            record.distance = distance
            record.speed = lap.speed
            if heart_rate is not None:
                record.heart_rate = heart_rate
            if run.lat is not None and run.lon is not None:
                record.position_lat = _lat(run, distance)
                record.position_long = run.lon
            builder.add(record)
        lap_points = [s for s in samples if s[3] == index]
        lap_end = lap_points[-1][0] + timedelta(seconds=1)
        message = LapMessage()
        message.timestamp = _ms(lap_end)
        message.start_time = _ms(lap_start)
        message.total_elapsed_time = (lap_end - lap_start).total_seconds()
        message.total_timer_time = float(lap.seconds)
        message.total_distance = lap.seconds * lap.speed
        message.avg_speed = lap.speed
        message.max_speed = lap.speed
        if lap.heart_rate is not None:
            message.avg_heart_rate = lap.heart_rate
            message.max_heart_rate = lap.heart_rate + 4
        message.sport = sport
        builder.add(message)
        if run.pause_after_lap == index:
            for kind, when in ((EventType.STOP_ALL, lap_end), (EventType.START, lap_end + run.pause)):
                event = EventMessage()
                event.event = Event.TIMER
                event.event_type = kind
                event.timestamp = _ms(when)
                builder.add(event)
            lap_start = lap_end + run.pause
        else:
            lap_start = lap_end
    end = run.start + timedelta(seconds=run.elapsed_seconds)
    stop_event = EventMessage()
    stop_event.event = Event.TIMER
    stop_event.event_type = EventType.STOP_ALL
    stop_event.timestamp = _ms(end)
    builder.add(stop_event)
    session = SessionMessage()
    session.timestamp = _ms(end)
    session.start_time = _ms(run.start)
    session.total_elapsed_time = float(run.elapsed_seconds)
    session.total_timer_time = float(run.moving_seconds)
    session.total_distance = run.distance
    session.avg_speed = run.distance / run.moving_seconds
    session.max_speed = max(lap.speed for lap in run.laps)
    session.sport = sport
    session.sub_sport = SubSport.TREADMILL if run.lat is None and run.sport == "running" else SubSport.GENERIC
    session.num_laps = len(run.laps)
    rates = [lap.heart_rate for lap in run.laps if lap.heart_rate is not None]
    if rates:
        timed = [(lap.heart_rate, lap.seconds) for lap in run.laps if lap.heart_rate is not None]
        session.avg_heart_rate = round(sum(hr * s for hr, s in timed) / sum(s for _, s in timed))
        session.max_heart_rate = max(rates) + 4
    builder.add(session)
    activity = ActivityMessage()
    activity.timestamp = _ms(end)
    activity.total_timer_time = float(run.moving_seconds)
    activity.num_sessions = 1
    if run.utc_offset is not None:
        # FIT's local_timestamp is the local wall clock in seconds since the FIT epoch (1989-12-31), raw.
        activity.local_timestamp = round((end + run.utc_offset).timestamp()) - FIT_EPOCH
    builder.add(activity)
    builder.build().to_file(str(path))
    return path


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_gpx(run: Run, path: Path) -> Path:
    """GPX 1.1 as Garmin Connect exports it: one segment per lap, heart rate in TrackPointExtension."""
    assert run.lat is not None and run.lon is not None, "a GPX file needs coordinates"
    segments = []
    samples = _samples(run)
    for index in range(len(run.laps)):
        points = []
        for at, distance, heart_rate, lap_index in samples:
            if lap_index != index:
                continue
            hr = (
                "<extensions><gpxtpx:TrackPointExtension>"
                f"<gpxtpx:hr>{heart_rate}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>"
                if heart_rate is not None
                else ""
            )
            points.append(
                f'<trkpt lat="{_lat(run, distance):.7f}" lon="{run.lon:.7f}"><ele>80.0</ele>'
                f"<time>{_iso(at)}</time>{hr}</trkpt>"
            )
        segments.append("<trkseg>" + "".join(points) + "</trkseg>")
    name = f"<name>{run.name}</name>" if run.name else ""
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="Garmin Connect" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<metadata><time>{_iso(run.start)}</time></metadata>"
        f"<trk>{name}<type>{run.sport}</type>{''.join(segments)}</trk></gpx>\n",
        encoding="utf-8",
    )
    return path


def write_tcx(run: Run, path: Path) -> Path:
    samples = _samples(run)
    laps = []
    for index, lap in enumerate(run.laps):
        points = [s for s in samples if s[3] == index]
        trackpoints = []
        for at, distance, heart_rate, _ in points:
            position = (
                f"<Position><LatitudeDegrees>{_lat(run, distance):.7f}</LatitudeDegrees>"
                f"<LongitudeDegrees>{run.lon:.7f}</LongitudeDegrees></Position>"
                if run.lat is not None
                else ""
            )
            hr = f"<HeartRateBpm><Value>{heart_rate}</Value></HeartRateBpm>" if heart_rate is not None else ""
            trackpoints.append(
                f"<Trackpoint><Time>{_iso(at)}</Time>{position}"
                f"<DistanceMeters>{distance:.1f}</DistanceMeters>{hr}</Trackpoint>"
            )
        hr_summary = (
            f"<AverageHeartRateBpm><Value>{lap.heart_rate}</Value></AverageHeartRateBpm>"
            f"<MaximumHeartRateBpm><Value>{lap.heart_rate + 4}</Value></MaximumHeartRateBpm>"
            if lap.heart_rate is not None
            else ""
        )
        laps.append(
            f'<Lap StartTime="{_iso(points[0][0])}"><TotalTimeSeconds>{lap.seconds}</TotalTimeSeconds>'
            f"<DistanceMeters>{lap.seconds * lap.speed:.1f}</DistanceMeters>"
            f"<MaximumSpeed>{lap.speed:.3f}</MaximumSpeed><Calories>50</Calories>{hr_summary}"
            f"<Intensity>Active</Intensity><TriggerMethod>Distance</TriggerMethod>"
            f"<Track>{''.join(trackpoints)}</Track></Lap>"
        )
    sport = {"running": "Running", "cycling": "Biking"}[run.sport]
    notes = f"<Notes>{run.name}</Notes>" if run.name else ""
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        f'<Activities><Activity Sport="{sport}"><Id>{_iso(run.start)}</Id>{"".join(laps)}{notes}'
        "<Creator><Name>Forerunner 255</Name></Creator></Activity></Activities></TrainingCenterDatabase>\n",
        encoding="utf-8",
    )
    return path


def truncate(path: Path, keep: float = 0.6) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    return path


def lat_for(run: Run, metres: float) -> float:
    return _lat(run, metres) if run.lat is not None else math.nan
