"""An HTTP fuzz test of the whole listener (the Starlette app with the page, the JSON routes and the webhook
receiver, over a real database) through Starlette's TestClient, driven by hypothesis: random methods on
every route and on random paths, with random path values, query strings, bodies, cookies and headers.

Whatever comes in, the answer is never a 5xx (but the designed 501 for PUT, DELETE, PATCH), and without a
session (no valid cookie, no bearer token) nothing changes: every table is the same after the request as
before it. (The webhook is public by design, guarded by its subscription check; the fuzz sends no event of
a known subscription, so it stores nothing either.) With Ada's real session but no valid CSRF token,
nothing changes either."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from scheduler.http.application import build_app
from scheduler.http.endpoints import Endpoints
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava import webhooks
from scheduler.web import signin, signing
from scheduler.web.routes import Web, WebConfig
from tests.integration.test_web_page import ADA, ADA_RACE, BO, NOW, Clock, ingest_config, seed

ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
# Every route, with {} for a path value the fuzz fills in.
ROUTES = (
    "/",
    "/signin",
    "/signin/{}",
    "/signout",
    "/athletes/{}",
    "/athletes/{}/reminders/{}/{}",
    "/athletes/{}/activities/{}/effort",
    "/athletes/{}/profile",
    "/athletes/{}/checkins",
    "/athletes/{}/checkins/clear",
    "/calendar/{}.ics",
    "/r/{}/{}",
    "/static/style.css",
    "/healthz",
    "/status",
    "/metrics",
    "/webhooks/strava",
)
FIELDS = (
    "csrf",
    "kind",
    "area",
    "note",
    "effort",
    "minutes",
    "tool",
    "quiet_start",
    "quiet_end",
    "max_hr",
    "rest_hr",
    "threshold_hr",
    "token",
    "e",
    "s",
    "hub.mode",
    "hub.challenge",
    "hub.verify_token",
)
ACTIONS = ("done", "skip", "snooze", "fine", "sore", "knee_ache", "pain", "gone", "still")

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
ints = st.one_of(
    st.sampled_from([ADA, BO, ADA_RACE, 0, 1, -1]),
    st.integers(min_value=0, max_value=10**30),
)
segments = st.one_of(ints.map(str), st.sampled_from(ACTIONS), texts.map(lambda t: quote(t, safe="")))


@st.composite
def paths(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:  # now and then, a path no route has
        return "/" + "/".join(draw(st.lists(segments, max_size=5)))
    template = draw(st.sampled_from(ROUTES))
    values = [draw(segments) for _ in range(template.count("{}"))]
    path = template.format(*values)
    return path + draw(st.sampled_from(["", "", "/", "//", "/x"]))


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    headers: dict[str, str] = {}
    kind = draw(st.sampled_from(["form", "json", "bytes", "none"]))
    body: bytes | None = None
    if kind == "form":
        pairs = draw(st.lists(st.tuples(st.sampled_from(FIELDS) | texts, texts), max_size=8))
        body = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif kind == "json":
        body = draw(
            st.sampled_from([b"{}", b"[]", b'{"object_type": "activity"}', b"null", b'{"aspect_type":1}'])
        )
        headers["content-type"] = "application/json"
    elif kind == "bytes":
        body = draw(st.binary(max_size=300))
        headers["content-type"] = draw(st.sampled_from(["text/plain", "multipart/form-data", "", "a/b; x=y"]))
    if draw(st.booleans()):
        headers["authorization"] = draw(st.sampled_from(["Bearer ", "Bearer wrong", "Basic abc", "bearer"]))
    cookie = draw(st.sampled_from(["", "recovery_session=", "recovery_session=forged-session-token"]))
    if cookie or draw(st.booleans()):
        headers["cookie"] = cookie or f"recovery_session={quote(draw(texts), safe='')}"
    query = draw(st.lists(st.tuples(st.sampled_from(FIELDS) | texts, texts), max_size=4))
    return {
        "method": draw(st.sampled_from(METHODS)),
        "url": draw(paths()),
        "params": query,
        "content": body,
        "headers": headers,
    }


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    """Every row of every table, as text: any change shows."""
    with sessions() as session:
        return {
            table.name: sorted(str(tuple(row)) for row in session.execute(select(table)))
            for table in models.Base.metadata.sorted_tables
        }


@pytest.fixture
def app_client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    seed(sessions)
    clock = Clock(NOW)
    with transaction(sessions) as session:
        signing.secret(session, NOW)  # made on first use otherwise: it exists in any running daemon
        signin.issue_link(session, ADA, NOW)  # a real link exists; the fuzz never knows its token
    web = Web(WebConfig(sessions, ingest_config(), clock, "http://127.0.0.1", ADMIN_TOKEN))
    endpoints = Endpoints(
        health=lambda _details: (True, {}),
        status=lambda: {"ok": True},
        webhook=webhooks.WebhookReceiver(sessions, "fuzz-verify-token", clock),
        metrics=lambda: b"# nothing\n",
        web=web,
    )
    app = build_app(endpoints, token=ADMIN_TOKEN, guarded=True)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=True) as client:
        yield client


def send(client: TestClient, request: dict[str, Any]) -> int:
    client.cookies.clear()  # each request carries only the cookie it was given
    response = client.request(
        request["method"],
        request["url"],
        params=request["params"],
        content=request["content"],
        headers=request["headers"],
        follow_redirects=False,
    )
    return int(response.status_code)


# Methods no route has get 501 Not Implemented by design (the listener's gate; see test_http.py).
UNIMPLEMENTED = frozenset({"PUT", "DELETE", "PATCH"})


def answered(status: int, method: str) -> bool:
    """A deliberate answer: no 5xx, except 501 for a method the listener does not implement at all."""
    return status < 500 or (status == 501 and method in UNIMPLEMENTED)


FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(request=requests())
def test_no_request_gets_a_5xx_or_changes_anything_without_a_session(
    app_client: TestClient, sessions: sessionmaker[Session], request: dict[str, Any]
) -> None:
    before = snapshot(sessions)
    status = send(app_client, request)
    assert answered(status, request["method"]), request
    assert snapshot(sessions) == before, request


@pytest.fixture
def ada_cookie(app_client: TestClient, sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        token = signin.issue_link(session, ADA, NOW)
    response = app_client.get(f"/signin/{token}", follow_redirects=False)
    assert response.status_code == 303
    return str(response.cookies["recovery_session"])


@FUZZ
@given(request=requests(), path=st.sampled_from(ROUTES[5:10]))  # the runner's POST routes
def test_a_signed_in_runner_without_the_csrf_token_changes_nothing(
    app_client: TestClient,
    sessions: sessionmaker[Session],
    ada_cookie: str,
    request: dict[str, Any],
    path: str,
) -> None:
    values = [ADA, ADA_RACE, "pain"] if "activities" in path else [ADA, 1, "done"]
    request = {
        **request,
        "method": "POST",
        "url": path.format(*values[: path.count("{}")]),
        "headers": {**request["headers"], "cookie": f"recovery_session={ada_cookie}"},
    }
    request["headers"].pop("authorization", None)
    before = snapshot(sessions)
    status = send(app_client, request)
    assert status < 500, request
    assert status in (400, 403, 404, 413, 415), request  # the CSRF check (or the body) refuses it
    assert snapshot(sessions) == before, request
