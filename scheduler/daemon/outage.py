"""A database outage, told once: one line when the database stops answering, one when it is back.

While the database is down every job fails the same way several times a minute; a traceback per failure says
nothing new and buries whatever else is logged. The job runner reports each job's success or failure here; a
connection error starts (or counts towards) an outage, the next success ends it, and in between only a count
is logged every `REMIND_EVERY`. Any other error is the caller's to log in full.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import exc as sa_exc

from scheduler.clock import Clock

log = logging.getLogger("scheduler.daemon")

REMIND_EVERY = timedelta(minutes=5)


def is_connection_error(error: BaseException) -> bool:
    """True for an error that says the database cannot be reached (not a bug, not bad data)."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    # psycopg's own OperationalError (e.g. from a raw connection) without SQLAlchemy's wrapper.
    return type(error).__name__ == "OperationalError" and type(error).__module__.startswith("psycopg")


def short_reason(error: BaseException) -> str:
    """The error's first line, without the SQL statement and background link SQLAlchemy appends."""
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig is not None else error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


class DatabaseOutage:
    """Thread-safe: every job thread reports here."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._since: datetime | None = None
        self._failed = 0
        self._reminded_at: datetime | None = None

    @property
    def down(self) -> bool:
        with self._lock:
            return self._since is not None

    def failed(self, what: str, error: BaseException) -> bool:
        """Record a failed operation; True when it was a connection error, already told here."""
        if not is_connection_error(error):
            return False
        now = self._clock()
        with self._lock:
            self._failed += 1
            if self._since is None:
                self._since, self._reminded_at = now, now
                log.error("database unreachable (%s failed): %s", what, short_reason(error))
            elif self._reminded_at is not None and now - self._reminded_at >= REMIND_EVERY:
                self._reminded_at = now
                log.warning(
                    "database still unreachable after %.0f s; %d operation(s) failed so far",
                    (now - self._since).total_seconds(),
                    self._failed,
                )
        return True

    def succeeded(self) -> None:
        """An operation that needed the database worked: an outage, if any, is over."""
        with self._lock:
            if self._since is None:
                return
            down_for = (self._clock() - self._since).total_seconds()
            failed, self._since, self._failed, self._reminded_at = self._failed, None, 0, None
        log.warning(
            "database reachable again after %.0f s; %d operation(s) failed meanwhile", down_for, failed
        )
