"""HTML rendering: the Jinja2 environment (built on the first page, so an idle daemon never loads Jinja2)
and the headers every page carries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# Scripts (the training chart), styles and forms only from here, never framed; no Referer carries a link's
# token. The page works without scripts; the chart's data is a JSON block, never executed.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_lock = threading.Lock()
_environment: Environment | None = None


def environment() -> Environment:
    global _environment
    with _lock:
        if _environment is None:
            from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

            _environment = Environment(
                loader=FileSystemLoader(TEMPLATES),
                autoescape=select_autoescape(["html"]),
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
        return _environment


def render(name: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    context.setdefault("signed_in", False)
    context.setdefault("csrf", "")
    html = environment().get_template(name).render(**context)
    return Response(html, status_code=status, headers={**HEADERS, **(headers or {})}, media_type="text/html")


def message(
    status: int, heading: str, text: str, *, kind: str = "error", back: str | None = None, **context: Any
) -> Response:
    return render("message.html", status, heading=heading, text=text, kind=kind, back=back, **context)


def stylesheet() -> Response:
    return Response(
        (STATIC / "style.css").read_bytes(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# Shipped with the package (scheduler/web/static), served by name: the training chart (uPlot, MIT).
STATIC_FILES = {
    "uplot.iife.min.js": "text/javascript",
    "uplot.min.css": "text/css",
    "uplot-load-chart.js": "text/javascript",
}


def static_handler(name: str) -> Callable[[Request], Response]:
    """The GET handler of one shipped file (read at each request: small, and cached by the browser)."""
    media_type = STATIC_FILES[name]

    def serve(request: Request) -> Response:
        return Response(
            (STATIC / name).read_bytes(),
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    return serve
