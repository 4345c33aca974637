"""Liveness and readiness of one daemon instance, for GET /healthz and the container health check.

Healthy means: the database answers, the job scheduler runs, and dispatch (purely local work) has completed
recently. A failing Strava is not a health problem — restarting the daemon would not fix it — so the poll age
is reported but does not make the instance unhealthy. An athlete whose polls keep failing makes the report
`degraded` (still healthy: 200) and is named in the detailed report with the error and since when.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.store import app_state, models
from scheduler.store.db import transaction

LAST_DISPATCH_KEY = "daemon.last_dispatch"
LAST_POLL_KEY = "daemon.last_poll"


def database_problem(engine: Engine) -> str | None:
    """None when the database answers a trivial query, else a one-line reason."""
    try:
        # A raw DBAPI connection: no ORM transaction, so no SQLite write lock is taken for the probe.
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


class HealthTracker:
    """Remembers the last successful dispatch and poll (in memory and in AppState) and judges health."""

    def __init__(
        self,
        *,
        instance_id: str,
        engine: Engine,
        sessions: sessionmaker[Session],
        clock: Clock,
        dispatch_stale_after: timedelta,
        scheduler_running: Callable[[], bool] = lambda: False,
    ) -> None:
        self.instance_id = instance_id
        self._engine = engine
        self._sessions = sessions
        self._clock = clock
        self._stale_after = dispatch_stale_after
        self._scheduler_running = scheduler_running
        self._lock = threading.Lock()
        self.started_at = clock()
        self._last_dispatch: datetime | None = None
        self._last_poll: datetime | None = None
        self._last_dispatch_error: str | None = None

    def watch_scheduler(self, running: Callable[[], bool]) -> None:
        """Tell the tracker how to see whether the job scheduler runs (it is built after the tracker)."""
        self._scheduler_running = running

    def dispatched(self, at: datetime) -> None:
        with self._lock:
            self._last_dispatch = at
            self._last_dispatch_error = None
        self._persist(LAST_DISPATCH_KEY, at)

    def dispatch_failed(self, error: str) -> None:
        with self._lock:
            self._last_dispatch_error = error

    def polled(self, at: datetime) -> None:
        with self._lock:
            self._last_poll = at
        self._persist(LAST_POLL_KEY, at)

    def _persist(self, key: str, at: datetime) -> None:
        with transaction(self._sessions) as session:
            app_state.put(session, key, {"at": at.isoformat(), "instance": self.instance_id}, at)

    def report(self, detailed: bool = True) -> tuple[bool, dict[str, Any]]:
        """(healthy, report); without `detailed`, nothing that names this host or instance (for callers
        without the bearer token: probes and whoever can reach the port)."""
        now = self._clock()
        with self._lock:
            last_dispatch, last_poll, dispatch_error = (
                self._last_dispatch,
                self._last_poll,
                self._last_dispatch_error,
            )
        db_problem = database_problem(self._engine)
        failing = self._failing_athletes() if db_problem is None else []
        running = self._scheduler_running()
        # Before the first dispatch completes, count from the start so a fresh instance is healthy.
        dispatch_age = (now - (last_dispatch or self.started_at)).total_seconds()
        dispatch_fresh = dispatch_age <= self._stale_after.total_seconds()
        healthy = db_problem is None and running and dispatch_fresh
        report: dict[str, Any] = {
            "status": "unhealthy" if not healthy else "degraded" if failing else "ok",
            "instance": self.instance_id,
            "now": now.isoformat(),
            "uptime_seconds": round((now - self.started_at).total_seconds(), 1),
            "database": {"ok": db_problem is None, **({"error": db_problem} if db_problem else {})},
            "scheduler": {"running": running},
            "dispatch": {
                "ok": dispatch_fresh,
                "last_ok_at": last_dispatch.isoformat() if last_dispatch else None,
                "age_seconds": round(dispatch_age, 1),
                "stale_after_seconds": self._stale_after.total_seconds(),
                "last_error": dispatch_error,
            },
            "poll": {
                "last_ok_at": last_poll.isoformat() if last_poll else None,
                "age_seconds": round((now - last_poll).total_seconds(), 1) if last_poll else None,
            },
            "athletes": {"ok": not failing, "failing": failing},
        }
        return healthy, (report if detailed else public_view(report))

    def _failing_athletes(self) -> list[dict[str, Any]]:
        """Athletes in a streak of failed polls: id, since when, how many in a row, the last error."""
        try:
            with self._sessions() as session:
                rows = session.execute(
                    select(
                        models.Athlete.id,
                        models.Athlete.failing_since,
                        models.Athlete.failed_polls,
                        models.Athlete.last_error,
                    )
                    .where(models.Athlete.failed_polls > 0)
                    .order_by(models.Athlete.id)
                ).all()
        except Exception:  # the database check above reports what is wrong with it
            return []
        return [
            {
                "id": athlete_id,
                "failing_since": since.isoformat() if since else None,
                "failed_polls": failed,
                "last_error": error,
            }
            for athlete_id, since, failed, error in rows
        ]


def public_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the instance id (host name and pid), error texts (which may name hosts and ports)
    and athlete ids (who is connected): what failed stays visible, the details are in the detailed report and
    /status."""
    view = {key: value for key, value in report.items() if key != "instance"}
    if isinstance(view.get("athletes"), dict):
        view["athletes"] = {"ok": view["athletes"]["ok"], "failing": len(view["athletes"]["failing"])}
    for part in ("database", "dispatch"):
        if isinstance(view.get(part), dict):
            view[part] = {
                key: value for key, value in view[part].items() if key not in ("error", "last_error")
            }
    return view
