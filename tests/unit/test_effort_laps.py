"""Lap structure: what a DetailedActivity's laps show about the session."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.domain.activity import Lap, parse_activity
from scheduler.domain.laps import LapPattern, read_laps
from tests.unit.test_effort_cases import interval_laps, km_laps, laps, run

EASY = 340.0  # 5:40/km


def as_laps(raw_laps: list[dict[str, Any]]) -> tuple[Lap, ...]:
    return parse_activity(run(laps=raw_laps)).laps


CASES = [
    ("6x800 with jog recoveries", interval_laps(6, 800.0, "3:50"), EASY, False, LapPattern.INTERVALS),
    ("12x400 without history", interval_laps(12, 400.0, "3:40", 200.0), None, False, LapPattern.INTERVALS),
    (
        "2x15 min blocks",
        laps((2000.0, "5:40"), (3300.0, "4:32"), (800.0, "6:30"), (3300.0, "4:32"), (1500.0, "5:45")),
        EASY,
        False,
        LapPattern.INTERVALS,
    ),
    (
        "tempo block",
        laps(*[(1000.0, "5:40")] * 3, *[(1000.0, "4:35")] * 5, *[(1000.0, "5:45")] * 2),
        EASY,
        False,
        LapPattern.TEMPO,
    ),
    (
        "progression",
        laps(
            *[(1000.0, p) for p in ("5:45", "5:35", "5:20", "5:10", "4:58", "4:50", "4:40", "4:30", "4:25")]
        ),
        EASY,
        False,
        LapPattern.PROGRESSION,
    ),
    (
        "even race pace",
        laps(*[(1000.0, p) for p in ("4:10", "4:12", "4:11", "4:13", "4:15")], (20.0, "4:00")),
        EASY,
        False,
        LapPattern.EVEN_FAST,
    ),
    ("easy km laps", km_laps(9, "5:42"), EASY, False, LapPattern.EASY),
    (
        "strides at the end do not make intervals",
        laps(
            *[(1000.0, "5:40")] * 8,
            (100.0, "3:20"),
            (100.0, "7:00"),
            (100.0, "3:20"),
            (100.0, "7:00"),
            (100.0, "3:15"),
        ),
        EASY,
        False,
        LapPattern.EASY,
    ),
    (
        "a fast last km is not a session",
        laps(*[(1000.0, "5:40")] * 8, (1000.0, "4:40")),
        EASY,
        False,
        LapPattern.MIXED,
    ),
    (
        "hilly: descents 12% quicker than easy are not reps",
        laps(*[(1000.0, p) for p in ("6:30", "5:00", "6:40", "4:58", "6:35", "5:02", "6:30", "5:00")]),
        EASY,
        True,
        LapPattern.EASY,
    ),
    (
        "the same swings on the flat are",
        laps(*[(1000.0, p) for p in ("6:30", "5:00", "6:40", "4:58", "6:35", "5:02", "6:30", "5:00")]),
        EASY,
        False,
        LapPattern.INTERVALS,
    ),
]


@pytest.mark.parametrize(
    ("raw", "easy", "hilly", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_lap_pattern(raw: list[dict[str, Any]], easy: float | None, hilly: bool, pattern: LapPattern) -> None:
    reading = read_laps(as_laps(raw), easy, hilly)
    assert reading is not None
    assert reading.pattern == pattern, reading.reason


def test_fewer_than_three_usable_laps_say_nothing() -> None:
    assert read_laps(as_laps(laps((5000.0, "5:40"), (5000.0, "5:45"))), EASY) is None
    assert (
        read_laps(as_laps(laps((30.0, "5:40"), (20.0, "5:40"), (40.0, "5:40"), (5000.0, "5:40"))), EASY)
        is None
    )


def test_reasons_name_the_reps_and_their_pace() -> None:
    reading = read_laps(as_laps(interval_laps(6, 800.0, "3:50")), EASY)
    assert reading is not None
    assert reading.reason == "laps alternate fast and slow: 6 fast laps at 3:50/km between slower ones"
