"""Ingestion: a Strava activity JSON becomes a stored, classified activity and its day's reminders.

This is the imperative shell around the pure core (classify, plan, reconcile): it reads the athlete's
history from the database, calls the core with `now`, and applies the result to the outbox. It never
commits: the caller owns the transaction, so a poll page or a webhook event is applied whole or not at all.

Reminders are planned per athlete and local day (`plan_days`): a new, changed or deleted activity re-plans
its day and the day before it (whose next-day steps may give way to this day's), and the outbox keeps one
row per (athlete, local day, step), so a re-poll or a re-delivered webhook never doubles a reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from scheduler.corrections import corrected, corrections_of, labels_of
from scheduler.domain.activity import Activity, parse_activity
from scheduler.domain.checkins import CheckIn, CheckInKind
from scheduler.domain.effort import Classification, Effort, classify, classify_series
from scheduler.domain.history import HISTORY_SPAN
from scheduler.domain.planning import DayActivity, PlannedStep, local_day, plan_days
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import Protocols
from scheduler.domain.replan import ExistingReminder, reconcile
from scheduler.domain.status import UNSENT, AthleteState, ReminderStatus
from scheduler.domain.zones import zone_or
from scheduler.files.recording import is_file_activity
from scheduler.files.twins import adopt_file_twin, note_file_activity
from scheduler.profile_options import parse_hhmm
from scheduler.store import models
from scheduler.store.db import insert_for

log = logging.getLogger("scheduler.ingest")

# Fields whose change can change the class (and so the plan).
_CLASS_FIELDS = (
    "name",
    "sport_type",
    "workout_type",
    "distance",
    "elapsed_time",
    "moving_time",
    "average_heartrate",
    "max_heartrate",
    "start_date",
    "timezone",
)


@dataclass(frozen=True, slots=True)
class IngestConfig:
    protocols: Protocols
    default_zone: str


@dataclass(frozen=True, slots=True)
class IngestResult:
    activity_id: int
    created: bool
    changed: bool
    effort: str
    planned: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    needs_detail: bool = False


def profile_of(athlete: models.Athlete) -> AthleteProfile:
    quiet: dict[str, Any] = {}
    if athlete.quiet_start and athlete.quiet_end:
        quiet = {
            "quiet_start": parse_hhmm(athlete.quiet_start, "quiet_start"),
            "quiet_end": parse_hhmm(athlete.quiet_end, "quiet_end"),
        }
    return AthleteProfile(
        max_hr=athlete.max_hr,
        rest_hr=athlete.rest_hr,
        threshold_hr=athlete.threshold_hr,
        equipment=frozenset(athlete.equipment) if athlete.equipment is not None else None,
        **quiet,
    )


def _history(session: Session, athlete_id: int, activity: Activity) -> list[Activity]:
    rows = session.scalars(
        select(models.Activity.raw)
        .where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.id != activity.id,
            models.Activity.deleted_at.is_(None),
            models.Activity.start_date < activity.start_date,
            models.Activity.start_date >= activity.start_date - HISTORY_SPAN,
        )
        .order_by(models.Activity.start_date)
    )
    history = []
    for raw in rows:
        try:
            history.append(parse_activity(raw))
        except ValueError:  # stored before a stricter parser: not worth failing the new activity for
            continue
    return history


def _classify(
    session: Session, athlete: models.Athlete, activity: Activity, profile: AthleteProfile | None = None
) -> Classification:
    """Classify against the stored year before the activity, the runner's corrections in it as examples."""
    labels = labels_of(session, athlete.id, activity.start_date - HISTORY_SPAN, activity.start_date)
    history = _history(session, athlete.id, activity)
    return classify(activity, history, profile or profile_of(athlete), labels)


def _columns(activity: Activity) -> dict[str, Any]:
    return {
        "name": activity.name,
        "sport_type": activity.sport_type,
        "workout_type": activity.workout_type,
        "start_date": activity.start_date,
        "timezone": activity.timezone,
        "elapsed_time": activity.elapsed_time,
        "moving_time": activity.moving_time,
        "distance": activity.distance,
        "average_heartrate": activity.average_heartrate,
        "max_heartrate": activity.max_heartrate,
        "average_speed": activity.average_speed,
    }


