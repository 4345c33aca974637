"""Training load of one activity, on the scale that feeds fitness and fatigue (scheduler.domain.form).

**The scale: TSS points**, where 100 is one hour at the athlete's threshold (the pace or heart rate that can
be held for about an hour). Every run gets a load on this scale, with or without heart rate.

Heart rate (Banister's TRIMP):

    HRr   = (HRavg - HRrest) / (HRmax - HRrest), clamped to [0, 1]
    TRIMP = T × HRr × 0.64 × e^(1.92 × HRr)                       (T: moving minutes)

TRIMP is made a TSS by dividing by the TRIMP of one hour at threshold (which is 100 TSS by definition):

    hrTSS = 100 × TRIMP / TRIMP(60 min at HRthr)

HRthr is the profile's `threshold_hr`; without it, it is estimated at 85% of the heart-rate reserve
(HRrest + 0.85 × (HRmax − HRrest), about 90% of max, where lactate threshold typically sits), so
hrTSS = TRIMP × 0.599 then.

Pace, for runs without heart rate (Coggan's rTSS from grade-adjusted pace):

    v_gap = (distance + 10 × elevation gain) / moving time       (m/s)
    IF    = v_gap / v_thr
    rTSS  = 100 × hours × IF²

The grade adjustment uses the summary's elevation gain over the whole run (not a per-metre profile): each
100 m of climbing counts as 1 km of flat running (ITRA's "kilometre-effort" rule), which also pays for the
descents that follow. v_thr, the threshold speed, is estimated from the athlete's races and hard efforts
(runs classified `race` or `speedwork`, 10 min to 4 h, at least 1.5 km) of the 365 days up to the run: each
one's grade-adjusted speed is carried to a one-hour effort with Riegel's exponent 1.06
(v_60 = v × (T / 60 min)^0.0566, since T ∝ D^1.06) and the fastest counts. With no hard effort in that year,
v_thr = the year's mean grade-adjusted run speed / 0.8 (easy running sits near 80% of threshold speed).

Which is used when: a run or other sport with heart rate gets hrTSS; a run without heart rate gets rTSS; an
activity with neither (a ride without a strap, a run without distance) gets no load (0 in the daily sums).

Heart rates (`heart_rate_scale`, per activity as it is classified; `athlete_scale` for a whole history):
- HRmax: the athlete's profile `max_hr` if set; else the highest believable `max_heartrate` among their runs
  of the last 365 days and this activity (a spike above 220 or more than 55 bpm over the run's average is
  not believed), provided at least 5 runs of that year had heart rate; with fewer, the higher of that and
  185 bpm (typical of an adult runner), because a few easy runs never reach the true maximum. Runs with
  an average heart rate but no believable `max_heartrate` count towards the 5 but give no estimate: with
  no estimate at all the 185 bpm assumption stays (never a max of 0).
- HRrest: the profile `rest_hr` if set, else 60 bpm.

0.64 and 1.92 are Banister's coefficients (the ones published for men, used for everyone here because
Strava does not tell us the athlete's sex; the women's 0.86 and 1.67 give values within ~10%).

The number stored with each activity (`activities.load`, shown by `recovery activities`) is the heart-rate
load as classified: hrTSS when a threshold heart rate is set, else the raw TRIMP, None without heart rate.
Fitness and fatigue are always computed in TSS points from the activities themselves (`workout_loads`).

Examples: 45 min at 150 bpm, HRmax 190, HRrest 60 → HRr = 90/130 = 0.692,
TRIMP = 45 × 0.692 × 0.64 × e^(1.329) = 75.3; with HRthr 170 (HRr 0.846, TRIMP of an hour there 165.0)
hrTSS = 45.7. 10 km in 50 min with 100 m of climbing against a threshold of 4:00/km (4.167 m/s):
v_gap = 11,000 m / 3,000 s = 3.667 m/s, IF = 0.88, rTSS = 100 × 0.833 × 0.774 = 64.5.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from scheduler.domain.activity import Activity
from scheduler.domain.history import (
    MAX_PLAUSIBLE_HR,
    MAX_SPIKE_OVER_AVERAGE,
    MIN_PLAUSIBLE_MAX_HR,
    Baseline,
    plausible_max_hr,
)
from scheduler.domain.profile import AthleteProfile

DEFAULT_REST_HR = 60.0
ASSUMED_MAX_HR = 185.0
MIN_HR_RUNS_FOR_ESTIMATE = 5
TRIMP_FACTOR = 0.64
TRIMP_EXPONENT = 1.92
# Where lactate threshold sits in the heart-rate reserve when the athlete has not said (about 90% of max).
ESTIMATED_THRESHOLD_RESERVE = 0.85
# Each 100 m of climbing counts as 1 km on the flat (ITRA's kilometre-effort).
FLAT_METRES_PER_METRE_CLIMBED = 10.0
# Riegel: T ∝ D^1.06, so speed ∝ T^(1/1.06 - 1); carrying a speed held for T to one hour multiplies it by
# (T / 1 h)^RIEGEL_SPEED_EXPONENT.
RIEGEL_SPEED_EXPONENT = 1 - 1 / 1.06
EASY_SHARE_OF_THRESHOLD = 0.8
THRESHOLD_WINDOW = timedelta(days=365)
HARD_EFFORTS = frozenset({"race", "speedwork"})
MIN_HARD_SECONDS, MAX_HARD_SECONDS, MIN_HARD_METRES = 600, 4 * 3600, 1500.0

MaxSource = Literal["profile", "estimated", "assumed"]
LoadKind = Literal["hrTSS", "rTSS"]


@dataclass(frozen=True, slots=True)
class HeartRateScale:
    max_hr: float
    rest_hr: float
    source: MaxSource
    threshold_hr: float | None = None  # the profile's; None: not told (see ESTIMATED_THRESHOLD_RESERVE)

    def fraction_of_max(self, heart_rate: float) -> float:
        return heart_rate / self.max_hr

    def reserve_fraction(self, heart_rate: float) -> float:
        """HRr: where `heart_rate` sits between resting and max, clamped to [0, 1]."""
        span = self.max_hr - self.rest_hr
        if span <= 0:
            return 1.0
        return min(1.0, max(0.0, (heart_rate - self.rest_hr) / span))

    def threshold_reserve(self) -> float:
        if self.threshold_hr is None:
            return ESTIMATED_THRESHOLD_RESERVE
        # A threshold at or below rest HR (a typo) would divide by zero; such a threshold says nothing.
        return max(0.05, self.reserve_fraction(self.threshold_hr))

    def describe(self) -> str:
        if self.source == "profile":
            return f"your max HR {self.max_hr:.0f}"
        if self.source == "estimated":
            return f"max {self.max_hr:.0f}, the highest seen in your runs of the last year"
        return f"max assumed {self.max_hr:.0f} until more runs with heart rate are known"


def _rest_and_threshold(profile: AthleteProfile) -> tuple[float, float | None]:
    rest = float(profile.rest_hr) if profile.rest_hr else DEFAULT_REST_HR
    return rest, float(profile.threshold_hr) if profile.threshold_hr else None


def heart_rate_scale(profile: AthleteProfile, baseline: Baseline, activity: Activity) -> HeartRateScale:
    rest, threshold = _rest_and_threshold(profile)
    if profile.max_hr:
        return HeartRateScale(float(profile.max_hr), rest, "profile", threshold)
    seen = [hr for hr in (baseline.highest_hr, plausible_max_hr(activity)) if hr is not None]
    if seen and baseline.hr_runs_year >= MIN_HR_RUNS_FOR_ESTIMATE:
        return HeartRateScale(max(seen), rest, "estimated", threshold)
    return HeartRateScale(max([*seen, ASSUMED_MAX_HR]), rest, "assumed", threshold)


def _trimp(moving_time: float, reserve: float) -> float:
    return moving_time / 60 * reserve * TRIMP_FACTOR * math.exp(TRIMP_EXPONENT * reserve)


def trimp(moving_time: int, average_hr: float, scale: HeartRateScale) -> float:
    """Banister TRIMP of `moving_time` seconds at `average_hr` (see the module docstring)."""
    return round(_trimp(moving_time, scale.reserve_fraction(average_hr)), 1)


def hr_tss(moving_time: int, average_hr: float, scale: HeartRateScale) -> float:
    """TRIMP over the TRIMP of an hour at threshold, × 100 (see the module docstring)."""
    at_threshold = _trimp(3600, scale.threshold_reserve())
    return round(100 * _trimp(moving_time, scale.reserve_fraction(average_hr)) / at_threshold, 1)


def grade_adjusted_speed(distance: float, elevation_gain: float, moving_time: int) -> float | None:
    """m/s on the flat that costs the same: climbing counted as FLAT_METRES_PER_METRE_CLIMBED per metre."""
    if moving_time <= 0 or distance <= 0:
        return None
    return (distance + FLAT_METRES_PER_METRE_CLIMBED * max(0.0, elevation_gain)) / moving_time


def r_tss(moving_time: int, speed: float, threshold_speed: float) -> float:
    """Coggan's rTSS: 100 × hours × IF², IF = grade-adjusted speed / threshold speed."""
    intensity = speed / threshold_speed
    return round(100 * moving_time / 3600 * intensity * intensity, 1)


