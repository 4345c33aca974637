"""Recording and clearing the runner's check-ins, and what each changed in the plan (the CLI and the page).

A check-in is stored, then every open day of the athlete is re-planned with it (planning decides what it
suppresses or calls for, scheduler.domain.checkins); the changes are returned one per reminder. Steps a
pain check-in cancels say so in their history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.domain.checkins import CheckInKind, ends, parse_kind
from scheduler.errors import InputError
from scheduler.ingest import IngestConfig, ReminderChange, replan_profile
from scheduler.store import models
from scheduler.web.answers import NotFound

PAIN_REASON = "pain reported: no massage, rolling or massage gun for 72 h (cold is fine)"
PAIN_ADVICE = "Sharp pain: cold only for now, and see a physiotherapist or doctor if it persists."
MAX_AREA = 40
MAX_NOTE = 500


def _kind(text: str) -> CheckInKind:
    try:
        return parse_kind(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _athlete(session: Session, athlete_id: int) -> models.Athlete:
    athlete = session.get(models.Athlete, athlete_id)
    if athlete is None:
        raise NotFound(f"no athlete {athlete_id}")
    return athlete


def record(
    session: Session,
    athlete_id: int,
    kind_text: str,
    config: IngestConfig,
    now: datetime,
    *,
    area: str | None = None,
    note: str | None = None,
) -> list[ReminderChange]:
    """Store a check-in and re-plan: the changes it made. Bad input changes nothing (InputError)."""
    kind = _kind(kind_text)
    area = (area or "").strip().lower() or None
    if area is not None and (len(area) > MAX_AREA or not area.replace(" ", "").replace("_", "").isalpha()):
        raise InputError(f"area: a body part in words, at most {MAX_AREA} letters")
    if note is not None and len(note) > MAX_NOTE:
        raise InputError(f"note: at most {MAX_NOTE} characters")
    athlete = _athlete(session, athlete_id)
    session.add(
        models.CheckIn(
            athlete_id=athlete_id, kind=kind.value, area=area, note=note, since=now, until=ends(kind, now)
        )
    )
    session.flush()
    changes = replan_profile(session, athlete, config, now, reclassify=False)
    if kind == CheckInKind.PAIN:
        changes = [_say_pain(session, change, now) for change in changes]
    return changes


def clear(
    session: Session, athlete_id: int, kind_text: str, config: IngestConfig, now: datetime
) -> list[ReminderChange]:
    """End the athlete's check-ins of this kind in force now, and re-plan: the changes it made."""
    kind = _kind(kind_text)
    athlete = _athlete(session, athlete_id)
    ended = [row for row in in_force(session, athlete_id, now) if row.kind == kind.value]
    if not ended:
        raise InputError(f"no {kind.value} check-in in force for athlete {athlete_id}")
    for row in ended:
        row.cleared_at = now
    session.flush()
    return replan_profile(session, athlete, config, now, reclassify=False)


def in_force(session: Session, athlete_id: int, now: datetime) -> list[models.CheckIn]:
    rows = session.scalars(
        select(models.CheckIn)
        .where(models.CheckIn.athlete_id == athlete_id, models.CheckIn.cleared_at.is_(None))
        .order_by(models.CheckIn.since)
    )
    return [row for row in rows if row.since <= now and (row.until is None or now < row.until)]


def to_json(row: models.CheckIn) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "area": row.area,
        "since": row.since.isoformat(),
        "until": row.until.isoformat() if row.until else None,
    }


def _say_pain(session: Session, change: ReminderChange, now: datetime) -> ReminderChange:
    if change.change != "cancelled":
        return change
    session.execute(
        update(models.Reminder)
        .where(models.Reminder.id == change.reminder_id)
        .values(last_error=PAIN_REASON, updated_at=now)
    )
    return ReminderChange(change.reminder_id, change.step, change.change, change.due_at, PAIN_REASON)
