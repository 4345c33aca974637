"""A phone stand-in for the acceptance tests: apprise's json:// posts land on the shared HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.doubles.receivers import HttpReceiver


@dataclass(frozen=True)
class Received:
    at: datetime
    path: str
    body: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.body.get("title", ""))


class Receiver:
    def __init__(self, http: HttpReceiver) -> None:
        self._http = http

    @property
    def url(self) -> str:
        """The apprise URL that sends here."""
        return f"json://{self._http.host_port}/inbox"

    def messages(self) -> list[Received]:
        return [
            Received(datetime.fromtimestamp(request.at, UTC), request.path, request.json())
            for request in self._http.delivered
        ]

    def titles(self) -> list[str]:
        return [message.title for message in self.messages()]


@contextmanager
def receiver() -> Iterator[Receiver]:
    with HttpReceiver() as http:
        yield Receiver(http)
