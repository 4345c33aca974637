"""Builders of realistic Strava JSON (activities, laps, athletes) shaped as the API returns it.

The shapes follow what Strava really sends, which differs from its swagger in known ways: `workout_type`,
`gear_id`, `suffer_score`, `upload_id`, `external_id` and `description` can be null, heart-rate fields are
absent when the activity has no heart rate, and `start_latlng`/`end_latlng` are `[]` without GPS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Json = dict[str, Any]

DEFAULT_TIMEZONE = "(GMT-05:00) America/Toronto"
DEFAULT_DEVICE = "Garmin Forerunner 265"
HIGH_PARK = (43.6465, -79.4637)
# Google's documented sample polyline: a valid encoding, enough for clients that decode it.
SAMPLE_POLYLINE = "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
MILE = 1609.34

# Strava still sends the deprecated `type`; new sport types map onto an older one.
_LEGACY_TYPE = {
    "TrailRun": "Run",
    "MountainBikeRide": "Ride",
    "GravelRide": "Ride",
    "EMountainBikeRide": "EBikeRide",
    "HighIntensityIntervalTraining": "Workout",
    "Pilates": "Workout",
}
_INDOOR_SPORTS = frozenset({"VirtualRun", "VirtualRide", "VirtualRow", "WeightTraining", "Yoga", "Workout"})

# Keys the detailed representation adds; the list endpoint never carries them.
DETAIL_ONLY_FIELDS = frozenset(
    {
        "description",
        "calories",
        "perceived_exertion",
        "prefer_perceived_exertion",
        "segment_efforts",
        "splits_metric",
        "splits_standard",
        "laps",
        "best_efforts",
        "gear",
        "photos",
        "stats_visibility",
        "hide_from_home",
        "device_name",
        "embed_token",
        "available_zones",
        "private_note",
    }
)


def strava_instant(value: datetime) -> str:
    """Format an aware instant as Strava does: UTC, whole seconds, trailing Z."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Strava instants are UTC")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def strava_wall_clock(value: datetime, zone: ZoneInfo) -> str:
    """`start_date_local`: the wall clock in `zone`, with Strava's misleading trailing Z."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_of(timezone: str) -> ZoneInfo:
    """The IANA zone in a Strava `timezone` string such as "(GMT-05:00) America/Toronto"."""
    return ZoneInfo(timezone.rsplit(" ", 1)[-1])


def _integral_heartrate(value: float | None) -> float | None:
    if value is None:
        return None
    if float(value) != round(value):
        raise ValueError(f"max_heartrate must be integral (Strava sends whole beats), got {value}")
    return float(value)


def summary_activity(
    id: int,
    athlete_id: int,
    name: str,
    start_date: datetime,
    distance: float,
    moving_time: int,
    elapsed_time: int | None = None,
    *,
    sport_type: str = "Run",
    workout_type: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    average_heartrate: float | None = None,
    max_heartrate: float | None = None,
    total_elevation_gain: float = 0.0,
    max_speed: float | None = None,
    average_cadence: float | None = None,
    private: bool = False,
    manual: bool = False,
    trainer: bool = False,
    commute: bool = False,
    suffer_score: int | None = None,
    gear_id: str | None = None,
    **overrides: Any,
) -> Json:
    """A SummaryActivity as `GET /athlete/activities` returns it; `overrides` replace any field last."""
    elapsed = moving_time if elapsed_time is None else elapsed_time
    zone = zone_of(timezone)
    offset = start_date.astimezone(zone).utcoffset() or timedelta(0)
    average_speed = round(distance / moving_time, 3) if moving_time else 0.0
    has_gps = not (manual or trainer or sport_type in _INDOOR_SPORTS)
    start_latlng = list(HIGH_PARK) if has_gps else []
    upload_id = None if manual else id * 3 + 7
    activity: Json = {
        "resource_state": 2,
        "athlete": {"id": athlete_id, "resource_state": 1},
        "name": name,
        "distance": float(distance),
        "moving_time": int(moving_time),
        "elapsed_time": int(elapsed),
        "total_elevation_gain": float(total_elevation_gain),
        "type": _LEGACY_TYPE.get(sport_type, sport_type),
        "sport_type": sport_type,
        "workout_type": workout_type,
        "id": id,
        "start_date": strava_instant(start_date),
        "start_date_local": strava_wall_clock(start_date, zone),
        "timezone": timezone,
        "utc_offset": offset.total_seconds(),
        "location_city": None,
        "location_state": None,
        "location_country": "Canada",
        "achievement_count": 0,
        "kudos_count": 0,
        "comment_count": 0,
        "athlete_count": 1,
        "photo_count": 0,
        "map": {
            "id": f"a{id}",
            "summary_polyline": SAMPLE_POLYLINE if has_gps else "",
            "resource_state": 2,
        },
        "trainer": trainer,
        "commute": commute,
        "manual": manual,
        "private": private,
        "visibility": "only_me" if private else "everyone",
        "flagged": False,
        "gear_id": gear_id,
        "start_latlng": start_latlng,
        "end_latlng": list(start_latlng),
        "average_speed": average_speed,
        "max_speed": round(max_speed if max_speed is not None else average_speed * 1.3, 3),
        "has_heartrate": average_heartrate is not None,
        "heartrate_opt_out": False,
        "display_hide_heartrate_option": average_heartrate is not None,
        "elev_high": 110.0 + total_elevation_gain / 2 if has_gps else None,
        "elev_low": 90.0 if has_gps else None,
        "upload_id": upload_id,
        "upload_id_str": None if upload_id is None else str(upload_id),
        "external_id": None if manual else f"garmin_ping_{id}",
        "from_accepted_tag": False,
        "pr_count": 0,
        "total_photo_count": 0,
        "has_kudoed": False,
        "suffer_score": suffer_score,
    }
    if not has_gps:
        # Strava omits elevation extremes entirely when it has no elevation stream.
        del activity["elev_high"], activity["elev_low"]
    if average_cadence is not None:
        activity["average_cadence"] = float(average_cadence)
    if average_heartrate is not None:
        activity["average_heartrate"] = round(float(average_heartrate), 1)
        activity["max_heartrate"] = _integral_heartrate(
            max_heartrate if max_heartrate is not None else round(average_heartrate * 1.12)
        )
    activity.update(overrides)
    return activity


def _start_of(activity: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(activity["start_date"]).replace("Z", "+00:00"))


def lap_totals(specs: Sequence[Mapping[str, Any]]) -> tuple[float, int, int]:
    """(distance, moving_time, elapsed_time) of a list of lap specs, to give the activity matching totals."""
    distance = sum(float(spec["distance"]) for spec in specs)
    elapsed = sum(int(spec["elapsed_time"]) for spec in specs)
    moving = sum(int(spec.get("moving_time", spec["elapsed_time"])) for spec in specs)
    return distance, moving, elapsed


def even_lap_specs(
    distance: float,
    moving_time: int,
    elapsed_time: int,
    *,
    every: float = 1000.0,
    average_heartrate: float | None = None,
    max_heartrate: float | None = None,
) -> list[Json]:
    """Evenly paced laps of `every` metres (a watch's auto-lap), the last one partial."""
    specs: list[Json] = []
    covered = 0.0
    moving_used = elapsed_used = 0
    while distance - covered > 0.5:
        part = min(every, distance - covered)
        last = distance - covered - part <= 0.5
        moving = moving_time - moving_used if last else round(moving_time * part / distance)
        elapsed = elapsed_time - elapsed_used if last else round(elapsed_time * part / distance)
        spec: Json = {"distance": round(part, 1), "moving_time": moving, "elapsed_time": elapsed}
        if average_heartrate is not None:
            spec["average_heartrate"] = average_heartrate
            spec["max_heartrate"] = (
                max_heartrate if max_heartrate is not None else round(average_heartrate + 6)
            )
        specs.append(spec)
        covered += part
        moving_used += moving
        elapsed_used += elapsed
    return specs


def interval_lap_specs(
    reps: int,
    rep_distance: float,
    rep_seconds: int,
    recovery_seconds: int,
    *,
    recovery_distance: float | None = None,
    warmup: tuple[float, int] = (2000.0, 720),
    cooldown: tuple[float, int] = (1500.0, 560),
    hard_heartrate: float = 172.0,
    easy_heartrate: float = 138.0,
) -> list[Json]:
    """Laps of a structured session: warm-up, `reps` hard reps with jog recoveries, cool-down."""
    jog = recovery_distance if recovery_distance is not None else round(recovery_seconds * 2.4, 1)
    specs: list[Json] = [
        {
            "distance": warmup[0],
            "elapsed_time": warmup[1],
            "average_heartrate": easy_heartrate,
            "name": "Warm Up",
        }
    ]
    for rep in range(reps):
        specs.append(
            {
                "distance": rep_distance,
                "elapsed_time": rep_seconds,
                "average_heartrate": hard_heartrate,
                "max_heartrate": round(hard_heartrate + 8),
                "pace_zone": 5,
            }
        )
        if rep < reps - 1:
            specs.append(
                {"distance": jog, "elapsed_time": recovery_seconds, "average_heartrate": easy_heartrate + 10}
            )
    specs.append(
        {
            "distance": cooldown[0],
            "elapsed_time": cooldown[1],
            "average_heartrate": easy_heartrate,
            "name": "Cool Down",
        }
    )
    return specs


def build_laps(activity: Mapping[str, Any], specs: Sequence[Mapping[str, Any]]) -> list[Json]:
    """Full Lap objects for `activity` from specs holding at least `distance` and `elapsed_time`."""
    activity_id = int(activity["id"])
    athlete_id = int(activity["athlete"]["id"])
    zone = zone_of(str(activity.get("timezone") or DEFAULT_TIMEZONE))
    offset = 0
    laps: list[Json] = []
    for index, spec in enumerate(specs, start=1):
        elapsed = int(spec["elapsed_time"])
        moving = int(spec.get("moving_time", elapsed))
        distance = float(spec["distance"])
        speed = round(distance / moving, 3) if moving else 0.0
        started = _start_of(activity) + timedelta(seconds=offset)
        lap: Json = {
            "id": activity_id * 1000 + index,
            "resource_state": 2,
            "name": str(spec.get("name", f"Lap {index}")),
            "activity": {"id": activity_id, "resource_state": 1},
            "athlete": {"id": athlete_id, "resource_state": 1},
            "elapsed_time": elapsed,
            "moving_time": moving,
            "start_date": strava_instant(started),
            "start_date_local": strava_wall_clock(started, zone),
            "distance": distance,
            "start_index": offset,
            "end_index": offset + elapsed,
            "total_elevation_gain": float(spec.get("total_elevation_gain", 0.0)),
            "average_speed": speed,
            "max_speed": round(speed * 1.15, 3),
            "device_watts": False,
            "lap_index": index,
            "split": index,
            "pace_zone": int(spec.get("pace_zone", 2)),
        }
        if spec.get("average_heartrate") is not None:
            lap["average_heartrate"] = round(float(spec["average_heartrate"]), 1)
            lap["max_heartrate"] = _integral_heartrate(
                spec.get("max_heartrate") or round(float(spec["average_heartrate"]) + 6)
            )
        laps.append(lap)
        offset += elapsed
    return laps


def _splits(activity: Mapping[str, Any], every: float) -> list[Json]:
    heartrate = activity.get("average_heartrate")
    specs = even_lap_specs(
        float(activity["distance"]),
        int(activity["moving_time"]),
        int(activity["elapsed_time"]),
        every=every,
        average_heartrate=heartrate,
    )
    splits: list[Json] = []
    for index, spec in enumerate(specs, start=1):
        speed = round(spec["distance"] / spec["moving_time"], 3) if spec["moving_time"] else 0.0
        split: Json = {
            "distance": spec["distance"],
            "elapsed_time": spec["elapsed_time"],
            "elevation_difference": 0.0,
            "moving_time": spec["moving_time"],
            "split": index,
            "average_speed": speed,
            "average_grade_adjusted_speed": speed,
            "pace_zone": 2,
        }
        if heartrate is not None:
            split["average_heartrate"] = heartrate
        splits.append(split)
    return splits


def detailed_activity(
    summary: Mapping[str, Any],
    *,
    description: str | None = "",
    laps: Sequence[Mapping[str, Any]] | None = None,
    calories: float | None = None,
    perceived_exertion: int | None = None,
    device_name: str | None = DEFAULT_DEVICE,
    **overrides: Any,
) -> Json:
    """The DetailedActivity of a summary: `GET /activities/{id}`.

    `laps` are lap specs (see `build_laps`); None gives 1 km auto-laps, `[]` no laps at all.
    """
    activity: Json = dict(summary)
    activity["resource_state"] = 3
    map_ = summary.get("map") or {"id": f"a{summary['id']}", "summary_polyline": ""}
    activity["map"] = {**map_, "polyline": map_.get("summary_polyline") or "", "resource_state": 3}
    specs = (
        even_lap_specs(
            float(summary["distance"]),
            int(summary["moving_time"]),
            int(summary["elapsed_time"]),
            average_heartrate=summary.get("average_heartrate"),
            max_heartrate=summary.get("max_heartrate"),
        )
        if laps is None
        else laps
    )
    activity["description"] = description
    activity["calories"] = round(calories if calories is not None else float(summary["distance"]) * 0.065, 1)
    activity["perceived_exertion"] = perceived_exertion
    activity["prefer_perceived_exertion"] = perceived_exertion is not None
    activity["segment_efforts"] = []
    activity["best_efforts"] = []
    is_run = summary.get("type") in ("Run", "VirtualRun")
    activity["splits_metric"] = _splits(summary, 1000.0) if is_run and summary["distance"] else []
    activity["splits_standard"] = _splits(summary, MILE) if is_run and summary["distance"] else []
    activity["laps"] = build_laps(summary, specs)
    activity["photos"] = {"primary": None, "count": 0}
    activity["stats_visibility"] = [{"type": "heart_rate", "visibility": "everyone"}]
    activity["hide_from_home"] = False
    activity["embed_token"] = f"{int(summary['id']):040x}"
    activity["available_zones"] = ["heartrate", "pace"] if summary.get("has_heartrate") else ["pace"]
    if summary.get("manual"):
        activity.pop("device_name", None)
    elif device_name is not None:
        activity["device_name"] = device_name
    activity.update(overrides)
    return activity


def summary_from_detailed(activity: Mapping[str, Any]) -> Json:
    """What the list endpoint shows of a stored (detailed) activity."""
    summary = {key: value for key, value in activity.items() if key not in DETAIL_ONLY_FIELDS}
    if "resource_state" in summary:
        summary["resource_state"] = 2
    map_ = activity.get("map")
    if isinstance(map_, Mapping):
        summary["map"] = {key: value for key, value in map_.items() if key != "polyline"}
        summary["map"]["resource_state"] = 2
    return summary


def summary_athlete(
    athlete_id: int,
    firstname: str = "Ada",
    lastname: str = "Runner",
    *,
    city: str = "Toronto",
    state: str = "Ontario",
    country: str = "Canada",
    sex: str | None = "F",
    premium: bool = False,
    weight: float = 0.0,
    created_at: datetime | None = None,
) -> Json:
    """A SummaryAthlete, as the token exchange returns it."""
    created = created_at or datetime(2017, 3, 4, 12, 0, tzinfo=UTC)
    picture = f"https://dgalywyr863hv.cloudfront.net/pictures/athletes/{athlete_id}"
    return {
        "id": athlete_id,
        "username": None,
        "resource_state": 2,
        "firstname": firstname,
        "lastname": lastname,
        "bio": None,
        "city": city,
        "state": state,
        "country": country,
        "sex": sex,
        "premium": premium,
        "summit": premium,
        "created_at": strava_instant(created),
        "updated_at": strava_instant(created + timedelta(days=400)),
        "badge_type_id": 1 if premium else 0,
        "weight": weight,
        "profile_medium": f"{picture}/medium.jpg",
        "profile": f"{picture}/large.jpg",
        "friend": None,
        "follower": None,
    }


def detailed_athlete(summary: Mapping[str, Any], *, measurement_preference: str = "meters") -> Json:
    """The DetailedAthlete of `GET /athlete`."""
    athlete: Json = dict(summary)
    athlete.update(
        {
            "resource_state": 3,
            "blocked": False,
            "can_follow": True,
            "follower_count": 12,
            "friend_count": 15,
            "mutual_friend_count": 0,
            "athlete_type": 1,
            "date_preference": "%m/%d/%Y",
            "measurement_preference": measurement_preference,
            "clubs": [],
            "postable_clubs_count": 0,
            "ftp": None,
            "bikes": [],
            "shoes": [
                {
                    "id": f"g{summary['id']}1",
                    "primary": True,
                    "name": "Daily trainers",
                    "nickname": None,
                    "resource_state": 2,
                    "retired": False,
                    "distance": 412345.0,
                    "converted_distance": 412.3,
                }
            ],
            "is_winback_via_upload": False,
            "is_winback_via_view": False,
        }
    )
    return athlete
