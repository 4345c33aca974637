"""Athlete alerts as the outbox holds them, and their delivery by the real Dispatcher."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.dispatch.backoff import Backoff
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.notify.memory import MemoryNotifier, SentMessage
from scheduler.settings import DispatchSettings
from scheduler.store import models
from scheduler.strava.alerts import is_alert_step


def queued_alerts(sessions: sessionmaker[Session], athlete_id: int) -> list[models.Reminder]:
    """The athlete's alert rows, oldest first."""
    with sessions() as session:
        rows = session.scalars(
            select(models.Reminder)
            .where(models.Reminder.athlete_id == athlete_id)
            .order_by(models.Reminder.id)
        ).all()
    return [row for row in rows if is_alert_step(row.step)]


def deliver(sessions: sessionmaker[Session], notifier: MemoryNotifier, clock: Clock) -> list[SentMessage]:
    """One dispatch pass (no jitter, so retry times are exact); everything the notifier has sent so far."""
    Dispatcher(sessions, notifier, DispatchSettings(), "test", clock, backoff=Backoff(jitter=0)).run_once()
    return notifier.sent