def hour_equivalent_speed(speed: float, moving_time: int) -> float:
    """The speed a performance held for `moving_time` predicts for one hour (Riegel)."""
    factor: float = (moving_time / 3600) ** RIEGEL_SPEED_EXPONENT
    return speed * factor


def training_load(activity: Activity, scale: HeartRateScale | None) -> float | None:
    """The load stored with an activity: hrTSS with a threshold HR set, else TRIMP; None without HR."""
    if scale is None or activity.average_heartrate is None or not activity.has_heartrate:
        return None
    if scale.threshold_hr is not None:
        return hr_tss(activity.moving_time, activity.average_heartrate, scale)
    return trimp(activity.moving_time, activity.average_heartrate, scale)


# -- a whole history, for fitness and fatigue -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workout:
    """What the load of one stored activity needs; `day` is its local day (the day it counts for)."""

    id: int
    day: date
    start: datetime
    is_run: bool
    effort: str | None
    moving_time: int
    distance: float
    elevation_gain: float
    average_hr: float | None
    max_hr: float | None


@dataclass(frozen=True, slots=True)
class WorkoutLoad:
    id: int
    day: date
    load: float  # TSS points; 0 when nothing could be measured
    kind: LoadKind | None


def athlete_scale(profile: AthleteProfile, workouts: Iterable[Workout]) -> HeartRateScale:
    """One heart-rate scale for a whole history: the profile's, else the highest believable max seen."""
    rest, threshold = _rest_and_threshold(profile)
    if profile.max_hr:
        return HeartRateScale(float(profile.max_hr), rest, "profile", threshold)
    hr_runs = 0
    highest: float | None = None
    for s in workouts:
        if not s.is_run or s.average_hr is None:
            continue
        hr_runs += 1
        if s.max_hr is not None and _believable_max(s.average_hr, s.max_hr):
            highest = s.max_hr if highest is None else max(highest, s.max_hr)
    if highest is not None and hr_runs >= MIN_HR_RUNS_FOR_ESTIMATE:
        return HeartRateScale(highest, rest, "estimated", threshold)
    return HeartRateScale(max(highest or 0.0, ASSUMED_MAX_HR), rest, "assumed", threshold)


