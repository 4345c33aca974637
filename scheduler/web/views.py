"""What the page shows for one athlete, read from the database into plain values for the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import lookahead
from scheduler.corrections import EFFORTS, agreement
from scheduler.domain.ahead import format_cold_months
from scheduler.domain.checkins import QUESTIONS, CheckInKind, answers_of
from scheduler.domain.effort import LABELS, unsure_between
from scheduler.domain.habits import format_run_times
from scheduler.domain.protocols import EQUIPMENT
from scheduler.domain.status import PENDING, ReminderStatus
from scheduler.domain.zones import zone_or
from scheduler.ingest import ReminderChange
from scheduler.store import models
from scheduler.web import answers, checkins, links
from scheduler.web.training_view import TrainingView, training_view

PAST_DAYS = 14
PAST_LIMIT = 60
ACTIVITY_LIMIT = 30
R = models.Reminder

TOOL_LABELS = {
    "ice": "Ice or cold pack",
    "foam_roller": "Foam roller",
    "leg_massager": "Leg massager",
    "knee_massager": "Knee massager",
    "foot_massager": "Foot massager",
    "massage_gun": "Massage gun",
    "heat_pack": "Heat pack",
    "knee_brace": "Knee brace",
}
EFFORT_LABELS = {
    "race": "Race",
    "speedwork": "Speedwork",
    "long_run": "Long run",
    "easy": "Easy",
    "other": "Other",
}
OUTCOMES: dict[str, str] = {
    ReminderStatus.SENT: "Sent",
    ReminderStatus.PARTIAL: "Partly sent",
    ReminderStatus.FAILED: "Failed",
    ReminderStatus.EXPIRED: "Not sent in time",
    ReminderStatus.CANCELLED: "Cancelled",
    ReminderStatus.SKIPPED: "Skipped",
    ReminderStatus.SENDING: "Sending",
    ReminderStatus.PLANNED: "Planned",
}
ANSWER_LABELS = {
    "done": "Done",
    "skipped": "Skipped",
    "snoozed": "Snoozed",
    **{action: label for options in QUESTIONS.values() for action, label in options.items()},
}
CHECKIN_LABELS: dict[str, str] = {
    CheckInKind.FINE: "Legs fine",
    CheckInKind.SORE: "Sore",
    CheckInKind.KNEE_ACHE: "Back of the knee aches",
    CheckInKind.KNEE_UNSTABLE: "Knee feels unstable",
    CheckInKind.TIGHT: "Tight",
    CheckInKind.PAIN: "Sharp pain",
}
CHANGE_LABELS = {
    "added": "Added",
    "cancelled": "Cancelled",
    "moved": "Moved",
    "changed": "Changed",
    "skipped": "Not planned",
}


def zone_of(name: str | None, default: str) -> tzinfo:
    return zone_or(name, default)


def when(moment: datetime, zone: tzinfo, today: date) -> str:
    """'Today 20:00', 'Tomorrow 08:00', 'Yesterday 19:05' or 'Sat 16 May 08:00', in the given zone."""
    local = moment.astimezone(zone)
    names = {today: "Today", today + timedelta(days=1): "Tomorrow", today - timedelta(days=1): "Yesterday"}
    day = names.get(local.date(), f"{local:%a %d %b}")
    return f"{day} {local:%H:%M}"


@dataclass(frozen=True, slots=True)
class ReminderView:
    id: int
    step: str
    title: str
    body: str
    when: str  # local time it goes (pending) or went / was due (past)
    iso: str  # the same instant, ISO 8601 with its offset (the <time> element's datetime)
    status: str
    outcome: str
    note: str | None
    response: str | None
    actions: list[str]


@dataclass(frozen=True, slots=True)
class ActivityView:
    id: int
    name: str
    when: str
    effort: str
    effort_label: str
    reasons: list[str]
    load: str
    # "Easy run or speedwork?" when the signals disagreed: the page asks the runner to check the class.
    unsure: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileView:
    tools: list[tuple[str, str, bool]]  # (key, label, owned)
    quiet_start: str
    quiet_end: str
    max_hr: str
    rest_hr: str
    threshold_hr: str
    # When the runner runs (scheduler.lookahead): their own times as typed ("" when learned), what the
    # nudges follow now, and how often those runs took place.
    runs: str = ""
    run_times: str = ""
    runs_source: str = "learned"
    hit_rate: str = ""
    cold_months: str = ""
    rest_days: str = "every_other_day"


@dataclass(frozen=True, slots=True)
class CheckInView:
    kind: str
    label: str
    area: str | None
    since: str
    until: str | None  # None: until the runner clears it
    note: str | None


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One reminder a check-in changed, as the page shows it after the form is sent."""

    change: str
    title: str
    when: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class AthletePage:
    athlete_id: int
    name: str
    zone: str
    coming: list[ReminderView]
    past: list[ReminderView]
    activities: list[ActivityView]
    profile: ProfileView
    efforts: list[tuple[str, str]] = field(default_factory=list)
    checkins: list[CheckInView] = field(default_factory=list)
    checkin_kinds: list[tuple[str, str]] = field(default_factory=list)
    training: TrainingView | None = None
    agreement: str | None = None  # how often the classifier agreed with the runner's corrections


