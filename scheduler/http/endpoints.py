"""What the HTTP listener serves, as plain callables: the daemon wires them, the web layer calls them.

Every callable may block (database, webhook storage): the web layer runs them in its thread pool, never on
the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

HEALTH_PATH = "/healthz"
STATUS_PATH = "/status"
METRICS_PATH = "/metrics"
WEBHOOK_PATH = "/webhooks/strava"
# Paths anyone who can reach the port may call: probes, and Strava (checked by its verify token).
PUBLIC_PATHS = frozenset({HEALTH_PATH, WEBHOOK_PATH})

JsonBody = dict[str, Any]


class WebhookEndpoint(Protocol):
    def handshake(self, params: Mapping[str, str]) -> tuple[int, JsonBody]:
        """Strava's subscription check (GET with hub.mode, hub.challenge, hub.verify_token)."""
        ...

    def receive(self, body: bytes) -> tuple[int, JsonBody]:
        """One pushed event (POST); must answer within 2 s, the work happens later."""
        ...


class WebPage(Protocol):
    """The runner's page (scheduler.web): its own routes, which do their own sign-in."""

    def routes(self) -> list[Any]:
        """Starlette routes."""
        ...

    def serves(self, path: str) -> bool:
        """Whether `path` is the page's (the bearer guard leaves it to the page's sign-in)."""
        ...


@dataclass(frozen=True)
class Endpoints:
    # (healthy, report); the argument says whether the caller may see identifying details (instance id,
    # error texts naming hosts): only a caller holding the bearer token may.
    health: Callable[[bool], tuple[bool, JsonBody]]
    status: Callable[[], JsonBody]
    webhook: WebhookEndpoint | None  # None: the webhook receiver is off and its path answers 404
    metrics: Callable[[], bytes] | None = None  # Prometheus text exposition; None: /metrics answers 404
    web: WebPage | None = None  # the runner's page; None: no page
