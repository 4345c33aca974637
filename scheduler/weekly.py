"""Plans the evening messages about training (scheduler.domain.evening) into the outbox: the form note and
Sunday's weekly summary, rows without an activity (activity_id NULL) keyed (athlete, local day, step).

Run by the daemon as its own periodic job (`plan_evenings`). Each run looks at every athlete who gets
reminders: once their evening window has begun (19:00 local) and while it lasts, the day's rows are added if
missing; the unique outbox key keeps one row when two instances plan at the same moment. The rows are due at
the window's start, so a daemon that was down at 19:00 still sends them when it comes back within the window.
The daemon passes its `FormCache` (scheduler.training): each athlete's form is continued from the day before
rather than recomputed from the whole history while no activity or heart rate changed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain import evening
from scheduler.domain.form import note_due, note_for
from scheduler.domain.status import ReminderStatus
from scheduler.ingest import profile_of
from scheduler.lookahead import athlete_zone
from scheduler.store import day_messages, models
from scheduler.store.day_messages import insert_day_message
from scheduler.training import AthleteForm, FormCache, athlete_form

log = logging.getLogger(__name__)

COMING = timedelta(days=7)


def plan_evenings(
    sessions: sessionmaker[Session], now: datetime, default_zone: str, cache: FormCache | None = None
) -> dict[int, list[str]]:
    """Add the evening rows due now for every athlete; returns the steps added per athlete. With `cache`, the
    form pictures are kept between runs and continued (incremental); without it each is computed afresh."""
    planned = day_messages.for_each_athlete(
        sessions,
        lambda session, athlete: plan_athlete_evening(session, athlete, now, default_zone, cache),
        "evening messages",
        # What the cache kept may come from the failed attempt.
        on_failure=cache.forget if cache is not None else None,
    )
    added = {athlete_id: steps for athlete_id, steps in planned.items() if steps}
    for athlete_id, steps in added.items():
        log.info("athlete %s: planned %s", athlete_id, ", ".join(steps))
    return added


def plan_athlete_evening(
    session: Session,
    athlete: models.Athlete,
    now: datetime,
    default_zone: str,
    cache: FormCache | None = None,
) -> list[str]:
    zone = athlete_zone(session, athlete, default_zone)
    today = now.astimezone(zone).date()
    window = evening.evening_window(today, zone, profile_of(athlete).quiet_start)
    if not window.holds(now):
        return []
    existing = set(
        session.scalars(
            select(models.Reminder.step).where(
                models.Reminder.athlete_id == athlete.id,
                models.Reminder.local_day == today,
                models.Reminder.step.in_(evening.STEPS),
            )
        )
    )
    wants_summary = evening.is_summary_day(today) and evening.WEEKLY_STEP not in existing
    if evening.FORM_STEP in existing and not wants_summary:
        return []
    if cache is not None:
        picture = cache.athlete_form(session, athlete, default_zone, now)
    else:
        picture = athlete_form(session, athlete, default_zone, now)
    added: list[str] = []
    note = note_for(picture.days)
    if (
        evening.FORM_STEP not in existing
        and note is not None
        and note_due(today, _last_note(session, athlete.id, today))
    ):
        title, body = evening.note_message(note)
        if _insert(session, athlete.id, evening.FORM_STEP, today, window, title, body, now):
            added.append(evening.FORM_STEP)
    # An athlete with no activity at all yet (just connected) gets no summary of nothing.
    if wants_summary and picture.workouts:
        title, body = _summary(session, athlete.id, picture, now)
        if _insert(session, athlete.id, evening.WEEKLY_STEP, today, window, title, body, now):
            added.append(evening.WEEKLY_STEP)
    return added


def _last_note(session: Session, athlete_id: int, today: date) -> date | None:
    day: date | None = session.scalar(
        select(models.Reminder.local_day)
        .where(
            models.Reminder.athlete_id == athlete_id,
            models.Reminder.step == evening.FORM_STEP,
            models.Reminder.local_day > today - timedelta(days=7),
            models.Reminder.status != ReminderStatus.CANCELLED,
        )
        .order_by(models.Reminder.local_day.desc())
        .limit(1)
    )
    return day


def _summary(session: Session, athlete_id: int, picture: AthleteForm, now: datetime) -> tuple[str, str]:
    today = picture.today
    r = models.Reminder
    week = session.execute(
        select(r.status, r.response).where(
            r.athlete_id == athlete_id,
            r.local_day >= today - timedelta(days=6),
            r.local_day <= today,
            r.step.not_in(evening.STEPS),
        )
    ).all()
    answers = evening.Answers(
        done=sum(1 for _, response in week if response == "done"),
        skipped=sum(1 for _, response in week if response == "skipped"),
        unanswered=sum(
            1
            for status, response in week
            if response in (None, "snoozed") and status in (ReminderStatus.SENT, ReminderStatus.PARTIAL)
        ),
        missed=sum(
            1
            for status, response in week
            if response is None and status in (ReminderStatus.SKIPPED, ReminderStatus.EXPIRED)
        ),
    )
    coming = session.execute(
        select(r.due_at, r.title)
        .where(
            r.athlete_id == athlete_id,
            r.status == ReminderStatus.PLANNED,
            r.due_at > now,
            r.due_at <= now + COMING,
            r.step.not_in(evening.STEPS),
        )
        .order_by(r.due_at, r.id)
    ).all()
    loads = {item.id: item.load for item in picture.loads}
    return evening.weekly_summary(
        today,
        picture.days,
        picture.workouts,
        loads,
        answers,
        [evening.Coming(at.astimezone(picture.zone), title) for at, title in coming],
        None,
    )


def _insert(
    session: Session,
    athlete_id: int,
    step: str,
    day: date,
    window: evening.Window,
    title: str,
    body: str,
    now: datetime,
) -> bool:
    queued = insert_day_message(
        session,
        athlete_id,
        local_day=day,
        step=step,
        due_at=window.due_at,
        expires_at=window.expires_at,
        title=title,
        body=body,
        tags=evening.TAGS,
        now=now,
    )
    return queued is not None


def last_summary(session: Session, athlete_id: int) -> models.Reminder | None:
    """The latest weekly summary planned for the athlete (sent or not), for the page."""
    return session.scalar(
        select(models.Reminder)
        .where(models.Reminder.athlete_id == athlete_id, models.Reminder.step == evening.WEEKLY_STEP)
        .order_by(models.Reminder.local_day.desc())
        .limit(1)
    )
