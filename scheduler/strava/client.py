"""The real Strava adapter: stravalib's protocol layer, pointed at our configured hosts, never sleeping.

Decisions:
- stravalib is imported inside the functions that call Strava (it costs ~0.7 s and ~50 MiB at import).
- We use stravalib's `ApiV3` (requests, error decoding, Strava's form bodies) and keep the raw JSON: the
  ingest pipeline wants Strava's own JSON, and stravalib's models reject some real data (non-integral
  `max_heartrate`). Its `BatchedResultsIterator` (stops at the first short page) is not used: callers page.
- `ApiV3.resolve_url` hard-codes https://www.strava.com; our subclass sends every call, token calls included,
  to `settings.strava.api_url` / `oauth_url`.
- Rate limiting: our own recorder replaces stravalib's `DefaultRateLimiter` (which sleeps in the calling
  thread until the window resets); it only keeps the counters of the latest response for `budget.py`.
- Automatic refresh is off (stravalib would refresh from STRAVA_CLIENT_* environment variables and keep the
  rotated refresh token in memory only); `tokens.py` refreshes explicitly and persists.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scheduler.clock import Clock, utc_now
from scheduler.metrics import STRAVA_REQUESTS
from scheduler.settings import StravaSettings
from scheduler.strava import budget
from scheduler.strava.port import (
    ApplicationInactive,
    ClientRejected,
    InvalidGrant,
    Json,
    NotFound,
    RateLimited,
    RateUsage,
    StravaError,
    StravaUnavailable,
    TokenGrant,
    Unauthorized,
)

if TYPE_CHECKING:
    import requests


STRAVA_ORIGIN = "https://www.strava.com"
# (connect, read) seconds: a hung Strava must not hold a poll thread, or the database lock of a token refresh.
TIMEOUT = (5.0, 20.0)


def _is_token_url(url: str) -> bool:
    return "/oauth/token" in url


@functools.cache
def _protocol_class() -> type[Any]:
    """stravalib's ApiV3 with our base URLs and no reading of STRAVA_* environment variables."""
    from stravalib.protocol import ApiV3

    class ConfiguredApi(ApiV3):
        api_url = STRAVA_ORIGIN + "/api/v3"
        oauth_url = STRAVA_ORIGIN + "/oauth"

        def _check_credentials(self) -> None:
            # Leaving client_id/secret unset keeps stravalib's implicit refresh off.
            self.client_id = None
            self.client_secret = None

        def resolve_url(self, url: str) -> str:
            if url.startswith(STRAVA_ORIGIN + "/oauth/"):
                return self.oauth_url + url[len(STRAVA_ORIGIN + "/oauth") :]
            if url.startswith(STRAVA_ORIGIN + "/api/v3/"):
                return self.api_url + url[len(STRAVA_ORIGIN + "/api/v3") :]
            if url.startswith(("http://", "https://")):
                raise ValueError(f"refusing a Strava call outside the configured hosts: {url}")
            # stravalib's relative API paths ("oauth/deauthorize" is one of them, on the OAuth host).
            path = url.strip("/")
            if path.startswith("oauth/"):
                return self.oauth_url + "/" + path.removeprefix("oauth/")
            return self.api_url + "/" + path

    return ConfiguredApi


def _session() -> requests.Session:
    import requests

    class TimeoutSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", TIMEOUT)
            return super().request(*args, **kwargs)

    return TimeoutSession()


def _errors_of(response: Any) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_text(response: Any) -> str:
    errors = _errors_of(response)
    detail = ", ".join(f"{e.get('resource')}.{e.get('field')} {e.get('code')}" for e in errors)
    return f"{response.status_code} {response.reason}" + (f" ({detail})" if detail else "")


