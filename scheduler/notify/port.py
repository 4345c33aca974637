"""The notification port: what the rest of the program needs from a notifier, and nothing more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

# The protocol tag of steps that lose their use within the hour (ice, refuel): sent at high priority where the
# service has priorities; every other step goes at the service's default.
URGENT_TAG = "urgent"


@dataclass(frozen=True, slots=True)
class Link:
    """One answer the runner can give from the notification: a button where the service has buttons (an
    ntfy `http` action POSTs `url`), a link in the text elsewhere (it opens a confirmation page first)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    # Routing tags of the protocol step (e.g. "urgent", "routine"); destinations may subscribe to them.
    tags: tuple[str, ...] = ()
    # Keys (`destination_keys`) of destinations that already have this message, from an earlier attempt: a
    # retry leaves them out, so a working destination never gets a copy per failure of another one.
    delivered: frozenset[str] = field(default_factory=frozenset)
    # The runner's one-tap answers (done, skip, snooze) and the page the notification opens; none without a
    # public URL to point them at.
    links: tuple[Link, ...] = ()
    page_url: str | None = None

    @property
    def urgent(self) -> bool:
        return URGENT_TAG in (tag.lower() for tag in self.tags)


@dataclass(frozen=True, slots=True)
class DestinationResult:
    destination: str  # privacy form of the URL: never the secret parts
    ok: bool
    error: str | None = None
    # Which destination this is, the same on every attempt (`destination_keys`); empty: `destination` is it.
    key: str = ""

    @property
    def identity(self) -> str:
        return self.key or self.destination


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


def destination_keys(public_urls: Sequence[str]) -> list[str]:
    """A key per destination of one send, given in configured order and in privacy form.

    The key is the privacy URL itself; a second destination with the same privacy form (two accounts whose
    differences are all secret) gets " #2", and so on. So a key is stable from one attempt to the next while
    the configuration stays, and reveals nothing the privacy form hides — a hash of the full URL would let
    anyone holding the database test guesses of a weak password against it.
    """
    seen: Counter[str] = Counter()
    keys: list[str] = []
    for url in public_urls:
        seen[url] += 1
        keys.append(url if seen[url] == 1 else f"{url} #{seen[url]}")
    return keys


class Notifier(Protocol):
    def ready(self) -> None:
        """Load what sending needs, once per dispatch pass that has work. Raises when it cannot (a broken
        configuration): the dispatcher then gives the claimed rows back without spending an attempt."""
        ...

    def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
        """Send to the athlete's own URLs when given, else to the defaults; routed by the message's tags.

        Destinations whose key is in `message.delivered` are left out; every result carries its key.
        """
        ...
