"""The notification port: what the rest of the program needs from a notifier, and nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    # Routing tags of the protocol step (e.g. "urgent", "routine"); destinations may subscribe to them.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DestinationResult:
    destination: str  # privacy form of the URL: never the secret parts
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    results: tuple[DestinationResult, ...]

    @property
    def ok(self) -> bool:
        """Delivered when at least one destination took it and none failed."""
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def error(self) -> str | None:
        failures = [f"{r.destination}: {r.error or 'failed'}" for r in self.results if not r.ok]
        if not self.results:
            return "no destination configured"
        return "; ".join(failures) or None


class Notifier(Protocol):
    def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
        """Send to the athlete's own URLs when given, else to the defaults; routed by the message's tags."""
        ...
