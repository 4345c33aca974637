"""An in-memory notifier for fast tests: records what was sent and fails when told to."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from scheduler.notify.port import DestinationResult, Message, SendResult, destination_keys


@dataclass(frozen=True, slots=True)
class SentMessage:
    message: Message
    destinations: tuple[str, ...]


class MemoryNotifier:
    """Implements `Notifier`. Every destination "receives" the message unless a failure is scripted.

    `fail(times=n)` makes the next n sends fail on every destination (or only on `only`); `fail()` fails until
    `recover()`; `raise_next(exc)` makes the next send raise, as a buggy adapter would. Destinations in the
    message's `delivered` are left out, as the apprise notifier does. Thread-safe.
    """

    def __init__(self, destinations: Sequence[str] = ("memory://default",)) -> None:
        self._defaults = tuple(destinations)
        self._lock = threading.Lock()
        self._sent: list[SentMessage] = []
        self._attempts = 0
        self._failures_left: int | None = 0  # None: fail until recover()
        self._failing: frozenset[str] | None = None  # None: every destination
        self._error = "simulated failure"
        self._raise: Exception | None = None

    def fail(
        self, times: int | None = None, error: str = "simulated failure", only: Collection[str] | None = None
    ) -> None:
        with self._lock:
            self._failures_left = times
            self._error = error
            self._failing = None if only is None else frozenset(only)

    def recover(self) -> None:
        with self._lock:
            self._failures_left = 0

    def raise_next(self, exc: Exception) -> None:
        with self._lock:
            self._raise = exc

    @property
    def sent(self) -> list[SentMessage]:
        """Messages delivered to at least one destination, in the order they were sent, with where to."""
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

    def ready(self) -> None:
        """Always ready: nothing to load."""

    def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
        given = tuple(athlete_urls) or self._defaults
        chosen = [
            (url, key)
            for url, key in zip(given, destination_keys(given), strict=True)
            if key not in message.delivered
        ]
        with self._lock:
            self._attempts += 1
            if self._raise is not None:
                exc, self._raise = self._raise, None
                raise exc
            failing = self._failures_left is None or self._failures_left > 0
            if failing and self._failures_left is not None:
                self._failures_left -= 1
            results = tuple(
                DestinationResult(url, False, self._error, key)
                if failing and (self._failing is None or url in self._failing)
                else DestinationResult(url, True, None, key)
                for url, key in chosen
            )
            reached = tuple(r.destination for r in results if r.ok)
            if reached:
                self._sent.append(SentMessage(message, reached))
        return SendResult(results)
