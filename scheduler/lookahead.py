"""The look-ahead shell: reads an athlete's runs, check-ins and settings, plans the next `HORIZON` with
scheduler.domain.ahead and reconciles the outbox rows that carry no activity (pre-run nudges, rest days).

Reconciling, per (local day, step) of those rows:
- wanted and absent → insert (the unique key keeps one row when two instances plan at once);
- wanted and stored unsent (or cancelled), unanswered, but different → updated;
- stored `planned`, unanswered, still worth sending, and no longer wanted → cancelled with the reason;
- sent, in flight, answered or past rows are never touched: a run that happens cancels nothing already sent.
Planning again with nothing changed writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain import ahead, habits
from scheduler.domain.activity import RUN_SPORTS
from scheduler.domain.protocols import Protocols, default_protocols_path, load_protocols
from scheduler.domain.status import UNSENT, ReminderStatus
from scheduler.domain.timing import QuietHours
from scheduler.domain.zones import zone_named, zone_or
from scheduler.errors import InputError
from scheduler.ingest import ReminderChange, checkins_of, profile_of
from scheduler.store import day_messages, models

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CANCEL_REASON = "no longer expected (a run came, a check-in or the settings changed)"
# Enough history to learn from (WINDOW_WEEKS of weekdays) and to judge the last HIT_DAYS by it.
_HISTORY = timedelta(weeks=habits.WINDOW_WEEKS, days=habits.HIT_DAYS + 1)


@dataclass(frozen=True, slots=True)
class RunHabits:
    """What the page and the planner know about when an athlete runs."""

    times: tuple[habits.RunTime, ...]
    source: str  # "set" (the runner's own) or "learned"
    hit_rate: habits.HitRate
    zone: ZoneInfo


def athlete_zone(session: Session, athlete: models.Athlete, default_zone: str) -> ZoneInfo:
    """The zone the athlete lives in now: their latest activity's, else their profile's, else the default."""
    latest = session.scalar(
        select(models.Activity.timezone)
        .where(models.Activity.athlete_id == athlete.id, models.Activity.deleted_at.is_(None))
        .order_by(models.Activity.start_date.desc())
        .limit(1)
    )
    return zone_or(latest, athlete.timezone, default_zone)


def run_starts(
    session: Session, athlete_id: int, since: datetime, default_zone: str
) -> list[habits.RunStart]:
    rows = session.execute(
        select(models.Activity.start_date, models.Activity.timezone).where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.deleted_at.is_(None),
            models.Activity.sport_type.in_(sorted(RUN_SPORTS)),
            models.Activity.start_date >= since,
        )
    ).all()
    fallback = ZoneInfo(default_zone)
    return [habits.RunStart(start, zone_named(zone) or fallback) for start, zone in rows]


def set_times(athlete: models.Athlete) -> tuple[habits.RunTime, ...] | None:
    if athlete.run_times is None:
        return None
    return (
        habits.parse_run_times(", ".join(str(item) for item in athlete.run_times))
        if athlete.run_times
        else ()
    )


def run_habits(session: Session, athlete: models.Athlete, now: datetime, default_zone: str) -> RunHabits:
    zone = athlete_zone(session, athlete, default_zone)
    starts = run_starts(session, athlete.id, now - _HISTORY, default_zone)
    own = set_times(athlete)
    times = own if own is not None else habits.learn(starts, now.astimezone(zone).date())
    rate = habits.hit_rate(starts, zone, now, own)
    return RunHabits(times, "set" if own is not None else "learned", rate, zone)


@dataclass(frozen=True, slots=True)
class HabitChange:
    """The runner's settings for the look-ahead, as given; None leaves a setting as it is."""

    runs: tuple[habits.RunTime, ...] | None = None  # () means "I have no fixed runs": no pre-run nudge
    learn_runs: bool = False  # back to learning from history
    cold_months: tuple[int, ...] | None = None
    rest_days: ahead.RestDays | None = None

    @property
    def empty(self) -> bool:
        return self == HabitChange()


CLI_NAMES = ("--runs", "--cold-months", "--rest-days")


def parse_habit_change(
    runs: str | None, cold_months: str | None, rest_days: str | None, names: Sequence[str] = CLI_NAMES
) -> HabitChange:
    """Read the settings as typed; InputError with one line starting with the field's name in `names`
    (the options of `athletes set`, or the page's labels)."""
    runs_name, months_name, rest_name = names
    parsed_runs: tuple[habits.RunTime, ...] | None = None
    word = (runs or "").strip().lower()
    if runs is not None and word not in ("learned", "none"):
        parsed_runs = _option(runs_name, habits.parse_run_times, runs)
    elif word == "none":
        parsed_runs = ()
    months = _option(months_name, ahead.parse_cold_months, cold_months) if cold_months is not None else None
    rest = _option(rest_name, ahead.parse_rest_days, rest_days) if rest_days is not None else None
    return HabitChange(runs=parsed_runs, learn_runs=word == "learned", cold_months=months, rest_days=rest)