def _class_changed(row: models.Activity, columns: dict[str, Any]) -> bool:
    return any(getattr(row, name) != columns[name] for name in _CLASS_FIELDS)


@dataclass(slots=True)
class _Stored:
    row: models.Activity
    activity: Activity  # as stored: a summary merged over an earlier detail keeps its laps
    created: bool
    changed: bool


def _store(
    session: Session,
    athlete: models.Athlete,
    raw: dict[str, Any],
    now: datetime,
    backfill: bool,
    existing: Mapping[int, models.Activity] | None = None,
) -> _Stored:
    """Insert or update the activity row; `changed` is False when nothing that matters moved.

    `existing`: the stored rows of a whole batch, read at once (then no read per activity)."""
    activity = parse_activity(raw, f"Strava activity {raw.get('id')}")
    columns = _columns(activity)
    detailed = bool(activity.laps) or "laps" in raw
    row = existing.get(activity.id) if existing is not None else session.get(models.Activity, activity.id)
    if is_file_activity(activity.id):
        note_file_activity(session, athlete.id)
    elif row is None:
        row = adopt_file_twin(session, athlete.id, activity, raw)  # the run was imported from a file first
    if row is None:
        row = models.Activity(
            id=activity.id,
            athlete_id=athlete.id,
            raw=raw,
            detailed=detailed,
            backfilled=backfill,
            created_at=now,
            updated_at=now,
            reasons=[],
            **columns,
        )
        session.add(row)
        return _Stored(row, activity, created=True, changed=True)
    revived = row.deleted_at is not None
    gained_laps = detailed and not row.detailed
    if not (revived or gained_laps or row.effort is None or _class_changed(row, columns)):
        return _Stored(row, activity, created=False, changed=False)
    for name, value in columns.items():
        setattr(row, name, value)
    # A summary re-read after the detail must not throw the laps away.
    row.raw = raw if detailed or not row.detailed else {**row.raw, **raw, "laps": row.raw.get("laps", [])}
    row.detailed = row.detailed or detailed
    row.deleted_at = None
    row.updated_at = now
    return _Stored(
        row, parse_activity(row.raw, f"Strava activity {activity.id}"), created=False, changed=True
    )


def _record(row: models.Activity, result: Classification) -> bool:
    """Write the class on the row; returns whether laps (the detail) could still change it."""
    row.effort = result.effort.value
    row.reasons = list(result.reasons)
    row.load = result.load
    return not result.decided and not row.detailed


def ingest_activity(
    session: Session,
    athlete: models.Athlete,
    raw: dict[str, Any],
    config: IngestConfig,
    now: datetime,
    *,
    backfill: bool = False,
) -> IngestResult:
    """Store, classify and plan one Strava activity (summary or detailed); idempotent."""
    stored = _store(session, athlete, raw, now, backfill)
    row, activity, created = stored.row, stored.activity, stored.created
    if not stored.changed:
        return IngestResult(activity.id, created=False, changed=False, effort=row.effort or "other")

    result = corrected(session, activity.id, _classify(session, athlete, activity))
    needs_detail = _record(row, result)
    session.flush()

    if row.backfilled:  # history only: old activities never notify
        return IngestResult(activity.id, created, True, row.effort or "other", needs_detail=needs_detail)

    days = {local_day(activity, config.default_zone), *_days_led_by(session, activity.id)}
    planned, cancelled = replan_days(session, athlete, days, config, now)
    log.info(
        "activity %s %s: %s (%s); planned %s; cancelled %s",
        activity.id,
        "new" if created else "changed",
        row.effort,
        "; ".join(row.reasons),
        ", ".join(planned) or "nothing",
        ", ".join(cancelled) or "nothing",
    )
    return IngestResult(activity.id, created, True, row.effort or "other", planned, cancelled, needs_detail)