def _believable_max(average: float, peak: float) -> bool:
    """The same test as history.plausible_max_hr, on stored numbers."""
    return (
        MIN_PLAUSIBLE_MAX_HR <= peak <= MAX_PLAUSIBLE_HR
        and average <= peak <= average + MAX_SPIKE_OVER_AVERAGE
    )


class ThresholdSpeed:
    """The running estimate of threshold speed (module docstring), fed workouts in start order: O(1) each."""

    def __init__(self) -> None:
        self._hard: deque[tuple[datetime, float]] = deque()  # hour-equivalent speeds, decreasing
        self._runs: deque[tuple[datetime, float]] = deque()
        self._runs_sum = 0.0

    def add(self, s: Workout, speed: float) -> None:
        self._runs.append((s.start, speed))
        self._runs_sum += speed
        if (
            s.effort in HARD_EFFORTS
            and MIN_HARD_SECONDS <= s.moving_time <= MAX_HARD_SECONDS
            and s.distance >= MIN_HARD_METRES
        ):
            equivalent = hour_equivalent_speed(speed, s.moving_time)
            while self._hard and self._hard[-1][1] <= equivalent:
                self._hard.pop()
            self._hard.append((s.start, equivalent))

    def at(self, when: datetime) -> float | None:
        cutoff = when - THRESHOLD_WINDOW
        while self._hard and self._hard[0][0] < cutoff:
            self._hard.popleft()
        while self._runs and self._runs[0][0] < cutoff:
            self._runs_sum -= self._runs.popleft()[1]
        if self._hard:
            return self._hard[0][1]
        if self._runs:
            return self._runs_sum / len(self._runs) / EASY_SHARE_OF_THRESHOLD
        return None


def workout_loads(workouts: Sequence[Workout], profile: AthleteProfile) -> list[WorkoutLoad]:
    """The TSS-point load of every workout (module docstring), in start order; O(n)."""
    ordered = sorted(workouts, key=lambda s: (s.start, s.id))
    scale = athlete_scale(profile, ordered)
    threshold = ThresholdSpeed()
    out: list[WorkoutLoad] = []
    for s in ordered:
        speed = grade_adjusted_speed(s.distance, s.elevation_gain, s.moving_time) if s.is_run else None
        if speed is not None:
            threshold.add(s, speed)
        if s.average_hr is not None and s.moving_time > 0:
            out.append(WorkoutLoad(s.id, s.day, hr_tss(s.moving_time, s.average_hr, scale), "hrTSS"))
            continue
        v_thr = threshold.at(s.start) if speed is not None else None
        if speed is None or v_thr is None:
            out.append(WorkoutLoad(s.id, s.day, 0.0, None))
            continue
        out.append(WorkoutLoad(s.id, s.day, r_tss(s.moving_time, speed, v_thr), "rTSS"))
    return out


def daily_loads(loads: Iterable[WorkoutLoad]) -> dict[date, float]:
    days: dict[date, float] = {}
    for item in loads:
        days[item.day] = days.get(item.day, 0.0) + item.load
    return days
