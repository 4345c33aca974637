"""Recovery planning: which protocol steps an activity gets, and when.

Decisions a user may notice (the timing rules themselves are documented in `timing.py`):
- A step's due time is the rule's time even when the activity is noticed late (the dispatcher sends an overdue
  row at once), so planning the same activity again later yields the same plan.
- A step whose usefulness window has closed by `now` is returned with status "skipped" and a body saying why.
- A step needing a tool the athlete does not own is left out entirely.
- A deferred step pushed past quiet hours keeps the full length of its window from its new due time (a race
  ending at 21:40 gets its "tonight" leg massage at 07:00 the next morning).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from scheduler.domain.activity import Activity
from scheduler.domain.effort import Classification
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import Protocols, ProtocolStep
from scheduler.domain.timing import QuietHours, scheduled_at, useful_until

PlanStatus = Literal["planned", "skipped"]


@dataclass(frozen=True, slots=True)
class PlannedStep:
    activity_id: int
    step: str
    due_at: datetime  # aware, in the activity's local zone
    expires_at: datetime
    status: PlanStatus
    title: str
    body: str
    tags: tuple[str, ...] = ()


def plan_activity(
    activity: Activity,
    classification: Classification,
    profile: AthleteProfile,
    protocols: Protocols,
    now: datetime,
    default_zone: str,
) -> list[PlannedStep]:
    """The reminders `activity` gets, soonest first; `default_zone` applies when the activity has no zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = activity.zone(default_zone)
    quiet = QuietHours(profile.quiet_start, profile.quiet_end)
    end = activity.end.astimezone(UTC)
    facts = _template_facts(activity, classification)
    distance_km = activity.distance / 1000
    duration_h = activity.moving_time / 3600

    ordered: list[tuple[datetime, int, PlannedStep]] = []
    for position, step in enumerate(protocols.steps_for(classification.effort, distance_km, duration_h)):
        if not profile.owns(step.equipment):
            continue
        due = scheduled_at(step.when, end, zone, quiet)
        expires = useful_until(step.when, due, step.useful_for, zone, quiet)
        late = now >= expires
        planned = PlannedStep(
            activity_id=activity.id,
            step=step.key,
            due_at=due.astimezone(zone),
            expires_at=expires.astimezone(zone),
            status="skipped" if late else "planned",
            title=step.title.format_map(facts),
            body=_skip_reason(step, end, due, expires, now, zone) if late else _body(step, facts),
            tags=step.tags,
        )
        ordered.append((due, position, planned))
    return [planned for _, _, planned in sorted(ordered, key=lambda item: (item[0], item[1]))]


def _template_facts(activity: Activity, classification: Classification) -> dict[str, str]:
    return {
        "activity": activity.name.strip() or "your activity",
        "distance_km": f"{activity.distance / 1000:.1f}",
        "duration": format_duration(activity.moving_time),
        "effort": classification.effort.value.replace("_", " "),
        "reasons": "; ".join(classification.reasons),
    }


def format_duration(seconds: int) -> str:
    """1:02:03 for an hour or more, 42:10 below."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _body(step: ProtocolStep, facts: dict[str, str]) -> str:
    lines = [step.body.format_map(facts)]
    if step.caution:
        lines.append(f"Caution: {step.caution}")
    why = f"classed as {facts['effort']}"
    if facts["reasons"]:
        why += f" — {facts['reasons']}"
    lines.append(f"Why: {facts['activity']} ({facts['distance_km']} km, {facts['duration']}) was {why}.")
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
