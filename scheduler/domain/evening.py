"""The evening messages about training, as pure functions: when they go and what they say.

- `form_note`: the form warnings of scheduler.domain.form ("consider an easy or rest day tomorrow"), its own
  evening message at 19:00 local, at most once in three days.
- `weekly_summary`: Sunday at 19:00 in the athlete's zone, one message: the week's runs, load and form, how
  the week's reminders were answered, and what the coming days hold.

Both are useful until 22:00, or until the athlete's quiet hours start when that is earlier in the evening
(then they go an hour before, never before 17:00). They are planned when the evening comes, so they count
the runs of that same day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain.form import FormDay, FormNote, ratio_text
from scheduler.domain.load import Workout

FORM_STEP = "form_note"
WEEKLY_STEP = "weekly_summary"
STEPS = (FORM_STEP, WEEKLY_STEP)
TAGS = ("routine",)
EVENING_AT = time(19, 0)
EVENING_UNTIL = time(22, 0)
EARLIEST = time(17, 0)
SUNDAY = 6
COMING_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Window:
    due_at: datetime  # UTC
    expires_at: datetime

    def holds(self, now: datetime) -> bool:
        return self.due_at <= now < self.expires_at


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def evening_window(day: date, zone: ZoneInfo, quiet_start: time) -> Window:
    """When `day`'s evening messages go (module docstring)."""
    until = EVENING_UNTIL
    if EARLIEST < quiet_start < EVENING_UNTIL:
        until = quiet_start
    start = EVENING_AT
    if until <= EVENING_AT:
        start = max(EARLIEST, (datetime.combine(day, until) - timedelta(hours=1)).time())
    return Window(_at(day, start, zone), _at(day, until, zone))


def is_summary_day(day: date) -> bool:
    return day.weekday() == SUNDAY


@dataclass(frozen=True, slots=True)
class Answers:
    done: int = 0
    skipped: int = 0
    unanswered: int = 0  # sent, no answer
    missed: int = 0  # skipped by a rule or expired: never sent


@dataclass(frozen=True, slots=True)
class Coming:
    at: datetime  # local
    title: str


def note_message(note: FormNote) -> tuple[str, str]:
    return "Training load note", "\n".join(note.lines)


def _duration(seconds: int) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def weekly_summary(
    today: date,
    days: Sequence[FormDay],
    workouts: Sequence[Workout],
    loads: dict[int, float],
    answers: Answers,
    coming: Sequence[Coming],
    note: FormNote | None,
) -> tuple[str, str]:
    """The title and body of the summary of the 7 days ending `today` (`days`: the form series to today)."""
    first = today - timedelta(days=6)
    runs = [w for w in workouts if w.is_run and first <= w.day <= today]
    km = sum(w.distance for w in runs) / 1000
    week_load = sum(d.load for d in days if first <= d.day <= today)
    before = sum(d.load for d in days if first - timedelta(days=7) <= d.day < first)
    title = f"Your week: {len(runs)} run{'s' if len(runs) != 1 else ''}, {km:.1f} km"
    lines: list[str] = []
    if runs:
        longest = max(runs, key=lambda w: w.distance)
        hardest = max(runs, key=lambda w: loads.get(w.id, 0.0))
        lines.append(
            f"Runs: {len(runs)}, {km:.1f} km in {_duration(sum(w.moving_time for w in runs))}; "
            f"longest {longest.distance / 1000:.1f} km, hardest on {hardest.day:%A}."
        )
    else:
        lines.append("Runs: none this week.")
    lines.append(f"Load: {week_load:.0f} (the week before: {before:.0f}).")
    if days and days[-1].day == today:
        now = days[-1]
        form = f"Fitness {now.ctl:.0f}, fatigue {now.atl:.0f}, form {now.tsb:+.0f}"
        lines.append(f"{form}; {ratio_text(now.acwr)}." if now.acwr is not None else f"{form}.")
    answered = [
        f"{answers.done} done",
        f"{answers.skipped} skipped",
        *([f"{answers.unanswered} unanswered"] if answers.unanswered else []),
        *([f"{answers.missed} not sent (out of their time)"] if answers.missed else []),
    ]
    lines.append(f"Reminders: {', '.join(answered)}.")
    if coming:
        shown = "; ".join(f"{c.at:%a %H:%M} {c.title}" for c in coming[:COMING_SHOWN])
        more = f" and {len(coming) - COMING_SHOWN} more" if len(coming) > COMING_SHOWN else ""
        lines.append(f"Coming days: {shown}{more}.")
    else:
        lines.append("Coming days: nothing planned yet.")
    if note is not None:
        lines.extend(note.lines)
    return title, "\n".join(lines)
