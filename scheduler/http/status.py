"""What GET /status shows: athletes and their state, the next reminders, the last finished ones with where
each went, the last delivery attempts. Never tokens; destinations only in their privacy form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.dispatch.deliveries import destinations_of
from scheduler.domain.status import FINISHED, PENDING
from scheduler.store import models


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_report(session: Session, now: datetime, limit: int = 20) -> dict[str, Any]:
    athletes = session.scalars(select(models.Athlete).order_by(models.Athlete.id)).all()
    upcoming = session.scalars(
        select(models.Reminder)
        .where(models.Reminder.status.in_(PENDING))
        .order_by(models.Reminder.available_at, models.Reminder.id)
        .limit(limit)
    ).all()
    finished = session.scalars(
        select(models.Reminder)
        .where(models.Reminder.status.in_(FINISHED))
        .order_by(
            func.coalesce(models.Reminder.sent_at, models.Reminder.updated_at).desc(),
            models.Reminder.id.desc(),
        )
        .limit(limit)
    ).all()
    destinations = destinations_of(session, [reminder.id for reminder in finished])
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
                # The current streak of failed polls (null and 0 when the last poll worked).
                "failing_since": _iso(athlete.failing_since),
                "failed_polls": athlete.failed_polls,
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
                # Destinations an earlier attempt reached: a retry goes to the others only.
                "delivered_to": list(reminder.delivered_to or []),
                "error": reminder.last_error,
            }
            for reminder in upcoming
        ],
        "recent_reminders": [
            {
                "id": reminder.id,
                "athlete_id": reminder.athlete_id,
                "step": reminder.step,
                "status": reminder.status,
                "due_at": reminder.due_at.isoformat(),
                "sent_at": _iso(reminder.sent_at),
                "attempts": reminder.attempts,
                "error": reminder.last_error,
                # Which destinations got it and which did not (with their last error), over every attempt.
                "destinations": destinations.get(reminder.id, []),
            }
            for reminder in finished
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
