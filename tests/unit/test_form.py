"""Fitness (CTL), fatigue (ATL), form (TSB), the acute:chronic ratio and the notes about them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.form import (
    FormDay,
    advance,
    continue_series,
    note_due,
    note_for,
    series,
    start,
)

DAY0 = date(2026, 3, 2)

# Worked by hand: λ7 = 1 − e^(−1/7) = 0.133122, λ42 = 1 − e^(−1/42) = 0.023528, each day
# ATL = ATL' + (L − ATL') λ7, CTL = CTL' + (L − CTL') λ42, TSB = CTL − ATL.
#   day 0: ATL = 100 × 0.133122 = 13.31, CTL = 100 × 0.023528 = 2.35, TSB = −10.96
#   day 1: ATL = 13.31 × 0.866878 = 11.54, CTL = 2.35 × 0.976472 = 2.30
#   day 2: ATL = 11.54 + (50 − 11.54) × 0.133122 = 16.66, CTL = 2.30 + (50 − 2.30) × 0.023528 = 3.42 …
HAND_TABLE = [
    # load, ATL, CTL, TSB
    (100.0, 13.31, 2.35, -10.96),
    (0.0, 11.54, 2.30, -9.24),
    (50.0, 16.66, 3.42, -13.24),
    (0.0, 14.44, 3.34, -11.10),
    (0.0, 12.52, 3.26, -9.26),
    (80.0, 21.50, 5.07, -16.44),
    (120.0, 34.61, 7.77, -26.84),
]


def daily(loads: list[float], first: date = DAY0) -> dict[date, float]:
    return {first + timedelta(days=i): load for i, load in enumerate(loads) if load}


def test_atl_ctl_tsb_match_the_hand_computed_table() -> None:
    loads = [row[0] for row in HAND_TABLE]
    days = series(daily(loads), DAY0 + timedelta(days=len(loads) - 1))
    assert [d.day for d in days] == [DAY0 + timedelta(days=i) for i in range(len(loads))]
    for got, (load, atl, ctl, tsb) in zip(days, HAND_TABLE, strict=True):
        assert got.load == load
        assert got.atl == pytest.approx(atl, abs=0.006)
        assert got.ctl == pytest.approx(ctl, abs=0.006)
        assert got.tsb == pytest.approx(tsb, abs=0.011)


def test_the_json_line_has_the_documented_keys_rounded() -> None:
    line = series({DAY0: 100.0}, DAY0)[0].as_json()
    assert line == {"date": "2026-03-02", "load": 100.0, "atl": 13.3, "ctl": 2.4, "tsb": -11.0, "acwr": None}


def test_acwr_is_uncoupled_7_over_the_28_days_before() -> None:
    # 28 days at 50, then 7 days at 90: acute 90, chronic 50 (the acute week is not in the chronic mean).
    loads = [50.0] * 28 + [90.0] * 7
    days = series(daily(loads), DAY0 + timedelta(days=34))
    assert days[-1].acwr == pytest.approx(90 / 50)
    assert all(d.acwr is None for d in days[:-1])  # fewer than 35 days known


def test_acwr_is_none_while_the_chronic_weeks_were_empty() -> None:
    # The first load starts the series, then 27 empty days: the chronic window still holds day 0's 10.
    loads = [10.0] + [0.0] * 27 + [60.0] * 7
    assert series(daily(loads), DAY0 + timedelta(days=34))[-1].acwr == pytest.approx(60 / (10 / 28))
    state = start(DAY0)
    for _ in range(35):
        _, state = advance(state, 0.0)
    assert advance(state, 80.0)[0].acwr is None


@given(st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=120), st.integers(1, 119))
def test_continuing_from_yesterdays_state_gives_the_same_series(loads: list[float], cut: int) -> None:
    loads[0] = loads[0] or 1.0
    cut = min(cut, len(loads))
    through = DAY0 + timedelta(days=len(loads) - 1)
    whole = series(daily(loads), through)
    first, state = continue_series(start(DAY0), daily(loads), DAY0 + timedelta(days=cut - 1))
    rest, _ = continue_series(state, daily(loads), through)
    assert first + rest == whole


def steady_then(block: list[float], weeks: int = 16) -> list[FormDay]:
    # A realistic week (rest, easy, workout, easy, rest, easy, long) repeated, then `block`.
    week = [0.0, 50.0, 80.0, 45.0, 0.0, 55.0, 110.0]
    loads = week * weeks + block
    return series(daily(loads), DAY0 + timedelta(days=len(loads) - 1))


def test_an_ordinary_training_week_raises_no_note() -> None:
    days = steady_then([])
    assert [note_for(days[: i + 1]) for i in range(60, len(days))] == [None] * (len(days) - 60)


def test_a_hard_block_after_steady_weeks_suggests_an_easy_day_and_says_the_ratio_is_disputed() -> None:
    days = steady_then([120.0, 110.0, 150.0, 100.0, 130.0, 160.0, 140.0])
    note = note_for(days)
    assert note is not None and note.day == days[-1].day
    assert "consider an easy or rest day tomorrow" in note.text
    assert f"{days[-1].tsb:.0f}" in note.text
    assert days[-1].acwr is not None and days[-1].acwr > 1.5
    assert f"{days[-1].acwr:.2f}" in note.text and "disputed" in note.text


def test_a_jump_alone_is_told_as_a_jump_without_the_rest_day_advice() -> None:
    # Few weeks known (no usual form yet) and a week at twice the load.
    loads = [40.0] * 28 + [90.0] * 7
    note = note_for(series(daily(loads), DAY0 + timedelta(days=34)))
    assert note is not None
    assert "jumped" in note.text and "disputed" in note.text
    assert "rest day" not in note.text


def test_at_most_one_note_in_three_days() -> None:
    assert note_due(DAY0, None)
    assert not note_due(DAY0 + timedelta(days=1), DAY0)
    assert not note_due(DAY0 + timedelta(days=2), DAY0)
    assert note_due(DAY0 + timedelta(days=3), DAY0)
