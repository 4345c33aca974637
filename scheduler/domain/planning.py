"""Recovery planning: one set of steps per athlete and local day, and when each step arrives.

The day rule (users rely on it; the timing rules themselves are documented in `timing.py`):
- The activities that end on one local day (in each activity's own zone) share one set of steps. The hardest
  effort of the day decides which steps (race > speedwork > long run > easy; among equals the longer, then
  the earlier), and its end is the moment the steps are timed from. The messages name the day's activities
  ("Harbourfront 10K and 2 more runs today"). A later, harder activity upgrades the day's plan; a later
  easier one changes nothing but the wording.
- A next-day step (foam roll) belongs to the hardest effort of the day before the morning it arrives: when
  two days both want the same step on the same morning (a late finish rolls a step a day further), the day
  closer to that morning keeps it and the other records it as skipped. One foam roll each morning at most.
- A "now" step noticed late is due when it is noticed and says how much of its usefulness is left.
- A step whose usefulness has passed by `now`, or whose words cannot come true ("tonight" after the evening
  is over), is returned with status "skipped" and a body saying why; it is never sent late.
- A step needing a tool the athlete does not own is left out entirely.
- Planning again later yields the same plan (wall-clock due times depend only on the activities, "now" steps
  on when they were first noticed), so a re-poll changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from scheduler.domain.activity import Activity
from scheduler.domain.checkins import CheckIn
from scheduler.domain.effort import Classification, Effort
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import Protocols, ProtocolStep
from scheduler.domain.status import ReminderStatus
from scheduler.domain.timing import QuietHours, Slot, schedule

PlanStatus = Literal[ReminderStatus.PLANNED, ReminderStatus.SKIPPED]

# Which effort decides a day: the first of these found among the day's activities.
EFFORT_RANK: dict[Effort, int] = {
    Effort.RACE: 4,
    Effort.SPEEDWORK: 3,
    Effort.LONG_RUN: 2,
    Effort.EASY: 1,
    Effort.OTHER: 0,
}
# A "now" step noticed at least this long after the end says how much of its usefulness is left.
LATE_NOTICE = timedelta(minutes=15)
# A check-in a step exists for (a knee ache) brings it when reported up to this long after the day's end.
_REPORTED_WITHIN = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    activity_id: int  # the activity that decides the day (the hardest effort)
    step: str
    due_at: datetime  # aware, in the deciding activity's local zone
    expires_at: datetime
    status: PlanStatus
    title: str
    body: str
    tags: tuple[str, ...] = ()
    local_day: date | None = None  # the local day whose plan this step belongs to
    # Skipped only because its usefulness had passed by `now` (not for a reason the plan itself gives).
    closed: bool = False


@dataclass(frozen=True, slots=True)
class DayActivity:
    """One activity of an athlete with its class and when it was first noticed (a late "now" is due then)."""

    activity: Activity
    classification: Classification
    noticed_at: datetime


def local_day(activity: Activity, default_zone: str) -> date:
    """The local date an activity ended on, in its own zone: the day whose plan it belongs to."""
    return activity.end.astimezone(activity.zone(default_zone)).date()


def plan_activity(
    activity: Activity,
    classification: Classification,
    profile: AthleteProfile,
    protocols: Protocols,
    now: datetime,
    default_zone: str,
    *,
    noticed_at: datetime | None = None,
) -> list[PlannedStep]:
    """The reminders of a day with this one activity, first noticed at `noticed_at` (default `now`)."""
    item = DayActivity(activity, classification, noticed_at or now)
    plans = plan_days([item], profile, protocols, now, default_zone)
    return next(iter(plans.values()))


def plan_days(
    items: Sequence[DayActivity],
    profile: AthleteProfile,
    protocols: Protocols,
    now: datetime,
    default_zone: str,
    checkins: Sequence[CheckIn] = (),
) -> dict[date, list[PlannedStep]]:
    """The plan of every local day that has an activity in `items`, each soonest first, following the
    runner's `checkins` (scheduler.domain.checkins: what they suppress, and what only they call for)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    days: dict[date, list[DayActivity]] = defaultdict(list)
    for item in items:
        days[local_day(item.activity, default_zone)].append(item)
    drafts = {
        day: _plan_one_day(day, members, profile, protocols, now, default_zone, checkins)
        for day, members in days.items()
    }
    _keep_one_next_day_step_per_morning(drafts)
    return {
        day: [
            draft.planned
            for draft in sorted(steps, key=lambda d: (d.planned.due_at.astimezone(UTC), d.position))
        ]
        for day, steps in sorted(drafts.items())
    }


