"""What the runner tells about the legs, and how long each kind stays in force (the table in product.md).

Planning takes the check-ins as an input: a step listing a kind in `suppressed_by` is not planned while one
is in force at its due time (pain: no massage, rolling, massage gun or heat for 72 h); a step listing kinds in
`only_with` is planned only when one is in force (the knee massager: only after a knee ache was reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler.domain.timing import QuietHours


class CheckInKind(StrEnum):
    FINE = "fine"
    SORE = "sore"
    KNEE_ACHE = "knee_ache"
    KNEE_UNSTABLE = "knee_unstable"
    TIGHT = "tight"
    PAIN = "pain"


# How long a check-in stays in force; None: until the runner clears it.
LASTS: dict[CheckInKind, timedelta | None] = {
    CheckInKind.FINE: timedelta(days=1),
    CheckInKind.SORE: timedelta(days=1),
    CheckInKind.KNEE_ACHE: timedelta(hours=48),
    CheckInKind.KNEE_UNSTABLE: None,
    CheckInKind.TIGHT: None,
    CheckInKind.PAIN: timedelta(hours=72),
}


def parse_kind(text: str) -> CheckInKind:
    try:
        return CheckInKind(text.strip().lower())
    except ValueError:
        known = ", ".join(kind.value for kind in CheckInKind)
        raise ValueError(f"unknown check-in {text!r}: use one of {known}") from None


def ends(kind: CheckInKind, since: datetime) -> datetime | None:
    lasts = LASTS[kind]
    return since + lasts if lasts is not None else None


@dataclass(frozen=True, slots=True)
class CheckIn:
    kind: CheckInKind
    since: datetime
    until: datetime | None = None  # None: until cleared
    area: str | None = None

    def in_force_at(self, instant: datetime) -> bool:
        return self.since <= instant and (self.until is None or instant < self.until)


# -- messages about the check-ins themselves (outbox rows about a day: activity_id NULL, a step key) ---------

PAIN_ADVICE_STEP = "pain_advice"
PAIN_QUESTION_STEP = "pain_question"
# The morning after a hard day (a protocol step, planned with the day): how are the legs?
LEGS_STEP = "legs_check"

# A question's answers, in the order they are offered: the action in its signed link and the button's words.
QUESTIONS: dict[str, dict[str, str]] = {
    LEGS_STEP: {
        CheckInKind.FINE.value: "Fine",
        CheckInKind.SORE.value: "Sore",
        CheckInKind.KNEE_ACHE.value: "Back of the knee aches",
        CheckInKind.PAIN.value: "Sharp pain",
    },
    PAIN_QUESTION_STEP: {"gone": "Gone", "still": "Still there"},
}
# What each answer of a question records: a check-in of that kind, or (None) the pain's end.
ANSWER_KINDS: dict[str, CheckInKind | None] = {
    **{kind: CheckInKind(kind) for kind in QUESTIONS[LEGS_STEP]},
    "gone": None,
    "still": CheckInKind.PAIN,
}

PAIN_ADVICE_USEFUL = timedelta(hours=12)
PAIN_QUESTION_USEFUL = timedelta(hours=24)
URGENT = ("urgent",)
ROUTINE = ("routine",)


def answers_of(step: str) -> dict[str, str]:
    """The answers a reminder of this step offers beyond done/skip/snooze (empty: it is not a question)."""
    return QUESTIONS.get(step, {})


@dataclass(frozen=True, slots=True)
class DayMessage:
    """A message about the athlete's day rather than an activity: stored with its local day and step key."""

    step: str
    local_day: date
    due_at: datetime
    expires_at: datetime
    title: str
    body: str
    tags: tuple[str, ...]


def _where(area: str | None) -> str:
    return f" ({area})" if area else ""


def pain_advice(since: datetime, area: str | None, zone: ZoneInfo) -> DayMessage:
    """The one message a pain check-in sends at once: cold only, and see a professional if it persists."""
    return DayMessage(
        step=PAIN_ADVICE_STEP,
        local_day=since.astimezone(zone).date(),
        due_at=since,
        expires_at=since + PAIN_ADVICE_USEFUL,
        title=f"Sharp pain{_where(area)}: see a professional if it persists",
        body=(
            "No massage, rolling, massage gun or heat on it for the next 72 h; cold is fine. If the pain is "
            "still there after a few days, gets worse, or you cannot walk normally, see a physiotherapist or "
            "a doctor before running hard again."
        ),
        tags=URGENT,
    )


def pain_question(until: datetime, area: str | None, zone: ZoneInfo, quiet: QuietHours) -> DayMessage:
    """The question when the 72 h end: is it gone? Asked outside quiet hours."""
    due = quiet.leave(until, zone)
    return DayMessage(
        step=PAIN_QUESTION_STEP,
        local_day=due.astimezone(zone).date(),
        due_at=due,
        expires_at=due + PAIN_QUESTION_USEFUL,
        title=f"Is the sharp pain{_where(area)} gone?",
        body=(
            "Three days ago you reported a sharp pain. Gone: massage and rolling come back into the plan. "
            "Still there: another 72 h without them, and please have it looked at."
        ),
        tags=ROUTINE,
    )
