"""Outbox rows put straight into the database for dispatch tests (no ingest pipeline involved)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import models
from scheduler.store.db import transaction


def add_athlete(
    sessions: sessionmaker[Session], now: datetime, athlete_id: int = 1, notify_urls: Sequence[str] = ()
) -> int:
    with transaction(sessions) as session:
        session.add(
            models.Athlete(
                id=athlete_id,
                name=f"Runner {athlete_id}",
                timezone="Europe/Paris",
                notify_urls=list(notify_urls),
                state="active",
                created_at=now,
                updated_at=now,
            )
        )
    return athlete_id


def add_activity(
    sessions: sessionmaker[Session],
    now: datetime,
    activity_id: int,
    athlete_id: int = 1,
    timezone: str | None = "America/Toronto",
    name: str = "Harbourfront 10K",
) -> int:
    with transaction(sessions) as session:
        session.add(
            models.Activity(
                id=activity_id,
                athlete_id=athlete_id,
                raw={"id": activity_id},
                name=name,
                sport_type="Run",
                start_date=now - timedelta(hours=1),
                timezone=timezone,
                elapsed_time=2700,
                moving_time=2650,
                distance=10000.0,
                effort="race",
                reasons=["named like a race"],
                created_at=now,
                updated_at=now,
            )
        )
    return activity_id


def add_reminders(
    sessions: sessionmaker[Session],
    now: datetime,
    count: int,
    *,
    activity_id: int | None,
    athlete_id: int = 1,
    due_at: datetime | Sequence[datetime] | None = None,
    useful_for: timedelta = timedelta(hours=3),
    tags: Sequence[str] = ("urgent",),
    title: str = "Ice now — Harbourfront 10K #{n}",
    body: str = "10–15 min of cold on calves and quads.\nWhy: Harbourfront 10K was classed as race.",
    step_prefix: str = "step",
    **fields: Any,
) -> list[int]:
    """`count` reminders of one activity (None: messages about a day, which need `local_day=` in `fields`);
    `title` may mention {n}, the reminder's index."""
    dues = list(due_at) if isinstance(due_at, Sequence) else [due_at if due_at is not None else now] * count
    rows = [
        {
            "activity_id": activity_id,
            "athlete_id": athlete_id,
            "step": f"{step_prefix}{n:05d}",
            "due_at": dues[n],
            "expires_at": dues[n] + useful_for,
            "available_at": dues[n],
            "status": "planned",
            "attempts": 0,
            "title": title.format(n=n),
            "body": body,
            "tags": list(tags),
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        for n in range(count)
    ]
    with transaction(sessions) as session:
        session.execute(insert(models.Reminder), rows)
        ids = session.scalars(
            select(models.Reminder.id)
            .where(models.Reminder.activity_id == activity_id, models.Reminder.step.like(f"{step_prefix}%"))
            .order_by(models.Reminder.step)
        ).all()
    return list(ids)


def reminder(sessions: sessionmaker[Session], reminder_id: int) -> models.Reminder:
    with sessions() as session:
        row = session.get(models.Reminder, reminder_id)
        assert row is not None
        return row


def deliveries(sessions: sessionmaker[Session], reminder_id: int) -> list[models.Delivery]:
    with sessions() as session:
        return list(
            session.scalars(
                select(models.Delivery)
                .where(models.Delivery.reminder_id == reminder_id)
                .order_by(models.Delivery.attempt, models.Delivery.id)
            ).all()
        )


class FakeClock:
    """A clock the test moves by hand; thread-safe enough for reads from the dispatcher's workers."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return self.now
