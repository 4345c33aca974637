"""What the laps of an activity (DetailedActivity `laps`) show: intervals, a tempo block, an even effort …

A lap is "fast" when its pace is at least 10% quicker than the athlete's easy pace (18% on hilly routes,
where climbs and descents alone swing lap paces); without history the athlete's own slower laps stand in for
the easy pace. Strides and other bursts shorter than 30 s and 150 m are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median, pstdev

from scheduler.domain.activity import Lap

FAST_MARGIN = 0.10
HILLY_FAST_MARGIN = 0.18
MIN_LAP_METRES = 50.0
MIN_LAP_SECONDS = 10
MIN_REP_SECONDS = 30
MIN_REP_METRES = 150.0
MIN_FAST_SECONDS = 180  # all fast laps together: less is a few surges, not a session
TEMPO_MIN_SECONDS = 10 * 60
EVEN_SPREAD = 0.05  # relative standard deviation of lap paces for an even effort


class LapPattern(StrEnum):
    INTERVALS = "intervals"
    PROGRESSION = "progression"
    TEMPO = "tempo"
    EVEN_FAST = "even_fast"
    EASY = "easy"
    MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class LapReading:
    pattern: LapPattern
    reason: str


def format_pace(seconds_per_km: float) -> str:
    whole = round(seconds_per_km)
    return f"{whole // 60}:{whole % 60:02d}/km"


def read_laps(laps: Sequence[Lap], easy_pace: float | None, hilly: bool = False) -> LapReading | None:
    """The lap pattern, or None when there are fewer than three usable laps."""
    usable = [lap for lap in laps if lap.distance >= MIN_LAP_METRES and lap.moving_time >= MIN_LAP_SECONDS]
    if len(usable) < 3:
        return None
    paces = [lap.moving_time / lap.distance * 1000 for lap in usable]
    times = [lap.moving_time for lap in usable]
    total = sum(times)
    reference = easy_pace if easy_pace is not None else sorted(paces)[(len(paces) * 3) // 4]
    margin = HILLY_FAST_MARGIN if hilly else FAST_MARGIN
    fast = [
        pace <= reference * (1 - margin)
        and (lap.moving_time >= MIN_REP_SECONDS or lap.distance >= MIN_REP_METRES)
        for pace, lap in zip(paces, usable, strict=True)
    ]
    fast_time = sum(t for t, is_fast in zip(times, fast, strict=True) if is_fast)
    if fast_time < MIN_FAST_SECONDS:
        if easy_pace is not None and not any(fast):
            return LapReading(
                LapPattern.EASY, f"no lap faster than your easy pace of {format_pace(easy_pace)}"
            )
        return LapReading(LapPattern.MIXED, "laps show no sustained faster running")
    groups = _fast_groups(fast)
    fast_pace = median(p for p, is_fast in zip(paces, fast, strict=True) if is_fast)
    intervals = _intervals(groups, paces, times, fast, fast_pace)
    if intervals is not None:
        return intervals
    progression = _progression(paces)
    if progression is not None:
        return progression
    if len(groups) == 1 and fast_time <= 0.8 * total:
        block = sum(times[i] for i in groups[0])
        if block >= TEMPO_MIN_SECONDS:
            return LapReading(
                LapPattern.TEMPO,
                f"laps show a {block / 60:.0f}-min block at {format_pace(fast_pace)} inside easier running",
            )
    if fast_time >= 0.8 * total and easy_pace is not None:
        full = [
            p
            for p, lap in zip(paces, usable, strict=True)
            if lap.distance >= 0.5 * median(x.distance for x in usable)
        ]
        if pstdev(full) / (sum(full) / len(full)) <= EVEN_SPREAD:
            quicker = 1 - fast_pace / easy_pace
            return LapReading(
                LapPattern.EVEN_FAST,
                f"even laps at {format_pace(fast_pace)}, {quicker:.0%} faster than your easy pace",
            )
    return LapReading(LapPattern.MIXED, "laps show faster running without a clear structure")


def _fast_groups(fast: Sequence[bool]) -> list[list[int]]:
    groups: list[list[int]] = []
    for i, is_fast in enumerate(fast):
        if not is_fast:
            continue
        if groups and groups[-1][-1] == i - 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _intervals(
    groups: list[list[int]], paces: list[float], times: list[int], fast: list[bool], fast_pace: float
) -> LapReading | None:
    """Fast laps separated by clearly slower ones, several times (or twice, if the blocks are long)."""
    if len(groups) < 2:
        return None
    between = [paces[i] for i in range(groups[0][0], groups[-1][-1] + 1) if not fast[i]]
    if not between or median(between) < fast_pace * 1.08:
        return None
    shortest_block = min(sum(times[i] for i in group) for group in groups)
    if len(groups) < 3 and shortest_block < 240:
        return None
    reps = sum(len(group) for group in groups)
    return LapReading(
        LapPattern.INTERVALS,
        f"laps alternate fast and slow: {reps} fast laps at {format_pace(fast_pace)} between slower ones",
    )


def _progression(paces: list[float]) -> LapReading | None:
    """Each third of the run faster than the one before, the last clearly so."""
    third = len(paces) // 3
    if third < 2:
        return None
    first, middle, last = median(paces[:third]), median(paces[third:-third]), median(paces[-third:])
    if last <= first * 0.92 and last < middle < first:
        return LapReading(
            LapPattern.PROGRESSION, f"laps get faster, from {format_pace(first)} to {format_pace(last)}"
        )
    return None
