"""What GET /status shows: athletes and their state, the next reminders, the last deliveries. Never tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models

PENDING_STATUSES = ("planned", "sending")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_report(session: Session, now: datetime, limit: int = 20) -> dict[str, Any]:
    athletes = session.scalars(select(models.Athlete).order_by(models.Athlete.id)).all()
    upcoming = session.scalars(
        select(models.Reminder)
        .where(models.Reminder.status.in_(PENDING_STATUSES))
        .order_by(models.Reminder.available_at, models.Reminder.id)
        .limit(limit)
    ).all()
    deliveries = session.execute(
        select(models.Delivery, models.Reminder)
        .join(models.Reminder, models.Reminder.id == models.Delivery.reminder_id)
        .order_by(models.Delivery.started_at.desc(), models.Delivery.id.desc())
        .limit(limit)
    ).all()
    return {
        "now": now.isoformat(),
        "athletes": [
            {
                "id": athlete.id,
                "name": athlete.name,
                "state": athlete.state,
                "timezone": athlete.timezone,
                "last_sync_at": _iso(athlete.last_sync_at),
                "last_error": athlete.last_error,
                "defer_until": _iso(athlete.defer_until),
                "own_destinations": len(athlete.notify_urls or []),
            }
            for athlete in athletes
        ],
        "upcoming": [
            {
                "id": reminder.id,
                "athlete_id": reminder.athlete_id,
                "activity_id": reminder.activity_id,
                "step": reminder.step,
                "due_at": reminder.due_at.isoformat(),
                "expires_at": reminder.expires_at.isoformat(),
                "available_at": reminder.available_at.isoformat(),
                "status": reminder.status,
                "attempts": reminder.attempts,
                "title": reminder.title,
            }
            for reminder in upcoming
        ],
        "recent_deliveries": [
            {
                "reminder_id": delivery.reminder_id,
                "athlete_id": reminder.athlete_id,
                "step": reminder.step,
                "attempt": delivery.attempt,
                "instance": delivery.instance,
                "started_at": delivery.started_at.isoformat(),
                "finished_at": delivery.finished_at.isoformat(),
                "ok": delivery.ok,
                # Destinations are stored in their privacy form by the notifier.
                "results": delivery.results,
                "error": delivery.error,
            }
            for delivery, reminder in deliveries
        ],
    }
