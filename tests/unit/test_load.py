"""Training load: Banister TRIMP from average heart rate, with the heart rates load.py documents."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import classify
from scheduler.domain.history import EMPTY_BASELINE, Baseline
from scheduler.domain.load import HeartRateScale, heart_rate_scale, trimp
from scheduler.domain.profile import AthleteProfile
from tests.unit.test_effort_cases import SUNDAY, other, routine, run


def banister(minutes: float, average: float, rest: float, maximum: float) -> float:
    """TRIMP written out by hand, independently of the module."""
    reserve = (average - rest) / (maximum - rest)
    return minutes * reserve * 0.64 * math.exp(1.92 * reserve)


def test_known_case_with_profile_heart_rates() -> None:
    # 45 min at 150 bpm, max 190, rest 60: HRr = 0.6923, TRIMP = 75.3
    activity = parse_activity(run("Easy 45", km=8.0, minutes=45, hr=150.0, peak=162))
    result = classify(activity, [], AthleteProfile(max_hr=190, rest_hr=60))
    assert result.load == pytest.approx(75.3, abs=0.05)
    assert result.load == pytest.approx(banister(45, 150, 60, 190), abs=0.05)


def test_rest_hr_defaults_to_60_and_max_comes_from_the_profile() -> None:
    activity = parse_activity(run("Tempo", km=12.0, minutes=55, hr=165.0, peak=180))
    result = classify(activity, [], AthleteProfile(max_hr=195))
    assert result.load == pytest.approx(banister(55, 165, 60, 195), abs=0.05)


def test_max_hr_estimated_from_the_runs_of_the_last_year() -> None:
    history = routine(hard_peak=186)(SUNDAY)  # five weeks; the hardest runs peaked at 186
    activity = parse_activity(run("Morning Run", km=9.0, minutes=50, hr=142.0, peak=150))
    result = classify(activity, history, AthleteProfile(rest_hr=50))
    assert result.load == pytest.approx(banister(50, 142, 50, 186), abs=0.05)


def test_without_history_the_max_is_assumed_185_unless_a_higher_one_is_seen() -> None:
    easy = parse_activity(run("Morning Run", km=9.0, minutes=50, hr=142.0, peak=150))
    assert classify(easy, [], AthleteProfile()).load == pytest.approx(banister(50, 142, 60, 185), abs=0.05)
    hard = parse_activity(run("Morning Run", km=10.0, minutes=42, hr=182.0, peak=193))
    assert classify(hard, [], AthleteProfile()).load == pytest.approx(banister(42, 182, 60, 193), abs=0.05)


def test_a_spike_of_a_glitching_strap_is_not_taken_as_max_hr() -> None:
    history = [
        parse_activity(
            run(
                "Morning Run",
                km=8.0,
                minutes=45,
                hr=140.0,
                peak=158 if d != 3 else 230,
                when=SUNDAY - timedelta(days=d),
            )
        )
        for d in range(1, 12)
    ]
    activity = parse_activity(run("Morning Run", km=8.0, minutes=45, hr=140.0, peak=150))
    scale = heart_rate_scale(AthleteProfile(), Baseline(0, None, None, None, 158.0, 11), activity)
    assert scale.max_hr == 158.0
    assert classify(activity, history, AthleteProfile()).load == pytest.approx(
        banister(45, 140, 60, 158), abs=0.05
    )


def test_no_heart_rate_means_no_load() -> None:
    assert classify(parse_activity(run("Easy 8", km=12.9)), [], AthleteProfile()).load is None
    flagged_off = {**run("Easy 8", km=12.9, hr=140.0), "has_heartrate": False}
    assert classify(parse_activity(flagged_off), [], AthleteProfile()).load is None


def test_other_sports_with_heart_rate_carry_a_load_too() -> None:
    ride = parse_activity(other("Ride", "Evening Ride", 90, km=40, hr=135.0))
    result = classify(ride, [], AthleteProfile(max_hr=190, rest_hr=55))
    assert result.load == pytest.approx(banister(90, 135, 55, 190), abs=0.05)


def test_average_above_max_is_clamped_to_full_reserve() -> None:
    scale = HeartRateScale(max_hr=180.0, rest_hr=60.0, source="profile")
    assert trimp(600, 185.0, scale) == pytest.approx(banister(10, 180, 60, 180), abs=0.05)


@given(
    minutes=st.integers(min_value=1, max_value=600),
    low=st.floats(min_value=70, max_value=150),
    extra=st.floats(min_value=1, max_value=40),
)
def test_load_grows_with_time_and_with_heart_rate(minutes: int, low: float, extra: float) -> None:
    scale = heart_rate_scale(
        AthleteProfile(max_hr=195, rest_hr=55), EMPTY_BASELINE, parse_activity(run(hr=150.0))
    )
    assert trimp(minutes * 60, low, scale) <= trimp(minutes * 60, low + extra, scale)
    assert trimp(minutes * 60, low, scale) <= trimp((minutes + 10) * 60, low, scale)
