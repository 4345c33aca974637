"""A loopback HTTP endpoint standing in for a phone: apprise's json:// posts land here, with arrival times."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    at: datetime
    path: str
    body: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.body.get("title", ""))


class Receiver:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._messages: list[Received] = []

    @property
    def url(self) -> str:
        """The apprise URL that sends here."""
        return f"json://127.0.0.1:{self._server.server_address[1]}/inbox"

    def record(self, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._messages.append(Received(datetime.now(UTC), path, body))

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def titles(self) -> list[str]:
        return [message.title for message in self.messages()]


@contextmanager
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            holder[0].record(self.path, body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
