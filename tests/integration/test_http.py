"""The daemon's HTTP listener over real sockets: routes, the bearer token, bad requests, health and status."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import utc_now
from scheduler.daemon.health import HealthTracker
from scheduler.errors import ConfigError
from scheduler.http.server import MAX_BODY_BYTES, Endpoints, HttpServer, check_exposure, is_loopback
from scheduler.http.status import status_report
from scheduler.settings import HttpSettings
from scheduler.store import app_state, models
from scheduler.store.db import transaction
from tests.acceptance.seed import add_activity, add_athlete, add_reminder

TOKEN = "s3cret-status-token"


@dataclass
class FakeWebhook:
    handshakes: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def handshake(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        self.handshakes.append(dict(params))
        if params.get("hub.verify_token") != "vt":
            return 403, {"error": "verify token mismatch"}
        return 200, {"hub.challenge": params.get("hub.challenge", "")}

    def receive(self, body: bytes) -> tuple[int, dict[str, Any]]:
        self.bodies.append(body)
        try:
            event = json.loads(body)
        except ValueError:
            return 400, {"error": "not JSON"}
        if event == {"explode": True}:
            raise RuntimeError("handler bug")
        return 200, {"ok": True}


@dataclass
class Fakes:
    healthy: bool = True
    webhook: FakeWebhook | None = field(default_factory=FakeWebhook)

    def endpoints(self) -> Endpoints:
        return Endpoints(
            health=lambda detailed: (self.healthy, {"status": "ok" if self.healthy else "unhealthy"}),
            status=lambda: {"athletes": [{"id": 7, "state": "active"}]},
            webhook=self.webhook,
        )


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def request(
    server: HttpServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        raw = response.read()
        # Header names are case-insensitive: the test reads them in lower case.
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, json.loads(raw) if raw else {}, headers)
    finally:
        conn.close()


def serve(settings: HttpSettings, fakes: Fakes) -> HttpServer:
    server = HttpServer(settings, fakes.endpoints())
    server.start()
    return server


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def local(fakes: Fakes) -> Iterator[HttpServer]:
    server = serve(HttpSettings(host="127.0.0.1", port=0), fakes)
    yield server
    server.stop()


@pytest.fixture
def exposed(fakes: Fakes) -> Iterator[HttpServer]:
    """Configured as if reachable from the network (0.0.0.0, a token); the test talks to it on loopback."""
    server = serve(HttpSettings(host="0.0.0.0", port=0, token=TOKEN), fakes)
    yield server
    server.stop()


# -- routes --------------------------------------------------------------------------------------------------


def test_healthz_answers_200_when_healthy_and_503_when_not(local: HttpServer, fakes: Fakes) -> None:
    reply = request(local, "GET", "/healthz")
    assert (reply.status, reply.body) == (200, {"status": "ok"})
    assert reply.headers["content-type"] == "application/json"
    fakes.healthy = False
    assert request(local, "GET", "/healthz").status == 503


def test_status_on_loopback_needs_no_token(local: HttpServer) -> None:
    reply = request(local, "GET", "/status")
    assert reply.status == 200
    assert reply.body["athletes"] == [{"id": 7, "state": "active"}]


def test_unknown_paths_and_methods(local: HttpServer) -> None:
    assert request(local, "GET", "/nope").status == 404
    assert request(local, "POST", "/healthz", body=b"{}").status == 405
    assert request(local, "DELETE", "/status").status == 501


def test_webhook_handshake_is_delegated_with_the_query_parameters(local: HttpServer, fakes: Fakes) -> None:
    reply = request(
        local, "GET", "/webhooks/strava?hub.mode=subscribe&hub.challenge=abc123&hub.verify_token=vt"
    )
    assert (reply.status, reply.body) == (200, {"hub.challenge": "abc123"})
    assert fakes.webhook is not None
    assert fakes.webhook.handshakes == [
        {"hub.mode": "subscribe", "hub.challenge": "abc123", "hub.verify_token": "vt"}
    ]
    wrong = request(local, "GET", "/webhooks/strava?hub.mode=subscribe&hub.challenge=x&hub.verify_token=bad")
    assert wrong.status == 403


def test_webhook_event_body_reaches_the_receiver(local: HttpServer, fakes: Fakes) -> None:
    event = {"object_type": "activity", "object_id": 1, "aspect_type": "create", "owner_id": 7}
    reply = request(local, "POST", "/webhooks/strava", body=json.dumps(event).encode())
    assert reply.status == 200
    assert fakes.webhook is not None
    assert [json.loads(b) for b in fakes.webhook.bodies] == [event]


def test_webhook_path_is_404_when_webhooks_are_off() -> None:
    fakes = Fakes(webhook=None)
    server = serve(HttpSettings(host="127.0.0.1", port=0), fakes)
    try:
        assert request(server, "GET", "/webhooks/strava?hub.challenge=x").status == 404
        assert request(server, "POST", "/webhooks/strava", body=b"{}").status == 404
    finally:
        server.stop()


# -- malformed requests never kill the server --------------------------------------------------------------


def test_malformed_webhook_bodies_are_refused_and_the_server_keeps_serving(local: HttpServer) -> None:
    assert request(local, "POST", "/webhooks/strava", body=b"{not json").status == 400
    oversized = b"x" * (MAX_BODY_BYTES + 1)
    assert request(local, "POST", "/webhooks/strava", body=oversized).status == 413
    # A handler that raises is a 500 for that request only.
    assert request(local, "POST", "/webhooks/strava", body=b'{"explode": true}').status == 500
    assert request(local, "GET", "/healthz").status == 200


def raw_exchange(server: HttpServer, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\xff\xfe garbage\r\n\r\n",
        b"GET\r\n\r\n",
        b"POST /webhooks/strava HTTP/1.1\r\nHost: x\r\n\r\n",  # no Content-Length
        b"POST /webhooks/strava HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
        b"POST /webhooks/strava HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}",  # short body
        b"GET /status?%zz=%%% HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
def test_broken_requests_get_an_error_and_the_server_survives(local: HttpServer, payload: bytes) -> None:
    answer = raw_exchange(local, payload)
    if answer.startswith(b"HTTP/"):  # else an HTTP/0.9-style request got a bare body
        status = int(answer.split(b" ", 2)[1])
        assert status in (200, 400, 411), answer[:200]
    assert request(local, "GET", "/healthz").status == 200


def test_a_client_that_connects_and_says_nothing_does_not_block_others(local: HttpServer) -> None:
    with socket.create_connection(("127.0.0.1", local.port), timeout=5):
        assert request(local, "GET", "/healthz").status == 200


# -- bound beyond loopback: a bearer token guards everything but health and the webhook -------------------


def test_exposed_status_needs_the_bearer_token(exposed: HttpServer) -> None:
    missing = request(exposed, "GET", "/status")
    assert missing.status == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "athletes" not in missing.body
    assert request(exposed, "GET", "/status", headers={"Authorization": "Bearer wrong"}).status == 401
    assert request(exposed, "GET", "/status", headers={"Authorization": f"Basic {TOKEN}"}).status == 401
    good = request(exposed, "GET", "/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status == 200 and good.body["athletes"]


def test_exposed_health_and_webhook_stay_public(exposed: HttpServer) -> None:
    assert request(exposed, "GET", "/healthz").status == 200
    handshake = request(
        exposed, "GET", "/webhooks/strava?hub.mode=subscribe&hub.challenge=c&hub.verify_token=vt"
    )
    assert handshake.status == 200
    assert request(exposed, "POST", "/webhooks/strava", body=b'{"object_type": "activity"}').status == 200


def test_exposed_unknown_paths_do_not_reveal_themselves(exposed: HttpServer) -> None:
    assert request(exposed, "GET", "/anything").status == 401


def test_binding_beyond_loopback_without_a_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="RECOVERY_HTTP__TOKEN"):
        check_exposure(HttpSettings(host="0.0.0.0", port=0))
    with pytest.raises(ConfigError, match="RECOVERY_HTTP__TOKEN"):
        HttpServer(HttpSettings(host="192.0.2.10", port=0), Fakes().endpoints())
    check_exposure(HttpSettings(host="127.0.0.1"))
    check_exposure(HttpSettings(host="::1"))
    check_exposure(HttpSettings(host="0.0.0.0", token=TOKEN))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
     ("::", False), ("192.168.1.5", False), ("myhost.lan", False)],
)  # fmt: skip
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_busy_port_is_one_clear_error(local: HttpServer) -> None:
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{local.port}"):
        HttpServer(HttpSettings(host="127.0.0.1", port=local.port), Fakes().endpoints())


# -- status and health against a real database -------------------------------------------------------------


def test_status_lists_athletes_next_reminders_and_deliveries_but_no_tokens(
    sessions: sessionmaker[Session],
) -> None:
    now = utc_now()
    with transaction(sessions) as session:
        athlete = add_athlete(session, now, notify_urls=["tgram://bot-secret/1"])
        activity = add_activity(session, athlete.id, now)
        later = add_reminder(session, activity, "foam_roll", now + timedelta(hours=20), now)
        sooner = add_reminder(session, activity, "leg_massager", now + timedelta(hours=8), now)
        sent = add_reminder(session, activity, "ice_now", now - timedelta(minutes=30), now, status="sent")
        session.add(
            models.Delivery(
                reminder_id=sent.id,
                attempt=1,
                instance="host-1-abc",
                started_at=now - timedelta(minutes=30),
                finished_at=now - timedelta(minutes=30),
                ok=True,
                results=[{"destination": "ntfys://n…/", "ok": True, "error": None}],
            )
        )
    with sessions() as session:
        report = status_report(session, now)

    assert [a["id"] for a in report["athletes"]] == [athlete.id]
    assert report["athletes"][0]["state"] == "active"
    assert [r["id"] for r in report["upcoming"]] == [sooner.id, later.id]
    assert report["recent_deliveries"][0]["step"] == "ice_now"
    assert report["recent_deliveries"][0]["ok"] is True
    text = json.dumps(report)
    assert "a" * 40 not in text and "b" * 40 not in text
    assert "bot-secret" not in text


def health_tracker(engine: Engine, sessions: sessionmaker[Session], running: bool = True) -> HealthTracker:
    return HealthTracker(
        instance_id="test-1",
        engine=engine,
        sessions=sessions,
        clock=utc_now,
        dispatch_stale_after=timedelta(minutes=5),
        scheduler_running=lambda: running,
    )


def test_health_is_ok_on_a_reachable_database_and_records_times(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    tracker = health_tracker(engine, sessions)
    now = utc_now()
    tracker.dispatched(now)
    tracker.polled(now)
    tracker.dispatched(now + timedelta(seconds=1))  # overwrites: one row per key
    healthy, report = tracker.report()
    assert healthy, report
    assert report["database"] == {"ok": True}
    assert report["dispatch"]["last_ok_at"] == (now + timedelta(seconds=1)).isoformat()
    assert report["poll"]["age_seconds"] is not None
    with sessions() as session:
        rows = {row.key: row.value for row in session.query(models.AppState).all()}
    assert rows["daemon.last_dispatch"]["instance"] == "test-1"
    assert rows["daemon.last_poll"]["at"] == now.isoformat()


def test_health_is_503_material_when_dispatch_is_stale_or_scheduler_stopped(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    tracker = health_tracker(engine, sessions)
    tracker.dispatched(utc_now() - timedelta(minutes=6))
    healthy, report = tracker.report()
    assert not healthy and report["dispatch"]["ok"] is False
    stopped = health_tracker(engine, sessions, running=False)
    assert stopped.report()[0] is False


def test_health_reports_an_unreachable_database(sessions: sessionmaker[Session]) -> None:
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    healthy, report = health_tracker(dead, sessions).report()
    assert not healthy
    assert report["database"]["ok"] is False and report["database"]["error"]


def test_app_state_upsert_is_a_single_statement_on_both_databases(sessions: sessionmaker[Session]) -> None:
    now = utc_now()
    for value in ({"n": 1}, {"n": 2}):
        with transaction(sessions) as session:
            app_state.put(session, "daemon.test", value, now)
    with sessions() as session:
        assert session.get(models.AppState, "daemon.test").value == {"n": 2}  # type: ignore[union-attr]


# -- the HTTP edge: bodies a parser or PostgreSQL cannot take, slow clients, the connection cap -------------

QUICK_DEADLINE = 0.5  # seconds a quick server allows for one whole request


@pytest.fixture
def quick(fakes: Fakes) -> Iterator[HttpServer]:
    """A server with a short request deadline, so tests of slow clients are fast."""
    server = HttpServer(
        HttpSettings(host="127.0.0.1", port=0), fakes.endpoints(), request_timeout=QUICK_DEADLINE
    )
    server.start()
    yield server
    server.stop()


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested"),  # the stdlib parser's RecursionError
        (b'{"a":' * 33 + b"1" + b"}" * 33, "nested"),  # parses, but deeper than any real event
        (b'{"object_id": NaN}', "finite"),
        (b'{"object_id": Infinity}', "finite"),
        (b'{"object_id": -Infinity}', "finite"),
        (b'{"object_id": 1e999}', "finite"),  # a float that overflows to infinity
    ],
)
def test_bodies_that_break_the_parser_or_postgresql_are_a_one_line_400(
    local: HttpServer, fakes: Fakes, body: bytes, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = body[:MAX_BODY_BYTES]
    reply = request(local, "POST", "/webhooks/strava", body=body)
    assert reply.status == 400
    assert why in reply.body["error"] and "\n" not in reply.body["error"]
    assert fakes.webhook is not None and fakes.webhook.bodies == []  # the receiver never saw it
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert request(local, "GET", "/healthz").status == 200


def test_a_body_shorter_than_its_content_length_is_a_400_at_the_deadline(quick: HttpServer) -> None:
    with socket.create_connection(("127.0.0.1", quick.port), timeout=10) as sock:
        sock.sendall(b"POST /webhooks/strava HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
        answer = read_until_closed(sock)  # the client keeps its side open: only the deadline ends this
    assert status_of(answer) == 400
    assert b"shorter than its Content-Length" in answer


def test_a_slow_loris_client_is_dropped_at_the_deadline_without_finishing(quick: HttpServer) -> None:
    request_bytes = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", quick.port), timeout=10) as sock:
        sock.settimeout(QUICK_DEADLINE / 3)  # a byte, then a wait for an answer: one byte per third
        answer = b""
        while sent < len(request_bytes):
            sock.sendall(request_bytes[sent : sent + 1])
            sent += 1
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            break
        sock.settimeout(10)
        answer += read_until_closed(sock)
    assert sent < len(request_bytes), "the server waited for the whole slow request"
    assert status_of(answer) == 408


def test_connections_beyond_the_cap_get_503_and_the_server_recovers(fakes: Fakes) -> None:
    server = HttpServer(HttpSettings(host="127.0.0.1", port=0), fakes.endpoints(), max_connections=2)
    server.start()
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(2)]
    try:
        # The idle connections count once the server has accepted them, which it does on its own time.
        wait_for(lambda: raw_status(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == 503, "a 503")
    finally:
        for sock in idle:
            sock.close()
    try:
        wait_for(lambda: request(server, "GET", "/healthz").status == 200, "service again")
    finally:
        server.stop()


def raw_status(server: HttpServer, payload: bytes) -> int:
    return status_of(raw_exchange(server, payload))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.05)


def test_head_is_get_without_a_body_and_options_lists_the_methods(local: HttpServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", local.port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        get = conn.getresponse()
        get_body = get.read()
        conn.request("HEAD", "/healthz")
        head = conn.getresponse()
        assert (head.status, head.read()) == (200, b"")
        assert head.getheader("Content-Length") == str(len(get_body))
        assert head.getheader("Content-Type") == "application/json"
    finally:
        conn.close()
    options = request(local, "OPTIONS", "/status")
    assert (options.status, options.headers["allow"]) == (204, "GET, HEAD, OPTIONS")
    assert request(local, "OPTIONS", "/webhooks/strava").headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert request(local, "OPTIONS", "/nope").status == 404
    wrong = request(local, "POST", "/healthz", body=b"{}")
    assert (wrong.status, wrong.headers["allow"]) == (405, "GET, HEAD, OPTIONS")


def test_a_set_token_guards_status_on_loopback_too(fakes: Fakes) -> None:
    server = serve(HttpSettings(host="127.0.0.1", port=0, token=TOKEN), fakes)
    try:
        assert request(server, "GET", "/status").status == 401
        assert request(server, "GET", "/status", headers={"Authorization": f"Bearer {TOKEN}"}).status == 200
        assert request(server, "GET", "/healthz").status == 200
    finally:
        server.stop()


def test_healthz_names_no_host_port_or_pid_without_the_token(sessions: sessionmaker[Session]) -> None:
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    tracker = HealthTracker(
        instance_id=f"{socket.gethostname()}-{os.getpid()}-abc123",
        engine=dead,
        sessions=sessions,
        clock=utc_now,
        dispatch_stale_after=timedelta(minutes=5),
        scheduler_running=lambda: True,
    )
    endpoints = Endpoints(health=tracker.report, status=lambda: {}, webhook=None)
    server = HttpServer(HttpSettings(host="0.0.0.0", port=0, token=TOKEN), endpoints)
    server.start()
    try:
        public = request(server, "GET", "/healthz")
        detailed = request(server, "GET", "/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        server.stop()
    assert public.status == detailed.status == 503
    assert public.body["database"] == {"ok": False}  # what failed stays visible
    text = json.dumps(public.body)
    for secret in (socket.gethostname(), str(os.getpid()), "abc123", "127.0.0.1", '"9"', "port 9"):
        assert secret not in text, secret
    assert detailed.body["instance"].endswith("abc123")
    assert detailed.body["database"]["error"]
