"""Pure Strava pieces: the authorize URL and redirect checks, the webhook handshake and event parsing,
poll spreading, token margins, and where the adapter sends each call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.errors import InputError
from scheduler.settings import StravaSettings
from scheduler.strava import oauth, webhooks
from scheduler.strava.sync import poll_offset
from scheduler.strava.tokens import needs_refresh

# -- OAuth ---------------------------------------------------------------------------------------------------


def test_authorize_url_asks_for_read_all_with_state_on_the_configured_host() -> None:
    url = oauth.authorize_url("http://127.0.0.1:9/oauth", 4242, "http://127.0.0.1:8788/callback", "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:9/oauth/authorize"
    assert dict(parse_qsl(parts.query)) == {
        "client_id": "4242",
        "redirect_uri": "http://127.0.0.1:8788/callback",
        "response_type": "code",
        "approval_prompt": "auto",
        "scope": "read,activity:read_all",
        "state": "st4te",
    }
    assert "scope=read,activity:read_all" in parts.query


def test_each_authorization_gets_its_own_unguessable_state() -> None:
    states = {oauth.new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 30 for s in states)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"state": "s", "code": "abc", "scope": "read,activity:read_all"},
            oauth.Callback("abc", "read,activity:read_all"),
        ),
        ({"state": "s", "code": "abc"}, oauth.Callback("abc", None)),
        ({"state": "other", "code": "abc"}, "different state"),
        ({"code": "abc"}, "different state"),
        ({"state": "s", "error": "access_denied"}, "declined"),
        ({"state": "s", "error": "server_error"}, "server_error"),
        ({"state": "s"}, "no authorization code"),
    ],
)
def test_redirect_is_checked(query: dict[str, str], expected: oauth.Callback | str) -> None:
    if isinstance(expected, oauth.Callback):
        assert oauth.read_callback(query, "s") == expected
    else:
        with pytest.raises(oauth.OAuthError, match=expected):
            oauth.read_callback(query, "s")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc123", oauth.Callback("abc123", None)),
        ("  abc123 \n", oauth.Callback("abc123", None)),
        (
            "http://127.0.0.1:8788/callback?state=x&code=abc&scope=read,activity:read",
            oauth.Callback("abc", "read,activity:read"),
        ),
    ],
)
def test_code_option_takes_a_code_or_the_redirect_url(value: str, expected: oauth.Callback) -> None:
    assert oauth.parse_code_option(value) == expected


@pytest.mark.parametrize("value", ["", "http://127.0.0.1:8788/callback?state=x&error=access_denied"])
def test_code_option_without_a_code_is_bad_input(value: str) -> None:
    with pytest.raises(InputError):
        oauth.parse_code_option(value)


@pytest.mark.parametrize(
    ("scope", "warns_about"),
    [
        ("read,activity:read_all", None),
        ("activity:read_all", None),
        (None, None),
        ("read,activity:read", "private"),
        ("read", "no access to your activities"),
        ("", "no access to your activities"),
    ],
)
def test_scope_warning(scope: str | None, warns_about: str | None) -> None:
    warning = oauth.scope_warning(scope)
    if warns_about is None:
        assert warning is None
    else:
        assert warning is not None and warns_about in warning and "recovery auth" in warning


# -- webhooks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"hub.mode": "subscribe", "hub.challenge": "c1", "hub.verify_token": "tok"}, 200),
        ({"hub.mode": "subscribe", "hub.challenge": "c1", "hub.verify_token": "nope"}, 403),
        ({"hub.mode": "subscribe", "hub.challenge": "c1"}, 403),
        ({"hub.mode": "unsubscribe", "hub.challenge": "c1", "hub.verify_token": "tok"}, 403),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok"}, 403),
    ],
)
def test_handshake_echoes_the_challenge_only_for_our_token(params: dict[str, str], status: int) -> None:
    answered, body = webhooks.handshake(params, "tok")
    assert answered == status
    if status == 200:
        assert body == {"hub.challenge": "c1"}
    else:
        assert "hub.challenge" not in body


def test_handshake_with_no_configured_token_refuses_everything() -> None:
    assert (
        webhooks.handshake({"hub.mode": "subscribe", "hub.challenge": "c", "hub.verify_token": ""}, "")[0]
        == 403
    )


EVENT = {
    "aspect_type": "update",
    "event_time": 1_780_000_000,
    "object_id": 12_000_000_001,
    "object_type": "activity",
    "owner_id": 101,
    "subscription_id": 120475,
    "updates": {"title": "Parkrun", "type": "Run"},
}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({**EVENT, "object_id": "12"}).encode(), "object_id"),
        (json.dumps({**EVENT, "owner_id": True}).encode(), "owner_id"),
        (json.dumps({**EVENT, "object_type": "club"}).encode(), "object_type"),
        (json.dumps({**EVENT, "aspect_type": "rename"}).encode(), "aspect_type"),
        (json.dumps({**EVENT, "updates": "x"}).encode(), "updates"),
    ],
)
def test_malformed_events_are_refused_with_one_line(body: bytes, error: str) -> None:
    with pytest.raises(webhooks.EventError, match=error) as refused:
        webhooks.parse_event(body)
    assert "\n" not in str(refused.value)


def test_dedupe_key_identifies_repeats_and_tells_different_updates_apart() -> None:
    same = webhooks.parse_event(json.dumps(EVENT).encode())
    reordered = webhooks.parse_event(
        json.dumps({**EVENT, "updates": {"type": "Run", "title": "Parkrun"}}).encode()
    )
    other_update = webhooks.parse_event(json.dumps({**EVENT, "updates": {"private": "true"}}).encode())
    later = webhooks.parse_event(json.dumps({**EVENT, "event_time": EVENT["event_time"] + 1}).encode())  # type: ignore[operator]
    key = webhooks.dedupe_key(same)
    assert key == webhooks.dedupe_key(reordered)
    assert key != webhooks.dedupe_key(other_update)
    assert key != webhooks.dedupe_key(later)
    assert len(key) <= 200
    no_updates = webhooks.parse_event(json.dumps({**EVENT, "updates": None}).encode())
    assert no_updates["updates"] == {}


def test_retries_are_spaced_then_given_up() -> None:
    received = datetime(2026, 5, 16, 14, 0, tzinfo=UTC)
    times = [webhooks.next_attempt_at(received, n) for n in range(webhooks.MAX_ATTEMPTS + 1)]
    assert times[0] == received
    assert times[-1] is None
    steps = [t for t in times if t is not None]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


# -- polling and tokens --------------------------------------------------------------------------------------


@given(st.integers(1, 10**12), st.integers(30, 86400))
def test_poll_offset_is_stable_and_inside_the_interval(athlete_id: int, interval: int) -> None:
    offset = poll_offset(athlete_id, interval)
    assert 0 <= offset < interval
    assert offset == poll_offset(athlete_id, interval)


def test_poll_offsets_spread_athletes_over_the_interval() -> None:
    offsets = [poll_offset(athlete_id, 600) for athlete_id in range(1000, 1100)]
    buckets = {int(o // 60) for o in offsets}
    assert len(buckets) == 10  # every minute of the 10-minute interval gets some athletes


@pytest.mark.parametrize(
    ("left", "refresh"),
    [(timedelta(hours=5), False), (timedelta(minutes=10), False), (timedelta(minutes=9, seconds=59), True),
     (timedelta(0), True), (-timedelta(hours=1), True)],
)  # fmt: skip
def test_token_is_refreshed_when_fewer_than_ten_minutes_remain(left: timedelta, refresh: bool) -> None:
    now = datetime(2026, 5, 16, 14, 0, tzinfo=UTC)
    assert needs_refresh(now + left, now) is refresh
    assert needs_refresh(None, now)


# -- the adapter's hosts -------------------------------------------------------------------------------------


def test_every_stravalib_url_goes_to_the_configured_hosts() -> None:
    from scheduler.strava.client import StravaClient

    config = StravaSettings(api_url="http://api.test:81/v3", oauth_url="http://auth.test:82/oauth")
    api = StravaClient(config, "token")._protocol()
    assert api.resolve_url("/athlete/activities") == "http://api.test:81/v3/athlete/activities"
    assert api.resolve_url("activities/12") == "http://api.test:81/v3/activities/12"
    assert api.resolve_url("https://www.strava.com/oauth/token") == "http://auth.test:82/oauth/token"
    assert api.resolve_url("oauth/deauthorize") == "http://auth.test:82/oauth/deauthorize"
    assert api.resolve_url("https://www.strava.com/api/v3/athlete") == "http://api.test:81/v3/athlete"
    with pytest.raises(ValueError, match="outside the configured hosts"):
        api.resolve_url("https://elsewhere.example/steal")
    # stravalib's implicit refresh stays off even with STRAVA_* variables set.
    assert api.client_id is None and api.client_secret is None