def _option(name: str, parse: Callable[[str], _T], text: str) -> _T:
    try:
        return parse(text)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def apply_habit_change(athlete: models.Athlete, change: HabitChange, now: datetime) -> None:
    if change.learn_runs:
        athlete.run_times = None
    elif change.runs is not None:
        athlete.run_times = [str(run) for run in change.runs]
    if change.cold_months is not None:
        athlete.cold_months = list(change.cold_months)
    if change.rest_days is not None and change.rest_days != athlete.rest_days:
        athlete.rest_days = change.rest_days
        athlete.rest_days_since = now  # earlier skips no longer count towards turning them off
    athlete.updated_at = now


def habit_settings(athlete: models.Athlete) -> dict[str, object]:
    """The look-ahead settings as `athletes set` prints them."""
    own = set_times(athlete)
    return {
        "runs": habits.format_run_times(own) if own else ("none" if own == () else "learned"),
        "cold_months": ahead.format_cold_months(athlete.cold_months or ()),
        "rest_days": athlete.rest_days,
    }


def _ahead_protocol(protocols: Protocols) -> ahead.AheadProtocol:
    if protocols.ahead is not None:
        return protocols.ahead
    shipped = load_protocols(default_protocols_path()).ahead
    assert shipped is not None, "the shipped protocols carry an ahead section"
    return shipped


def is_lookahead_step(step: str) -> bool:
    base = step.split("@", 1)[0]
    return base in ahead.PART_KEYS or step in (ahead.REST_DAY_FOOT, ahead.REST_DAY_OFF)


def _ran_since(session: Session, athlete_id: int, since: datetime) -> bool:
    found = session.scalar(
        select(models.Activity.id)
        .where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.deleted_at.is_(None),
            models.Activity.sport_type.in_(RUN_SPORTS),
            models.Activity.start_date >= since,
        )
        .limit(1)
    )
    return found is not None


def _efforts(session: Session, athlete_id: int, since: datetime, default_zone: str) -> list[ahead.PastEffort]:
    rows = session.execute(
        select(
            models.Activity.start_date,
            models.Activity.elapsed_time,
            models.Activity.timezone,
            models.Activity.sport_type,
            models.Activity.effort,
            models.Activity.distance,
        ).where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.deleted_at.is_(None),
            models.Activity.start_date >= since,
        )
    ).all()
    fallback = ZoneInfo(default_zone)
    return [
        ahead.PastEffort(
            day=(start + timedelta(seconds=elapsed)).astimezone(zone_named(zone) or fallback).date(),
            is_run=sport in RUN_SPORTS,
            race=effort == "race",
            distance_km=distance / 1000,
        )
        for start, elapsed, zone, sport, effort, distance in rows
    ]


def _rest_history(session: Session, athlete: models.Athlete, now: datetime) -> ahead.RestDayHistory:
    went_out = (ReminderStatus.SENT, ReminderStatus.PARTIAL, ReminderStatus.SENDING)
    # A skip before it went out (the row is then cancelled) is a skip all the same.
    rows = session.execute(
        select(
            models.Reminder.local_day,
            models.Reminder.status,
            models.Reminder.due_at,
            models.Reminder.expires_at,
            models.Reminder.response,
        )
        .where(
            models.Reminder.athlete_id == athlete.id,
            models.Reminder.step == ahead.REST_DAY_FOOT,
            or_(models.Reminder.status.in_(went_out), models.Reminder.response.is_not(None)),
        )
        .order_by(models.Reminder.local_day)
    ).all()
    since = athlete.rest_days_since
    return ahead.RestDayHistory(
        days=frozenset(day for day, status, _, _, _ in rows if day is not None and status in went_out),
        answers=tuple(
            answer
            for _, _, due, expires, answer in rows
            if (since is None or due > since) and (answer is not None or expires <= now)
        ),
    )


