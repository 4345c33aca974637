"""Recording and clearing the runner's check-ins, and what each changed in the plan (the CLI, the page and
the answers to the questions the messages ask).

A check-in is stored, then every open day of the athlete is re-planned with it (planning decides what it
suppresses or calls for, scheduler.domain.checkins) and so is the look-ahead (the nudges before the next runs
and the rest-day evenings, scheduler.lookahead), at once rather than at the next run of its daemon job; the
changes are returned one per reminder. This module is the one place a check-in changes: the CLI, the page,
the answers to questions and the words of a Strava activity all come through `record`/`clear`. Steps a
pain check-in cancels say so in their history. A new pain also puts two messages about the day in the
outbox: the advice to see a professional if it persists (at once), and when the 72 h end the question "is it
gone?" (Gone ends it; Still there starts another 72 h and repeats the advice). Clearing the pain withdraws
the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler import lookahead
from scheduler.domain.checkins import (
    ANSWER_KINDS,
    LEGS_STEP,
    PAIN_QUESTION_STEP,
    CheckInKind,
    DayMessage,
    answers_of,
    ends,
    pain_advice,
    pain_question,
    parse_kind,
)
from scheduler.domain.status import ReminderStatus
from scheduler.domain.timing import QuietHours
from scheduler.domain.zones import zone_or
from scheduler.errors import InputError
from scheduler.ingest import IngestConfig, ReminderChange, profile_of, replan_profile
from scheduler.store import day_messages, models
from scheduler.web.answers import AnswerRefused, NotFound

PAIN_REASON = "pain reported: no massage, rolling or massage gun for 72 h (cold is fine)"
PAIN_ANSWERS_LEGS = "pain reported: that answers how the legs are"
PAIN_AHEAD_REASON = "pain reported: no nudge before a run and no rest-day massage while it lasts"
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
    activity_id: int | None = None,
) -> list[ReminderChange]:
    """Store a check-in and re-plan: the changes it made. Bad input changes nothing (InputError).

    `activity_id`: the Strava activity whose words raised it (scheduler.strava.words)."""
    kind = _kind(kind_text)
    area = (area or "").strip().lower() or None
    if area is not None and (len(area) > MAX_AREA or not area.replace(" ", "").replace("_", "").isalpha()):
        raise InputError(f"area: a body part in words, at most {MAX_AREA} letters")
    if note is not None and len(note) > MAX_NOTE:
        raise InputError(f"note: at most {MAX_NOTE} characters")
    athlete = _athlete(session, athlete_id)
    pain_before = any(row.kind == CheckInKind.PAIN for row in in_force(session, athlete_id, now))
    until = ends(kind, now)
    session.add(
        models.CheckIn(
            athlete_id=athlete_id,
            kind=kind.value,
            area=area,
            note=note,
            since=now,
            until=until,
            activity_id=activity_id,
        )
    )
    session.flush()
    changes = _replan(session, athlete, config, now)
    if kind == CheckInKind.PAIN:
        changes = [_say_pain(session, change, now) for change in changes]
        assert until is not None  # a pain lasts 72 h
        zone = zone_or(athlete.timezone or config.default_zone)
        if not pain_before:  # one advice per pain, not one per tap
            _put_message(session, athlete_id, pain_advice(now, area, zone), now)
        _withdraw_pain_question(session, athlete_id, now, "a later pain check-in asks it later")
        quiet = QuietHours(profile_of(athlete).quiet_start, profile_of(athlete).quiet_end)
        _put_message(session, athlete_id, pain_question(until, area, zone, quiet), now)
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
    if kind == CheckInKind.PAIN:
        _withdraw_pain_question(session, athlete_id, now, "the pain was cleared")
    return _replan(session, athlete, config, now)


@dataclass(frozen=True, slots=True)
class QuestionAnswered:
    title: str  # the question's
    answer: str  # the answer's words
    changes: list[ReminderChange]


def answer_question(
    session: Session,
    reminder_id: int,
    action: str,
    config: IngestConfig,
    now: datetime,
    *,
    athlete_id: int | None = None,
) -> QuestionAnswered:
    """Record the answer to a question a message asked (how are the legs; is the pain gone) as the
    check-in it stands for, once; `athlete_id` limits it to that athlete's. Refused answers change nothing."""
    row = session.scalars(
        select(models.Reminder).where(models.Reminder.id == reminder_id).with_for_update()
    ).one_or_none()
    if row is None or (athlete_id is not None and row.athlete_id != athlete_id):
        raise NotFound(f"no reminder {reminder_id}")
    offered = answers_of(row.step)
    if action not in offered:
        raise AnswerRefused(f"{action!r} does not answer this message")
    if row.response is not None:
        raise AnswerRefused(f"already answered: {offered.get(row.response, row.response)}")
    if row.status == ReminderStatus.CANCELLED:
        raise AnswerRefused("it was cancelled: it is no longer part of the plan")
    if row.expires_at <= now:
        raise AnswerRefused("the question is over: record a check-in on the page instead")
    kind = ANSWER_KINDS[action]
    if kind is None:  # the pain is gone: end it wherever it stands
        athlete = _athlete(session, row.athlete_id)
        session.execute(
            update(models.CheckIn)
            .where(
                models.CheckIn.athlete_id == row.athlete_id,
                models.CheckIn.kind == CheckInKind.PAIN.value,
                models.CheckIn.cleared_at.is_(None),
            )
            .values(cleared_at=now)
        )
        session.flush()
        changes = _replan(session, athlete, config, now)
    else:
        area = _last_pain_area(session, row.athlete_id) if row.step == PAIN_QUESTION_STEP else None
        changes = record(session, row.athlete_id, kind.value, config, now, area=area)
    if row.status == ReminderStatus.PLANNED:  # answered on the page before it went out: it need not go
        row.status = ReminderStatus.CANCELLED
        row.last_error = "answered before it was sent"
    row.response = action
    row.responded_at = now
    row.updated_at = now
    session.flush()
    return QuestionAnswered(row.title, offered[action], changes)