@dataclass(frozen=True, slots=True)
class _Draft:
    planned: PlannedStep
    position: int  # file order, to keep equal due times stable
    next_day: bool
    label: str
    names: str  # how the day's activities are named, for a skip explanation


def leader_of(members: Sequence[DayActivity]) -> DayActivity:
    """The activity that decides a day: the hardest effort, then the longest, then the earliest."""
    return min(
        members,
        key=lambda m: (
            -EFFORT_RANK[m.classification.effort],
            -m.activity.distance,
            -m.activity.moving_time,
            m.activity.start_date,
            m.activity.id,
        ),
    )


def _plan_one_day(
    day: date,
    members: Sequence[DayActivity],
    profile: AthleteProfile,
    protocols: Protocols,
    now: datetime,
    default_zone: str,
    checkins: Sequence[CheckIn] = (),
) -> list[_Draft]:
    leader = leader_of(members)
    activity, classification = leader.activity, leader.classification
    zone = activity.zone(default_zone)
    quiet = QuietHours(profile.quiet_start, profile.quiet_end)
    end = activity.end.astimezone(UTC)
    facts = _template_facts(activity, classification, members)
    distance_km = activity.distance / 1000
    duration_h = activity.moving_time / 3600

    drafts: list[_Draft] = []
    for position, step in enumerate(protocols.steps_for(classification.effort, distance_km, duration_h)):
        if not profile.owns(step.equipment):
            continue
        slot = schedule(step.when, step.useful_for, end, leader.noticed_at, zone, quiet)
        found = _follow_checkins(step, slot, end, checkins, zone, quiet)
        if found is None:
            continue
        slot = found
        late = now.astimezone(UTC) >= slot.expires
        if slot.missed is not None:
            body = f"skipped: {step.label} {_words(step)} cannot come true: {slot.missed}"
        elif late:
            body = _skip_reason(step, end, slot.due, slot.expires, now, zone)
        else:
            body = _body(step, facts, end, slot.due, slot.expires)
        planned = PlannedStep(
            activity_id=activity.id,
            step=step.key,
            due_at=slot.due.astimezone(zone),
            expires_at=slot.expires.astimezone(zone),
            status=ReminderStatus.SKIPPED if late or slot.missed is not None else ReminderStatus.PLANNED,
            title=step.title.format_map(facts),
            body=body,
            tags=step.tags,
            local_day=day,
            closed=late and slot.missed is None,
        )
        drafts.append(_Draft(planned, position, step.when.kind == "tomorrow", step.label, facts["activity"]))
    return drafts


def _follow_checkins(
    step: ProtocolStep,
    slot: Slot,
    end: datetime,
    checkins: Sequence[CheckIn],
    zone: ZoneInfo,
    quiet: QuietHours,
) -> Slot | None:
    """The step's slot as the check-ins have it, or None when they leave it out.

    A step `suppressed_by` a check-in in force at its due time is left out (pain: no massage). A step
    `only_with` some kinds is planned only with one of them in force at its due time; one reported after
    the day's end (within 48 h) brings the step at the next suitable time: then, outside quiet hours.
    """
    if any(c.kind in step.suppressed_by and c.in_force_at(slot.due) for c in checkins):
        return None
    if not step.only_with:
        return slot
    wanted = [c for c in checkins if c.kind in step.only_with]
    reported = [c for c in wanted if timedelta(0) <= c.since - end <= _REPORTED_WITHIN]
    if not reported:
        return slot if any(c.in_force_at(slot.due) for c in wanted) else None
    due = quiet.leave(min(c.since for c in reported), zone)
    if any(c.kind in step.suppressed_by and c.in_force_at(due) for c in checkins):
        return None
    return Slot(due, due + step.useful_for)


