"""Real receivers on loopback for notification tests: an HTTP endpoint and an SMTP server.

HttpReceiver records every request and can be scripted: answer 500 for the next n requests, never answer
(hold the connection until the receiver stops), or answer slowly. SmtpReceiver is aiosmtpd on an ephemeral
port (its Controller cannot bind port 0, so the listening socket is made here and handed to asyncio).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered (0: it never answered)
    at: float  # time.time() when the request had been read

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Script:
    failures_left: int = 0
    failure_status: int = 500
    hang: bool = False
    delay: float = 0.0
    lock: threading.Condition = field(default_factory=threading.Condition)


class HttpReceiver:
    """An HTTP endpoint on 127.0.0.1 (ephemeral port). Use as a context manager."""

    def __init__(self) -> None:
        self._script = _Script()
        self._requests: list[Request] = []
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            do_PUT = do_POST
            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="http-receiver", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------------------

    def fail_next(self, times: int, status: int = 500) -> None:
        with self._script.lock:
            self._script.failures_left = times
            self._script.failure_status = status

    def never_answer(self, hang: bool = True) -> None:
        with self._script.lock:
            self._script.hang = hang

    def answer_after(self, seconds: float) -> None:
        with self._script.lock:
            self._script.delay = seconds

    # -- what arrived ------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._script.lock:
            return list(self._requests)

    @property
    def delivered(self) -> list[Request]:
        """Requests answered with a 2xx status."""
        return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 10.0, delivered: bool = True) -> list[Request]:
        """Block until at least `count` (delivered) requests arrived; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self._script.lock:
            while True:
                seen = [r for r in self._requests if not delivered or 200 <= r.status < 300]
                if len(seen) >= count:
                    return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} request(s) within {timeout} s, got {len(seen)}")
                self._script.lock.wait(left)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        arrived = time.time()
        with self._script.lock:
            hang, delay = self._script.hang, self._script.delay
            status = 200
            if self._script.failures_left > 0:
                self._script.failures_left -= 1
                status = self._script.failure_status
        if hang:
            self._record(handler, body, 0, arrived)
            self._stopping.wait()  # hold the connection open, unanswered, until the receiver stops
            return
        if delay:
            self._stopping.wait(delay)
        payload = b'{"ok": true}' if status < 300 else b'{"error": "scripted failure"}'
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        self._record(handler, body, status, arrived)

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes, status: int, arrived: float) -> None:
        request = Request(handler.command, handler.path, dict(handler.headers.items()), body, status, arrived)
        with self._script.lock:
            self._requests.append(request)
            self._script.lock.notify_all()


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    def text(self, subtype: str = "plain") -> str:
        part = self.message.get_body((subtype,))
        return "" if part is None else str(cast(EmailMessage, part).get_content())


class SmtpReceiver:
    """An SMTP server (aiosmtpd, no TLS, no auth) on 127.0.0.1 with an ephemeral port."""

    def __init__(self) -> None:
        self._mails: list[Mail] = []
        self._changed = threading.Condition()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="smtp-receiver", daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail = Mail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message_from_bytes(raw, policy=policy.default),
        )
        with self._changed:
            self._mails.append(mail)
            self._changed.notify_all()
        return "250 OK"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: SMTP(self, hostname="receiver.test"), sock=self._socket)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def start(self) -> SmtpReceiver:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("SMTP receiver did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def mails(self) -> list[Mail]:
        with self._changed:
            return list(self._mails)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._mails) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} mail(s) within {timeout} s, got {len(self._mails)}"
                    )
                self._changed.wait(left)
            return list(self._mails)


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


def main() -> None:
    """`python -m tests.doubles.receivers`: an HTTP receiver in its own process (for benchmarks).

    Prints its port on the first line of stdout, answers 200 to everything, stops when stdin closes.
    """
    import sys

    with HttpReceiver() as receiver:
        print(receiver.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
