"""The athlete repository: connect (upsert), profile, notification URLs, state changes.

Functions take the caller's session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.store import models
from scheduler.strava.port import TokenGrant


def display_name(athlete_json: dict[str, Any]) -> str:
    return " ".join(str(athlete_json.get(k) or "").strip() for k in ("firstname", "lastname")).strip()


def get(session: Session, athlete_id: int) -> models.Athlete:
    athlete = session.get(models.Athlete, athlete_id)
    if athlete is None:
        raise InputError(f"no athlete {athlete_id}: `recovery athletes` lists the connected ones")
    return athlete


def get_for_update(session: Session, athlete_id: int) -> models.Athlete | None:
    """The athlete row locked until the transaction ends (PostgreSQL; SQLite's write lock covers it)."""
    return session.scalars(
        select(models.Athlete).where(models.Athlete.id == athlete_id).with_for_update()
    ).one_or_none()


def list_all(session: Session) -> list[models.Athlete]:
    return list(session.scalars(select(models.Athlete).order_by(models.Athlete.id)))


def upsert_connected(
    session: Session,
    athlete_id: int,
    *,
    name: str,
    timezone: str | None,
    grant: TokenGrant,
    scope: str | None,
    now: datetime,
) -> tuple[models.Athlete, bool]:
    """Store a (re)connected athlete and their tokens: (athlete, created). Connecting again updates."""
    athlete = get_for_update(session, athlete_id)
    created = athlete is None
    if athlete is None:
        athlete = models.Athlete(id=athlete_id, created_at=now, notify_urls=[])
        session.add(athlete)
    athlete.name = name or athlete.name or ""
    if timezone:
        athlete.timezone = timezone
    if scope is not None:  # unknown when a bare code was typed in: keep what we knew
        athlete.scope = scope
    elif created:
        athlete.scope = ""
    athlete.state = AthleteState.ACTIVE
    athlete.last_error = None
    athlete.defer_until = None
    athlete.alerted_problem = None
    athlete.alerted_at = None
    athlete.failing_since = None
    athlete.failed_polls = 0
    save_tokens(athlete, grant, now)
    session.flush()
    return athlete, created


def save_tokens(athlete: models.Athlete, grant: TokenGrant, now: datetime) -> None:
    athlete.access_token = grant.access_token
    athlete.refresh_token = grant.refresh_token
    athlete.token_expires_at = grant.expires_at
    athlete.updated_at = now


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """Only the fields a user gave; None leaves a field as it is."""

    max_hr: int | None = None
    rest_hr: int | None = None
    threshold_hr: int | None = None
    equipment: frozenset[str] | None = None
    quiet_hours: tuple[time, time] | None = None


def set_profile(session: Session, athlete_id: int, change: ProfileChange, now: datetime) -> models.Athlete:
    athlete = get(session, athlete_id)
    if change.max_hr is not None:
        athlete.max_hr = change.max_hr
    if change.rest_hr is not None:
        athlete.rest_hr = change.rest_hr
    if change.threshold_hr is not None:
        athlete.threshold_hr = change.threshold_hr
    if change.equipment is not None:
        athlete.equipment = sorted(change.equipment)
    if change.quiet_hours is not None:
        start, end = change.quiet_hours
        athlete.quiet_start, athlete.quiet_end = start.strftime("%H:%M"), end.strftime("%H:%M")
    rest, top = athlete.rest_hr, athlete.max_hr
    if rest is not None and top is not None and rest >= top:
        raise InputError(f"--rest-hr ({rest}) must be below --max-hr ({top})")
    athlete.updated_at = now
    return athlete


def set_notify_urls(session: Session, athlete_id: int, urls: Sequence[str], now: datetime) -> models.Athlete:
    athlete = get(session, athlete_id)
    athlete.notify_urls = list(urls)
    athlete.updated_at = now
    return athlete


def set_state(
    athlete: models.Athlete, state: AthleteState, now: datetime, *, error: str | None = None
) -> None:
    athlete.state = state
    athlete.last_error = error
    athlete.updated_at = now


def mark_alerted(athlete: models.Athlete, problem: str, now: datetime) -> None:
    athlete.alerted_problem = problem
    athlete.alerted_at = now
