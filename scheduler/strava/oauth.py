"""Connecting an athlete: the authorize URL, the localhost redirect listener, the code exchange.

The browser step: we print `{oauth_url}/authorize?...&redirect_uri=http://127.0.0.1:PORT/callback&state=S`,
the athlete approves on Strava, Strava redirects the browser to our one-shot listener with `code`, `scope`
and `state`. We check `state` (a redirect we did not ask for is refused), warn when `activity:read_all` was
unticked, exchange the code for tokens and store the athlete.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.domain.activity import parse_timezone
from scheduler.errors import InputError
from scheduler.store import athletes as athlete_store
from scheduler.store.db import transaction
from scheduler.strava import budget
from scheduler.strava.port import StravaError, StravaPort, StravaPortFactory

log = logging.getLogger(__name__)

REQUESTED_SCOPE = "read,activity:read_all"
CALLBACK_PATH = "/callback"
DEFAULT_PORT = 8788


class OAuthError(Exception):
    """The authorization did not go through; the message says what to do."""


def new_state() -> str:
    return secrets.token_urlsafe(24)


def redirect_uri(port: int, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port}{CALLBACK_PATH}"


def authorize_url(oauth_url: str, client_id: int, redirect: str, state: str) -> str:
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect,
            "response_type": "code",
            "approval_prompt": "auto",
            "scope": REQUESTED_SCOPE,
            "state": state,
        },
        safe=",:",
    )
    return f"{oauth_url.rstrip('/')}/authorize?{query}"


@dataclass(frozen=True, slots=True)
class Callback:
    code: str
    scope: str | None  # None when unknown (a bare code typed in)


def read_callback(query: Mapping[str, str], expected_state: str | None) -> Callback:
    """The code and scope of Strava's redirect; OAuthError for a foreign state, a refusal, or no code."""
    if expected_state is not None and not hmac.compare_digest(
        query.get("state", "").encode(), expected_state.encode()
    ):
        raise OAuthError(
            "the redirect carried a different state than the one we sent: ignored it "
            "(an old browser tab, or someone else's link); run `recovery auth` again"
        )
    error = query.get("error")
    if error:
        hint = "you declined on Strava's page" if error == "access_denied" else f"Strava said {error!r}"
        raise OAuthError(f"authorization refused: {hint}; run `recovery auth` again to connect")
    code = query.get("code", "")
    if not code:
        raise OAuthError("the redirect carried no authorization code")
    return Callback(code, query.get("scope"))


def parse_code_option(value: str) -> Callback:
    """`--code` takes the bare code or the whole redirect URL (whose scope can then be checked)."""
    value = value.strip()
    if "://" in value or value.startswith(("/", "?")):
        query = dict(parse_qsl(urlsplit(value).query, keep_blank_values=True))
        if not query.get("code"):
            raise InputError("--code: the URL carries no code= parameter")
        return read_callback(query, None)
    if not value:
        raise InputError("--code: empty")
    return Callback(value, None)


def scope_warning(scope: str | None) -> str | None:
    """What the athlete loses when they unticked part of what we asked; None when all was granted."""
    if scope is None:
        return None
    granted = {part.strip() for part in scope.split(",") if part.strip()}
    if "activity:read_all" in granted:
        return None
    if "activity:read" in granted:
        return (
            "Strava granted 'activity:read' but not 'activity:read_all': activities you keep private "
            '("Only You") will get no recovery reminders. Run `recovery auth` again and leave '
            '"View data about your private activities" ticked to include them.'
        )
    return (
        f"Strava granted no access to your activities (scope: {scope or 'none'}), not 'activity:read_all': "
        "no activity will get recovery reminders, and the first poll will ask you to reconnect. "
        "Run `recovery auth` again and leave the activity permissions ticked."
    )


# -- the redirect listener -------------------------------------------------------------------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Recovery scheduler</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{text}</p></body></html>"""


class CallbackListener:
    """A one-shot HTTP listener on 127.0.0.1 for Strava's redirect. Use as a context manager."""

    def __init__(self, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
        self._received: dict[str, str] | None = None
        self._arrived = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or listener._arrived.is_set():
                    self.send_error(404)
                    return
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                ok = bool(query.get("code")) and not query.get("error")
                page = _PAGE.format(
                    title="Connected" if ok else "Not connected",
                    text=(
                        "You can close this tab and go back to the terminal."
                        if ok
                        else "Strava did not grant access. The terminal says what to do next."
                    ),
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                listener._received = query
                listener._arrived.set()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the query carries the single-use code."""

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as error:
            raise InputError(f"--port {port}: cannot listen on {host}:{port} ({error.strerror})") from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth-callback", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        return redirect_uri(self.port)

    def __enter__(self) -> CallbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The redirect's query parameters, or None when none came within `timeout` seconds."""
        if not self._arrived.wait(timeout):
            return None
        return self._received


# -- the exchange ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    athlete_id: int
    name: str
    timezone: str | None
    created: bool
    scope: str | None


def _latest_zone(port: StravaPort) -> str | None:
    """The time zone of the athlete's latest activity (one read), if any."""
    try:
        latest = port.list_activities(after=None, page=1, per_page=1)
    except StravaError as error:
        log.info("could not read the latest activity for its time zone: %s", error)
        return None
    raw = latest[0].get("timezone") if latest else None
    if not isinstance(raw, str):
        return None
    try:
        return parse_timezone(raw, "timezone")
    except InputError:
        return None


def connect(
    sessions: sessionmaker[Session],
    port_factory: StravaPortFactory,
    callback: Callback,
    clock: Clock,
) -> Connected:
    """Exchange the code and store (or update) the athlete with their tokens."""
    grant = port_factory(None).exchange_code(callback.code)
    api = port_factory(grant.access_token)
    athlete_json = grant.athlete or api.athlete()
    athlete_id = athlete_json.get("id")
    if not isinstance(athlete_id, int):
        raise StravaError("Strava's answer names no athlete id")
    name = athlete_store.display_name(athlete_json)
    zone = _latest_zone(api) if _may_read(sessions, clock()) else None
    now = clock()
    with transaction(sessions) as session:
        budget.record(session, api.rate_usage, now)
        _, created = athlete_store.upsert_connected(
            session,
            athlete_id,
            name=name,
            timezone=zone,
            grant=grant,
            scope=callback.scope,
            now=now,
        )
    return Connected(athlete_id, name, zone, created, callback.scope)


def _may_read(sessions: sessionmaker[Session], now: datetime) -> bool:
    with transaction(sessions) as session:
        return budget.load(session).wait_until(now, 0.0) is None
