"""Per-athlete heart-rate levels, learned from the runs whose class the runner gave: their corrections and
their Strava tags (Race, Workout).

The default levels (`effort.HR_LEVELS`: race from 89 % of max, hard from 84 %) fit most runners, but one
races at 86 % and another's workouts average 82 % with the recoveries in. Once an athlete has
`MIN_LABELLED` labelled races (or workouts) with heart rate in the last year, the race (or hard) level
starts just below the lower quartile of their own averages, within bounds, so that a few odd labels can
move it only so far. Only runs before an activity count, so a correction never grades itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.domain.activity import Activity

LABEL_WINDOW = timedelta(days=365)
MIN_LABELLED = 3
MARGIN = 0.01  # below the lower quartile: a race run a little under the athlete's usual still counts
RACE_BOUNDS = (0.85, 0.92)
HARD_BOUNDS = (0.80, 0.87)
# Strava's tags are the runner's own word too: 1 Race, 3 Workout.
TAGGED = {1: "race", 3: "speedwork"}


@dataclass(frozen=True, slots=True)
class Calibration:
    """Average heart rates of the athlete's labelled races and workouts of the last year."""

    race_hr: tuple[float, ...] = ()
    workout_hr: tuple[float, ...] = ()


NO_CALIBRATION = Calibration()


@dataclass(frozen=True, slots=True)
class Level:
    share: float  # the share of max HR from which the level starts
    typical: float  # the median share of the labelled runs, for the reasons
    count: int


def label_of(activity: Activity, labels: Mapping[int, str]) -> str | None:
    """The class the runner gave the activity (a correction wins over a tag), else None."""
    return labels.get(activity.id) or TAGGED.get(activity.workout_type or 0)


class LabelWindow:
    """The labelled runs of the last year; add activities oldest first (others are ignored)."""

    def __init__(self, labels: Mapping[int, str]) -> None:
        self._labels = labels
        self._runs: deque[tuple[datetime, str, float]] = deque()

    def add(self, activity: Activity) -> None:
        label = label_of(activity, self._labels)
        if label in ("race", "speedwork") and activity.is_run and activity.average_heartrate:
            self._runs.append((activity.start_date, label, activity.average_heartrate))

    def calibration(self, before: datetime) -> Calibration:
        while self._runs and self._runs[0][0] < before - LABEL_WINDOW:
            self._runs.popleft()
        if not self._runs:
            return NO_CALIBRATION
        return _calibration((label, hr) for start, label, hr in self._runs if start < before)


def calibration_of(history: Iterable[Activity], before: datetime, labels: Mapping[int, str]) -> Calibration:
    """The calibration from any history (any order), as `LabelWindow` would have it at `before`."""
    picked = []
    for activity in history:
        label = label_of(activity, labels)
        if (
            label in ("race", "speedwork")
            and activity.is_run
            and activity.average_heartrate
            and before - LABEL_WINDOW <= activity.start_date < before
        ):
            picked.append((activity.start_date, label, activity.average_heartrate))
    picked.sort(key=lambda item: item[0])  # the window's order, so the figures are the same to the bit
    return _calibration((label, hr) for _, label, hr in picked)


def _calibration(runs: Iterable[tuple[str, float]]) -> Calibration:
    race: list[float] = []
    workout: list[float] = []
    for label, hr in runs:
        (race if label == "race" else workout).append(hr)
    return Calibration(tuple(race), tuple(workout))


def race_level(calibration: Calibration, max_hr: float) -> Level | None:
    return _level(calibration.race_hr, max_hr, RACE_BOUNDS)


def hard_level(calibration: Calibration, max_hr: float) -> Level | None:
    return _level(calibration.workout_hr, max_hr, HARD_BOUNDS)


def _level(averages: tuple[float, ...], max_hr: float, bounds: tuple[float, float]) -> Level | None:
    if len(averages) < MIN_LABELLED or max_hr <= 0:
        return None
    shares = sorted(hr / max_hr for hr in averages)
    quartile = shares[len(shares) // 4]
    middle = shares[len(shares) // 2]
    low, high = bounds
    return Level(min(high, max(low, quartile - MARGIN)), middle, len(shares))
