"""Re-planning: reconcile a day's stored reminders with a fresh day plan (after a new activity of that day, a
rename, re-tag, deletion or re-poll).

Rules, per step key (the plan is per athlete and local day, so a key appears once per day):
- new in the plan → insert (a skipped step too, so history shows why it was not sent);
- `planned` or `skipped` in the store but gone from the plan → cancel;
- `planned` and changed (due, expiry, title, body, status or the activity that decides the day) → update;
  a planned row the new plan only marks skipped because its window has closed is left alone: its own
  expiry retires it as `expired`;
- `skipped` stays skipped (its first explanation is kept) unless the plan makes it sendable again;
- `cancelled` and back in the plan → update (re-planned);
- `sending` (in flight), `sent`, `partial`, `failed` and `expired` are never touched: nothing is sent twice.
Reconciling an unchanged plan yields no action at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from scheduler.domain.planning import PlannedStep
from scheduler.domain.status import SETTLED, UNSENT, ReminderStatus

__all__ = ["REMINDER_STATUSES", "ExistingReminder", "ReminderStatus", "ReplanActions", "reconcile"]

REMINDER_STATUSES: frozenset[str] = frozenset(ReminderStatus)


@dataclass(frozen=True, slots=True)
class ExistingReminder:
    """A stored reminder of one day plan, as far as re-planning cares."""

    step: str
    status: str  # one of REMINDER_STATUSES (a plain str so database rows pass straight in)
    due_at: datetime
    expires_at: datetime
    title: str
    body: str
    activity_id: int | None = None  # the deciding activity; None when the caller does not track it

    def __post_init__(self) -> None:
        if self.status not in REMINDER_STATUSES:
            raise ValueError(f"reminder {self.step!r}: unknown status {self.status!r}")
        # SQLite hands back naive datetimes; comparing them would silently use the machine's zone.
        if self.due_at.tzinfo is None or self.expires_at.tzinfo is None:
            raise ValueError(f"reminder {self.step!r}: due_at and expires_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ReplanActions:
    insert: tuple[PlannedStep, ...] = ()
    update: tuple[
        PlannedStep, ...
    ] = ()  # write due, expiry, title, body and status (planned/skipped) of the row
    cancel: tuple[str, ...] = ()  # step keys whose row becomes `cancelled`

    @property
    def empty(self) -> bool:
        return not (self.insert or self.update or self.cancel)


def reconcile(existing: Sequence[ExistingReminder], new_plan: Sequence[PlannedStep]) -> ReplanActions:
    """What to write so the stored reminders of one activity follow `new_plan`."""
    stored = {reminder.step: reminder for reminder in existing}
    planned_keys = {step.step for step in new_plan}
    insert: list[PlannedStep] = []
    update: list[PlannedStep] = []
    for step in new_plan:
        reminder = stored.get(step.step)
        if reminder is None:
            insert.append(step)
        elif _needs_update(reminder, step):
            update.append(step)
    cancel = [
        reminder.step
        for reminder in existing
        if reminder.step not in planned_keys and reminder.status in UNSENT
    ]
    return ReplanActions(insert=tuple(insert), update=tuple(update), cancel=tuple(cancel))


def _needs_update(reminder: ExistingReminder, step: PlannedStep) -> bool:
    if reminder.status in SETTLED:
        return False
    if reminder.status == ReminderStatus.CANCELLED:
        return True
    if reminder.status == ReminderStatus.SKIPPED:
        return step.status == ReminderStatus.PLANNED
    same_window = _same_instant(reminder.due_at, step.due_at) and _same_instant(
        reminder.expires_at, step.expires_at
    )
    if step.status == ReminderStatus.SKIPPED:
        # Left to its own expiry when only time has passed; a plan that no longer wants it says so now.
        return not (same_window and step.closed)
    same_leader = reminder.activity_id is None or reminder.activity_id == step.activity_id
    return not (same_window and same_leader and reminder.title == step.title and reminder.body == step.body)


def _same_instant(first: datetime, second: datetime) -> bool:
    # Aware datetimes sharing a tzinfo compare by wall clock (fold ignored): compare in UTC instead.
    return first.astimezone(UTC) == second.astimezone(UTC)
