"""Training load of an activity: Banister's TRIMP from average heart rate.

    HRr  = (HRavg - HRrest) / (HRmax - HRrest), clamped to [0, 1]
    TRIMP = T × HRr × 0.64 × e^(1.92 × HRr)

T is the moving time in minutes; 0.64 and 1.92 are Banister's coefficients (the ones published for men, used
for everyone here because Strava does not tell us the athlete's sex; the women's 0.86 and 1.67 give values
within ~10% for typical runs). The result is rounded to one decimal. Without heart rate the load is None.

Which heart rates (`heart_rate_scale`):
- HRmax: the athlete's profile `max_hr` if set; else the highest believable `max_heartrate` among their runs
  of the last 365 days and this activity (a spike above 220 or more than 55 bpm over the run's average is
  not believed), provided at least 5 runs of that year had heart rate; with fewer, the higher of that and
  185 bpm (typical of an adult runner), because a few easy runs never reach the true maximum. Runs with
  an average heart rate but no believable `max_heartrate` count towards the 5 but give no estimate: with
  no estimate at all the 185 bpm assumption stays (never a max of 0).
- HRrest: the profile `rest_hr` if set, else 60 bpm.

Example: 45 min at 150 bpm, HRmax 190, HRrest 60 → HRr = 90/130 = 0.692,
TRIMP = 45 × 0.692 × 0.64 × e^(1.329) = 75.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scheduler.domain.activity import Activity
from scheduler.domain.history import Baseline, plausible_max_hr
from scheduler.domain.profile import AthleteProfile

DEFAULT_REST_HR = 60.0
ASSUMED_MAX_HR = 185.0
MIN_HR_RUNS_FOR_ESTIMATE = 5
TRIMP_FACTOR = 0.64
TRIMP_EXPONENT = 1.92

MaxSource = Literal["profile", "estimated", "assumed"]


@dataclass(frozen=True, slots=True)
class HeartRateScale:
    max_hr: float
    rest_hr: float
    source: MaxSource

    def fraction_of_max(self, heart_rate: float) -> float:
        return heart_rate / self.max_hr

    def reserve_fraction(self, heart_rate: float) -> float:
        """HRr: where `heart_rate` sits between resting and max, clamped to [0, 1]."""
        span = self.max_hr - self.rest_hr
        if span <= 0:
            return 1.0
        return min(1.0, max(0.0, (heart_rate - self.rest_hr) / span))

    def describe(self) -> str:
        if self.source == "profile":
            return f"your max HR {self.max_hr:.0f}"
        if self.source == "estimated":
            return f"max {self.max_hr:.0f}, the highest seen in your runs of the last year"
        return f"max assumed {self.max_hr:.0f} until more runs with heart rate are known"


def heart_rate_scale(profile: AthleteProfile, baseline: Baseline, activity: Activity) -> HeartRateScale:
    rest = float(profile.rest_hr) if profile.rest_hr else DEFAULT_REST_HR
    if profile.max_hr:
        return HeartRateScale(float(profile.max_hr), rest, "profile")
    seen = [hr for hr in (baseline.highest_hr, plausible_max_hr(activity)) if hr is not None]
    if seen and baseline.hr_runs_year >= MIN_HR_RUNS_FOR_ESTIMATE:
        return HeartRateScale(max(seen), rest, "estimated")
    return HeartRateScale(max([*seen, ASSUMED_MAX_HR]), rest, "assumed")


def trimp(moving_time: int, average_hr: float, scale: HeartRateScale) -> float:
    """Banister TRIMP of `moving_time` seconds at `average_hr` (see the module docstring)."""
    reserve = scale.reserve_fraction(average_hr)
    minutes = moving_time / 60
    return round(minutes * reserve * TRIMP_FACTOR * math.exp(TRIMP_EXPONENT * reserve), 1)


def training_load(activity: Activity, scale: HeartRateScale | None) -> float | None:
    if scale is None or activity.average_heartrate is None or not activity.has_heartrate:
        return None
    return trimp(activity.moving_time, activity.average_heartrate, scale)