def plan_athlete(
    session: Session, athlete: models.Athlete, protocols: Protocols, now: datetime, default_zone: str
) -> list[ReminderChange]:
    """Re-plan one athlete's look-ahead rows; returns what changed (as `athletes set` prints it)."""
    now = now.astimezone(UTC)
    protocol = _ahead_protocol(protocols)
    known = run_habits(session, athlete, now, default_zone)
    rest_history = _rest_history(session, athlete, now)
    rest_days = ahead.RestDays(athlete.rest_days)
    told: list[ahead.AheadStep] = []
    if rest_days != ahead.RestDays.OFF and ahead.rest_days_stopped(rest_history):
        # Three skipped in a row: turn them off and say so once (the setting is the memory of it).
        athlete.rest_days = ahead.RestDays.OFF
        athlete.rest_days_since = now
        rest_days = ahead.RestDays.OFF
        today = now.astimezone(known.zone).date()
        text = protocol.rest_day
        profile = profile_of(athlete)
        due = QuietHours(profile.quiet_start, profile.quiet_end).leave(now, known.zone)
        told.append(
            ahead.AheadStep(
                today,
                ahead.REST_DAY_OFF,
                due,
                due + timedelta(days=1),
                text.stopped_title,
                text.stopped_body,
                protocol.tags,
            )
        )
    given = ahead.AheadInput(
        zone=known.zone,
        profile=profile_of(athlete),
        expected=habits.expected_runs(known.times, known.zone, now - timedelta(days=1), now + ahead.HORIZON),
        efforts=_efforts(session, athlete.id, now - timedelta(days=3), default_zone),
        checkins=checkins_of(session, athlete.id),
        cold_months=frozenset(int(month) for month in athlete.cold_months or ()),
        rest_days=rest_days,
        rest_history=rest_history,
        runs_regularly=bool(known.times) or _ran_since(session, athlete.id, now - ahead.RECENT_RUNS),
    )
    wanted = ahead.plan_ahead(given, protocol, now)
    return _reconcile(session, athlete.id, [*told, *wanted], known.zone, now)


def _reconcile(
    session: Session, athlete_id: int, wanted: Sequence[ahead.AheadStep], zone: ZoneInfo, now: datetime
) -> list[ReminderChange]:
    today = now.astimezone(zone).date()
    days = [today + timedelta(days=offset) for offset in range(-2, 4)]
    rows = [
        row
        for row in session.scalars(
            select(models.Reminder).where(
                models.Reminder.athlete_id == athlete_id,
                models.Reminder.activity_id.is_(None),
                models.Reminder.local_day.in_(days),
            )
        )
        if is_lookahead_step(row.step)
    ]
    stored = {(row.local_day, row.step): row for row in rows}
    changes: list[ReminderChange] = []
    for step in wanted:
        row = stored.get((step.local_day, step.step))
        if row is None:
            reminder_id = _insert(session, athlete_id, step, now)
            if reminder_id is not None:
                changes.append(ReminderChange(reminder_id, step.step, "added", step.due_at, None))
        elif (
            _differs(row, step) and row.response is None and row.status in (*UNSENT, ReminderStatus.CANCELLED)
        ):
            change = "added" if row.status == ReminderStatus.CANCELLED else "moved"
            _rewrite(session, row, step, now)
            changes.append(ReminderChange(row.id, step.step, change, step.due_at, None))
    keys = {(step.local_day, step.step) for step in wanted}
    for key, row in stored.items():
        if key in keys or row.status != ReminderStatus.PLANNED or row.response is not None:
            continue
        if row.expires_at <= now or row.step == ahead.REST_DAY_OFF:
            continue  # past its use (its expiry retires it), or the one-off notice: left alone
        row.status = ReminderStatus.CANCELLED
        row.last_error = CANCEL_REASON
        row.updated_at = now
        changes.append(ReminderChange(row.id, row.step, "cancelled", row.due_at, CANCEL_REASON))
    session.flush()
    return changes


def _differs(row: models.Reminder, step: ahead.AheadStep) -> bool:
    return (
        row.status != ReminderStatus.PLANNED
        or row.due_at != step.due_at
        or row.expires_at != step.expires_at
        or row.title != step.title
        or row.body != step.body
    )


def _insert(session: Session, athlete_id: int, step: ahead.AheadStep, now: datetime) -> int | None:
    return day_messages.queue(session, athlete_id, step, now)


def _rewrite(session: Session, row: models.Reminder, step: ahead.AheadStep, now: datetime) -> None:
    session.execute(
        update(models.Reminder)
        .where(
            models.Reminder.id == row.id,
            or_(models.Reminder.status.in_(UNSENT), models.Reminder.status == ReminderStatus.CANCELLED),
            models.Reminder.response.is_(None),
        )
        .values(
            due_at=step.due_at,
            expires_at=step.expires_at,
            available_at=step.due_at,
            status=ReminderStatus.PLANNED,
            title=step.title,
            body=step.body,
            tags=list(step.tags),
            attempts=0,
            last_error=None,
            updated_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )


def plan_all(sessions: sessionmaker[Session], protocols: Protocols, now: datetime, default_zone: str) -> int:
    """The daemon's job: re-plan every athlete's look-ahead, one transaction each; returns rows changed.
    One athlete's failure is logged and does not stop the others."""
    changes = day_messages.for_each_athlete(
        sessions,
        lambda session, athlete: plan_athlete(session, athlete, protocols, now, default_zone),
        "look-ahead planning",
    )
    return sum(len(changed) for changed in changes.values())
