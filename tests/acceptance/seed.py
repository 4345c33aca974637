"""Rows a test puts straight into the database: an athlete, an activity, reminders due when the test wants."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scheduler.store import models


def add_athlete(session: Session, now: datetime, athlete_id: int = 7001, **fields: Any) -> models.Athlete:
    values: dict[str, Any] = {
        "id": athlete_id,
        "name": "Ada Runner",
        "timezone": "Europe/London",
        "access_token": "a" * 40,
        "refresh_token": "b" * 40,
        "token_expires_at": now + timedelta(hours=6),
        "scope": "read,activity:read_all",
        "state": "active",
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    athlete = models.Athlete(**values)
    session.add(athlete)
    session.flush()
    return athlete


def add_activity(
    session: Session, athlete_id: int, now: datetime, activity_id: int = 9001, **fields: Any
) -> models.Activity:
    start = now - timedelta(hours=1)
    values: dict[str, Any] = {
        "id": activity_id,
        "athlete_id": athlete_id,
        "raw": {"id": activity_id, "name": "Parkrun #123"},
        "name": "Parkrun #123",
        "sport_type": "Run",
        "workout_type": 1,
        "start_date": start,
        "timezone": "Europe/London",
        "elapsed_time": 1200,
        "moving_time": 1180,
        "distance": 5000.0,
        "effort": "race",
        "reasons": ["tagged as a race on Strava"],
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    activity = models.Activity(**values)
    session.add(activity)
    session.flush()
    return activity


def add_reminder(
    session: Session,
    activity: models.Activity,
    step: str,
    due_at: datetime,
    now: datetime,
    *,
    expires_in: timedelta = timedelta(hours=3),
    **fields: Any,
) -> models.Reminder:
    values: dict[str, Any] = {
        "activity_id": activity.id,
        "athlete_id": activity.athlete_id,
        "step": step,
        "due_at": due_at,
        "expires_at": due_at + expires_in,
        "available_at": due_at,
        "status": "planned",
        "title": f"{step} after {activity.name}",
        "body": f"Time for {step.replace('_', ' ')}.",
        "tags": [],
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    reminder = models.Reminder(**values)
    session.add(reminder)
    session.flush()
    return reminder
