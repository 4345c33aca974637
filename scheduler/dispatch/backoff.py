"""The retry policy: exponential backoff, bounded by an attempt limit and by the step's own expiry."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait `first`, then `first × factor`, … never more than `maximum`.

    `jitter` adds up to that fraction of the wait, so reminders that failed together (one receiver down)
    do not all come back in the same instant.
    """

    first: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    maximum: timedelta = timedelta(minutes=30)
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.first <= timedelta(0) or self.factor < 1 or self.maximum < self.first or self.jitter < 0:
            raise ValueError("backoff needs first > 0, factor >= 1, maximum >= first and jitter >= 0")

    def delay(self, failures: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after the `failures`-th failed attempt (1 for the first failure)."""
        if failures < 1:
            raise ValueError("failures counts from 1")
        # Cap the exponent before multiplying so a long run of failures cannot overflow a float.
        base = min(
            self.first.total_seconds() * self.factor ** min(failures - 1, 64), self.maximum.total_seconds()
        )
        spread = (rng or random).random() * self.jitter if self.jitter else 0.0
        return timedelta(seconds=base * (1 + spread))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff: Backoff = Backoff()

    def next_attempt_at(
        self, attempts: int, failed_at: datetime, expires_at: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after `attempts` failed attempts; None when it is time to give up.

        Giving up comes from the attempt limit, or from the step's expiry: a retry that would land at or after
        `expires_at` would only be expired unsent, so the reminder fails now and says so.
        """
        if attempts >= self.max_attempts:
            return None
        retry_at = failed_at + self.backoff.delay(attempts, rng)
        return retry_at if retry_at < expires_at else None