def ingest_history(
    session: Session, athlete: models.Athlete, raws: Sequence[dict[str, Any]], now: datetime
) -> list[IngestResult]:
    """Backfill: store and classify a batch of old activities in one pass, never planning reminders.

    One history read and one `classify_series` for the whole batch (a page of up to 200), instead of a
    history read per activity: a 5-year backfill costs a fraction of a second of classification.
    """
    # One read for the page's stored rows, and no flush between activities: a read and a flush per activity
    # cost more than classifying the whole page.
    ids = [raw["id"] for raw in raws if isinstance(raw.get("id"), int)]
    existing = {
        row.id: row for row in session.scalars(select(models.Activity).where(models.Activity.id.in_(ids)))
    }
    with session.no_autoflush:
        stored = []
        for raw in raws:
            kept = _store(session, athlete, raw, now, backfill=True, existing=existing)
            existing[kept.row.id] = kept.row  # a page overlap may repeat an activity
            stored.append(kept)
    changed = {s.activity.id: s for s in stored if s.changed}
    if not changed:
        return []
    unique = {s.activity.id: s.activity for s in stored}  # a page overlap may repeat an activity
    batch = sorted(unique.values(), key=lambda a: a.start_date)
    batch_ids = {a.id for a in batch}
    earlier = [a for a in _history(session, athlete.id, batch[0]) if a.id not in batch_ids]
    results: list[IngestResult] = []
    runner = corrections_of(session, changed)
    # The stored year only carries the baselines forward: re-classifying it cost more than the page itself.
    labels = labels_of(session, athlete.id, batch[0].start_date - HISTORY_SPAN, batch[-1].start_date)
    classified = classify_series(batch, profile_of(athlete), history=earlier, labels=labels)
    for activity, result in zip(batch, classified, strict=True):
        item = changed.get(activity.id)
        if item is None:
            continue
        needs_detail = _record(item.row, corrected(session, activity.id, result, runner))
        results.append(
            IngestResult(activity.id, item.created, True, result.effort.value, needs_detail=needs_detail)
        )
    session.flush()
    return results


# Activities are read this far either side of the days being planned: a local day spans up to ±14 h of UTC,
# and a day's next-day steps may give way to those of the day after.
_DAY_READ_MARGIN = timedelta(days=3)


def _days_led_by(session: Session, activity_id: int) -> set[date]:
    """The days whose unsent reminders this activity decides: its old day, if it moved or went away."""
    days = session.scalars(
        select(models.Reminder.local_day).where(
            models.Reminder.activity_id == activity_id,
            models.Reminder.local_day.is_not(None),
            models.Reminder.status.in_(UNSENT),
        )
    )
    return {day for day in days if day is not None}


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _day_activities(
    session: Session, athlete_id: int, first: date, last: date, default_zone: str
) -> list[DayActivity]:
    rows = session.scalars(
        select(models.Activity).where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.deleted_at.is_(None),
            models.Activity.backfilled.is_(False),
            models.Activity.effort.is_not(None),
            models.Activity.start_date >= _midnight(first) - _DAY_READ_MARGIN,
            models.Activity.start_date < _midnight(last) + _DAY_READ_MARGIN,
        )
    )
    items = []
    for row in rows:
        try:
            activity = parse_activity(row.raw, f"Strava activity {row.id}")
            effort = Effort(row.effort or Effort.OTHER.value)
        except ValueError:  # stored before a stricter parser: it cannot take part in a plan
            log.warning("activity %s left out of its day's plan: it no longer parses", row.id)
            continue
        classification = Classification(effort, tuple(row.reasons or ()), row.load)
        # When this activity was last changed: a "now" step it newly calls for (a re-tag as race) is due then.
        items.append(DayActivity(activity, classification, row.updated_at))
    return items


def checkins_of(session: Session, athlete_id: int) -> list[CheckIn]:
    """The athlete's check-ins not cleared, as planning takes them (it decides when each is in force)."""
    rows = session.scalars(
        select(models.CheckIn).where(
            models.CheckIn.athlete_id == athlete_id, models.CheckIn.cleared_at.is_(None)
        )
    )
    return [CheckIn(CheckInKind(r.kind), r.since, r.until, r.area) for r in rows]


