"""GET /metrics: this process's counters (`scheduler.metrics`) plus figures read from the database at scrape
time — reminders by status, the Strava rate budget left — so every instance reports the shared truth.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.metrics import REGISTRY
from scheduler.store import models
from scheduler.strava import budget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BudgetLeft:
    kind: str  # "overall" or "read": Strava counts both
    window: str  # "15min" or "daily"
    left: int


def budget_left(state: budget.BudgetState, now: datetime, reserve: float) -> list[BudgetLeft]:
    """Requests background work may still make in each window (the reserve is kept for commands); nothing
    before Strava has answered once, as the limits are only known from its answers."""
    usage = state.usage
    if usage is None:
        return []
    figures = []
    for kind, meter in (("overall", usage.overall), ("read", usage.read)):
        if meter is None:
            continue
        current = budget.meter_now(meter, usage.observed_at, now)
        short = budget.usable(current.short_limit, reserve) - current.short_used
        daily = budget.usable(current.daily_limit, reserve) - current.daily_used
        figures += [BudgetLeft(kind, "15min", max(0, short)), BudgetLeft(kind, "daily", max(0, daily))]
    return figures


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily("recovery_reminders", "Reminders in the database, by status", labels=["status"]),
        GaugeMetricFamily(
            "recovery_strava_budget_left",
            "Strava requests background work may still make in the current window (the reserve excluded)",
            labels=["kind", "window"],
        ),
        GaugeMetricFamily("recovery_metrics_database_up", "1 when the database answered this scrape"),
    )


class DatabaseCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, reserve: float) -> None:
        self._sessions = sessions
        self._clock = clock
        self._reserve = reserve

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from _families()  # without samples: registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reminders, left, up = _families()
        try:
            with self._sessions() as session:
                counts = session.execute(
                    select(models.Reminder.status, func.count()).group_by(models.Reminder.status)
                ).all()
                state = budget.load(session)
        except Exception as exc:  # a scrape during an outage says so instead of failing
            log.debug("metrics: database unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        for status, count in sorted(counts):
            reminders.add_metric([status], count)
        for figure in budget_left(state, self._clock(), self._reserve):
            left.add_metric([figure.kind, figure.window], figure.left)
        up.add_metric([], 1)
        yield from (reminders, left, up)


_installed: Collector | None = None
_install_lock = threading.Lock()


def install(collector: Collector) -> None:
    """Register the database collector on the process's REGISTRY, replacing an earlier daemon's one (tests
    build several daemons in one process; a real process has one)."""
    global _installed
    with _install_lock:
        if _installed is not None:
            REGISTRY.unregister(_installed)
        REGISTRY.register(collector)
        _installed = collector


def exposition() -> bytes:
    """The Prometheus text format of everything on REGISTRY (the collector queries the database: blocking)."""
    return generate_latest(REGISTRY)
