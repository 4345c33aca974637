"""A small threaded HTTP server (stdlib): /healthz, /status and /webhooks/strava, JSON in and out.

The stdlib server keeps the daemon's memory small and fits our synchronous stack: every request runs in its
own thread and may call the database or the webhook code directly.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from scheduler.errors import ConfigError
from scheduler.settings import HttpSettings

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
STATUS_PATH = "/status"
WEBHOOK_PATH = "/webhooks/strava"
# Paths anyone who can reach the port may call: probes, and Strava (checked by its verify token).
PUBLIC_PATHS = frozenset({HEALTH_PATH, WEBHOOK_PATH})
# Strava events are a few hundred bytes; anything much larger is not from Strava.
MAX_BODY_BYTES = 64 * 1024
# Seconds a client may take to send its request before its connection is dropped.
REQUEST_TIMEOUT = 10.0

JsonBody = dict[str, Any]


class WebhookEndpoint(Protocol):
    def handshake(self, params: Mapping[str, str]) -> tuple[int, JsonBody]:
        """Strava's subscription check (GET with hub.mode, hub.challenge, hub.verify_token)."""
        ...

    def receive(self, body: bytes) -> tuple[int, JsonBody]:
        """One pushed event (POST); must answer within 2 s, the work happens later."""
        ...


@dataclass(frozen=True)
class Endpoints:
    health: Callable[[], tuple[bool, JsonBody]]
    status: Callable[[], JsonBody]
    webhook: WebhookEndpoint | None  # None: the webhook receiver is off and its path answers 404


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so treat it as exposed


def check_exposure(settings: HttpSettings) -> None:
    """Refuse to listen beyond this machine without a token guarding /status."""
    if not is_loopback(settings.host) and not _token(settings):
        raise ConfigError(
            f"RECOVERY_HTTP__HOST={settings.host} exposes the HTTP listener beyond this machine: "
            "set RECOVERY_HTTP__TOKEN to a long random value (e.g. `openssl rand -hex 32`), "
            "or bind to 127.0.0.1"
        )


def _token(settings: HttpSettings) -> str | None:
    return settings.token.get_secret_value() if settings.token is not None else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Strava may deliver a burst of webhook events at once; the default backlog of 5 resets connections.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], endpoints: Endpoints, token: str | None, guarded: bool
    ) -> None:
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.endpoints = endpoints
        self.token = token
        self.guarded = guarded
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("HTTP request from %s failed", client_address[0] if client_address else "?")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT
    server_version = "recovery-scheduler"
    sys_version = ""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        try:
            status, body, headers = self._route(method)
        except Exception:
            log.exception("HTTP %s %s failed", method, urlsplit(self.path).path)
            status, body, headers = 500, {"error": "internal error"}, {}
        self._reply(status, body, headers)

    def _route(self, method: str) -> tuple[int, JsonBody, dict[str, str]]:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        if path not in PUBLIC_PATHS and self.server.guarded and not self._authorized():
            return 401, {"error": "missing or wrong bearer token"}, {"WWW-Authenticate": "Bearer"}
        endpoints = self.server.endpoints
        if path == HEALTH_PATH:
            if method != "GET":
                return 405, {"error": "use GET"}, {"Allow": "GET"}
            healthy, report = endpoints.health()
            return (200 if healthy else 503), report, {}
        if path == STATUS_PATH:
            if method != "GET":
                return 405, {"error": "use GET"}, {"Allow": "GET"}
            return 200, endpoints.status(), {}
        if path == WEBHOOK_PATH and endpoints.webhook is not None:
            if method == "GET":
                status, body = endpoints.webhook.handshake(dict(parse_qsl(url.query, keep_blank_values=True)))
                return status, body, {}
            return self._receive_event(endpoints.webhook)
        return 404, {"error": "not found"}, {}

    def _receive_event(self, webhook: WebhookEndpoint) -> tuple[int, JsonBody, dict[str, str]]:
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return 411, {"error": "Content-Length required"}, {}
        try:
            length = int(raw_length)
        except ValueError:
            return 400, {"error": "bad Content-Length"}, {}
        if length < 0:
            return 400, {"error": "bad Content-Length"}, {}
        if length > MAX_BODY_BYTES:
            return 413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"}, {}
        body = self.rfile.read(length)
        if len(body) < length:
            return 400, {"error": "body shorter than Content-Length"}, {}
        status, reply = webhook.receive(body)
        return status, reply, {}

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own errors (bad request line, unsupported method) as JSON too."""
        self.close_connection = True
        self._reply(code, {"error": message or HTTPStatus(code).phrase}, {})

    def _authorized(self) -> bool:
        expected = self.server.token
        given = self.headers.get("Authorization", "")
        scheme, _, credentials = given.partition(" ")
        if expected is None or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode(), expected.encode())

    def _reply(self, status: int, body: JsonBody, headers: Mapping[str, str]) -> None:
        payload = json.dumps(body, ensure_ascii=False, default=str).encode()
        try:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError as exc:  # the client went away: nothing to answer
            log.debug("HTTP client %s left before the reply: %s", self.client_address[0], exc)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.client_address[0], format % args)


class HttpServer:
    """Binds at construction (so a busy port fails before anything else starts); serves once started."""

    def __init__(self, settings: HttpSettings, endpoints: Endpoints) -> None:
        check_exposure(settings)
        try:
            self._server = _Server(
                (settings.host, settings.port),
                endpoints,
                token=_token(settings),
                guarded=not is_loopback(settings.host),
            )
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
            ) from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.25}, name="http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests; requests in progress finish in their own (daemon) threads."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