class StravaClient:
    """A `StravaPort` over stravalib, bound to one access token (or none)."""

    def __init__(
        self,
        config: StravaSettings,
        access_token: str | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._config = config
        self._access_token = access_token
        self._clock = clock
        self._api: Any = None
        self._usage: RateUsage | None = None

    @property
    def rate_usage(self) -> RateUsage | None:
        return self._usage

    # -- plumbing ----------------------------------------------------------------------------------------

    def _protocol(self) -> Any:
        if self._api is None:
            api = _protocol_class()(
                access_token=self._access_token,
                requests_session=_session(),
                rate_limiter=self._record_rate,
            )
            api.api_url = self._config.api_url
            api.oauth_url = self._config.oauth_url
            # Under stravalib's logger name, so the daemon's logging setup treats it as stravalib's.
            api.log = logging.getLogger("stravalib.protocol.ApiV3")
            self._api = api
        return self._api

    def _record_rate(self, headers: Mapping[str, str], _method: str) -> None:
        usage = budget.parse_rate_headers(headers, self._clock())
        if usage is not None:
            self._usage = usage

    def _credentials(self) -> tuple[int, str]:
        if self._config.client_id is None or self._config.client_secret is None:
            raise ClientRejected(
                "no Strava application configured: "
                "set RECOVERY_STRAVA__CLIENT_ID and RECOVERY_STRAVA__CLIENT_SECRET"
            )
        return self._config.client_id, self._config.client_secret.get_secret_value()

    def _call(self, what: str, call: Any, *args: Any, driver: str = "poll", **kwargs: Any) -> Any:
        """Run one stravalib call, turning its exceptions (and requests') into ours. `driver` labels it in
        the metrics: "token" (OAuth), "webhook" (the push subscription) or "poll" (athlete and activity reads,
        webhook-announced ones included: the client cannot tell them apart)."""
        import requests
        from stravalib import exc

        STRAVA_REQUESTS.labels(driver=driver).inc()
        try:
            return call(*args, **kwargs)
        except exc.ApplicationInactive as error:
            raise ApplicationInactive(f"{what}: Strava says the API application is inactive") from error
        except exc.AccessUnauthorized as error:
            response = error.response
            if response is not None and _is_token_url(str(response.url)):
                raise ClientRejected(f"{what}: Strava refused the client id/secret") from error
            detail = _error_text(response) if response is not None else str(error)
            raise Unauthorized(f"{what}: {detail}") from error
        except exc.ObjectNotFound as error:
            raise NotFound(f"{what}: not found") from error
        except exc.Fault as error:
            response = error.response
            if response is None:
                raise StravaUnavailable(f"{what}: {error}") from error
            status = response.status_code
            if status == 429:
                now = self._clock()
                raise RateLimited(
                    f"{what}: rate limit exceeded", budget.reset_after_429(self._usage, now)
                ) from error
            if status >= 500:
                raise StravaUnavailable(f"{what}: {_error_text(response)}") from error
            invalid = {(e.get("resource"), e.get("code")) for e in _errors_of(response)}
            if _is_token_url(str(response.url)) and (
                ("RefreshToken", "invalid") in invalid or ("AuthorizationCode", "invalid") in invalid
            ):
                raise InvalidGrant(f"{what}: {_error_text(response)}") from error
            if _is_token_url(str(response.url)) and status == 400 and ("Application", "invalid") in invalid:
                raise ClientRejected(f"{what}: {_error_text(response)}") from error
            raise StravaError(f"{what}: {_error_text(response)}") from error
        except requests.RequestException as error:
            raise StravaUnavailable(f"{what}: {type(error).__name__}") from error
        except ValueError as error:  # a body that is not JSON (a proxy's error page)
            raise StravaUnavailable(f"{what}: unreadable answer ({error})") from error

    @staticmethod
    def _grant(response: Mapping[str, Any]) -> TokenGrant:
        try:
            return TokenGrant(
                access_token=str(response["access_token"]),
                refresh_token=str(response["refresh_token"]),
                expires_at=datetime.fromtimestamp(int(response["expires_at"]), UTC),
                athlete=response.get("athlete") if isinstance(response.get("athlete"), dict) else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise StravaError(f"token answer without {error}") from None

    # -- StravaPort ------------------------------------------------------------------------------------

    def exchange_code(self, code: str) -> TokenGrant:
        return self._token("code exchange", grant_type="authorization_code", code=code)

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self._token("token refresh", grant_type="refresh_token", refresh_token=refresh_token)

    def _token(self, what: str, **grant: str) -> TokenGrant:
        client_id, secret = self._credentials()
        api = self._protocol()
        # The protocol call keeps the raw answer, athlete included (stravalib's Client re-validates it).
        response = self._call(
            what,
            api._request,
            f"{STRAVA_ORIGIN}/oauth/token",
            data={"client_id": client_id, "client_secret": secret, **grant},
            method="POST",
            driver="token",
        )
        return self._grant(response)

    def athlete(self) -> Json:
        result = self._call("athlete", self._protocol().get, "/athlete")
        if not isinstance(result, dict):
            raise StravaError("athlete: not a JSON object")
        return result

    def list_activities(self, *, after: datetime | None, page: int, per_page: int) -> list[Json]:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if after is not None:
            params["after"] = int(after.timestamp())  # epoch seconds: milliseconds are refused as "future"
        result = self._call("activity list", self._protocol().get, "/athlete/activities", **params)
        if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
            raise StravaError("activity list: not a JSON array of objects")
        return result

    def get_activity(self, activity_id: int) -> Json:
        result = self._call(
            f"activity {activity_id}", self._protocol().get, "/activities/{id}", id=activity_id
        )
        if not isinstance(result, dict):
            raise StravaError(f"activity {activity_id}: not a JSON object")
        return result

    def create_subscription(self, callback_url: str, verify_token: str) -> int:
        client_id, secret = self._credentials()
        result = self._call(
            "push subscription",
            self._protocol().post,
            "/push_subscriptions",
            data={
                "client_id": client_id,
                "client_secret": secret,
                "callback_url": callback_url,
                "verify_token": verify_token,
            },
            driver="webhook",
        )
        if not isinstance(result, dict) or not isinstance(result.get("id"), int):
            raise StravaError("push subscription: answer without an id")
        return int(result["id"])

    def list_subscriptions(self) -> list[Json]:
        client_id, secret = self._credentials()
        # Strava only reads these from the query string for this GET (stravalib documents the exposure).
        result = self._call(
            "push subscriptions",
            self._protocol().get,
            "/push_subscriptions",
            client_id=client_id,
            client_secret=secret,
            driver="webhook",
        )
        if not isinstance(result, list):
            raise StravaError("push subscriptions: not a JSON array")
        return [item for item in result if isinstance(item, dict)]

    def delete_subscription(self, subscription_id: int) -> None:
        client_id, secret = self._credentials()
        self._call(
            "push subscription delete",
            self._protocol().delete,
            "/push_subscriptions/{id}",
            id=subscription_id,
            data={"client_id": client_id, "client_secret": secret},
            driver="webhook",
        )


def client_factory(config: StravaSettings, clock: Clock = utc_now) -> Callable[[str | None], StravaClient]:
    """A `StravaPortFactory` for the real adapter."""

    def make(access_token: str | None) -> StravaClient:
        return StravaClient(config, access_token, clock=clock)

    return make