def _keep_one_next_day_step_per_morning(drafts: dict[date, list[_Draft]]) -> None:
    """Where two days want the same next-day step on the same local date, the later day keeps it."""
    claims: dict[tuple[str, date], list[date]] = defaultdict(list)
    for day, steps in drafts.items():
        for draft in steps:
            if draft.next_day and draft.planned.status == ReminderStatus.PLANNED:
                claims[(draft.planned.step, draft.planned.due_at.date())].append(day)
    for (key, delivered_on), days in claims.items():
        if len(days) < 2:
            continue
        owner = max(days)
        owner_names = next(d.names for d in drafts[owner] if d.planned.step == key)
        for day in days:
            if day == owner:
                continue
            drafts[day] = [
                replace(
                    draft,
                    planned=replace(
                        draft.planned,
                        status=ReminderStatus.SKIPPED,
                        body=f"skipped: {draft.label} on {delivered_on:%a %d %b} already comes for "
                        f"{owner_names} ({owner:%a %d %b}); one each day is enough",
                    ),
                )
                if draft.planned.step == key
                else draft
                for draft in drafts[day]
            ]


def _words(step: ProtocolStep) -> str:
    when = step.when
    return when.kind if when.at is None else f"{when.kind} {when.at:%H:%M}"


def _template_facts(
    activity: Activity, classification: Classification, members: Sequence[DayActivity]
) -> dict[str, str]:
    return {
        "activity": day_name(activity, [m.activity for m in members]),
        "leader": activity.name.strip() or "your activity",  # the "Why:" line explains this one
        "distance_km": f"{activity.distance / 1000:.1f}",
        "duration": format_duration(activity.moving_time),
        "effort": classification.effort.value.replace("_", " "),
        "reasons": "; ".join(classification.reasons),
    }


def day_name(leader: Activity, activities: Sequence[Activity]) -> str:
    """ "Harbourfront 10K", or "Harbourfront 10K and 2 more runs today" when the day had others."""
    name = leader.name.strip() or "your activity"
    others = [a for a in activities if a.id != leader.id]
    if not others:
        return name
    noun = "run" if all(a.is_run for a in others) else "activity"
    plural = {"run": "runs", "activity": "activities"}[noun] if len(others) > 1 else noun
    return f"{name} and {len(others)} more {plural} today"


def format_duration(seconds: int) -> str:
    """1:02:03 for an hour or more, 42:10 below."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _body(step: ProtocolStep, facts: dict[str, str], end: datetime, due: datetime, expires: datetime) -> str:
    lines = [step.body.format_map(facts)]
    if step.when.kind == "now" and due - end >= LATE_NOTICE:
        left = timedelta(minutes=max(round((expires - due).total_seconds() / 600) * 10, 10))
        lines.append(
            f"Noticed {format_span(due - end)} after the end: about {format_span(left)} left to be useful."
        )
    if step.caution:
        lines.append(f"Caution: {step.caution}")
    why = f"classed as {facts['effort']}"
    if facts["reasons"]:
        why += f" — {facts['reasons']}"
    lines.append(f"Why: {facts['leader']} ({facts['distance_km']} km, {facts['duration']}) was {why}.")
    return "\n".join(lines)


def _skip_reason(
    step: ProtocolStep, end: datetime, due: datetime, expires: datetime, now: datetime, zone: ZoneInfo
) -> str:
    if not step.when.respects_quiet_hours:
        return (
            f"skipped: {step.label} is useful within {format_span(expires - end)} of the end; "
            f"noticed {format_span(now - end)} later"
        )
    local_due, local_expires, local_now = (moment.astimezone(zone) for moment in (due, expires, now))
    return (
        f"skipped: {step.label} was due {local_due:%a %d %b %H:%M} and useful until "
        f"{local_expires:%a %H:%M}; noticed {local_now:%a %d %b %H:%M}"
    )


def format_span(span: timedelta) -> str:
    """A rounded human duration: "40 min", "5 h", "5 h 12 min"."""
    minutes = max(round(span.total_seconds() / 60), 0)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" if not minutes else f"{hours} h {minutes} min"