def replan_days(
    session: Session, athlete: models.Athlete, days: set[date], config: IngestConfig, now: datetime
) -> tuple[list[str], list[str]]:
    """Re-plan `days` of the athlete and the day before each from their stored activities.

    Returns the steps planned and cancelled.
    """
    if not days:
        return [], []
    targets = days | {day - timedelta(days=1) for day in days}
    items = _day_activities(session, athlete.id, min(targets), max(targets), config.default_zone)
    checkins = checkins_of(session, athlete.id)
    plans = plan_days(items, profile_of(athlete), config.protocols, now, config.default_zone, checkins)
    planned: list[str] = []
    cancelled: list[str] = []
    for day in sorted(targets):
        day_planned, day_cancelled = apply_day_plan(session, athlete.id, day, plans.get(day, []), now)
        planned += day_planned
        cancelled += day_cancelled
    return planned, cancelled


def apply_day_plan(
    session: Session, athlete_id: int, day: date, plan: list[PlannedStep], now: datetime
) -> tuple[list[str], list[str]]:
    """Reconcile the outbox rows of one athlete's day with a fresh plan; returns (planned, cancelled)."""
    # Messages about the day itself (activity_id NULL: pain advice, questions, nudges) are not the day's
    # recovery plan: re-planning the activities never cancels them.
    in_day = (
        models.Reminder.athlete_id == athlete_id,
        models.Reminder.local_day == day,
        models.Reminder.activity_id.is_not(None),
    )
    rows = session.scalars(select(models.Reminder).where(*in_day)).all()
    existing = [
        ExistingReminder(
            step=r.step,
            status=r.status,
            due_at=r.due_at,
            expires_at=r.expires_at,
            title=r.title,
            body=r.body,
            activity_id=r.activity_id,
        )
        for r in rows
    ]
    actions = reconcile(existing, plan)
    for step in actions.insert:
        _insert_reminder(session, athlete_id, day, step, now)
    for step in actions.update:
        session.execute(
            update(models.Reminder)
            .where(
                *in_day,
                models.Reminder.step == step.step,
                models.Reminder.status.in_((*UNSENT, ReminderStatus.CANCELLED)),
                models.Reminder.response.is_(None),  # the runner's answer (skip, snooze) stands
            )
            .values(**_step_columns(step), last_error=None, updated_at=now)
        )
    if actions.cancel:
        session.execute(
            update(models.Reminder)
            .where(*in_day, models.Reminder.step.in_(actions.cancel), models.Reminder.status.in_(UNSENT))
            .values(
                status=ReminderStatus.CANCELLED,
                last_error="no longer applies after re-planning the day",
                updated_at=now,
            )
        )
    touched = [*actions.insert, *actions.update]
    return [s.step for s in touched if s.status == ReminderStatus.PLANNED], list(actions.cancel)


def _step_columns(step: PlannedStep) -> dict[str, Any]:
    """The outbox columns a planned step decides, the same for a new row and a re-planned one (whose
    attempts start again: the earlier ones were for another plan)."""
    return {
        "activity_id": step.activity_id,
        "due_at": step.due_at,
        "expires_at": step.expires_at,
        "available_at": step.due_at,
        "status": step.status,
        "title": step.title,
        "body": step.body,
        "tags": list(step.tags),
        "attempts": 0,
    }


def _insert_reminder(session: Session, athlete_id: int, day: date, step: PlannedStep, now: datetime) -> None:
    values = {
        **_step_columns(step),
        "athlete_id": athlete_id,
        "local_day": day,
        "step": step.step,
        "created_at": now,
        "updated_at": now,
    }
    # Another instance may plan the same day at the same moment: the unique key keeps one row.
    statement = (
        insert_for(session, models.Reminder)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["athlete_id", "local_day", "step"])
    )
    session.execute(statement)


