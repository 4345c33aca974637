"""What the program needs from Strava, as plain values and our own small exceptions.

One real adapter (`client.StravaClient`, over stravalib) implements it; the tests add an in-memory double
(`tests/doubles/memory_strava.py`). A port instance is bound to one access token (or none, for the token and
subscription calls); `StravaPortFactory` makes one per token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Json = dict[str, Any]


class StravaError(Exception):
    """Strava answered something we cannot use (an unexpected 4xx, a malformed body)."""


class Unauthorized(StravaError):
    """401 on an API call: the access token is expired, revoked or lacks a scope."""


class InvalidGrant(StravaError):
    """The refresh token or authorization code was refused: only a new `recovery auth` helps."""


class ClientRejected(StravaError):
    """Strava refused our client id or secret: a configuration problem, not the athlete's."""


class ApplicationInactive(StravaError):
    """403 "Application Inactive": the app owner has no Strava subscription; retrying soon is pointless."""


class RateLimited(StravaError):
    """429: the app's budget is spent until `reset_at` (the next quarter hour or UTC midnight)."""

    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class NotFound(StravaError):
    """404: the activity does not exist (deleted, never readable, or not yet readable)."""


class StravaUnavailable(StravaError):
    """Network failure, timeout or a 5xx: try again at the next poll."""


@dataclass(frozen=True, slots=True)
class RateMeter:
    """One of Strava's limit pairs as a response reported it: 15-minute and daily usage and limits."""

    short_used: int
    short_limit: int
    daily_used: int
    daily_limit: int


@dataclass(frozen=True, slots=True)
class RateUsage:
    """The counters of one response: `overall` (X-RateLimit-*) and `read` (X-ReadRateLimit-*)."""

    observed_at: datetime
    overall: RateMeter | None = None
    read: RateMeter | None = None


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """The answer of POST /oauth/token. Token values are kept out of `repr` so they never reach a log."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    athlete: Json | None = None  # only on the authorization-code exchange


class StravaPort(Protocol):
    @property
    def rate_usage(self) -> RateUsage | None:
        """The rate-limit counters of the latest API response, if it carried them."""
        ...

    def exchange_code(self, code: str) -> TokenGrant: ...

    def refresh(self, refresh_token: str) -> TokenGrant: ...

    def athlete(self) -> Json: ...

    def list_activities(self, *, after: datetime | None, page: int, per_page: int) -> list[Json]:
        """GET /athlete/activities: newest first, or oldest first when `after` (start time) is given."""
        ...

    def get_activity(self, activity_id: int) -> Json:
        """GET /activities/{id}: the DetailedActivity (`resource_state` -1 while Strava processes it)."""
        ...

    def create_subscription(self, callback_url: str, verify_token: str) -> int: ...

    def list_subscriptions(self) -> list[Json]: ...

    def delete_subscription(self, subscription_id: int) -> None: ...


# Builds a port bound to an access token; None for the token and push-subscription calls.
StravaPortFactory = Callable[[str | None], StravaPort]
