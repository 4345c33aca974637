"""What an athlete's recent runs say is normal for them: typical duration, easy pace, heart rate, max HR.

Only a window of history matters (the last 28 days for duration, 42 for pace and heart rate, 365 for the
highest heart rate), so `RunWindow` keeps just that: feed it runs in chronological order with `add` and ask
`baseline(before)` for the figures as they stood before an activity. Classifying a long backfill one activity
after another with one window costs O(n), not O(n²). `baseline_of` computes the same figures from any
history in one pass, for a single activity.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from scheduler.domain.activity import Activity

DURATION_WINDOW = timedelta(days=28)
PACE_WINDOW = timedelta(days=42)
MAX_HR_WINDOW = timedelta(days=365)
MIN_RUNS = 4  # fewer recent runs than this and there is no baseline to compare with
# How far back a caller's history needs to reach for every figure (older activities are ignored).
HISTORY_SPAN = MAX_HR_WINDOW

# Metres of flat running one metre of climbing is worth, so a hilly run's pace compares with a flat one's.
CLIMB_EQUIVALENT = 6.0
# Watches record the odd spike; a max HR above this, or far above the run's average, is not believed.
MAX_PLAUSIBLE_HR = 220.0
MIN_PLAUSIBLE_MAX_HR = 100.0  # no runner's maximum is lower: a smaller "max" is a sensor glitch
MAX_SPIKE_OVER_AVERAGE = 55.0


def adjusted_pace(activity: Activity) -> float | None:
    """Seconds per km on the flat equivalent of the route (climbing counted as extra distance)."""
    if activity.distance < 500 or activity.moving_time <= 0:
        return None
    flat_metres = activity.distance + CLIMB_EQUIVALENT * activity.total_elevation_gain
    return activity.moving_time / (flat_metres / 1000)


def plausible_max_hr(activity: Activity) -> float | None:
    if activity.max_heartrate is None or activity.average_heartrate is None:
        return None
    peak = activity.max_heartrate
    if not MIN_PLAUSIBLE_MAX_HR <= peak <= MAX_PLAUSIBLE_HR:
        return None
    if peak < activity.average_heartrate or peak - activity.average_heartrate > MAX_SPIKE_OVER_AVERAGE:
        return None
    return peak


@dataclass(frozen=True, slots=True)
class Baseline:
    """An athlete's normal, from the runs before one activity. None where there were too few runs to say."""

    runs_28d: int
    median_duration: float | None  # moving seconds, runs of the last 28 days
    easy_pace: float | None  # s/km (climb-adjusted), the slower-than-median side of the last 42 days
    typical_hr: float | None  # median average HR of the last 42 days' runs
    highest_hr: float | None  # highest believable max HR of the last 365 days
    hr_runs_year: int  # runs with heart rate in the last 365 days


EMPTY_BASELINE = Baseline(0, None, None, None, None, 0)


class RunWindow:
    """The runs inside the windows the classifier looks at; add runs oldest first."""

    def __init__(self) -> None:
        self._recent: deque[Activity] = deque()  # runs of the last PACE_WINDOW
        self._hr_starts: deque[datetime] = deque()  # start of each run with heart rate, last year
        self._peaks: deque[tuple[datetime, float]] = deque()  # decreasing max HR: a sliding-window maximum
        self._last_start: datetime | None = None

    def add(self, activity: Activity) -> None:
        """Add the next activity (not older than the previous one); non-runs are ignored."""
        if not activity.is_run:
            return
        if self._last_start is not None and activity.start_date < self._last_start:
            raise ValueError("RunWindow.add needs activities in chronological order")
        self._last_start = activity.start_date
        self._recent.append(activity)
        if activity.has_heartrate:
            self._hr_starts.append(activity.start_date)
        peak = plausible_max_hr(activity)
        if peak is not None:
            while self._peaks and self._peaks[-1][1] <= peak:
                self._peaks.pop()
            self._peaks.append((activity.start_date, peak))

    def baseline(self, before: datetime) -> Baseline:
        """Figures from the runs added so far, as they stood at `before`; older runs fall out for good.

        Ask before adding the runs that start at `before` (they are not each other's history).
        """
        if self._last_start is not None and self._last_start >= before:
            raise ValueError("RunWindow.baseline must be asked before adding runs that start at or after it")
        while self._recent and self._recent[0].start_date < before - PACE_WINDOW:
            self._recent.popleft()
        while self._hr_starts and self._hr_starts[0] < before - MAX_HR_WINDOW:
            self._hr_starts.popleft()
        while self._peaks and self._peaks[0][0] < before - MAX_HR_WINDOW:
            self._peaks.popleft()
        # The peaks deque decreases in value and increases in time: its front is the window's maximum.
        highest = self._peaks[0][1] if self._peaks else None
        return _baseline(list(self._recent), before, highest, len(self._hr_starts))


def baseline_of(history: Iterable[Activity], before: datetime) -> Baseline:
    """The baseline from any history (any order, any sport, any length) in one pass over it."""
    year_start, recent_start = before - MAX_HR_WINDOW, before - PACE_WINDOW
    recent: list[Activity] = []
    highest: float | None = None
    hr_runs = 0
    for activity in history:
        start = activity.start_date
        if start >= before or start < year_start or not activity.is_run:
            continue
        if start >= recent_start:
            recent.append(activity)
        if activity.has_heartrate:
            hr_runs += 1
            peak = plausible_max_hr(activity)
            if peak is not None and (highest is None or peak > highest):
                highest = peak
    return _baseline(recent, before, highest, hr_runs)


def _baseline(recent: list[Activity], before: datetime, highest: float | None, hr_runs: int) -> Baseline:
    # A run without a duration (manual entry, broken file) says nothing about how long runs usually are.
    month = [a.moving_time for a in recent if a.start_date >= before - DURATION_WINDOW and a.moving_time > 0]
    paces = sorted(p for p in (adjusted_pace(a) for a in recent) if p is not None)
    heart = [a.average_heartrate for a in recent if a.average_heartrate]
    return Baseline(
        runs_28d=len(month),
        median_duration=median(month) if len(month) >= MIN_RUNS else None,
        # Workouts and races pull the median pace faster; the 60th percentile sits on easy running.
        easy_pace=paces[int(len(paces) * 0.6)] if len(paces) >= MIN_RUNS else None,
        typical_hr=median(heart) if len(heart) >= MIN_RUNS else None,
        highest_hr=highest,
        hr_runs_year=hr_runs,
    )
