"""FIT files (Garmin, Coros, Suunto, Polar, Wahoo …) through fitdecode, with the CRC checked."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from scheduler.files import sports
from scheduler.files.recording import FileRejected, RecordedLap, Recording

SEMICIRCLE = 180 / 2**31


def parse_fit(data: bytes) -> Recording:
    import fitdecode  # on the first FIT file: the daemon stays small until one arrives

    sessions: list[dict[str, Any]] = []
    laps: list[dict[str, Any]] = []
    activity: dict[str, Any] = {}
    position: tuple[float, float] | None = None
    device: str | None = None
    try:
        with fitdecode.FitReader(
            io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE, error_handling=fitdecode.ErrorHandling.RAISE
        ) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "record":
                    if position is None:
                        position = _position(frame)
                    continue
                if frame.name in ("session", "lap", "activity", "file_id"):
                    values = {f.name: f.value for f in frame.fields if f.value is not None}
                    if frame.name == "session":
                        sessions.append(values)
                    elif frame.name == "lap":
                        laps.append(values)
                    elif frame.name == "activity":
                        activity = values
                    elif device is None:
                        device = _device(values)
    except fitdecode.FitCRCError:
        raise FileRejected("corrupt FIT file (checksum mismatch)") from None
    except fitdecode.FitEOFError:
        raise FileRejected("truncated FIT file") from None
    except fitdecode.FitHeaderError as exc:
        raise FileRejected(f"not a FIT file ({exc})") from None
    except (fitdecode.FitError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise FileRejected(f"unreadable FIT file ({type(exc).__name__}: {exc})") from None
    if not sessions:
        raise FileRejected("FIT file holds no activity session (a course, workout or settings file?)")
    session = sessions[0]  # a multisport file: its first sport (the run of a brick is its own file on Strava)
    start = session.get("start_time") or session.get("timestamp")
    if not isinstance(start, datetime):
        raise FileRejected("FIT session has no start time")
    sport = sports.from_fit(session.get("sport"), session.get("sub_sport"))
    elapsed = _float(session.get("total_elapsed_time")) or 0.0
    return Recording(
        sport_type=sport,
        start=start,
        elapsed_time=elapsed,
        moving_time=_float(session.get("total_timer_time")) or elapsed,
        distance=_float(session.get("total_distance")) or 0.0,
        elevation_gain=_float(session.get("total_ascent")) or 0.0,
        average_heartrate=_float(session.get("avg_heart_rate")),
        max_heartrate=_float(session.get("max_heart_rate")),
        max_speed=_float(session.get("enhanced_max_speed", session.get("max_speed"))),
        trainer=position is None and str(session.get("sub_sport")) in sports.INDOOR_SUB_SPORTS,
        utc_offset=_offset(activity),
        first_position=position,
        device=device,
        laps=tuple(_lap(lap) for lap in laps if _in_session(lap, start, elapsed)),
    )


def _lap(values: dict[str, Any]) -> RecordedLap:
    elapsed = _float(values.get("total_elapsed_time")) or 0.0
    return RecordedLap(
        elapsed_time=elapsed,
        moving_time=_float(values.get("total_timer_time")) or elapsed,
        distance=_float(values.get("total_distance")) or 0.0,
        average_heartrate=_float(values.get("avg_heart_rate")),
        max_heartrate=_float(values.get("max_heart_rate")),
        max_speed=_float(values.get("enhanced_max_speed", values.get("max_speed"))),
    )


def _in_session(lap: dict[str, Any], start: datetime, elapsed: float) -> bool:
    lap_start = lap.get("start_time")
    if not isinstance(lap_start, datetime):
        return True
    return start - timedelta(seconds=1) <= lap_start <= start + timedelta(seconds=elapsed + 1)


def _offset(activity: dict[str, Any]) -> timedelta | None:
    """FIT's local_timestamp minus its timestamp: the device clock's offset, to the quarter hour."""
    local, utc = activity.get("local_timestamp"), activity.get("timestamp")
    if not isinstance(local, datetime) or not isinstance(utc, datetime):
        return None
    quarters = round((local.replace(tzinfo=None) - utc.replace(tzinfo=None)).total_seconds() / 900)
    if abs(quarters) > 14 * 4:
        return None
    return timedelta(minutes=15 * quarters)


def _position(frame: Any) -> tuple[float, float] | None:
    lat = frame.get_value("position_lat", fallback=None) if frame.has_field("position_lat") else None
    lon = frame.get_value("position_long", fallback=None) if frame.has_field("position_long") else None
    if not isinstance(lat, int) or not isinstance(lon, int):
        return None
    return lat * SEMICIRCLE, lon * SEMICIRCLE


def _device(values: dict[str, Any]) -> str | None:
    manufacturer = values.get("manufacturer")
    product = values.get("garmin_product") or values.get("product_name") or values.get("product")
    parts = [str(p) for p in (manufacturer, product) if p is not None and not isinstance(p, int)]
    return " ".join(parts) or None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
