"""The daemon's HTTP listener: the Starlette application served by uvicorn (h11) in a thread of the daemon.

The daemon owns the process: uvicorn installs no signal handlers here (it only does so on the main thread)
and the daemon stops it on SIGTERM through `HttpServer.stop`. The socket is bound at construction, so a busy
port fails before anything else starts. Every request must arrive within `request_timeout` seconds
(`protocol.py`), and at most `max_connections` are served at once; beyond that uvicorn answers 503.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading

import uvicorn

from scheduler.errors import ConfigError
from scheduler.http.application import MAX_BODY_BYTES, build_app
from scheduler.http.endpoints import (
    HEALTH_PATH,
    METRICS_PATH,
    PUBLIC_PATHS,
    STATUS_PATH,
    WEBHOOK_PATH,
    Endpoints,
    JsonBody,
    WebhookEndpoint,
)
from scheduler.http.protocol import DeadlineProtocol
from scheduler.settings import HttpSettings

__all__ = [
    "HEALTH_PATH",
    "MAX_BODY_BYTES",
    "METRICS_PATH",
    "PUBLIC_PATHS",
    "STATUS_PATH",
    "WEBHOOK_PATH",
    "Endpoints",
    "HttpServer",
    "JsonBody",
    "WebhookEndpoint",
    "check_exposure",
    "is_loopback",
]

log = logging.getLogger(__name__)

# Seconds a client may take to send one whole request before its connection is answered and closed.
REQUEST_TIMEOUT = 10.0
# Connections served at once (slow or not); each costs no thread, only blocking endpoint work does.
MAX_CONNECTIONS = 100
# Strava may deliver a burst of webhook events at once; a short backlog resets connections.
BACKLOG = 128
# Seconds `stop` waits for requests in progress before closing their connections.
STOP_GRACE = 5


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


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart while old connections linger
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


class HttpServer:
    """Binds at construction (so a busy port fails before anything else starts); serves once started."""

    def __init__(
        self,
        settings: HttpSettings,
        endpoints: Endpoints,
        *,
        request_timeout: float = REQUEST_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        check_exposure(settings)
        token = _token(settings)
        # A set token guards every non-public path, on loopback too (a local reverse proxy may expose it).
        guarded = token is not None or not is_loopback(settings.host)
        app = build_app(endpoints, token=token, guarded=guarded)

        class Protocol(DeadlineProtocol):
            pass

        Protocol.request_timeout = request_timeout
        config = uvicorn.Config(
            app,
            http=Protocol,
            ws="none",
            loop="asyncio",
            lifespan="off",
            interface="asgi3",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,  # no proxy is trusted: the client address is the peer's
            limit_concurrency=max_connections,
            backlog=BACKLOG,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=STOP_GRACE,
        )
        config.load()
        # uvicorn's own start and stop chatter is INFO; its warnings (bad requests, the cap) stay.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        self._socket = _bind(settings.host, settings.port)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = str(self._socket.getsockname()[0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests; requests in progress get `STOP_GRACE` seconds to finish."""
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(STOP_GRACE + 5)
        self._socket.close()
