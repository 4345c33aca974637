"""Habitual run times: learned per weekday from the runs' own wall clocks (DST and zones included), the
runner's own times, the runs expected ahead and the hit rate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain.habits import (
    RunStart,
    RunTime,
    expected_runs,
    format_run_times,
    hit_rate,
    learn,
    parse_run_times,
)
from scheduler.domain.timing import wall_clock_on

TORONTO = ZoneInfo("America/Toronto")
TUE, THU, SUN = 1, 3, 6
# A Tuesday after the autumn clock change, so eight weeks back straddle it.
TODAY = date(2026, 11, 24)


def runs_on(
    weekday: int, at: time, weeks: int, zone: ZoneInfo = TORONTO, today: date = TODAY
) -> list[RunStart]:
    """A run at `at` (local) on each of the last `weeks` such weekdays before `today`."""
    back = (today.weekday() - weekday - 1) % 7 + 1
    return [
        RunStart(wall_clock_on(today - timedelta(days=back + 7 * week), at, zone), zone)
        for week in range(weeks)
    ]


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        pytest.param([], (), id="no history"),
        pytest.param(runs_on(TUE, time(6, 30), 8), (RunTime(TUE, time(6, 30)),), id="every tuesday"),
        pytest.param(
            runs_on(TUE, time(6, 30), 8)[:4], (RunTime(TUE, time(6, 30)),), id="the last four of eight"
        ),
        pytest.param(
            runs_on(TUE, time(6, 30), 8)[::2], (RunTime(TUE, time(6, 30)),), id="every other tuesday is half"
        ),
        pytest.param(
            runs_on(TUE, time(6, 30), 8)[4:], (RunTime(TUE, time(6, 30)),), id="the oldest four of eight"
        ),
        pytest.param(
            runs_on(TUE, time(6, 30), 12)[5:], (), id="runs only before the last five weeks: three of eight"
        ),
        pytest.param(runs_on(TUE, time(6, 30), 3), (), id="three weeks of history are too few"),
        pytest.param(
            runs_on(TUE, time(6, 30), 8) + runs_on(TUE, time(18, 0), 8),
            (RunTime(TUE, time(6, 30)), RunTime(TUE, time(18, 0))),
            id="a double every tuesday",
        ),
        pytest.param(
            runs_on(THU, time(6, 30), 8) + runs_on(SUN, time(8, 0), 8),
            (RunTime(THU, time(6, 30)), RunTime(SUN, time(8, 0))),
            id="two weekdays",
        ),
    ],
)
def test_learning_table(history: list[RunStart], expected: tuple[RunTime, ...]) -> None:
    assert learn(history, TODAY) == expected


def test_three_of_eight_is_not_a_habit() -> None:
    assert learn(runs_on(TUE, time(6, 30), 8)[:3] + runs_on(TUE, time(6, 30), 8)[:1], TODAY) == ()
    # Three recent ones and one nine weeks ago (outside the eight): three of eight.
    assert learn(runs_on(TUE, time(6, 30), 3) + runs_on(TUE, time(6, 30), 9)[8:], TODAY) == ()


def test_starts_that_drift_within_45_minutes_make_one_habit_at_their_median() -> None:
    starts = [
        RunStart(
            wall_clock_on(TODAY - timedelta(days=7 * week), time(6, 0 + 10 * (week % 4)), TORONTO), TORONTO
        )
        for week in range(1, 9)
    ]
    assert learn(starts, TODAY) == (RunTime(TUE, time(6, 10)),)


def test_starts_more_than_45_minutes_apart_do_not_support_each_other() -> None:
    early = runs_on(TUE, time(6, 0), 8)[::2]  # weeks 0, 2, 4, 6 at 06:00
    late = runs_on(TUE, time(7, 0), 8)[1::2][:3]  # three weeks at 07:00
    assert learn(early + late, TODAY) == (RunTime(TUE, time(6, 0)),)


def test_learning_reads_each_run_on_its_own_wall_clock_across_dst_and_travel() -> None:
    # Same 06:30 local every Tuesday: before and after the November clock change, and two weeks in Europe.
    history = runs_on(TUE, time(6, 30), 6) + runs_on(TUE, time(6, 30), 8, ZoneInfo("Europe/Paris"))[6:]
    assert {run.start.astimezone(UTC).hour for run in history} == {4, 10, 11}  # the UTC hours differ
    assert learn(history, TODAY) == (RunTime(TUE, time(6, 30)),)


def test_today_does_not_count_towards_its_own_habit() -> None:
    history = [*runs_on(TUE, time(6, 30), 3), RunStart(wall_clock_on(TODAY, time(6, 30), TORONTO), TORONTO)]
    assert learn(history, TODAY) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tue 06:30, thu 06:30, sun 08:00", "tue 06:30, thu 06:30, sun 08:00"),
        ("Sunday 8:00; tuesday 6:30", "tue 06:30, sun 08:00"),
        ("thu 06:30,thu 06:30", "thu 06:30"),
    ],
)
def test_parse_run_times(text: str, expected: str) -> None:
    assert format_run_times(parse_run_times(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected run times"),
        ("tue", "bad run time 'tue'"),
        ("tue 25:00", "bad time in 'tue 25:00'"),
        ("xyz 06:30", "bad run time 'xyz 06:30'"),
        ("tue 06:30, sometime", "bad run time 'sometime'"),
    ],
)
def test_bad_run_times_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_run_times(text)


def test_expected_runs_over_a_spring_forward_night_keep_the_local_time() -> None:
    zone = ZoneInfo("Europe/Berlin")
    habits = [RunTime(6, time(8, 0)), RunTime(0, time(2, 30))]  # Sunday 08:00; Monday 02:30
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    found = expected_runs(habits, zone, start, start + timedelta(days=3))
    assert [run.start.astimezone(zone).strftime("%a %H:%M %Z") for run in found] == [
        "Sun 08:00 CEST",
        "Mon 02:30 CEST",
    ]
    # On the night the clock jumps over the time (last Sunday of March), the run is expected at the jump.
    gap = expected_runs([RunTime(6, time(2, 30))], zone, start, start + timedelta(days=2))
    assert [run.start.astimezone(zone).strftime("%H:%M %Z") for run in gap] == ["03:00 CEST"]


def test_hit_rate_counts_expected_runs_that_happened() -> None:
    now = wall_clock_on(TODAY, time(12, 0), TORONTO)
    history = runs_on(TUE, time(6, 30), 12)
    missed = {history[1].start, history[3].start}  # two Tuesdays of the last four without the run
    kept = [run for run in history if run.start not in missed]
    rate = hit_rate(kept, TORONTO, now)
    assert (rate.expected, rate.happened) == (4, 2)
    assert str(rate) == "expected 4 runs, 2 happened (last 28 days)"
    own = hit_rate(kept, TORONTO, now, set_times=[RunTime(TUE, time(6, 30)), RunTime(THU, time(6, 30))])
    assert (own.expected, own.happened) == (8, 2)


def test_today_is_judged_once_it_is_over() -> None:
    next_week = TODAY + timedelta(days=7)
    history = runs_on(TUE, time(6, 30), 8, today=next_week)  # every Tuesday before; none yet today
    for clock in (time(6, 40), time(23, 0)):
        rate = hit_rate(history, TORONTO, wall_clock_on(next_week, clock, TORONTO))
        assert (rate.expected, rate.happened) == (4, 4)
    tomorrow = hit_rate(history, TORONTO, wall_clock_on(next_week + timedelta(days=1), time(9, 0), TORONTO))
    assert (tomorrow.expected, tomorrow.happened) == (4, 3)  # today's 06:30 run did not happen


ZONES = st.sampled_from(
    ["America/Toronto", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "Pacific/Auckland", "UTC"]
)


@settings(max_examples=60, deadline=None)
@given(
    zone_name=ZONES,
    weekday=st.integers(0, 6),
    hour=st.integers(5, 21),
    minute=st.sampled_from([0, 15, 30, 45]),
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    jitter=st.lists(st.integers(-20, 20), min_size=8, max_size=8),
)
def test_a_weekly_run_is_learned_at_its_local_time_in_any_zone_and_season(
    zone_name: str, weekday: int, hour: int, minute: int, today: date, jitter: list[int]
) -> None:
    zone = ZoneInfo(zone_name)
    at = time(hour, minute)
    history = [
        RunStart(run.start + timedelta(minutes=shift), zone)
        for run, shift in zip(runs_on(weekday, at, 8, zone, today), jitter, strict=True)
    ]
    [habit] = learn(history, today)
    assert habit.weekday == weekday
    learned = habit.at.hour * 60 + habit.at.minute
    assert abs(learned - (hour * 60 + minute)) <= 25  # the median of starts within ±20 min, to 5 min
    # Expected next week at that local time, whatever the offset is then.
    start = wall_clock_on(today, time(0, 0), zone)
    [next_run] = expected_runs([habit], zone, start, start + timedelta(days=7))
    assert next_run.start.astimezone(zone).time() == habit.at
    assert next_run.start.astimezone(zone).weekday() == weekday
