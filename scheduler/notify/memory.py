"""An in-memory notifier for fast tests: records what was sent and fails when told to."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.notify.port import DestinationResult, Message, SendResult


@dataclass(frozen=True, slots=True)
class SentMessage:
    message: Message
    destinations: tuple[str, ...]


class MemoryNotifier:
    """Implements `Notifier`. Every destination "receives" the message unless a failure is scripted.

    `fail(times=n)` makes the next n sends fail on every destination; `fail()` fails until `recover()`;
    `raise_next(exc)` makes the next send raise, as a buggy adapter would. Thread-safe.
    """

    def __init__(self, destinations: Sequence[str] = ("memory://default",)) -> None:
        self._defaults = tuple(destinations)
        self._lock = threading.Lock()
        self._sent: list[SentMessage] = []
        self._attempts = 0
        self._failures_left: int | None = 0  # None: fail until recover()
        self._error = "simulated failure"
        self._raise: Exception | None = None

    def fail(self, times: int | None = None, error: str = "simulated failure") -> None:
        with self._lock:
            self._failures_left = times
            self._error = error

    def recover(self) -> None:
        with self._lock:
            self._failures_left = 0

    def raise_next(self, exc: Exception) -> None:
        with self._lock:
            self._raise = exc

    @property
    def sent(self) -> list[SentMessage]:
        """Messages delivered (failed attempts are not in it), in the order they were sent."""
        with self._lock:
            return list(self._sent)

    @property
    def messages(self) -> list[Message]:
        return [entry.message for entry in self.sent]

    @property
    def attempts(self) -> int:
        """Every call to `send`, delivered or not."""
        with self._lock:
            return self._attempts

    def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
        destinations = tuple(athlete_urls) or self._defaults
        with self._lock:
            self._attempts += 1
            if self._raise is not None:
                exc, self._raise = self._raise, None
                raise exc
            failing = self._failures_left is None or self._failures_left > 0
            if failing:
                if self._failures_left is not None:
                    self._failures_left -= 1
                return SendResult(tuple(DestinationResult(d, False, self._error) for d in destinations))
            self._sent.append(SentMessage(message, destinations))
        return SendResult(tuple(DestinationResult(d, True) for d in destinations))