def _replan(
    session: Session, athlete: models.Athlete, config: IngestConfig, now: datetime
) -> list[ReminderChange]:
    """The open days' steps, then the look-ahead: a check-in changes both (see the module's docstring)."""
    changes = replan_profile(session, athlete, config, now, reclassify=False)
    return changes + lookahead.plan_athlete(session, athlete, config.protocols, now, config.default_zone)


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


def _put_message(session: Session, athlete_id: int, message: DayMessage, now: datetime) -> None:
    """Queue a message about the day; one per (athlete, day, step): a second of the same day is the same."""
    existing = session.scalars(
        select(models.Reminder).where(
            models.Reminder.athlete_id == athlete_id,
            models.Reminder.local_day == message.local_day,
            models.Reminder.step == message.step,
        )
    ).one_or_none()
    if existing is not None:
        if existing.status == ReminderStatus.CANCELLED and existing.response is None:
            existing.status = ReminderStatus.PLANNED  # asked again after being withdrawn
            existing.activity_id = None
            existing.due_at = existing.available_at = message.due_at
            existing.expires_at = message.expires_at
            existing.title, existing.body = message.title, message.body
            existing.attempts, existing.last_error, existing.updated_at = 0, None, now
        return
    day_messages.queue(session, athlete_id, message, now)


def _withdraw_pain_question(session: Session, athlete_id: int, now: datetime, reason: str) -> None:
    session.execute(
        update(models.Reminder)
        .where(
            models.Reminder.athlete_id == athlete_id,
            models.Reminder.step == PAIN_QUESTION_STEP,
            models.Reminder.status == ReminderStatus.PLANNED,
            models.Reminder.response.is_(None),
        )
        .values(status=ReminderStatus.CANCELLED, last_error=reason, updated_at=now)
    )


def _last_pain_area(session: Session, athlete_id: int) -> str | None:
    return session.scalar(
        select(models.CheckIn.area)
        .where(models.CheckIn.athlete_id == athlete_id, models.CheckIn.kind == CheckInKind.PAIN.value)
        .order_by(models.CheckIn.since.desc())
        .limit(1)
    )


def _say_pain(session: Session, change: ReminderChange, now: datetime) -> ReminderChange:
    if change.change != "cancelled":
        return change
    if change.step == LEGS_STEP:
        reason = PAIN_ANSWERS_LEGS
    elif lookahead.is_lookahead_step(change.step):
        reason = PAIN_AHEAD_REASON
    else:
        reason = PAIN_REASON
    session.execute(
        update(models.Reminder)
        .where(models.Reminder.id == change.reminder_id)
        .values(last_error=reason, updated_at=now)
    )
    return ReminderChange(change.reminder_id, change.step, change.change, change.due_at, reason)
