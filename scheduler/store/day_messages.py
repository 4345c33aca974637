"""Outbox rows about a day rather than an activity: before a run, rest days, pain advice and questions, form
notes, the weekly summary, athlete alerts.

They have no activity (`activity_id` NULL), so re-planning a day's activities never touches them; each
planner owns its step keys. The outbox key (athlete, local day, step) makes a second insert of the same
message a no-op, which is how every planner stays idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from scheduler.domain.status import ReminderStatus
from scheduler.store import models
from scheduler.store.db import insert_for


def insert_day_message(
    session: Session,
    athlete_id: int,
    *,
    local_day: date,
    step: str,
    due_at: datetime,
    expires_at: datetime,
    title: str,
    body: str,
    tags: Sequence[str],
    now: datetime,
) -> int | None:
    """Queue one message; returns its id, or None when the athlete already has that step on that day."""
    statement = (
        insert_for(session, models.Reminder)
        .values(
            activity_id=None,
            athlete_id=athlete_id,
            local_day=local_day,
            step=step,
            due_at=due_at,
            expires_at=expires_at,
            available_at=due_at,
            status=ReminderStatus.PLANNED,
            attempts=0,
            title=title,
            body=body,
            tags=list(tags),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["athlete_id", "local_day", "step"])
        .returning(models.Reminder.id)
    )
    reminder_id: int | None = session.scalar(statement)
    return reminder_id


class DayMessage(Protocol):
    """What a planner hands over (scheduler.domain.ahead.AheadStep, scheduler.domain.checkins.DayMessage)."""

    @property
    def local_day(self) -> date: ...
    @property
    def step(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


def queue(session: Session, athlete_id: int, message: DayMessage, now: datetime) -> int | None:
    """`insert_day_message` for a planner's message."""
    return insert_day_message(
        session,
        athlete_id,
        local_day=message.local_day,
        step=message.step,
        due_at=message.due_at,
        expires_at=message.expires_at,
        title=message.title,
        body=message.body,
        tags=message.tags,
        now=now,
    )