@dataclass(frozen=True, slots=True)
class ReminderChange:
    """One reminder a re-plan changed, as commands print it (the shape `recovery checkin` prints too)."""

    reminder_id: int
    step: str
    change: str  # added | cancelled | moved | changed | skipped
    due_at: datetime
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "reminder_id": self.reminder_id,
            "step": self.step,
            "change": self.change,
            "due_at": self.due_at.isoformat(),
            "reason": self.reason,
        }


def open_days(session: Session, athlete: models.Athlete, config: IngestConfig, now: datetime) -> set[date]:
    """The athlete's days a profile change can still alter: those with a step not yet sent and not yet over
    (a cancelled one may come back), and today and yesterday, where a tool newly owned adds steps."""
    days = {
        day
        for day in session.scalars(
            select(models.Reminder.local_day).where(
                models.Reminder.athlete_id == athlete.id,
                models.Reminder.local_day.is_not(None),
                models.Reminder.status.in_((*UNSENT, ReminderStatus.CANCELLED)),
                models.Reminder.expires_at > now,
            )
        )
        if day is not None
    }
    today = now.astimezone(ZoneInfo(athlete.timezone or config.default_zone)).date()
    return days | {today, today - timedelta(days=1)}


def replan_profile(
    session: Session, athlete: models.Athlete, config: IngestConfig, now: datetime, *, reclassify: bool
) -> list[ReminderChange]:
    """After a profile change (tools, quiet hours, heart rates): re-plan every open day of the athlete at
    once; with `reclassify` (heart rates changed) their activities are classified again first. Returns what
    changed, one entry per reminder; steps for tools no longer owned are cancelled saying so."""
    days = open_days(session, athlete, config, now)
    targets = days | {day - timedelta(days=1) for day in days}
    if reclassify:
        _reclassify(session, athlete, targets, config)
    before = _day_rows(session, athlete.id, targets, config.default_zone)
    replan_days(session, athlete, days, config, now)
    session.flush()
    after = _day_rows(session, athlete.id, targets, config.default_zone)
    changes = [
        change
        for key, row in sorted(after.items(), key=lambda item: (item[1].due_at, item[1].id))
        if (change := _change(before.get(key), row)) is not None
    ]
    return [_say_missing_tool(session, athlete, config, change, now) for change in changes]


def _reclassify(session: Session, athlete: models.Athlete, days: set[date], config: IngestConfig) -> None:
    profile = profile_of(athlete)
    rows = session.scalars(
        select(models.Activity)
        .where(
            models.Activity.athlete_id == athlete.id,
            models.Activity.deleted_at.is_(None),
            models.Activity.backfilled.is_(False),
            models.Activity.start_date >= _midnight(min(days)) - _DAY_READ_MARGIN,
            models.Activity.start_date < _midnight(max(days)) + _DAY_READ_MARGIN,
        )
        .order_by(models.Activity.start_date)
    )
    for row in rows:
        try:
            activity = parse_activity(row.raw, f"Strava activity {row.id}")
        except ValueError:
            continue
        if local_day(activity, config.default_zone) in days:
            _record(row, corrected(session, row.id, _classify(session, athlete, activity, profile)))
    session.flush()


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    step: str
    status: str
    due_at: datetime
    title: str
    body: str
    last_error: str | None


def _day_rows(
    session: Session, athlete_id: int, days: set[date], default_zone: str
) -> dict[tuple[date, str], _Row]:
    """The reminders of those days, due times in their activity's zone (as `upcoming` shows them)."""
    rows = session.execute(
        select(
            models.Reminder.local_day,
            models.Reminder.id,
            models.Reminder.step,
            models.Reminder.status,
            models.Reminder.due_at,
            models.Reminder.title,
            models.Reminder.body,
            models.Reminder.last_error,
            models.Activity.timezone,
        )
        .join(models.Activity, models.Activity.id == models.Reminder.activity_id, isouter=True)
        .where(models.Reminder.athlete_id == athlete_id, models.Reminder.local_day.in_(sorted(days)))
    ).all()
    return {
        (day, step): _Row(
            id_, step, status, due.astimezone(zone_or(zone or default_zone)), title, body, error
        )
        for day, id_, step, status, due, title, body, error, zone in rows
        if day is not None  # `local_day IN (…)` never matches NULL
    }


