"""A faithful Strava API double: real HTTP on 127.0.0.1, an ephemeral port, a thread-safe control API.

It serves the paths stravalib uses, under a prefix-free layout:
    http://127.0.0.1:PORT/api/v3/  athlete, athlete/activities, activities/{id}[/laps], push_subscriptions
    http://127.0.0.1:PORT/oauth/   authorize, token, deauthorize
with Strava's status codes, error bodies, rate-limit headers and quirks as the project's Strava notes
(shared/docs/strava.md) record them. Every time-based rule (token expiry, code lifetime, rate windows,
upload visibility) reads the double's own clock, `now`, which follows the real clock unless a test sets
or advances it.

Typical use (see strava_fixtures.py for the pytest fixture):
    double.add_athlete(101, "Ada", "Runner")
    tokens = double.grant_tokens(101)                       # or drive /oauth/authorize + /oauth/token
    double.add_activity(101, name="Tempo", start_date=..., distance=10000, moving_time=2700)
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import secrets
import socket
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.doubles import strava_data
from tests.doubles.strava_data import Json

API_PREFIX = "/api/v3"
ACCESS_TOKEN_LIFETIME = 21600  # seconds, Strava's expires_in
SAME_TOKEN_MARGIN = 3600  # a refresh hands back the same access token while more than this is left
CODE_LIFETIME = timedelta(minutes=10)
CALLBACK_TIMEOUT = 2.0  # seconds Strava waits for a webhook callback to answer
EVENT_ATTEMPTS = 3  # Strava tries an event delivery this many times
FUTURE_SLACK = 86400  # an after/before this far past `now` is taken for milliseconds and refused
DEFAULT_SCOPE = "read,activity:read_all"
KNOWN_SCOPES = frozenset(
    {
        "read",
        "read_all",
        "profile:read_all",
        "profile:write",
        "activity:read",
        "activity:read_all",
        "activity:write",
    }
)
FIRST_ACTIVITY_ID = 12_000_000_001
FIRST_SUBSCRIPTION_ID = 120475

# Loopback only: never route the double's own outbound calls (webhook callbacks) through a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fault(message: str, resource: str, field_name: str, code: str) -> Json:
    """A Strava Fault body with one error."""
    return {"message": message, "errors": [{"resource": resource, "field": field_name, "code": code}]}


AUTHORIZATION_ERROR = fault("Authorization Error", "Athlete", "access_token", "invalid")
APPLICATION_INACTIVE = fault("Forbidden", "Application", "Status", "Inactive")
ACTIVITY_NOT_FOUND = fault("Record Not Found", "Activity", "id", "invalid")
MISSING_ACTIVITY_SCOPE = fault("Authorization Error", "AccessToken", "activity:read_permission", "missing")


@dataclass(frozen=True)
class RequestRecord:
    """One request the double answered."""

    method: str
    path: str
    query: Mapping[str, str]
    athlete_id: int | None
    status: int
    at: datetime
    counted: bool  # counted against the rate limits (every /api/v3 call)


@dataclass(frozen=True)
class EventDelivery:
    """One POST of a webhook event to the subscription's callback."""

    event: Json
    attempt: int
    status: int | None  # None when the callback could not be reached or timed out
    seconds: float
    acknowledged: bool  # a 2xx within the callback timeout: Strava stops retrying
    error: str | None = None


@dataclass(frozen=True)
class RateLimits:
    read_15min: int = 100
    read_daily: int = 1000
    overall_15min: int = 200
    overall_daily: int = 2000


@dataclass
class RateUsage:
    read_15min: int = 0
    read_daily: int = 0
    overall_15min: int = 0
    overall_daily: int = 0


@dataclass(frozen=True)
class Subscription:
    id: int
    callback_url: str
    verify_token: str
    created_at: datetime


@dataclass
class _Token:
    athlete_id: int
    scope: frozenset[str]
    expires_at: int  # epoch seconds on the double's clock


@dataclass
class _Athlete:
    summary: Json
    detailed: Json
    scope: frozenset[str] = frozenset()
    access_token: str | None = None
    refresh_token: str | None = None


@dataclass
class _Code:
    athlete_id: int
    scope: frozenset[str]
    expires_at: datetime
    used: bool = False


