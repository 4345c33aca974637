"""uvicorn's h11 protocol with a per-request deadline and JSON protocol errors.

uvicorn bounds the idle time between requests (keep-alive) but not the time a client takes to send one: a
client sending a byte every few seconds would hold its connection for as long as it likes. Here every request
must arrive whole — request line, headers and body — within `request_timeout` seconds of its first byte (of
the connection, for the first request). At the deadline the connection is answered and closed: 400 when the
headers came but the body stayed shorter than its Content-Length, 408 when the headers never completed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


def raw_json_response(status: int, error: str) -> bytes:
    """A complete HTTP/1.1 error response that closes the connection, for use outside any request cycle."""
    payload = json.dumps({"error": error}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + payload


class DeadlineProtocol(H11Protocol):
    request_timeout: float = 10.0

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first bytes of the next request on a kept-alive connection
        try:
            super().data_received(data)
        except UnicodeDecodeError:  # a request target that is not ASCII: h11 lets it through, uvicorn not
            self.send_400_response("request target is not ASCII")

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers unparseable requests in plain text; ours are JSON like every other error."""
        if not self.transport.is_closing():
            self.transport.write(raw_json_response(400, msg.rstrip(".")))
            self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if not cycle.more_body:
                return  # the whole request arrived in time; the application is answering it
            if cycle.response_started:
                self.transport.close()
                return
            # The application waits for the rest of the body: it gets a disconnect and its answer is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            self._drop(400, "request body shorter than its Content-Length")
            return
        self._drop(408, "request not received in time")

    def _drop(self, status: int, reason: str) -> None:
        client = self.client[0] if self.client else "?"
        log.debug("HTTP client %s: %s within %g s; connection closed", client, reason, self.request_timeout)
        self.transport.write(raw_json_response(status, f"{reason} within {self.request_timeout:g} s"))
        self.transport.close()
