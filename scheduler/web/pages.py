"""HTML rendering: the Jinja2 environment (built on the first page, so an idle daemon never loads Jinja2)
and the headers every page carries."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# No script, styles and forms only from here, never framed; no Referer carries a link's token.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
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