@dataclass
class _StoredActivity:
    owner: int
    data: Json  # the detailed representation; the list endpoint derives the summary
    uploaded_at: datetime
    processing_until: datetime | None

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(str(self.data["start_date"]).replace("Z", "+00:00"))

    @property
    def private(self) -> bool:
        return bool(self.data.get("private"))


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]  # lower-case names

    @property
    def params(self) -> dict[str, str]:
        """Query and form body together: Strava reads OAuth and subscription fields from either."""
        return {**self.query, **self.form}


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    athlete_id: int | None = None


@dataclass
class _Injection:
    """A failure or delay waiting for the next request whose path starts with `path`."""

    value: float
    path: str | None


class StravaDouble:
    """The Strava double. Start it (or use it as a context manager), then drive it from tests."""

    def __init__(
        self,
        *,
        client_id: int = 4242,
        client_secret: str = "double-client-secret",
        clock: Callable[[], datetime] | None = None,
        callback_domain: str = "localhost",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_domain = callback_domain  # the app's "Authorization Callback Domain"
        self.callback_timeout = CALLBACK_TIMEOUT  # tests may shorten it to keep slow-callback cases fast
        self._lock = threading.RLock()
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._frozen: datetime | None = None
        self._offset = timedelta(0)
        self._athletes: dict[int, _Athlete] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, int] = {}
        self._codes: dict[str, _Code] = {}
        self._activities: dict[int, _StoredActivity] = {}
        self._next_activity_id = FIRST_ACTIVITY_ID
        self._rotate = False
        self._inactive = False
        self._failures: list[_Injection] = []
        self._delays: list[_Injection] = []
        self._limits = RateLimits()
        self._usage = RateUsage()
        self._windows: tuple[datetime, date] | None = None
        self._short_page: tuple[int, int] | None = None
        self._authorizer: tuple[int | None, frozenset[str] | None, bool] = (None, None, False)
        self._subscription: Subscription | None = None
        self._next_subscription_id = FIRST_SUBSCRIPTION_ID
        self._requests: list[RequestRecord] = []
        self._deliveries: list[EventDelivery] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., _Reply]]] = [
            ("GET", re.compile(r"/oauth/authorize"), self._authorize),
            ("POST", re.compile(r"/oauth/token"), self._token),
            ("POST", re.compile(r"/oauth/deauthorize"), self._deauthorize),
            ("GET", re.compile(r"/api/v3/athlete"), self._get_athlete),
            ("GET", re.compile(r"/api/v3/athlete/activities"), self._list_activities),
            ("GET", re.compile(r"/api/v3/activities/(?P<activity_id>\d+)"), self._get_activity),
            ("GET", re.compile(r"/api/v3/activities/(?P<activity_id>\d+)/laps"), self._get_laps),
            ("GET", re.compile(r"/api/v3/push_subscriptions"), self._list_subscriptions),
            ("POST", re.compile(r"/api/v3/push_subscriptions"), self._create_subscription),
            (
                "DELETE",
                re.compile(r"/api/v3/push_subscriptions/(?P<subscription_id>\d+)"),
                self._delete_subscription,
            ),
        ]

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> StravaDouble:
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="strava-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> StravaDouble:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Strava double is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def oauth_url(self) -> str:
        return self.base_url + "/oauth"

    # ---- clock -----------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        with self._lock:
            current = self._frozen if self._frozen is not None else self._clock() + self._offset
        return current.astimezone(UTC)

    @now.setter
    def now(self, value: datetime) -> None:
        """Freeze the double's clock at `value` (aware)."""
        if value.tzinfo is None:
            raise ValueError("the double's clock needs an aware datetime")
        with self._lock:
            self._frozen = value

    def advance(self, seconds: float | timedelta) -> None:
        step = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step

    def use_clock(self, clock: Callable[[], datetime]) -> None:
        """Follow `clock` (e.g. the fake clock the application under test reads)."""
        with self._lock:
            self._clock, self._frozen, self._offset = clock, None, timedelta(0)

    def _epoch(self) -> int:
        return int(self.now.timestamp())

    # ---- athletes and OAuth control ------------------------------------------------------------------

    def add_athlete(
        self,
        athlete_id: int,
        firstname: str = "Ada",
        lastname: str = "Runner",
        *,
        measurement_preference: str = "meters",
        **profile: Any,
    ) -> Json:
        """Register an athlete; `profile` goes to strava_data.summary_athlete (city, sex, premium, …)."""
        summary = strava_data.summary_athlete(athlete_id, firstname, lastname, **profile)
        detailed = strava_data.detailed_athlete(summary, measurement_preference=measurement_preference)
        with self._lock:
            self._athletes[athlete_id] = _Athlete(summary=summary, detailed=detailed)
        return copy.deepcopy(summary)

    def issue_code(self, athlete_id: int, scope: str = DEFAULT_SCOPE) -> str:
        """An authorization code as the redirect would carry it: single use, valid 10 minutes."""
        with self._lock:
            self._athlete(athlete_id)
            code = secrets.token_hex(20)
            self._codes[code] = _Code(athlete_id, _scopes(scope), self.now + CODE_LIFETIME)
            return code

    def grant_tokens(self, athlete_id: int, scope: str = DEFAULT_SCOPE) -> Json:
        """Skip the browser: the token response an authorization with `scope` would have produced."""
        with self._lock:
            code = self._codes[self.issue_code(athlete_id, scope)]
            code.used = True
            return self._exchange(code)

    def authorize_as(self, athlete_id: int, *, grant: str | None = None, deny: bool = False) -> None:
        """Who approves on /oauth/authorize; `grant` limits the scopes they leave ticked, `deny` refuses."""
        with self._lock:
            self._authorizer = (athlete_id, None if grant is None else _scopes(grant), deny)

    def current_tokens(self, athlete_id: int) -> tuple[str | None, str | None]:
        """(access_token, refresh_token) the double last issued to the athlete and still honours."""
        with self._lock:
            athlete = self._athlete(athlete_id)
            access = athlete.access_token if athlete.access_token in self._access else None
            refresh = athlete.refresh_token if athlete.refresh_token in self._refresh else None
            return access, refresh

    def rotate_refresh_tokens(self, enabled: bool = True) -> None:
        """When on, every refresh returns a new refresh token and the old one dies at once."""
        with self._lock:
            self._rotate = enabled

    def expire_access_token(self, athlete_id: int) -> None:
        with self._lock:
            for token in self._access.values():
                if token.athlete_id == athlete_id:
                    token.expires_at = self._epoch() - 1

    def revoke(self, athlete_id: int) -> None:
        """The athlete revoked the app: every token of theirs, refresh token included, stops working."""
        with self._lock:
            self._access = {k: t for k, t in self._access.items() if t.athlete_id != athlete_id}
            self._refresh = {k: a for k, a in self._refresh.items() if a != athlete_id}

    def set_inactive(self, inactive: bool = True) -> None:
        """The app owner lost their subscription: 403 Application Inactive on every call."""
        with self._lock:
            self._inactive = inactive

    # ---- faults, delays, rate limits ---------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, *, path: str | None = None) -> None:
        """The next `n` requests (whose path starts with `path`, if given) fail with `status`."""
        with self._lock:
            self._failures.extend(_Injection(status, path) for _ in range(n))

    def clear_faults(self) -> None:
        """End every injected failure and delay: Strava is healthy again."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    def slow_next(self, n: int, seconds: float, *, path: str | None = None) -> None:
        """The next `n` requests (whose path starts with `path`, if given) wait `seconds` before answering."""
        with self._lock:
            self._delays.extend(_Injection(seconds, path) for _ in range(n))

    def set_rate_limits(
        self,
        *,
        read_15min: int | None = None,
        read_daily: int | None = None,
        overall_15min: int | None = None,
        overall_daily: int | None = None,
    ) -> None:
        with self._lock:
            current = self._limits
            self._limits = RateLimits(
                read_15min=current.read_15min if read_15min is None else read_15min,
                read_daily=current.read_daily if read_daily is None else read_daily,
                overall_15min=current.overall_15min if overall_15min is None else overall_15min,
                overall_daily=current.overall_daily if overall_daily is None else overall_daily,
            )

    @property
    def usage(self) -> RateUsage:
        """Usage in the current windows of the double's clock."""
        with self._lock:
            self._roll_windows()
            return copy.copy(self._usage)

    def set_short_page(self, page: int | None, missing: int = 1) -> None:
        """Serve list page `page` `missing` items short before the end, as Strava sometimes does.

        The held-back slots behave like hidden entries in Strava's own paging: nothing is lost, the next
        pages carry on, so a client that reads until an empty page sees everything and one that stops at
        the first short page misses the rest. `None` turns the quirk off.
        """
        with self._lock:
            self._short_page = None if page is None else (page, missing)

    # ---- activities --------------------------------------------------------------------------------

    def add_activity(
        self,
        athlete_id: int,
        activity: Mapping[str, Any] | None = None,
        *,
        uploaded_at: datetime | None = None,
        processing_until: datetime | None = None,
        **fields: Any,
    ) -> Json:
        """Store an activity of `athlete_id` and return its detailed JSON.

        Pass a built dict (a summary is upgraded with `strava_data.detailed_activity`, 1 km auto-laps), or
        the keyword arguments of `strava_data.summary_activity` (start_date, distance, moving_time, …; the
        id is assigned). It shows up in the list only once `uploaded_at` (default: now) has passed; until
        `processing_until`, `GET /activities/{id}` answers with `resource_state: -1`.
        """
        with self._lock:
            self._athlete(athlete_id)
            if activity is None:
                fields.setdefault("id", self._next_activity_id)
                fields.setdefault("name", "Morning Run")
                data = strava_data.detailed_activity(
                    strava_data.summary_activity(athlete_id=athlete_id, **fields)
                )
            else:
                data = copy.deepcopy(dict(activity))
                data.setdefault("id", self._next_activity_id)
                data["athlete"] = {"id": athlete_id, "resource_state": 1}
                if data.get("resource_state") == 2:
                    data = strava_data.detailed_activity(data)
            data = json.loads(json.dumps(data))  # fail here, in the test, on anything JSON cannot carry
            activity_id = int(data["id"])
            if activity_id in self._activities:
                raise ValueError(f"activity {activity_id} already exists")
            self._next_activity_id = max(self._next_activity_id, activity_id + 1)
            self._activities[activity_id] = _StoredActivity(
                athlete_id, data, uploaded_at or self.now, processing_until
            )
            return copy.deepcopy(data)

    def update_activity(self, activity_id: int, **changes: Any) -> Json:
        """Change fields of a stored activity (datetimes become Strava instants)."""
        with self._lock:
            stored = self._stored(activity_id)
            for key, value in changes.items():
                stored.data[key] = strava_data.strava_instant(value) if isinstance(value, datetime) else value
            return copy.deepcopy(stored.data)

    def delete_activity(self, activity_id: int) -> None:
        with self._lock:
            self._stored(activity_id)
            del self._activities[activity_id]

    def activity(self, activity_id: int) -> Json:
        with self._lock:
            return copy.deepcopy(self._stored(activity_id).data)

    # ---- webhooks ----------------------------------------------------------------------------------

    @property
    def subscription(self) -> Subscription | None:
        with self._lock:
            return self._subscription

    def send_event(
        self,
        object_type: str,
        object_id: int,
        aspect_type: str,
        owner_id: int,
        updates: Mapping[str, str] | None = None,
        *,
        repeat: int = 1,
        event_time: datetime | None = None,
    ) -> list[EventDelivery]:
        """POST an event to the subscribed callback as Strava does: up to 3 tries until a 2xx within 2 s.

        `repeat` sends the same event that many times over (Strava's duplicates). Runs in the caller's
        thread and returns every attempt, also kept in `deliveries`.
        """
        with self._lock:
            subscription = self._subscription
            if subscription is None:
                raise RuntimeError("no push subscription: POST /api/v3/push_subscriptions first")
            event: Json = {
                "aspect_type": aspect_type,
                "event_time": int((event_time or self.now).timestamp()),
                "object_id": object_id,
                "object_type": object_type,
                "owner_id": owner_id,
                "subscription_id": subscription.id,
                "updates": dict(updates or {}),
            }
        deliveries: list[EventDelivery] = []
        for _ in range(repeat):
            for attempt in range(1, EVENT_ATTEMPTS + 1):
                delivery = _post_event(subscription.callback_url, event, attempt, self.callback_timeout)
                deliveries.append(delivery)
                if delivery.acknowledged:
                    break
        with self._lock:
            self._deliveries.extend(deliveries)
        return deliveries

    @property
    def deliveries(self) -> list[EventDelivery]:
        with self._lock:
            return list(self._deliveries)

    # ---- request log -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def reads_count(self) -> int:
        """API requests counted against the read limit since start (or the last clear_requests)."""
        with self._lock:
            return sum(1 for record in self._requests if record.counted)

    def count_requests(self, method: str | None = None, path: str | None = None) -> int:
        """Requests with this method and whose path starts with `path` (both optional)."""
        with self._lock:
            return sum(
                1
                for record in self._requests
                if (method is None or record.method == method)
                and (path is None or record.path.startswith(path))
            )

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ---- request handling (server threads) ---------------------------------------------------------

    def _handle(self, req: _Request) -> _Reply:
        with self._lock:
            delay = _take(self._delays, req.path)
        if delay:
            self._stopping.wait(delay)
        counted = req.path.startswith(API_PREFIX + "/")
        try:
            reply = self._respond(req, counted)
        except Exception as error:  # a bug in the double: say so loudly instead of dropping the connection
            traceback.print_exc()
            reply = _Reply(500, {"message": f"Strava double failed: {error!r}", "errors": []})
        with self._lock:
            self._requests.append(
                RequestRecord(
                    req.method, req.path, dict(req.query), reply.athlete_id, reply.status, self.now, counted
                )
            )
        return reply

    def _respond(self, req: _Request, counted: bool) -> _Reply:
        with self._lock:
            if self._inactive:
                return _Reply(403, APPLICATION_INACTIVE)
            headers, exceeded = self._count(req) if counted else ({}, None)
            if exceeded:
                return _Reply(429, fault("Rate Limit Exceeded", "Application", exceeded, "exceeded"), headers)
            failure = _take(self._failures, req.path)
            if failure:
                status = int(failure)
                return _Reply(status, _failure_body(status), headers)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                reply = handler(req, **match.groupdict())
                reply.headers.update(headers)
                return reply
        return _Reply(404, fault("Record Not Found", "resource", "path", "invalid"), headers)

    def _count(self, req: _Request) -> tuple[dict[str, str], str | None]:
        """Count the request (over the limit too, as Strava does) and say which limit it broke, if any."""
        self._roll_windows()
        usage, limits = self._usage, self._limits
        is_read = not req.path.startswith(API_PREFIX + "/uploads")  # "read" is every non-upload endpoint
        usage.overall_15min += 1
        usage.overall_daily += 1
        if is_read:
            usage.read_15min += 1
            usage.read_daily += 1
        headers = {
            "X-RateLimit-Limit": f"{limits.overall_15min},{limits.overall_daily}",
            "X-RateLimit-Usage": f"{usage.overall_15min},{usage.overall_daily}",
            "X-ReadRateLimit-Limit": f"{limits.read_15min},{limits.read_daily}",
            "X-ReadRateLimit-Usage": f"{usage.read_15min},{usage.read_daily}",
        }
        if is_read and (usage.read_15min > limits.read_15min or usage.read_daily > limits.read_daily):
            return headers, "read rate limit"
        if usage.overall_15min > limits.overall_15min or usage.overall_daily > limits.overall_daily:
            return headers, "overall rate limit"
        return headers, None

    def _roll_windows(self) -> None:
        """15-minute windows reset at :00/:15/:30/:45, daily ones at UTC midnight of the double's clock."""
        now = self.now
        quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        if self._windows is None or self._windows[0] != quarter:
            self._usage.read_15min = self._usage.overall_15min = 0
        if self._windows is None or self._windows[1] != now.date():
            self._usage.read_daily = self._usage.overall_daily = 0
        self._windows = (quarter, now.date())

    def _bearer(self, req: _Request) -> tuple[str, _Token] | None:
        """The valid access token of the request: `Authorization: Bearer`, or the old `access_token` param."""
        header = req.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        else:
            token = req.params.get("access_token", "")
        record = self._access.get(token)
        if record is None or record.expires_at <= self._epoch():
            return None
        return token, record

    # ---- OAuth endpoints ---------------------------------------------------------------------------

    def _authorize(self, req: _Request) -> _Reply:
        query = req.query
        if query.get("client_id") != str(self.client_id):
            return _Reply(400, fault("Bad Request", "Application", "client_id", "invalid"))
        redirect_uri = query.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        allowed_hosts = {"localhost", "127.0.0.1", self.callback_domain}
        if target.scheme not in ("http", "https") or target.hostname not in allowed_hosts:
            return _Reply(400, fault("Bad Request", "Application", "redirect_uri", "invalid"))
        if query.get("response_type") != "code":
            return _Reply(400, fault("Bad Request", "Application", "response_type", "invalid"))
        requested = [scope for scope in query.get("scope", "read").split(",") if scope]
        if not set(requested) <= KNOWN_SCOPES:
            return _Reply(400, fault("Bad Request", "Application", "scope", "invalid"))
        with self._lock:
            athlete_id, grant, deny = self._authorizer
            if athlete_id is None and len(self._athletes) == 1:
                athlete_id = next(iter(self._athletes))
            if athlete_id is None:
                return _Reply(500, {"message": "double: call authorize_as(athlete_id) first", "errors": []})
            params = {"state": query.get("state", "")}
            if deny:
                params["error"] = "access_denied"
            else:
                granted = [scope for scope in requested if grant is None or scope in grant]
                params["code"] = self.issue_code(athlete_id, ",".join(granted))
                params["scope"] = ",".join(granted)
        separator = "&" if target.query else "?"
        return _Reply(
            302, None, {"Location": redirect_uri + separator + urlencode(params, safe=",:")}, athlete_id
        )

    def _token(self, req: _Request) -> _Reply:
        params = req.params
        if params.get("client_id") != str(self.client_id):
            return _Reply(400, fault("Bad Request", "Application", "client_id", "invalid"))
        if params.get("client_secret") != self.client_secret:
            return _Reply(401, fault("Authorization Error", "Application", "client_secret", "invalid"))
        with self._lock:
            grant_type = params.get("grant_type")
            if grant_type == "authorization_code":
                code = self._codes.get(params.get("code", ""))
                if code is None or code.used or self.now >= code.expires_at:
                    return _Reply(400, fault("Bad Request", "AuthorizationCode", "code", "invalid"))
                code.used = True
                return _Reply(200, self._exchange(code), athlete_id=code.athlete_id)
            if grant_type == "refresh_token":
                athlete_id = self._refresh.get(params.get("refresh_token", ""))
                if athlete_id is None:
                    return _Reply(400, fault("Bad Request", "RefreshToken", "refresh_token", "invalid"))
                return _Reply(
                    200, self._issue(self._athletes[athlete_id], new_grant=False), athlete_id=athlete_id
                )
            return _Reply(400, fault("Bad Request", "Application", "grant_type", "invalid"))

    def _exchange(self, code: _Code) -> Json:
        athlete = self._athletes[code.athlete_id]
        scope_changed = athlete.scope != code.scope
        athlete.scope = code.scope
        body = self._issue(athlete, new_grant=True, new_refresh=scope_changed)
        body["athlete"] = copy.deepcopy(athlete.summary)
        return body

    def _issue(self, athlete: _Athlete, *, new_grant: bool, new_refresh: bool = False) -> Json:
        now = self._epoch()
        current = self._access.get(athlete.access_token or "")
        if new_grant or current is None or current.expires_at - now <= SAME_TOKEN_MARGIN:
            athlete.access_token = secrets.token_hex(20)
            current = _Token(int(athlete.summary["id"]), athlete.scope, now + ACCESS_TOKEN_LIFETIME)
            self._access[athlete.access_token] = current
        if new_refresh or self._rotate or athlete.refresh_token not in self._refresh:
            self._refresh.pop(athlete.refresh_token or "", None)  # the old refresh token dies at once
            athlete.refresh_token = secrets.token_hex(20)
            self._refresh[athlete.refresh_token] = int(athlete.summary["id"])
        return {
            "token_type": "Bearer",
            "expires_at": current.expires_at,
            "expires_in": current.expires_at - now,
            "refresh_token": athlete.refresh_token,
            "access_token": athlete.access_token,
        }

    def _deauthorize(self, req: _Request) -> _Reply:
        with self._lock:
            found = self._bearer(req)
            if found is None:
                return _Reply(401, AUTHORIZATION_ERROR)
            token, record = found
            self.revoke(record.athlete_id)
            return _Reply(200, {"access_token": token}, athlete_id=record.athlete_id)

    # ---- API endpoints -----------------------------------------------------------------------------

    def _get_athlete(self, req: _Request) -> _Reply:
        with self._lock:
            found = self._bearer(req)
            if found is None:
                return _Reply(401, AUTHORIZATION_ERROR)
            athlete_id = found[1].athlete_id
            return _Reply(200, copy.deepcopy(self._athletes[athlete_id].detailed), athlete_id=athlete_id)

    def _list_activities(self, req: _Request) -> _Reply:
        with self._lock:
            found = self._bearer(req)
            if found is None:
                return _Reply(401, AUTHORIZATION_ERROR)
            token = found[1]
            if not token.scope & {"activity:read", "activity:read_all"}:
                return _Reply(401, MISSING_ACTIVITY_SCOPE, athlete_id=token.athlete_id)
            numbers: dict[str, int | None] = {}
            for name in ("before", "after", "page", "per_page"):
                raw = req.query.get(name)
                if raw is None or raw == "":
                    numbers[name] = None
                    continue
                try:
                    numbers[name] = int(raw)
                except ValueError:
                    return _Reply(
                        400, fault("Bad Request", "Activity", name, "invalid"), athlete_id=token.athlete_id
                    )
            for name in ("before", "after"):
                value = numbers[name]
                if value is not None and value > self._epoch() + FUTURE_SLACK:  # milliseconds, most likely
                    return _Reply(
                        400, fault("Bad Request", "Activity", name, "future"), athlete_id=token.athlete_id
                    )
            after, before = numbers["after"], numbers["before"]
            page = max(numbers["page"] or 1, 1)
            per_page = min(max(numbers["per_page"] or 30, 1), 200)
            visible = [
                stored
                for stored in self._visible_to(token)
                if (after is None or stored.start.timestamp() > after)
                and (before is None or stored.start.timestamp() < before)
            ]
            # Newest first, except that Strava returns the oldest first once `after` is given.
            visible.sort(key=lambda stored: (stored.start, int(stored.data["id"])), reverse=after is None)
            slots: list[_StoredActivity | None] = list(visible)
            if self._short_page is not None:
                short_page, missing = self._short_page
                at = (short_page - 1) * per_page
                if at < len(slots):
                    slots[at:at] = [None] * missing
            chosen = slots[(page - 1) * per_page : page * per_page]
            body = [strava_data.summary_from_detailed(copy.deepcopy(s.data)) for s in chosen if s is not None]
            return _Reply(200, body, athlete_id=token.athlete_id)

    def _visible_to(self, token: _Token) -> Iterable[_StoredActivity]:
        return [stored for stored in self._activities.values() if self._is_visible(stored, token)]

    def _is_visible(self, stored: _StoredActivity, token: _Token) -> bool:
        """Owned by the token's athlete, uploaded by now, and private only with activity:read_all."""
        if stored.owner != token.athlete_id or stored.uploaded_at > self.now:
            return False
        return not stored.private or "activity:read_all" in token.scope

    def _owned_activity(self, req: _Request, activity_id: str) -> _StoredActivity | _Reply:
        """The activity the request may read, or the error reply Strava gives instead."""
        found = self._bearer(req)
        if found is None:
            return _Reply(401, AUTHORIZATION_ERROR)
        token = found[1]
        if not token.scope & {"activity:read", "activity:read_all"}:
            return _Reply(401, MISSING_ACTIVITY_SCOPE, athlete_id=token.athlete_id)
        stored = self._activities.get(int(activity_id))
        if stored is None or not self._is_visible(stored, token):
            return _Reply(404, ACTIVITY_NOT_FOUND, athlete_id=token.athlete_id)
        return stored

    def _get_activity(self, req: _Request, activity_id: str) -> _Reply:
        with self._lock:
            stored = self._owned_activity(req, activity_id)
            if isinstance(stored, _Reply):
                return stored
            if stored.processing_until is not None and self.now < stored.processing_until:
                body: Json = {"id": int(activity_id), "resource_state": -1, "athlete": stored.data["athlete"]}
                return _Reply(200, copy.deepcopy(body), athlete_id=stored.owner)
            return _Reply(200, copy.deepcopy(stored.data), athlete_id=stored.owner)

    def _get_laps(self, req: _Request, activity_id: str) -> _Reply:
        with self._lock:
            stored = self._owned_activity(req, activity_id)
            if isinstance(stored, _Reply):
                return stored
            return _Reply(200, copy.deepcopy(stored.data.get("laps", [])), athlete_id=stored.owner)

    # ---- push subscriptions ------------------------------------------------------------------------

    def _app_credentials_error(self, req: _Request) -> _Reply | None:
        params = req.params
        if (
            params.get("client_id") != str(self.client_id)
            or params.get("client_secret") != self.client_secret
        ):
            return _Reply(401, fault("Authorization Error", "Application", "client_id", "invalid"))
        return None

    def _subscription_json(self, subscription: Subscription) -> Json:
        created = strava_data.strava_instant(subscription.created_at)
        return {
            "id": subscription.id,
            "resource_state": 2,
            "application_id": self.client_id,
            "callback_url": subscription.callback_url,
            "created_at": created,
            "updated_at": created,
        }

    def _list_subscriptions(self, req: _Request) -> _Reply:
        error = self._app_credentials_error(req)
        if error:
            return error
        with self._lock:
            current = [self._subscription] if self._subscription else []
            return _Reply(200, [self._subscription_json(s) for s in current])

    def _create_subscription(self, req: _Request) -> _Reply:
        error = self._app_credentials_error(req)
        if error:
            return error
        callback_url = req.params.get("callback_url", "")
        verify_token = req.params.get("verify_token", "")
        for name, value in (("callback_url", callback_url), ("verify_token", verify_token)):
            if not value:
                return _Reply(400, fault("Bad Request", "PushSubscription", name, "missing"))
        already_exists = _Reply(400, fault("Bad Request", "PushSubscription", "", "already exists"))
        with self._lock:
            if self._subscription is not None:
                return already_exists
        # Strava verifies the callback before answering; the lock is not held while the callback runs.
        if not _callback_verifies(callback_url, verify_token, self.callback_timeout):
            return _Reply(400, fault("Bad Request", "PushSubscription", "callback url", "not verifiable"))
        with self._lock:
            if self._subscription is not None:
                return already_exists
            self._subscription = Subscription(
                self._next_subscription_id, callback_url, verify_token, self.now
            )
            self._next_subscription_id += 1
            return _Reply(201, {"id": self._subscription.id})

    def _delete_subscription(self, req: _Request, subscription_id: str) -> _Reply:
        error = self._app_credentials_error(req)
        if error:
            return error
        with self._lock:
            if self._subscription is None or self._subscription.id != int(subscription_id):
                return _Reply(404, fault("Record Not Found", "PushSubscription", "id", "invalid"))
            self._subscription = None
            return _Reply(204)

    # ---- helpers -----------------------------------------------------------------------------------

    def _athlete(self, athlete_id: int) -> _Athlete:
        try:
            return self._athletes[athlete_id]
        except KeyError:
            raise KeyError(f"unknown athlete {athlete_id}: call add_athlete first") from None

    def _stored(self, activity_id: int) -> _StoredActivity:
        try:
            return self._activities[activity_id]
        except KeyError:
            raise KeyError(f"unknown activity {activity_id}") from None


