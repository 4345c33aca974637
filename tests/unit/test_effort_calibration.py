"""Per-athlete levels learned from the runs the runner labelled (corrections, Strava's Race/Workout tags):
their races and workouts move the heart-rate levels within bounds, and the reasons say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.domain.activity import Activity
from scheduler.domain.calibration import RACE_BOUNDS, Calibration, calibration_of, race_level
from scheduler.domain.effort import Effort, classify, classify_series
from scheduler.domain.profile import AthleteProfile

START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
PROFILE = AthleteProfile(max_hr=190, rest_hr=50)


def run(
    day: int,
    heart: float,
    *,
    km: float = 8.0,
    pace: float = 330.0,
    peak: float | None = None,
    speed_ratio: float = 1.08,
    workout_type: int | None = None,
) -> Activity:
    seconds = round(km * pace)
    return Activity(
        id=day + 1,
        name="Morning Run",
        sport_type="Run",
        start_date=START + timedelta(days=day),
        elapsed_time=seconds + 30,
        moving_time=seconds,
        distance=km * 1000,
        workout_type=workout_type,
        average_speed=1000 / pace,
        max_speed=1000 / pace * speed_ratio,
        average_heartrate=heart,
        max_heartrate=peak or heart + 10,
    )


EASY_DAYS = [run(day, 138.0 + day % 4) for day in range(150, 200)]
# A hard 10K with surges, at 86 % of max: hard by the default levels, race level for someone who races there.
TARGET_10K = run(200, 164.0, km=10.0, pace=270.0, peak=181.0, speed_ratio=1.3)


def races_at_86(tagged: bool) -> list[Activity]:
    return [run(day, 163.0, km=10.0, pace=265.0, workout_type=1 if tagged else None) for day in (20, 80, 130)]


def test_tagged_races_at_86_percent_make_a_hard_10k_at_that_level_a_race() -> None:
    calibrated = classify(TARGET_10K, [*races_at_86(tagged=True), *EASY_DAYS], PROFILE)
    usual = classify(TARGET_10K, [*races_at_86(tagged=False), *EASY_DAYS], PROFILE)
    assert usual.effort == Effort.SPEEDWORK
    assert calibrated.effort == Effort.RACE
    assert any("your races run at 86% of max HR" in reason for reason in calibrated.reasons)
    assert not any("your races" in reason for reason in usual.reasons)


def test_corrected_workouts_move_the_hard_level_and_the_reasons_say_so() -> None:
    workouts = [run(day, 155.0 + day % 2, km=10.0, pace=300.0) for day in (100, 110, 120)]
    history = sorted([*workouts, *EASY_DAYS], key=lambda a: a.start_date)
    target = run(201, 157.0, km=9.0, pace=310.0)  # 83 % of max: moderate by the default levels
    labels = {a.id: "speedwork" for a in workouts}
    assert classify(target, history, PROFILE).effort == Effort.EASY
    calibrated = classify(target, history, PROFILE, labels)
    assert calibrated.effort == Effort.SPEEDWORK
    assert any("your workouts run at 82% of max HR" in reason for reason in calibrated.reasons)
    # The same through a series: a correction only counts for the runs after it.
    series = classify_series([*history, target], PROFILE, labels=labels)
    assert series[-1] == calibrated


def test_odd_labels_move_the_levels_only_within_bounds() -> None:
    slow_races = Calibration(race_hr=(120.0, 125.0, 130.0))  # "races" jogged at 63-68 % of max
    level = race_level(slow_races, 190.0)
    assert level is not None and level.share == RACE_BOUNDS[0]
    steady = run(201, 156.0)  # 82 %: still no race for them
    history = [
        *EASY_DAYS,
        *(run(d, h, workout_type=1) for d, h in ((100, 120.0), (110, 125.0), (120, 130.0))),
    ]
    history.sort(key=lambda a: a.start_date)
    assert classify(steady, history, PROFILE).effort != Effort.RACE
    assert race_level(Calibration(race_hr=(160.0, 161.0)), 190.0) is None  # two races say too little


def test_labels_older_than_a_year_or_not_before_the_run_do_not_count() -> None:
    races = races_at_86(tagged=True)
    assert calibration_of(races, START + timedelta(days=500), {}) == Calibration()
    assert calibration_of(races, START + timedelta(days=80), {}).race_hr == (163.0,)  # day 20 only
    [result] = classify_series([TARGET_10K], PROFILE, labels={TARGET_10K.id: "race"})
    assert result.effort == Effort.SPEEDWORK  # its own correction never grades the run itself


def test_pages_with_labels_match_one_pass() -> None:
    log = sorted([*races_at_86(tagged=False), *EASY_DAYS, TARGET_10K], key=lambda a: a.start_date)
    labels = {a.id: "race" for a in races_at_86(tagged=False)}
    whole = classify_series(log, PROFILE, labels=labels)
    assert whole[-1].effort == Effort.RACE
    assert classify_series(log[30:], PROFILE, history=log[:30], labels=labels) == whole[30:]
