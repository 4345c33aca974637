"""`decided`: False only when the summary could not tell and the DetailedActivity's laps would."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import Effort, classify
from scheduler.domain.profile import AthleteProfile
from tests.unit.test_effort_cases import (
    NO_HR_ROUTINE,
    ROUTINE,
    History,
    detailed,
    interval_laps,
    km_laps,
    laps,
    no_history,
    run,
)

# (id, summary, history, effort from the summary, decided?)
SUMMARIES: list[tuple[str, dict[str, Any], History, Effort, bool]] = [
    ("auto name, no HR, no history", run("Morning Run", 10.0, "5:10"), no_history, Effort.EASY, False),
    ("auto name, moderate HR", run("Evening Run", 11.0, "5:05", 152.0), ROUTINE, Effort.EASY, False),
    (
        "auto name, hard HR off a race distance",
        run("Evening Run", 12.6, "4:40", 164.0),
        ROUTINE,
        Effort.SPEEDWORK,
        False,
    ),
    (
        "auto name, race HR off a race distance",
        run("Morning Run", 7.3, "4:15", 178.0),
        ROUTINE,
        Effort.RACE,
        False,
    ),
    (
        "auto name, no HR, brisk pace",
        run("Evening Run", 11.0, "5:05"),
        NO_HR_ROUTINE,
        Effort.SPEEDWORK,
        False,
    ),
    (
        "auto name, no HR, a little quicker",
        run("Evening Run", 11.0, "5:20"),
        NO_HR_ROUTINE,
        Effort.EASY,
        False,
    ),
    ("auto name, easy HR and pace", run("Morning Run", 9.0, "5:42", 139.0), ROUTINE, Effort.EASY, True),
    ("auto name, no HR, easy pace", run("Morning Run", 9.0, "5:45"), NO_HR_ROUTINE, Effort.EASY, True),
    (
        "auto name, race HR over 10K",
        run("Morning Run", 10.05, "4:12", 176.0, 186),
        ROUTINE,
        Effort.RACE,
        True,
    ),
    ("auto name, long", run("Morning Run", 20.0, "5:40", 139.0), ROUTINE, Effort.LONG_RUN, True),
    ("named workout", run("6x800", 11.0, "5:05"), no_history, Effort.SPEEDWORK, True),
    ("named easy run", run("Easy 8", 12.9, "5:40"), no_history, Effort.EASY, True),
    ("tagged", {**run("Morning Run", 10.0, "5:10"), "workout_type": 3}, no_history, Effort.SPEEDWORK, True),
    (
        "manual entry: no laps to fetch",
        run("Morning Run", 10.0, "5:10", manual=True),
        no_history,
        Effort.EASY,
        True,
    ),
    ("shorter than 15 min", run("Morning Run", 2.0, "5:10"), no_history, Effort.EASY, True),
    (
        "not a run",
        {**run("Evening Ride", 30.0, "2:00"), "sport_type": "Ride"},
        no_history,
        Effort.OTHER,
        True,
    ),
]


@pytest.mark.parametrize(
    ("raw", "history", "effort", "decided"), [s[1:] for s in SUMMARIES], ids=[s[0] for s in SUMMARIES]
)
def test_decided_from_the_summary(
    raw: dict[str, Any], history: History, effort: Effort, decided: bool
) -> None:
    activity = parse_activity(raw)
    result = classify(activity, history(activity.start_date), AthleteProfile())
    assert (result.effort, result.decided) == (effort, decided), result.reasons


# The same summaries once the sync fetched the detail: laps settle them.
DETAILS: list[tuple[str, dict[str, Any], History, Effort, str]] = [
    (
        "intervals with no HR and no history",
        detailed(run("Morning Run", 10.0, "5:10"), interval_laps(5, 1000.0, "4:05")),
        no_history,
        Effort.SPEEDWORK,
        "laps alternate fast and slow",
    ),
    (
        "even laps with no HR and no history",
        detailed(run("Morning Run", 10.0, "5:10"), km_laps(10, "5:10")),
        no_history,
        Effort.EASY,
        "laps show",
    ),
    (
        "hard HR at easy pace, even easy laps",
        detailed(run("Evening Run", 9.0, "5:40", 160.0), km_laps(9, "5:40")),
        ROUTINE,
        Effort.EASY,
        "no lap faster than your easy pace",
    ),
    (
        "moderate HR, steady laps 10% quicker than easy: a tempo run",
        detailed(run("Evening Run", 11.0, "5:05", 152.0), km_laps(11, "5:05")),
        ROUTINE,
        Effort.SPEEDWORK,
        "even laps at 5:05/km",
    ),
    (
        "moderate HR, a tempo block",
        detailed(
            run("Evening Run", 11.0, "5:05", 152.0),
            laps(*[(1000.0, "5:40")] * 3, *[(1000.0, "4:30")] * 5, *[(1000.0, "5:45")] * 3),
        ),
        ROUTINE,
        Effort.SPEEDWORK,
        "block",
    ),
    (
        "race HR off a race distance, even laps",
        detailed(run("Morning Run", 7.3, "4:15", 178.0), laps(*[(1000.0, "4:15")] * 7, (300.0, "4:10"))),
        ROUTINE,
        Effort.RACE,
        "even laps",
    ),
    (
        "race HR off a race distance, intervals",
        detailed(run("Morning Run", 7.3, "4:15", 178.0), interval_laps(8, 400.0, "3:30", 200.0)),
        ROUTINE,
        Effort.SPEEDWORK,
        "alternate",
    ),
]


@pytest.mark.parametrize(
    ("raw", "history", "effort", "reason"), [d[1:] for d in DETAILS], ids=[d[0] for d in DETAILS]
)
def test_laps_decide(raw: dict[str, Any], history: History, effort: Effort, reason: str) -> None:
    activity = parse_activity(raw)
    result = classify(activity, history(activity.start_date), AthleteProfile())
    assert result.decided
    assert result.effort == effort, result.reasons
    assert any(reason in r for r in result.reasons), result.reasons
