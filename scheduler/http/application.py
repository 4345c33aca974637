"""The Starlette application behind the daemon's listener: routes, the bearer-token guard, JSON errors.

Endpoints are sync functions, which Starlette runs in its thread pool: the database and the webhook store
never block the event loop. Only the webhook body is read on the loop (non-blocking I/O), then handed to the
thread pool.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

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
from scheduler.http.jsonbody import json_problem

log = logging.getLogger(__name__)

# Strava events are a few hundred bytes; anything much larger is not from Strava.
MAX_BODY_BYTES = 64 * 1024
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def json_response(status: int, body: JsonBody, headers: dict[str, str] | None = None) -> Response:
    payload = json.dumps(body, ensure_ascii=False, default=str).encode()
    return Response(
        payload,
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        media_type="application/json",
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"error": message}, headers)


def _safely(what: str, endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A failing endpoint is a 500 for that request only, logged once with its traceback."""

    def guarded(request: Request) -> Response:
        try:
            return endpoint(request)
        except Exception:
            log.exception("HTTP %s %s failed", request.method, what)
            return _error(500, "internal error")

    return guarded


def _authenticated(token: str | None, authorization: str) -> bool:
    scheme, _, credentials = authorization.partition(" ")
    if token is None or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


class Gate:
    """Before any route: 501 for methods no route has, the bearer token, and OPTIONS (the Allow header)."""

    def __init__(
        self,
        app: ASGIApp,
        routes: list[BaseRoute],
        token: str | None,
        guarded: bool,
        page: Callable[[str], bool] = lambda path: False,  # the runner's page signs its visitors in itself
    ) -> None:
        self._app = app
        self._page = page
        self._routes = routes
        self._token = token
        self._guarded = guarded
        # Methods this server implements at all (others are 501), whether or not a given path has them.
        self._methods = {"GET", "HEAD", "POST", "OPTIONS"}.union(*(_methods(route) for route in routes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        authenticated = _authenticated(self._token, headers.get("authorization", ""))
        scope.setdefault("state", {})["authenticated"] = authenticated
        path = scope["path"].rstrip("/") or "/"
        response: Response | None = None
        if scope["method"] not in self._methods:
            response = _error(501, f"method {scope['method']} not implemented")
        elif self._guarded and path not in PUBLIC_PATHS and not self._page(path) and not authenticated:
            response = _error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        elif scope["method"] == "OPTIONS":
            allowed = self._allowed(scope)
            response = (
                Response(status_code=204, headers={"Allow": ", ".join(allowed)})
                if allowed
                else _error(404, "not found")
            )
        if response is not None:
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _allowed(self, scope: Scope) -> list[str]:
        for route in self._routes:
            match, _ = route.matches({**scope, "method": "GET"})
            if match is not Match.NONE:
                return sorted(_methods(route) | {"OPTIONS"})
        return []


def _methods(route: BaseRoute) -> set[str]:
    methods = getattr(route, "methods", None)
    return set(methods) if methods else {"GET", "HEAD"}


class _Routes:
    """The endpoints as Starlette routes."""

    def __init__(self, endpoints: Endpoints) -> None:
        self._endpoints = endpoints

    def health(self, request: Request) -> Response:
        healthy, report = self._endpoints.health(bool(request.state.authenticated))
        return json_response(200 if healthy else 503, report)

    def status(self, request: Request) -> Response:
        return json_response(200, self._endpoints.status())

    def metrics(self, request: Request) -> Response:
        assert self._endpoints.metrics is not None  # the route exists only with a metrics source
        return Response(self._endpoints.metrics(), media_type=METRICS_CONTENT_TYPE)

    def handshake(self, request: Request) -> Response:
        assert self._endpoints.webhook is not None  # the route exists only with a receiver
        status, body = self._endpoints.webhook.handshake(dict(request.query_params))
        return json_response(status, body)

    async def event(self, request: Request) -> Response:
        webhook = self._endpoints.webhook
        assert webhook is not None
        raw_length = request.headers.get("content-length")
        if raw_length is None:
            return _error(411, "Content-Length required")
        if not raw_length.isdigit():
            return _error(400, "bad Content-Length")
        if int(raw_length) > MAX_BODY_BYTES:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            body = await request.body()  # the protocol's request deadline bounds this wait
        except ClientDisconnect:
            return _error(400, "body shorter than Content-Length")  # nobody left to read it
        return await run_in_threadpool(self._receive, webhook, body)

    @staticmethod
    def _receive(webhook: WebhookEndpoint, body: bytes) -> Response:
        problem = json_problem(body)
        if problem is not None:
            return _error(400, problem)
        try:
            status, reply = webhook.receive(body)
        except Exception:
            log.exception("HTTP POST %s failed", WEBHOOK_PATH)
            return _error(500, "internal error")
        return json_response(status, reply)

    def routes(self) -> list[BaseRoute]:
        endpoints = self._endpoints
        routes: list[BaseRoute] = [
            Route(HEALTH_PATH, _safely(HEALTH_PATH, self.health), methods=["GET"]),
            Route(STATUS_PATH, _safely(STATUS_PATH, self.status), methods=["GET"]),
        ]
        if endpoints.metrics is not None:
            routes.append(Route(METRICS_PATH, _safely(METRICS_PATH, self.metrics), methods=["GET"]))
        if endpoints.webhook is not None:
            routes.append(Route(WEBHOOK_PATH, _webhook_dispatch(self), methods=["GET", "POST"]))
        if endpoints.web is not None:
            routes.extend(endpoints.web.routes())
        return routes


def _webhook_dispatch(routes: _Routes) -> Callable[[Request], Any]:
    handshake = _safely(WEBHOOK_PATH, routes.handshake)

    async def dispatch(request: Request) -> Response:
        if request.method == "POST":
            return await routes.event(request)
        return await run_in_threadpool(handshake, request)

    return dispatch


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no route: 404, a method the route lacks: 405 with Allow) as JSON too."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = sorted({m.strip() for m in headers.get("Allow", "GET").split(",")} | {"OPTIONS"})
        headers["Allow"] = ", ".join(allowed)
        return _error(405, f"use {' or '.join(m for m in allowed if m not in ('HEAD', 'OPTIONS'))}", headers)
    return _error(exc.status_code, "not found" if exc.status_code == 404 else exc.detail, headers)


def build_app(endpoints: Endpoints, *, token: str | None, guarded: bool) -> ASGIApp:
    routes = _Routes(endpoints).routes()
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    page = endpoints.web.serves if endpoints.web is not None else (lambda path: False)
    return Gate(app, routes, token, guarded, page)
