"""The core is total: any Strava activity JSON with optional fields missing, null, zero, negative or absurd,
and any history of such activities, is parsed, classified and planned without raising."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import classify, classify_series
from scheduler.domain.planning import DayActivity, plan_days
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols

PROTOCOLS = load_protocols(default_protocols_path())
MISSING = object()

odd_numbers = st.one_of(
    st.just(MISSING),
    st.none(),
    st.just(0),
    st.just(0.0),
    st.integers(-(10**6), -1),
    st.floats(-1e9, -1e-9),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 10**30, 2**63, 10**400]),
    st.floats(0, 1e7, allow_nan=False),
    st.integers(0, 10**7),
)
NUMERIC = (
    "distance",
    "moving_time",
    "elapsed_time",
    "average_heartrate",
    "max_heartrate",
    "average_speed",
    "max_speed",
    "total_elevation_gain",
)


@st.composite
def strava_json(draw: st.DrawFn, activity_id: int, start: datetime) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": activity_id, "start_date": start.isoformat().replace("+00:00", "Z")}
    for key in NUMERIC:
        value = draw(odd_numbers)
        if value is not MISSING:
            raw[key] = value
    optional: dict[str, Any] = {
        "name": st.one_of(
            st.none(), st.text(max_size=40), st.sampled_from(["Harbourfront 10K", "6x800", ""])
        ),
        "sport_type": st.one_of(st.none(), st.sampled_from(["Run", "TrailRun", "Ride", "", "Unknown"])),
        "workout_type": st.one_of(st.none(), st.integers(-5, 20)),
        "timezone": st.one_of(
            st.none(), st.just(""), st.sampled_from(["(GMT-05:00) America/Toronto", "UTC"])
        ),
        "has_heartrate": st.one_of(st.none(), st.booleans()),
        "laps": st.one_of(
            st.none(),
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        key: odd_numbers.filter(lambda v: v is not MISSING)
                        for key in (
                            "elapsed_time",
                            "moving_time",
                            "distance",
                            "average_speed",
                            "max_speed",
                            "average_heartrate",
                            "lap_index",
                        )
                    },
                ),
                max_size=8,
            ),
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            raw[key] = draw(strategy)
    return raw


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 12))
    start = draw(st.datetimes(datetime(1971, 1, 1), datetime(2190, 1, 1), timezones=st.just(UTC)))
    raws = []
    for index in range(count):
        start += timedelta(hours=draw(st.integers(0, 60)))
        raws.append(draw(strava_json(index + 1, start)))
    return raws


profiles = st.builds(
    AthleteProfile,
    max_hr=st.one_of(st.none(), st.integers(-10, 400)),
    rest_hr=st.one_of(st.none(), st.integers(-10, 400)),
    threshold_hr=st.one_of(st.none(), st.integers(-10, 400)),
    quiet_start=st.builds(time, st.integers(0, 23)),
    quiet_end=st.builds(time, st.integers(0, 23)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), profiles, st.integers(-3600, 10 * 86400))
def test_classify_and_plan_never_raise(
    raws: list[dict[str, Any]], profile: AthleteProfile, late: int
) -> None:
    activities = [parse_activity(raw) for raw in raws]
    series = classify_series(activities, profile)
    assert classify(activities[-1], activities[:-1], profile).effort == series[-1].effort
    now = activities[-1].end + timedelta(seconds=late)
    items = [DayActivity(a, c, now) for a, c in zip(activities, series, strict=True)]
    plans = plan_days(items, profile, PROTOCOLS, now, "Europe/Berlin")
    for steps in plans.values():
        for step in steps:
            assert step.title and step.body
            assert step.due_at.tzinfo is not None


def test_heart_rate_without_any_max_heartrate_is_classified_not_crashed() -> None:
    # Five runs with an average heart rate but no max_heartrate and no profile max: was ZeroDivisionError.
    raws = [
        {
            "id": index,
            "name": "Morning Run",
            "sport_type": "Run",
            "start_date": f"2026-05-0{index}T07:00:00Z",
            "elapsed_time": 3000,
            "moving_time": 2900,
            "distance": 8000,
            "average_heartrate": 140 + index,
        }
        for index in range(1, 7)
    ]
    activities = [parse_activity(raw) for raw in raws]
    results = classify_series(activities, AthleteProfile())
    assert [r.effort.value for r in results] == ["easy"] * 6
    assert all(r.load is not None and r.load > 0 for r in results)
    assert "max assumed 185" in results[-1].reasons[0]


def test_a_distance_too_small_to_measure_climb_is_classified_not_crashed() -> None:
    # Found by the property above: 5e-324 m divided by 1000 is 0, and climb per km divided by it.
    raw = {
        "id": 1,
        "name": "Morning Run",
        "sport_type": "Run",
        "start_date": "2026-05-01T07:00:00Z",
        "elapsed_time": 3000,
        "moving_time": 2900,
        "distance": 5e-324,
        "total_elevation_gain": 40,
    }
    [result] = classify_series([parse_activity(raw)], AthleteProfile())
    assert result.effort.value in {"easy", "other", "long_run"}
