"""When does this runner run? Habitual run times learned from history, the runner's own times, the hit rate.

The rule (users rely on it; the README states it):
- A habit is a weekday and a local start time. For each weekday, look at the last `WINDOW_WEEKS` such weekdays
  before today (only those on or after the first run we know of, and at least `MIN_WEEKS` of them). A start
  time is habitual when on at least half of those days a run started within ±`TOLERANCE` of it.
- Start times are read on each activity's own wall clock, in its own zone: a 06:30 run is a 06:30 run in
  summer time and in winter time, and in another zone when travelling.
- A habit's time is the median of the starts that support it, to the `ROUND_TO` minute; habits of one weekday
  are found most-supported first, and each run supports one habit only, so a double (06:30 and 18:00) gives
  two habits and a run that drifts by ten minutes week to week gives one.
- The runner's own times (`recovery athletes set ID --runs …`) replace what was learned, entirely.
- The hit rate counts, over the last `HIT_DAYS` days, the runs expected on each day (by the times the runner
  set, else by what was learned from the history before that day) and how many of them happened: a run
  started within ±`TOLERANCE` of the expected time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median_low
from zoneinfo import ZoneInfo

from scheduler.domain.timing import wall_clock_on

WINDOW_WEEKS = 8
MIN_WEEKS = 4
TOLERANCE = timedelta(minutes=45)
ROUND_TO = 5  # minutes
HIT_DAYS = 28

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TOLERANCE_MIN = int(TOLERANCE / timedelta(minutes=1))
_RUN_RE = re.compile(r"^(?P<day>[a-z]{3})[a-z]*\s+(?P<hh>\d{1,2}):(?P<mm>\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class RunTime:
    """A habitual run: weekday (0 = Monday) and local start time."""

    weekday: int
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.at:%H:%M}"


@dataclass(frozen=True, slots=True)
class RunStart:
    """When a past run started (UTC) and the zone it was run in."""

    start: datetime
    zone: ZoneInfo

    @property
    def local(self) -> datetime:
        return self.start.astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class ExpectedRun:
    """A run expected at `start` (UTC), on `day` in `zone`, because of `habit`."""

    habit: RunTime
    day: date
    start: datetime
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class HitRate:
    expected: int
    happened: int
    days: int = HIT_DAYS

    def __str__(self) -> str:
        if self.expected == 0:
            return f"no runs expected in the last {self.days} days"
        return (
            f"expected {self.expected} run{'s' if self.expected != 1 else ''}, {self.happened} happened "
            f"(last {self.days} days)"
        )


def parse_run_times(text: str) -> tuple[RunTime, ...]:
    """Parse "tue 06:30, thu 06:30, sun 08:00"; raise ValueError with a one-line reason."""
    items = [item.strip().lower() for item in re.split(r"[,;]", text)]
    if not any(items):
        raise ValueError("expected run times like 'tue 06:30, thu 06:30, sun 08:00'")
    found: set[RunTime] = set()
    for item in items:
        match = _RUN_RE.match(" ".join(item.split()))
        if not match or match.group("day") not in WEEKDAYS:
            raise ValueError(f"bad run time {item!r} (expected a weekday and HH:MM, e.g. 'tue 06:30')")
        hour, minute = int(match.group("hh")), int(match.group("mm"))
        if hour > 23 or minute > 59:
            raise ValueError(f"bad time in {item!r} (expected 00:00–23:59)")
        found.add(RunTime(WEEKDAYS.index(match.group("day")), time(hour, minute)))
    return tuple(sorted(found))


def format_run_times(times: Iterable[RunTime]) -> str:
    return ", ".join(str(run) for run in sorted(times))


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def learn(starts: Sequence[RunStart], today: date) -> tuple[RunTime, ...]:
    """The habitual run times of an athlete whose runs started at `starts`, as of local date `today`."""
    by_day: dict[date, list[int]] = {}
    for run in starts:
        local = run.local
        by_day.setdefault(local.date(), []).append(local.hour * 60 + local.minute)
    if not by_day:
        return ()
    first = min(by_day)
    habits: list[RunTime] = []
    for weekday in range(7):
        back = (today.weekday() - weekday - 1) % 7 + 1  # the latest such weekday strictly before today
        days = [today - timedelta(days=back + 7 * week) for week in range(WINDOW_WEEKS)]
        days = [day for day in days if day >= first]
        if len(days) < MIN_WEEKS:
            continue
        habits += (RunTime(weekday, at) for at in _recurring(days, by_day))
    return tuple(sorted(habits))


def _recurring(days: Sequence[date], by_day: dict[date, list[int]]) -> list[time]:
    """Start times (minutes of the day) that recur on at least half of `days`, most-supported first."""
    needed = (len(days) + 1) // 2
    remaining = {day: sorted(by_day.get(day, [])) for day in days}
    found: list[time] = []
    while True:
        best: tuple[int, int, list[int]] | None = None
        for candidate in sorted({start for starts in remaining.values() for start in starts}):
            support = [
                nearest
                for starts in remaining.values()
                if (nearest := _nearest(starts, candidate)) is not None
            ]
            # Most days first; among equals the tightest cluster, then the earliest: deterministic.
            spread = max(abs(s - candidate) for s in support)
            if best is None or (len(support), -spread) > (best[0], -best[1]):
                best = (len(support), spread, support)
        if best is None or best[0] < needed:
            return found
        typical = median_low(best[2])
        typical = min(round(typical / ROUND_TO) * ROUND_TO, 23 * 60 + 55)
        found.append(time(typical // 60, typical % 60))
        for starts in remaining.values():
            if (nearest := _nearest(starts, typical)) is not None:
                starts.remove(nearest)


def _nearest(starts: Sequence[int], target: int) -> int | None:
    """The start closest to `target` (the earlier on a tie) if within the tolerance."""
    near = [s for s in starts if abs(s - target) <= _TOLERANCE_MIN]
    return min(near, key=lambda s: (abs(s - target), s)) if near else None


def expected_runs(
    habits: Iterable[RunTime], zone: ZoneInfo, start: datetime, end: datetime
) -> list[ExpectedRun]:
    """The runs the habits expect from `start` (inclusive) to `end` (exclusive), soonest first."""
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    wanted = sorted(set(habits))
    found: list[ExpectedRun] = []
    day = first_day
    while day <= last_day:
        for habit in wanted:
            if habit.weekday != day.weekday():
                continue
            instant = wall_clock_on(day, habit.at, zone)
            if start <= instant < end:
                found.append(ExpectedRun(habit, day, instant, zone))
        day += timedelta(days=1)
    return sorted(found, key=lambda run: (run.start, run.habit))


def happened(expected: ExpectedRun, starts: Iterable[RunStart]) -> bool:
    """True when a run started within the tolerance of the expected start."""
    return any(abs(run.start - expected.start) <= TOLERANCE for run in starts)


def hit_rate(
    starts: Sequence[RunStart],
    zone: ZoneInfo,
    now: datetime,
    set_times: Sequence[RunTime] | None = None,
    days: int = HIT_DAYS,
) -> HitRate:
    """How many of the runs expected over the last `days` days (ending before `now`) happened."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(zone).date()
    ordered = sorted(starts, key=lambda run: run.start)
    expected = hits = 0
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        day_start = wall_clock_on(day, time(0, 0), zone)
        day_end = wall_clock_on(day + timedelta(days=1), time(0, 0), zone)
        if set_times is not None:
            habits: Sequence[RunTime] = set_times
        else:
            habits = learn([run for run in ordered if run.start < day_start], day)
        for run in expected_runs(habits, zone, day_start, day_end):
            if run.start >= now.astimezone(UTC) - TOLERANCE:
                continue  # its tolerance has not passed yet: not counted either way
            expected += 1
            hits += happened(run, ordered)
    return HitRate(expected, hits, days)
