"""Training load: TRIMP, hrTSS and pace-based rTSS, with the heart rates and threshold load.py documents."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import classify
from scheduler.domain.history import EMPTY_BASELINE, Baseline
from scheduler.domain.load import (
    HeartRateScale,
    Workout,
    daily_loads,
    grade_adjusted_speed,
    heart_rate_scale,
    hr_tss,
    r_tss,
    trimp,
    workout_loads,
)
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


# -- hrTSS and rTSS, worked by hand ----------------------------------------------------------------------


def test_hr_tss_worked_example() -> None:
    # 45 min at 150 bpm, max 190, rest 60, threshold 170:
    # TRIMP = 45 × (90/130) × 0.64 × e^(1.92 × 90/130) = 75.33
    # an hour at threshold: 60 × (110/130) × 0.64 × e^(1.92 × 110/130) = 164.95
    # hrTSS = 100 × 75.33 / 164.95 = 45.7
    scale = HeartRateScale(max_hr=190.0, rest_hr=60.0, source="profile", threshold_hr=170.0)
    assert hr_tss(45 * 60, 150.0, scale) == pytest.approx(45.7, abs=0.05)
    # An hour at threshold is 100 by definition.
    assert hr_tss(3600, 170.0, scale) == pytest.approx(100.0, abs=0.05)


def test_hr_tss_without_a_threshold_estimates_it_at_85_percent_of_the_reserve() -> None:
    # An hour at 60 + 0.85 × 130 = 170.5 bpm is 100; TRIMP otherwise scales by 100 / 166.9 = 0.599.
    scale = HeartRateScale(max_hr=190.0, rest_hr=60.0, source="profile")
    assert hr_tss(3600, 170.5, scale) == pytest.approx(100.0, abs=0.05)
    assert hr_tss(45 * 60, 150.0, scale) == pytest.approx(75.33 * 0.5991, abs=0.05)


def test_threshold_hr_in_the_profile_makes_the_stored_load_hr_tss() -> None:
    activity = parse_activity(run("Easy 45", km=8.0, minutes=45, hr=150.0, peak=162))
    with_threshold = classify(activity, [], AthleteProfile(max_hr=190, rest_hr=60, threshold_hr=170))
    assert with_threshold.load == pytest.approx(45.7, abs=0.05)
    assert classify(activity, [], AthleteProfile(max_hr=190, rest_hr=60)).load == pytest.approx(
        75.3, abs=0.05
    )


def test_r_tss_worked_example_flat_and_hilly() -> None:
    # Threshold 4:00/km = 1000/240 = 4.1667 m/s. 10 km in 50 min flat: 3.3333 m/s, IF 0.8,
    # rTSS = 100 × 50/60 × 0.64 = 53.3. With 100 m of climbing it counts as 11 km: 3.6667 m/s, IF 0.88,
    # rTSS = 100 × 0.8333 × 0.7744 = 64.5.
    threshold = 1000 / 240
    flat = grade_adjusted_speed(10_000, 0.0, 3000)
    hilly = grade_adjusted_speed(10_000, 100.0, 3000)
    assert flat is not None and hilly is not None
    assert flat == pytest.approx(3.3333, abs=1e-4) and hilly == pytest.approx(3.6667, abs=1e-4)
    assert r_tss(3000, flat, threshold) == pytest.approx(53.3, abs=0.05)
    assert r_tss(3000, hilly, threshold) == pytest.approx(64.5, abs=0.05)
    assert r_tss(3600, threshold, threshold) == pytest.approx(100.0)


START = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)


def workout(
    i: int,
    *,
    days: int,
    km: float,
    minutes: float,
    effort: str = "easy",
    hr: float | None = None,
    gain: float = 0.0,
    is_run: bool = True,
) -> Workout:
    when = START + timedelta(days=days)
    return Workout(i, when.date(), when, is_run, effort, int(minutes * 60), km * 1000, gain, hr, None)


def test_threshold_pace_comes_from_the_fastest_race_carried_to_an_hour() -> None:
    # A 10K race in 40:00 (4.1667 m/s) carried to an hour: × (40/60)^0.0566 = 4.0733 m/s.
    # An easy 10 km in 60 min then: 2.7778 m/s, IF = 0.6819, rTSS = 100 × 1 × 0.4650 = 46.5.
    race = workout(1, days=0, km=10, minutes=40, effort="race")
    slower_race = workout(2, days=3, km=10, minutes=45, effort="race")
    easy = workout(3, days=7, km=10, minutes=60)
    loads = {w.id: w for w in workout_loads([easy, slower_race, race], AthleteProfile())}
    assert loads[3].kind == "rTSS" and loads[3].load == pytest.approx(46.5, abs=0.05)
    v60 = (1000 / 240) * (40 / 60) ** (1 - 1 / 1.06)
    assert loads[3].load == pytest.approx(100 * (2.77778 / v60) ** 2, abs=0.05)


def test_a_race_older_than_a_year_no_longer_sets_the_threshold() -> None:
    old_race = workout(1, days=0, km=10, minutes=40, effort="race")
    easy = workout(2, days=400, km=10, minutes=60)
    loads = workout_loads([old_race, easy], AthleteProfile())
    # Only the easy run is left in the window: threshold = its own speed / 0.8, IF 0.8, rTSS = 64.
    assert loads[1].load == pytest.approx(64.0, abs=0.05)


def test_every_run_gets_a_load_heart_rate_or_not_and_a_ride_without_it_gets_none() -> None:
    with_hr = workout(1, days=0, km=8, minutes=45, hr=150.0)
    without = workout(2, days=1, km=8, minutes=45)
    ride = workout(3, days=1, km=30, minutes=60, is_run=False)
    loads = workout_loads([with_hr, without, ride], AthleteProfile(max_hr=190, rest_hr=60, threshold_hr=170))
    # No hard effort yet: threshold = the year's mean run speed / 0.8, so both runs at one speed give IF 0.8
    # and the run without heart rate 100 × 0.75 h × 0.64 = 48.
    assert [(x.kind, x.load) for x in loads] == [("hrTSS", 45.7), ("rTSS", 48.0), (None, 0.0)]
    assert daily_loads(loads) == {date(2026, 3, 1): 45.7, date(2026, 3, 2): 48.0}
