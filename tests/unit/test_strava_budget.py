"""The rate budget's window arithmetic and decisions: pure functions, property-tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.strava.budget import (
    WEBHOOK_SHARE,
    BudgetState,
    from_json,
    merge_usage,
    meter_now,
    next_midnight,
    next_quarter,
    one_more_read,
    parse_rate_headers,
    reset_after_429,
    spent_until,
    to_json,
    usable,
    webhook_allowance,
    webhook_share_until,
)
from scheduler.strava.port import RateMeter, RateUsage

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
meters = st.builds(
    RateMeter,
    short_used=st.integers(0, 300),
    short_limit=st.integers(1, 300),
    daily_used=st.integers(0, 3000),
    daily_limit=st.integers(1, 3000),
)
reserves = st.floats(min_value=0, max_value=0.9)


@given(instants)
def test_next_quarter_is_the_next_quarter_hour_boundary(now: datetime) -> None:
    reset = next_quarter(now)
    assert now < reset <= now + timedelta(minutes=15)
    assert reset.minute % 15 == 0 and reset.second == 0 and reset.microsecond == 0
    assert reset.tzinfo is not None


@given(instants)
def test_next_midnight_is_the_next_utc_midnight(now: datetime) -> None:
    reset = next_midnight(now)
    assert now < reset <= now + timedelta(days=1)
    assert (reset.hour, reset.minute, reset.second, reset.microsecond) == (0, 0, 0, 0)
    assert reset.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("now", "quarter", "midnight"),
    [
        ("2026-05-16T14:03:00+00:00", "2026-05-16T14:15:00+00:00", "2026-05-17T00:00:00+00:00"),
        ("2026-05-16T14:15:00+00:00", "2026-05-16T14:30:00+00:00", "2026-05-17T00:00:00+00:00"),
        ("2026-05-16T23:59:59+00:00", "2026-05-17T00:00:00+00:00", "2026-05-17T00:00:00+00:00"),
        # An instant with another offset: windows are UTC (01:50+02:00 is 23:50 UTC the day before).
        ("2026-05-17T01:50:00+02:00", "2026-05-17T00:00:00+00:00", "2026-05-17T00:00:00+00:00"),
    ],
)
def test_window_resets_examples(now: str, quarter: str, midnight: str) -> None:
    at = datetime.fromisoformat(now)
    assert next_quarter(at) == datetime.fromisoformat(quarter)
    assert next_midnight(at) == datetime.fromisoformat(midnight)


@given(meters, instants, st.integers(0, 3 * 86400))
def test_meter_counts_reset_with_their_windows(meter: RateMeter, observed: datetime, later: int) -> None:
    now = observed + timedelta(seconds=later)
    current = meter_now(meter, observed, now)
    assert current.short_used == (meter.short_used if now < next_quarter(observed) else 0)
    assert current.daily_used == (meter.daily_used if now < next_midnight(observed) else 0)
    assert (current.short_limit, current.daily_limit) == (meter.short_limit, meter.daily_limit)


@given(meters, instants, reserves)
def test_spent_budget_frees_up_exactly_at_the_reset(meter: RateMeter, now: datetime, reserve: float) -> None:
    usage = RateUsage(observed_at=now, read=meter)
    until = spent_until(usage, now, reserve)
    if until is None:
        assert meter.short_used < usable(meter.short_limit, reserve)
        assert meter.daily_used < usable(meter.daily_limit, reserve)
        return
    assert until in (next_quarter(now), next_midnight(now))
    assert until > now
    assert spent_until(usage, until, reserve) is None  # no new request: the window starts empty
    if meter.daily_used >= usable(meter.daily_limit, reserve):
        assert until == next_midnight(now)


@given(meters, instants)
def test_reserve_keeps_part_of_each_window(meter: RateMeter, now: datetime) -> None:
    usage = RateUsage(observed_at=now, read=meter)
    background = spent_until(usage, now, 0.1)
    interactive = spent_until(usage, now, 0.0)
    if interactive is not None:
        assert background is not None and background >= interactive


def test_default_limits_leave_ninety_percent_to_polling() -> None:
    assert usable(100, 0.1) == 90
    assert usable(1000, 0.1) == 900
    assert usable(1, 0.5) == 1


@given(meters, meters, instants, st.integers(-900, 900))
def test_merging_observations_never_loses_usage_within_a_window(
    a: RateMeter, b: RateMeter, at: datetime, skew: int
) -> None:
    first = RateUsage(observed_at=at, read=a)
    second = RateUsage(observed_at=at + timedelta(seconds=skew), read=b)
    merged = merge_usage(first, second)
    assert merged.observed_at == max(first.observed_at, second.observed_at)
    assert merged.read is not None
    for single in (first, second):
        assert single.read is not None
        expected = meter_now(single.read, single.observed_at, merged.observed_at)
        assert merged.read.short_used >= expected.short_used
        assert merged.read.daily_used >= expected.daily_used
    # Order of arrival does not matter for the counts.
    swapped = merge_usage(second, first)
    assert swapped.read is not None
    assert (swapped.read.short_used, swapped.read.daily_used) == (
        merged.read.short_used,
        merged.read.daily_used,
    )


def test_429_waits_for_midnight_only_when_a_daily_limit_is_exceeded() -> None:
    now = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)
    short = RateUsage(now, read=RateMeter(101, 100, 400, 1000))
    daily = RateUsage(now, read=RateMeter(3, 100, 1001, 1000))
    assert reset_after_429(short, now) == datetime(2026, 5, 16, 14, 15, tzinfo=UTC)
    assert reset_after_429(daily, now) == datetime(2026, 5, 17, tzinfo=UTC)
    assert reset_after_429(None, now) == datetime(2026, 5, 16, 14, 15, tzinfo=UTC)


def test_rate_headers_are_read_case_insensitively() -> None:
    now = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)
    usage = parse_rate_headers(
        {
            "X-RateLimit-Limit": "200,2000",
            "x-ratelimit-usage": "12,345",
            "X-ReadRateLimit-Limit": "100,1000",
            "X-ReadRateLimit-Usage": "7,300",
        },
        now,
    )
    assert usage == RateUsage(now, overall=RateMeter(12, 200, 345, 2000), read=RateMeter(7, 100, 300, 1000))
    assert parse_rate_headers({"Content-Type": "application/json"}, now) is None
    assert parse_rate_headers({"X-RateLimit-Limit": "garbage", "X-RateLimit-Usage": "1,2"}, now) is None


def test_state_round_trips_through_json() -> None:
    now = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)
    state = BudgetState(
        RateUsage(now, overall=RateMeter(12, 200, 345, 2000), read=RateMeter(7, 100, 300, 1000)),
        blocked_until=now + timedelta(minutes=12),
    )
    assert from_json(to_json(state)) == state
    assert from_json(to_json(BudgetState())) == BudgetState()
    assert state.wait_until(now, 0.1) == now + timedelta(minutes=12)
    assert state.wait_until(now + timedelta(minutes=12), 0.1) is None


# -- the webhook share ---------------------------------------------------------------------------------------


def _usage(at: datetime, read_used: int = 0) -> RateUsage:
    return RateUsage(
        at,
        overall=RateMeter(read_used, 200, read_used, 2000),
        read=RateMeter(read_used, 100, read_used, 1000),
    )


def test_webhook_reads_get_a_fixed_share_of_each_window_and_polling_keeps_the_rest() -> None:
    now = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)
    allowed = webhook_allowance(100, 0.1)
    assert allowed == 22  # a quarter of the 90 reads the 10 % reserve leaves
    reads = None
    for _ in range(allowed):
        assert webhook_share_until(_usage(now), reads, now, 0.1, WEBHOOK_SHARE) is None
        reads = one_more_read(reads, now)
    state = BudgetState(usage=_usage(now, read_used=allowed), webhook=reads)

    assert state.webhook_wait_until(now, 0.1) == next_quarter(now)  # webhooks wait for the next window
    assert state.wait_until(now, 0.1) is None  # polling goes on: 68 reads of the window are its own
    later = next_quarter(now) + timedelta(seconds=1)
    assert BudgetState(usage=_usage(later), webhook=reads).webhook_wait_until(later, 0.1) is None


@given(st.integers(1, 300), reserves)
def test_the_webhook_share_never_exceeds_its_part_of_the_usable_budget(limit: int, reserve: float) -> None:
    allowed = webhook_allowance(limit, reserve)
    assert 1 <= allowed <= usable(limit, reserve)
    assert allowed <= max(1, usable(limit, reserve) * WEBHOOK_SHARE)


def test_webhook_counts_reset_with_their_windows_and_survive_the_database() -> None:
    now = datetime(2026, 5, 16, 23, 59, tzinfo=UTC)
    reads = one_more_read(one_more_read(None, now), now)
    assert (reads.short, reads.daily) == (2, 2)
    next_day = reads.at(now + timedelta(minutes=2))
    assert (next_day.short, next_day.daily) == (0, 0)
    state = BudgetState(usage=_usage(now), webhook=reads)
    assert from_json(to_json(state)) == state
    assert from_json({"observed_at": None}).webhook is None  # a row written before the share existed