def _scopes(scope: str) -> frozenset[str]:
    return frozenset(part for part in scope.split(",") if part)


def _take(queue: list[_Injection], path: str) -> float | None:
    """Pop the first injection that applies to `path`."""
    for index, injection in enumerate(queue):
        if injection.path is None or path.startswith(injection.path):
            del queue[index]
            return injection.value
    return None


def _failure_body(status: int) -> Json:
    if status == 429:
        return fault("Rate Limit Exceeded", "Application", "read rate limit", "exceeded")
    if status == 403:
        return APPLICATION_INACTIVE
    if status == 401:
        return AUTHORIZATION_ERROR
    return {"message": HTTPStatus(status).phrase, "errors": []}


def _with_query(url: str, params: Mapping[str, str]) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def _callback_verifies(callback_url: str, verify_token: str, timeout: float) -> bool:
    """Strava's check: GET the callback with a challenge; it must echo it as JSON within 2 s."""
    challenge = secrets.token_hex(16)
    url = _with_query(
        callback_url, {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    )
    started = time.monotonic()
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            if response.status != 200:
                return False
            body = json.loads(response.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return False
    in_time = time.monotonic() - started <= timeout
    return in_time and isinstance(body, dict) and body.get("hub.challenge") == challenge


def _post_event(callback_url: str, event: Json, attempt: int, timeout: float) -> EventDelivery:
    request = urllib.request.Request(
        callback_url,
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Strava-double webhook"},
        method="POST",
    )
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            status: int | None = response.status
        error = None
    except urllib.error.HTTPError as exc:
        status, error = exc.code, None
    except (urllib.error.URLError, OSError) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - started
    acknowledged = status is not None and 200 <= status < 300 and seconds <= timeout
    return EventDelivery(dict(event), attempt, status, round(seconds, 3), acknowledged, error)


def _parse_body(raw: bytes, content_type: str) -> dict[str, str]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        try:
            loaded = json.loads(raw)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' pooled sessions expect
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = _Request(
            method=method,
            path=parts.path.rstrip("/") or "/",
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            form=_parse_body(raw, self.headers.get("Content-Type", "")),
            headers={name.lower(): value for name, value in self.headers.items()},
        )
        reply = self.server.double._handle(request)
        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is `StravaDouble.requests`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, double: StravaDouble) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.double = double
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """Drop kept-alive connections, so a stopped double answers nothing more."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
