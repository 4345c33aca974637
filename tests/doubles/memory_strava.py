"""An in-memory Strava for fast tests: the `StravaPort` contract without HTTP or stravalib. It is a test
double, so it lives with the tests; the HTTP double (strava_double.py) is the one checked against the API.

It keeps Strava's semantics that the poller relies on: tokens that expire and rotate, `after` filtering on
the start time with oldest-first order, paging, 404s, the app-wide rate counters with their window resets
(a request over the limit still counts and raises `RateLimited`), and 403 "Application Inactive".

    strava = MemoryStrava(clock=lambda: now)
    grant = strava.connect(101, "Ada Runner")
    strava.add_activity(101, {...summary JSON...})
    poller = Poller(..., port_factory=strava.port, ...)
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.clock import Clock, utc_now
from scheduler.strava import budget
from scheduler.strava.port import (
    ApplicationInactive,
    InvalidGrant,
    Json,
    NotFound,
    RateLimited,
    RateMeter,
    RateUsage,
    StravaError,
    TokenGrant,
    Unauthorized,
)

TOKEN_LIFETIME = timedelta(hours=6)
SAME_TOKEN_MARGIN = timedelta(hours=1)
DETAIL_ONLY = ("laps", "description", "splits_metric", "best_efforts", "calories", "device_name")


@dataclass
class _Athlete:
    athlete: Json
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: datetime | None = None


@dataclass
class _Subscription:
    id: int
    callback_url: str
    verify_token: str


@dataclass
class Call:
    """One call the double answered (or refused)."""

    name: str
    athlete_id: int | None
    args: dict[str, Any] = field(default_factory=dict)


class MemoryStrava:
    """The shared state of one fake Strava application; `port(token)` gives a client bound to a token."""

    def __init__(self, *, clock: Clock = utc_now, read_limits: tuple[int, int] = (100, 1000)) -> None:
        self.clock = clock
        self.read_limits = read_limits
        self.rotate_refresh_tokens = False
        self.inactive = False
        self.calls: list[Call] = []
        self.codes: dict[str, int] = {}
        self._lock = threading.RLock()
        self._athletes: dict[int, _Athlete] = {}
        self._activities: dict[int, tuple[int, Json]] = {}  # id -> (owner, detailed JSON)
        self._failures: list[tuple[str | None, Exception]] = []
        self._short_used = 0
        self._daily_used = 0
        self._window: tuple[datetime, Any] | None = None
        self._subscription: _Subscription | None = None
        self._ids = itertools.count(1)

    # -- control -----------------------------------------------------------------------------------------

    def connect(self, athlete_id: int, name: str = "Ada Runner") -> TokenGrant:
        """Register an athlete and issue their first tokens, as an authorization would."""
        first, _, last = name.partition(" ")
        with self._lock:
            self._athletes[athlete_id] = _Athlete({"id": athlete_id, "firstname": first, "lastname": last})
            return self._issue(self._athletes[athlete_id], new=True)

    def issue_code(self, athlete_id: int) -> str:
        with self._lock:
            if athlete_id not in self._athletes:
                self._athletes[athlete_id] = _Athlete({"id": athlete_id, "firstname": "Ada", "lastname": ""})
            code = secrets.token_hex(8)
            self.codes[code] = athlete_id
            return code

    def add_activity(self, athlete_id: int, activity: Json) -> Json:
        """Store an activity (summary or detailed JSON, with an `id`); the list serves its summary."""
        data = copy.deepcopy(activity)
        data["athlete"] = {"id": athlete_id, "resource_state": 1}
        with self._lock:
            self._activities[int(data["id"])] = (athlete_id, data)
        return copy.deepcopy(data)

    def update_activity(self, activity_id: int, **changes: Any) -> None:
        with self._lock:
            self._activities[activity_id][1].update(changes)

    def delete_activity(self, activity_id: int) -> None:
        with self._lock:
            del self._activities[activity_id]

    def revoke(self, athlete_id: int) -> None:
        with self._lock:
            athlete = self._athletes[athlete_id]
            athlete.access_token = athlete.refresh_token = None

    def expire_access_token(self, athlete_id: int) -> None:
        with self._lock:
            self._athletes[athlete_id].expires_at = self.clock() - timedelta(seconds=1)

    def tokens_of(self, athlete_id: int) -> tuple[str | None, str | None]:
        with self._lock:
            athlete = self._athletes[athlete_id]
            return athlete.access_token, athlete.refresh_token

    def fail_next(self, error: Exception, call: str | None = None) -> None:
        """The next call (named `call`, if given: "list_activities", "refresh", …) raises `error`."""
        with self._lock:
            self._failures.append((call, error))

    def count(self, name: str | None = None) -> int:
        with self._lock:
            return sum(1 for call in self.calls if name is None or call.name == name)

    @property
    def reads(self) -> int:
        """API calls counted against the read limits (token calls are not)."""
        with self._lock:
            return sum(1 for call in self.calls if call.name not in ("exchange_code", "refresh"))

    def port(self, access_token: str | None) -> MemoryStravaPort:
        return MemoryStravaPort(self, access_token)

    # -- internals (called by ports) ------------------------------------------------------------------

    def _issue(self, athlete: _Athlete, *, new: bool) -> TokenGrant:
        now = self.clock()
        if new or athlete.expires_at is None or athlete.expires_at - now <= SAME_TOKEN_MARGIN:
            athlete.access_token = secrets.token_hex(20)
            athlete.expires_at = now + TOKEN_LIFETIME
        if new or self.rotate_refresh_tokens or athlete.refresh_token is None:
            athlete.refresh_token = secrets.token_hex(20)
        assert athlete.access_token and athlete.refresh_token and athlete.expires_at
        return TokenGrant(
            athlete.access_token,
            athlete.refresh_token,
            athlete.expires_at.replace(microsecond=0),
            athlete=copy.deepcopy(athlete.athlete) if new else None,
        )

    def _failure(self, name: str) -> Exception | None:
        for index, (call, error) in enumerate(self._failures):
            if call is None or call == name:
                del self._failures[index]
                return error
        return None

    def _count_request(self) -> RateUsage:
        now = self.clock()
        window = (budget.quarter_start(now), now.astimezone(UTC).date())
        if self._window is None or self._window[0] != window[0]:
            self._short_used = 0
        if self._window is None or self._window[1] != window[1]:
            self._daily_used = 0
        self._window = window
        self._short_used += 1
        self._daily_used += 1
        meter = RateMeter(self._short_used, self.read_limits[0], self._daily_used, self.read_limits[1])
        return RateUsage(observed_at=now, read=meter)

    def _athlete_of(self, access_token: str | None) -> int:
        for athlete_id, athlete in self._athletes.items():
            if (
                access_token is not None
                and athlete.access_token == access_token
                and athlete.expires_at is not None
                and athlete.expires_at > self.clock()
            ):
                return athlete_id
        raise Unauthorized("401 Authorization Error (Athlete.access_token invalid)")


class MemoryStravaPort:
    """A `StravaPort` over a `MemoryStrava`, bound to one access token."""

    def __init__(self, strava: MemoryStrava, access_token: str | None) -> None:
        self._strava = strava
        self._token = access_token
        self._usage: RateUsage | None = None

    @property
    def rate_usage(self) -> RateUsage | None:
        return self._usage

    def _api(self, name: str, args: dict[str, Any], answer: Callable[[int], Any]) -> Any:
        strava = self._strava
        with strava._lock:
            if strava.inactive:
                strava.calls.append(Call(name, None, args))
                raise ApplicationInactive(f"{name}: Strava says the API application is inactive")
            usage = strava._count_request()
            self._usage = usage
            athlete_id: int | None = None
            try:
                read = usage.read
                if read and (read.short_used > read.short_limit or read.daily_used > read.daily_limit):
                    reset_at = budget.reset_after_429(usage, usage.observed_at)
                    raise RateLimited(f"{name}: rate limit exceeded", reset_at)
                failure = strava._failure(name)
                if failure is not None:
                    raise failure
                athlete_id = strava._athlete_of(self._token)
                return copy.deepcopy(answer(athlete_id))
            finally:
                strava.calls.append(Call(name, athlete_id, args))

    def _token_call(self, name: str, answer: Callable[[], TokenGrant]) -> TokenGrant:
        strava = self._strava
        with strava._lock:
            strava.calls.append(Call(name, None))
            if strava.inactive:
                raise ApplicationInactive(f"{name}: Strava says the API application is inactive")
            failure = strava._failure(name)
            if failure is not None:
                raise failure
            return answer()

    def exchange_code(self, code: str) -> TokenGrant:
        def answer() -> TokenGrant:
            athlete_id = self._strava.codes.pop(code, None)
            if athlete_id is None:
                raise InvalidGrant("400 Bad Request (AuthorizationCode.code invalid)")
            return self._strava._issue(self._strava._athletes[athlete_id], new=True)

        return self._token_call("exchange_code", answer)

    def refresh(self, refresh_token: str) -> TokenGrant:
        def answer() -> TokenGrant:
            for athlete in self._strava._athletes.values():
                if athlete.refresh_token is not None and athlete.refresh_token == refresh_token:
                    return self._strava._issue(athlete, new=False)
            raise InvalidGrant("400 Bad Request (RefreshToken.refresh_token invalid)")

        return self._token_call("refresh", answer)

    def athlete(self) -> Json:
        return dict(self._api("athlete", {}, lambda athlete_id: self._strava._athletes[athlete_id].athlete))

    def list_activities(self, *, after: datetime | None, page: int, per_page: int) -> list[Json]:
        def answer(athlete_id: int) -> list[Json]:
            owned = [data for owner, data in self._strava._activities.values() if owner == athlete_id]
            if after is not None:
                owned = [data for data in owned if _start(data) > after]
            owned.sort(key=lambda data: (_start(data), data["id"]), reverse=after is None)
            chosen = owned[(page - 1) * per_page : page * per_page]
            return [{k: v for k, v in data.items() if k not in DETAIL_ONLY} for data in chosen]

        args = {"after": after, "page": page, "per_page": per_page}
        result = self._api("list_activities", args, answer)
        assert isinstance(result, list)
        return result

    def get_activity(self, activity_id: int) -> Json:
        def answer(athlete_id: int) -> Json:
            found = self._strava._activities.get(activity_id)
            if found is None or found[0] != athlete_id:
                raise NotFound(f"activity {activity_id}: not found")
            return found[1]

        return dict(self._api("get_activity", {"id": activity_id}, answer))

    def create_subscription(self, callback_url: str, verify_token: str) -> int:
        strava = self._strava
        with strava._lock:
            strava.calls.append(Call("create_subscription", None))
            if strava._subscription is not None:
                raise StravaError("400 Bad Request (PushSubscription already exists)")
            strava._subscription = _Subscription(next(strava._ids), callback_url, verify_token)
            return strava._subscription.id

    def list_subscriptions(self) -> list[Json]:
        strava = self._strava
        with strava._lock:
            strava.calls.append(Call("list_subscriptions", None))
            found = strava._subscription
            return [{"id": found.id, "callback_url": found.callback_url}] if found else []

    def delete_subscription(self, subscription_id: int) -> None:
        strava = self._strava
        with strava._lock:
            strava.calls.append(Call("delete_subscription", None))
            if strava._subscription is None or strava._subscription.id != subscription_id:
                raise NotFound(f"push subscription {subscription_id}: not found")
            strava._subscription = None


def _start(data: Json) -> datetime:
    return datetime.fromisoformat(str(data["start_date"]).replace("Z", "+00:00"))
