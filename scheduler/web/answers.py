"""The runner's answer to one reminder: done, skip or snooze. One function decides every transition.

- done / skip before it was sent: the reminder is cancelled and the answer recorded, so it never goes out;
- done / skip after it was sent (or failed, or expired): the answer is recorded, the status stays;
- snooze: the reminder is pending again (`planned`) with a later `available_at`, to every destination, but
  never at or past `expires_at`: a snooze outlasting its usefulness is refused, saying how long is left;
- a reminder being sent right now cannot be snoozed, one the plan cancelled cannot be answered.
Answered rows are left alone by re-planning (scheduler.ingest), so a re-poll never revives a skipped step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain.status import SETTLED, ReminderStatus
from scheduler.errors import InputError
from scheduler.store import models

ACTIONS = ("done", "skip", "snooze")
RESPONSES = {"done": "done", "skip": "skipped", "snooze": "snoozed"}
DEFAULT_SNOOZE = timedelta(minutes=30)
MAX_SNOOZE = timedelta(hours=24)

_BEFORE_SENDING = frozenset({ReminderStatus.PLANNED})
_AFTER_SENDING = frozenset({*SETTLED, ReminderStatus.SKIPPED})
_SNOOZABLE = frozenset(
    {ReminderStatus.PLANNED, ReminderStatus.SENT, ReminderStatus.PARTIAL, ReminderStatus.FAILED}
)


class AnswerRefused(InputError):
    """The answer does not apply to the reminder as it stands; nothing was changed."""


class NotFound(InputError):
    """No such reminder or activity for this athlete (another athlete's are not found either)."""


@dataclass(frozen=True, slots=True)
class ReminderState:
    status: str
    available_at: datetime
    expires_at: datetime
    response: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    status: str
    available_at: datetime
    response: str
    note: str | None  # why it will not be sent, for history (None: keep the row's own)
    resend: bool = False  # a snooze: every destination gets it again


def decide(state: ReminderState, action: str, now: datetime, snooze: timedelta = DEFAULT_SNOOZE) -> Answer:
    """The reminder's state after the runner's `action`, or AnswerRefused with a one-line reason."""
    if action not in ACTIONS:
        raise AnswerRefused(f"unknown answer {action!r}: use done, skip or snooze")
    response = RESPONSES[action]
    if state.status == ReminderStatus.CANCELLED and state.response is None:
        raise AnswerRefused("it was cancelled: it is no longer part of the plan")
    if action == "snooze":
        return _snooze(state, now, snooze)
    if state.status in _BEFORE_SENDING:
        note = "done by the runner before it was sent" if action == "done" else "skipped by the runner"
        return Answer(ReminderStatus.CANCELLED, state.available_at, response, note)
    if state.status in _AFTER_SENDING or state.status == ReminderStatus.CANCELLED:
        return Answer(state.status, state.available_at, response, None)
    raise AnswerRefused(f"a {state.status} reminder cannot be answered")


def _snooze(state: ReminderState, now: datetime, snooze: timedelta) -> Answer:
    if not timedelta(minutes=1) <= snooze <= MAX_SNOOZE:
        raise AnswerRefused("snooze for 1 minute to 24 hours")
    if state.status == ReminderStatus.SENDING:
        raise AnswerRefused("it is being sent right now: try again in a minute")
    if state.status not in _SNOOZABLE:
        raise AnswerRefused(f"a {state.status} reminder cannot be snoozed")
    start = max(now, state.available_at) if state.status == ReminderStatus.PLANNED else now
    until = start + snooze
    if until >= state.expires_at:
        left = int((state.expires_at - start).total_seconds() // 60)
        if left < 1:
            raise AnswerRefused("it is no longer useful: nothing left to snooze")
        raise AnswerRefused(
            f"snoozing {int(snooze.total_seconds() // 60)} min would pass its usefulness: "
            f"at most {left} min left"
        )
    return Answer(ReminderStatus.PLANNED, until, "snoozed", None, resend=True)


def answer_reminder(
    session: Session,
    reminder_id: int,
    action: str,
    now: datetime,
    *,
    athlete_id: int | None = None,
    snooze: timedelta = DEFAULT_SNOOZE,
) -> models.Reminder:
    """Apply the runner's answer to the stored reminder (locked); `athlete_id` limits it to that athlete's."""
    row = session.scalars(
        select(models.Reminder).where(models.Reminder.id == reminder_id).with_for_update()
    ).one_or_none()
    if row is None or (athlete_id is not None and row.athlete_id != athlete_id):
        raise NotFound(f"no reminder {reminder_id}")
    state = ReminderState(row.status, row.available_at, row.expires_at, row.response)
    answer = decide(state, action, now, snooze)
    row.status = answer.status
    row.available_at = answer.available_at
    row.response = answer.response
    row.responded_at = now
    if answer.note is not None:
        row.last_error = answer.note
    if answer.resend:
        row.delivered_to = None
        row.attempts = 0
        row.last_error = None
        row.lease_until = None
        row.leased_by = None
    row.updated_at = now
    session.flush()
    return row


def allowed(state: ReminderState, now: datetime) -> list[str]:
    """The answers that would be accepted now (the page shows only these buttons)."""
    result = []
    for action in ACTIONS:
        try:
            decide(state, action, now)
        except AnswerRefused:
            continue
        if action != "snooze" and state.response == RESPONSES[action]:
            continue  # already the answer
        result.append(action)
    return result
