"""The failure modes issue 12 found on real runners' logs, one table row each: (id, activity, history,
expected effort, a phrase that must appear among the reasons)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import Effort, classify
from scheduler.domain.names import Cue, read_name
from scheduler.domain.profile import AthleteProfile
from tests.unit.test_effort_cases import NO_HR_ROUTINE, ROUTINE, History, run

# ROUTINE: easy 5:40/km at HR ~140, Tuesday sessions peaking at 188, long runs of ~100 min.


def peaked(raw: dict[str, Any], top_speed_ratio: float) -> dict[str, Any]:
    return {**raw, "max_speed": round(raw["average_speed"] * top_speed_ratio, 3)}


@dataclass(frozen=True)
class Case:
    id: str
    raw: dict[str, Any]
    history: History
    effort: Effort
    reason: str


CASES = [
    # Race precision: a distance in miles beside a club, a shop, a place or a joke is not an event name.
    Case(
        "18mi beside a club abbreviation",
        run("18mi CPTC", 29.0, "5:55", 143.0),
        ROUTINE,
        Effort.LONG_RUN,
        "always long",
    ),
    Case(
        "17mi beside a shop",
        run("17mi Fleet Feet", 27.4, "5:50", 145.0),
        ROUTINE,
        Effort.LONG_RUN,
        "always long",
    ),
    Case(
        "8mi beside a brand test",
        run("8mi Brooks test", 12.9, "5:40", 139.0),
        ROUTINE,
        Effort.EASY,
        "average HR",
    ),
    Case(
        "5mi beside a place, no HR", run("5mi Prospect Park", 8.0, "5:42"), NO_HR_ROUTINE, Effort.EASY, "pace"
    ),
    # "Half" inside a workout's name, and a marathon still to come, are not races.
    Case(
        "alternating half miles",
        peaked(run("Alternating half miles", 11.0, "5:05", 152.0, 181), 1.4),
        ROUTINE,
        Effort.SPEEDWORK,
        "half miles",
    ),
    Case("halves", run("Halves", 10.0, "5:10", 150.0, 180), ROUTINE, Effort.SPEEDWORK, "Halves"),
    Case(
        "a 3 km jog before a marathon",
        run("Shakeout, marathon in 2 days!", 3.0, "6:00", 128.0),
        ROUTINE,
        Effort.EASY,
        "Shakeout",
    ),
    Case(
        "a marathon weeks away",
        run("Tempo, marathon is 5 weeks out", 12.0, "4:55", 158.0, 176),
        ROUTINE,
        Effort.SPEEDWORK,
        "Tempo",
    ),
    # A race word alone, at a moderate heart rate and an easy pace, is not a race.
    Case(
        "race word at moderate HR, easy pace",
        run("Turkey Trot 5K", 5.0, "5:45", 152.0),
        ROUTINE,
        Effort.EASY,
        "easy effort",
    ),
    # Races named only by their event, at 80-87 % of max HR, run even.
    Case(
        "corporate challenge, 85% HR, even",
        peaked(run("Corporate Challenge", 5.6, "4:35", 160.0, 166), 1.1),
        ROUTINE,
        Effort.RACE,
        "Challenge",
    ),
    Case(
        "charity shuffle, 85% HR, even",
        peaked(run("Charity Shuffle", 8.0, "4:40", 160.0, 167), 1.1),
        ROUTINE,
        Effort.RACE,
        "Shuffle",
    ),
    Case(
        "automatic name, hard and even over 10K",
        peaked(run("Morning Run", 10.1, "4:30", 160.0, 166), 1.08),
        ROUTINE,
        Effort.RACE,
        "one even effort",
    ),
    Case(
        "a triathlon's run leg",
        run("Ironman 70.3 Muskoka - Run", 21.3, "5:30", 150.0),
        ROUTINE,
        Effort.RACE,
        "Ironman",
    ),
    Case(
        "a sprint tri's run split",
        run("Sprint tri run split", 5.0, "5:00", 155.0),
        ROUTINE,
        Effort.RACE,
        "tri",
    ),
    Case(
        "43 km, automatic name, marathon heart rate",
        run("Morning Run", 43.0, "5:05", 155.0, 163),
        ROUTINE,
        Effort.RACE,
        "marathon",
    ),
    # Speedwork whose average heart rate is pulled down by recoveries: peaks and top speed show it.
    Case(
        "generic name, HR peaks at 95% of max",
        peaked(run("Evening Run", 11.0, "5:30", 146.0, 179), 1.45),
        ROUTINE,
        Effort.SPEEDWORK,
        "hard efforts inside",
    ),
    Case(
        "no HR, top speed far above a quicker average",
        peaked(run("Evening Run", 10.0, "5:20"), 1.45),
        NO_HR_ROUTINE,
        Effort.SPEEDWORK,
        "top speed",
    ),
    # ...but a strap locked on to cadence peaks without faster running: still easy.
    Case(
        "HR spike without speed",
        peaked(run("Morning Run", 9.0, "5:42", 142.0, 185), 1.08),
        ROUTINE,
        Effort.EASY,
        "average HR",
    ),
    # Without heart rate a treadmill's pace is too rough to call a race.
    Case(
        "treadmill 20% faster than easy, no HR",
        run("Treadmill Run", 6.0, "4:40", trainer=True),
        NO_HR_ROUTINE,
        Effort.EASY,
        "treadmill",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    activity = parse_activity(case.raw)
    result = classify(activity, case.history(activity.start_date), AthleteProfile())
    assert result.effort == case.effort, result.reasons
    assert any(case.reason in reason for reason in result.reasons), result.reasons


# (name, cue that must not be found)
NOT_RACES = [
    "Alternating half miles",
    "Half mile repeats",
    "Halves",
    "Easy miles, marathon in 3 weeks!",
    "Shakeout, big race Sunday",
    "Workout, marathon is 5 weeks out",
    "Long run, marathon in 4 weeks",
]


@pytest.mark.parametrize("name", NOT_RACES)
def test_workouts_and_races_to_come_carry_no_race_word(name: str) -> None:
    assert not [f for f in read_name(name).found if f.cue == Cue.RACE and not f.weak], read_name(name).found


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Ironman 70.3 Muskoka T2 run", "Ironman"),
        ("Olympic tri run split", "run split"),
        ("Ragnar leg 2", "Ragnar"),
    ],
)
def test_triathlon_and_relay_legs_are_races(name: str, text: str) -> None:
    assert text in [f.text for f in read_name(name).found if f.cue == Cue.RACE]