def _reminder_view(row: models.Reminder, zone: tzinfo, today: date, now: datetime) -> ReminderView:
    pending = row.status in PENDING
    moment = row.available_at if pending else (row.sent_at or row.due_at)
    state = answers.ReminderState(row.status, row.available_at, row.expires_at, row.response)
    outcome = OUTCOMES.get(row.status, row.status)
    if row.status == ReminderStatus.PLANNED and row.response == "snoozed":
        outcome = "Snoozed"
    return ReminderView(
        id=row.id,
        step=row.step,
        title=row.title,
        body=row.body,
        when=when(moment, zone, today),
        iso=moment.astimezone(zone).isoformat(timespec="minutes"),
        status=row.status,
        outcome=outcome,
        note=None if pending or row.status == ReminderStatus.SENT else row.last_error,
        response=ANSWER_LABELS.get(row.response or ""),
        actions=_actions(row, state, now),
    )


def _actions(row: models.Reminder, state: answers.ReminderState, now: datetime) -> list[str]:
    """The answer buttons of a reminder: a question's answers until it is answered, else done/skip/snooze."""
    if row.expires_at <= now or not links.carries_answers(row.step):
        return []
    question = answers_of(row.step)
    if question:
        unanswered = row.response is None and row.status != ReminderStatus.CANCELLED
        return list(question) if unanswered else []
    return answers.allowed(state, now)


