"""The retry policy: exponential backoff, capped, never past the step's expiry."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.dispatch.backoff import Backoff, RetryPolicy

T0 = datetime(2026, 5, 3, 14, 0, tzinfo=UTC)
PLAIN = Backoff(first=timedelta(seconds=30), factor=2, maximum=timedelta(minutes=10), jitter=0)


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600), (40, 600), (10_000, 600)],
)
def test_delay_doubles_up_to_the_cap(failures: int, seconds: float) -> None:
    assert PLAIN.delay(failures) == timedelta(seconds=seconds)


def test_jitter_only_adds_up_to_its_fraction() -> None:
    backoff = Backoff(first=timedelta(seconds=100), jitter=0.1)
    rng = random.Random(7)
    delays = {backoff.delay(1, rng) for _ in range(200)}
    assert all(timedelta(seconds=100) <= d <= timedelta(seconds=110) for d in delays)
    assert len(delays) > 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first": timedelta(0)},
        {"factor": 0.5},
        {"first": timedelta(minutes=5), "maximum": timedelta(minutes=1)},
        {"jitter": -0.1},
    ],
)
def test_nonsense_backoffs_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attempts", "expires_in", "expected"),
    [
        (1, timedelta(hours=3), T0 + timedelta(seconds=30)),
        (2, timedelta(hours=3), T0 + timedelta(seconds=60)),
        (3, timedelta(hours=3), None),  # the limit
        (1, timedelta(seconds=30), None),  # would land exactly at expiry
        (1, timedelta(seconds=31), T0 + timedelta(seconds=30)),
    ],
)
def test_next_attempt(attempts: int, expires_in: timedelta, expected: datetime | None) -> None:
    policy = RetryPolicy(max_attempts=3, backoff=PLAIN)
    assert policy.next_attempt_at(attempts, T0, T0 + expires_in) == expected


@given(
    attempts=st.integers(min_value=1, max_value=50),
    max_attempts=st.integers(min_value=1, max_value=20),
    expires_in=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_retry_is_never_at_or_after_expiry_nor_beyond_the_limit(
    attempts: int, max_attempts: int, expires_in: timedelta, seed: int
) -> None:
    policy = RetryPolicy(max_attempts=max_attempts, backoff=Backoff())
    retry_at = policy.next_attempt_at(attempts, T0, T0 + expires_in, random.Random(seed))
    if retry_at is not None:
        assert attempts < max_attempts
        assert T0 < retry_at < T0 + expires_in


@given(st.integers(min_value=1, max_value=200))
def test_delays_never_shrink(failures: int) -> None:
    assert PLAIN.delay(failures) <= PLAIN.delay(failures + 1)