def _change(before: _Row | None, after: _Row) -> ReminderChange | None:
    """What happened to one reminder between two snapshots of its day, if anything."""
    was = before.status if before is not None else None
    if before is not None and was == after.status == ReminderStatus.PLANNED:
        if before.due_at != after.due_at:
            return ReminderChange(
                after.id, after.step, "moved", after.due_at, f"was due {before.due_at.isoformat()}"
            )
        if (before.title, before.body) != (after.title, after.body):
            return ReminderChange(after.id, after.step, "changed", after.due_at, "new wording")
        return None
    if was == after.status:
        return None
    if after.status == ReminderStatus.CANCELLED and was in UNSENT:
        return ReminderChange(after.id, after.step, "cancelled", after.due_at, after.last_error)
    if after.status == ReminderStatus.SKIPPED:  # the plan says why in the body
        return ReminderChange(after.id, after.step, "skipped", after.due_at, after.body)
    if after.status == ReminderStatus.PLANNED:
        return ReminderChange(after.id, after.step, "added", after.due_at, None)
    return None


def _say_missing_tool(
    session: Session, athlete: models.Athlete, config: IngestConfig, change: ReminderChange, now: datetime
) -> ReminderChange:
    """A step cancelled because its tool is no longer owned says so, in the change and in its history."""
    if change.change != "cancelled" or athlete.equipment is None:
        return change
    needed = {tool for step in config.protocols.steps if step.key == change.step for tool in step.equipment}
    missing = sorted(needed - set(athlete.equipment))
    if not missing:
        return change
    reason = f"needs {' and '.join(missing)}, which athlete {athlete.id} no longer owns (profile changed)"
    session.execute(
        update(models.Reminder)
        .where(models.Reminder.id == change.reminder_id)
        .values(last_error=reason, updated_at=now)
    )
    return replace(change, reason=reason)


def delete_activity(session: Session, activity_id: int, now: datetime, config: IngestConfig) -> int:
    """The activity is gone from Strava: mark it deleted and re-plan its day from its other activities (a
    deleted race leaves the easy cool-down's plan); returns the steps cancelled."""
    row = session.get(models.Activity, activity_id)
    if row is None or row.deleted_at is not None:
        return 0
    row.deleted_at = now
    row.updated_at = now
    athlete = session.get(models.Athlete, row.athlete_id)
    days = _days_led_by(session, activity_id)
    if athlete is not None:
        _, steps = replan_days(session, athlete, days, config, now)
        cancelled = len(steps)
    else:
        result = session.execute(
            update(models.Reminder)
            .where(models.Reminder.activity_id == activity_id, models.Reminder.status.in_(UNSENT))
            .values(status=ReminderStatus.CANCELLED, last_error="activity deleted on Strava", updated_at=now)
        )
        cancelled = int(getattr(result, "rowcount", 0) or 0)
    log.info("activity %s deleted on Strava; %d unsent reminder(s) cancelled", activity_id, cancelled)
    return cancelled


def forget_athlete(session: Session, athlete_id: int, now: datetime | None = None) -> None:
    """Deauthorization: delete everything Strava gave us about the athlete, keep a tokenless tombstone."""
    session.execute(delete(models.Activity).where(models.Activity.athlete_id == athlete_id))
    athlete = session.get(models.Athlete, athlete_id)
    if athlete is None:
        return
    athlete.name = ""
    athlete.timezone = None
    athlete.access_token = None
    athlete.refresh_token = None
    athlete.token_expires_at = None
    athlete.scope = ""
    athlete.state = AthleteState.DEAUTHORIZED
    if now is not None:
        athlete.updated_at = now
    log.info("athlete %s deauthorized: their Strava data was deleted", athlete_id)