def athlete_page(session: Session, athlete: models.Athlete, default_zone: str, now: datetime) -> AthletePage:
    athlete_zone = zone_of(athlete.timezone, default_zone)
    today = now.astimezone(athlete_zone).date()
    rows = session.execute(
        select(R, models.Activity.timezone)
        .join(models.Activity, models.Activity.id == R.activity_id, isouter=True)
        .where(R.athlete_id == athlete.id, R.status.in_(PENDING))
        .order_by(R.available_at, R.id)
    ).all()
    # A message about a day (no activity: pain advice, a question, a nudge) is in the athlete's own zone.
    coming = [_reminder_view(r, zone_of(tz or athlete.timezone, default_zone), today, now) for r, tz in rows]
    since = now - timedelta(days=PAST_DAYS)
    past_rows = session.execute(
        select(R, models.Activity.timezone)
        .join(models.Activity, models.Activity.id == R.activity_id, isouter=True)
        .where(R.athlete_id == athlete.id, R.status.not_in(PENDING), R.due_at >= since)
        .order_by(func.coalesce(R.sent_at, R.due_at).desc(), R.id.desc())
        .limit(PAST_LIMIT)
    ).all()
    past = [
        _reminder_view(r, zone_of(tz or athlete.timezone, default_zone), today, now) for r, tz in past_rows
    ]
    training = training_view(session, athlete, default_zone, now)
    activities = [
        ActivityView(
            id=a.id,
            name=a.name or "(no name)",
            when=when(a.start_date, zone_of(a.timezone, default_zone), today),
            effort=a.effort or "other",
            effort_label=EFFORT_LABELS.get(a.effort or "other", a.effort or "?"),
            reasons=[r for r in a.reasons or [] if not unsure_between([r])],
            load=training.loads.get(a.id, "–"),  # TSS points, the scale of the chart
            unsure=_unsure(a.reasons or []),
        )
        for a in session.scalars(
            select(models.Activity)
            .where(
                models.Activity.athlete_id == athlete.id,
                models.Activity.deleted_at.is_(None),
                models.Activity.start_date >= since,
            )
            .order_by(models.Activity.start_date.desc())
            .limit(ACTIVITY_LIMIT)
        )
    ]
    owned = None if athlete.equipment is None else set(athlete.equipment)
    profile = ProfileView(
        tools=[(key, TOOL_LABELS.get(key, key), owned is None or key in owned) for key in sorted(EQUIPMENT)],
        quiet_start=athlete.quiet_start or "22:00",
        quiet_end=athlete.quiet_end or "07:00",
        max_hr=str(athlete.max_hr or ""),
        rest_hr=str(athlete.rest_hr or ""),
        threshold_hr=str(athlete.threshold_hr or ""),
        **_habits_view(session, athlete, default_zone, now),
    )
    in_force = [
        CheckInView(
            kind=row.kind,
            label=CHECKIN_LABELS.get(row.kind, row.kind),
            area=row.area,
            since=when(row.since, athlete_zone, today),
            until=when(row.until, athlete_zone, today) if row.until else None,
            note=row.note,
        )
        for row in checkins.in_force(session, athlete.id, now)
    ]
    return AthletePage(
        athlete_id=athlete.id,
        name=athlete.name or f"Athlete {athlete.id}",
        zone=str(athlete_zone),
        coming=coming,
        past=past,
        activities=activities,
        profile=profile,
        efforts=[(e, EFFORT_LABELS.get(e, e)) for e in EFFORTS],
        checkins=in_force,
        checkin_kinds=[(kind.value, CHECKIN_LABELS[kind]) for kind in CheckInKind],
        training=training,
        agreement=_sentence(agreement(session, athlete.id).describe()),
    )


def _habits_view(
    session: Session, athlete: models.Athlete, default_zone: str, now: datetime
) -> dict[str, str]:
    known = lookahead.run_habits(session, athlete, now, default_zone)
    months = athlete.cold_months or []
    return {
        "runs": (format_run_times(known.times) or "none") if known.source == "set" else "",
        "run_times": format_run_times(known.times) or "none",
        "runs_source": known.source,
        "hit_rate": _sentence(str(known.hit_rate)),
        "cold_months": format_cold_months(months) if months else "",
        "rest_days": athlete.rest_days,
    }


def _unsure(reasons: list[str]) -> str | None:
    between = unsure_between(reasons)
    return _sentence(f"{LABELS[between[0]]} or {LABELS[between[1]]}?") if between else None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def change_views(
    session: Session, changes: list[ReminderChange], default_zone: str, now: datetime
) -> list[ChangeView]:
    """What a check-in changed, in the reminders' own local times (their activity's zone)."""
    shown = []
    athlete_zones: dict[int, tzinfo] = {}
    for change in changes:
        row = session.execute(
            select(R.title, R.athlete_id, R.activity_id, models.Activity.timezone)
            .join(models.Activity, models.Activity.id == R.activity_id, isouter=True)
            .where(R.id == change.reminder_id)
        ).one_or_none()
        title = row.title if row is not None else change.step
        if row is not None and row.activity_id is None:
            # A message about a day (before a run, a rest day, pain advice) is in the athlete's own zone.
            if row.athlete_id not in athlete_zones:
                athlete = session.get(models.Athlete, row.athlete_id)
                athlete_zones[row.athlete_id] = (
                    lookahead.athlete_zone(session, athlete, default_zone)
                    if athlete
                    else ZoneInfo(default_zone)
                )
            zone = athlete_zones[row.athlete_id]
        else:
            zone = zone_of(row.timezone if row is not None else None, default_zone)
        shown.append(
            ChangeView(
                change=CHANGE_LABELS.get(change.change, change.change),
                title=title,
                when=when(change.due_at, zone, now.astimezone(zone).date()),
                reason=change.reason,
            )
        )
    return shown
