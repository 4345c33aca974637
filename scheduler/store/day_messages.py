"""Outbox rows about a day rather than an activity: before a run, rest days, pain advice and questions, form
notes, the weekly summary, athlete alerts.

They have no activity (`activity_id` NULL), so re-planning a day's activities never touches them; each
planner owns its step keys. The outbox key (athlete, local day, step) makes a second insert of the same
message a no-op, which is how every planner stays idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.status import DAY_PLANNED, ReminderStatus
from scheduler.store import models
from scheduler.store.db import insert_for, transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


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


def for_each_athlete(
    sessions: sessionmaker[Session],
    plan: Callable[[Session, models.Athlete], T],
    what: str,
    on_failure: Callable[[int], object] | None = None,
) -> dict[int, T]:
    """Run a daemon job's `plan` for every athlete whose days are planned, one transaction each; returns
    each athlete's result. One athlete's failure is logged (as `what`) and keeps no other from its messages;
    `on_failure` gets that athlete's id."""
    with sessions() as session:
        athlete_ids = list(
            session.scalars(select(models.Athlete.id).where(models.Athlete.state.in_(DAY_PLANNED)))
        )
    results: dict[int, T] = {}
    for athlete_id in athlete_ids:
        try:
            with transaction(sessions) as session:
                athlete = session.get(models.Athlete, athlete_id)
                if athlete is None or athlete.state not in DAY_PLANNED:
                    continue  # changed since the list was read
                results[athlete_id] = plan(session, athlete)
        except Exception:
            log.exception("%s failed for athlete %s", what, athlete_id)
            if on_failure is not None:
                on_failure(athlete_id)
    return results
