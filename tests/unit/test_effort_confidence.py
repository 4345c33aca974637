"""How sure the classification is: signals that disagree leave the other class open, said in the reasons
("unsure: easy run or speedwork?") and readable back from stored reasons; signals that agree say nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.domain.activity import Activity
from scheduler.domain.effort import (
    Effort,
    classify,
    classify_series,
    unsure_between,
    unsure_reason,
)
from scheduler.domain.profile import AthleteProfile

START = datetime(2025, 4, 7, 7, 0, tzinfo=UTC)
PROFILE = AthleteProfile(max_hr=190, rest_hr=50)


def run(
    day: int,
    name: str = "Morning Run",
    km: float = 8.0,
    pace: float = 330.0,
    heart: float | None = 140.0,
    peak: float | None = None,
    workout_type: int | None = None,
) -> Activity:
    seconds = round(km * pace)
    return Activity(
        id=day + 1,
        name=name,
        sport_type="Run",
        start_date=START + timedelta(days=day),
        elapsed_time=seconds + 30,
        moving_time=seconds,
        distance=km * 1000,
        workout_type=workout_type,
        average_speed=1000 / pace,
        max_speed=1000 / pace * 1.1,
        average_heartrate=heart,
        max_heartrate=(peak or heart + 12) if heart else None,
    )


HISTORY = [run(day, heart=138.0 + day % 5) for day in range(20)]


def test_a_moderate_run_without_laps_is_easy_but_unsure_of_a_workout() -> None:
    result = classify(run(21, km=10.0, pace=318.0, heart=156.0), HISTORY, PROFILE)  # 82 % of max
    assert result.effort == Effort.EASY
    assert result.unsure_of == Effort.SPEEDWORK
    assert result.reasons[-1] == "unsure: easy run or speedwork?"
    assert unsure_between(result.reasons) == (Effort.EASY, Effort.SPEEDWORK)


def test_a_jogged_race_is_easy_but_unsure_of_a_race() -> None:
    result = classify(run(21, name="parkrun #412", km=5.0, pace=345.0, heart=136.0), HISTORY, PROFILE)
    assert result.effort == Effort.EASY
    assert result.unsure_of == Effort.RACE
    assert "unsure: easy run or race?" in result.reasons


def test_signals_that_agree_leave_nothing_open() -> None:
    easy = classify(run(21, heart=139.0), HISTORY, PROFILE)
    race = classify(
        run(21, name="Spring 10K", km=10.0, pace=255.0, heart=178.0, workout_type=1), HISTORY, PROFILE
    )
    long = classify(run(21, km=26.0, pace=335.0, heart=142.0), HISTORY, PROFILE)
    for result, effort in ((easy, Effort.EASY), (race, Effort.RACE), (long, Effort.LONG_RUN)):
        assert result.effort == effort
        assert result.unsure_of is None
        assert unsure_between(result.reasons) is None
        assert not any(reason.startswith("unsure") for reason in result.reasons)


def test_classify_series_says_the_same_doubt_as_classify() -> None:
    target = run(21, km=10.0, pace=318.0, heart=156.0)
    assert classify_series([*HISTORY, target], PROFILE)[-1] == classify(target, HISTORY, PROFILE)


def test_stored_reasons_are_read_back_for_every_pair_and_nothing_else() -> None:
    for effort in Effort:
        for other in Effort:
            if effort != other:
                assert unsure_between(["x", unsure_reason(effort, other)]) == (effort, other)
    assert unsure_between(["unsure: tempo or race?", "set by the runner (classified as race)"]) is None
    assert unsure_between([]) is None
