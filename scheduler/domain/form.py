"""Fitness, fatigue and form from daily loads (TSS points, scheduler.domain.load), and what to say of them.

Per day t, with L_t the day's summed load (0 on a day without activities):

    ATL_t = ATL_(t-1) + (L_t − ATL_(t-1)) × (1 − e^(−1/7))      fatigue, 7-day time constant
    CTL_t = CTL_(t-1) + (L_t − CTL_(t-1)) × (1 − e^(−1/42))     fitness, 42-day time constant
    TSB_t = CTL_t − ATL_t                                       form (balance), end of day t
    ACWR_t = mean(L over t−6 … t) / mean(L over t−34 … t−7)     uncoupled acute:chronic ratio, 7/28 days

Both start at 0 on the day before the first activity, so the first six weeks underestimate fitness. ACWR is
None until 35 days are known or while the chronic mean is 0. `advance` continues from yesterday's state, so
a daily job needs only the new day's load.

Warnings are information, never alarms:
- a load jump: ACWR > 1.5 (the last 7 days carried more than 1.5× the daily load of the 4 weeks before).
  Whether the ratio predicts injury is disputed (Impellizzeri et al. 2020 among others), and the text says so.
- low form after a hard block: TSB below −10 and more than 2 standard deviations below the athlete's usual
  TSB (the mean over the 90 days before, at least 42 of them known), with the last 7 days' load above the 4
  weeks' before → "consider an easy or rest day tomorrow".
At most one note in three days (`note_due`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

ATL_DAYS = 7
CTL_DAYS = 42
ACUTE_DAYS = 7
CHRONIC_DAYS = 28
ATL_WEIGHT = 1 - math.exp(-1 / ATL_DAYS)
CTL_WEIGHT = 1 - math.exp(-1 / CTL_DAYS)
KEPT_DAYS = ACUTE_DAYS + CHRONIC_DAYS

JUMP_RATIO = 1.5
LOW_TSB = -10.0
LOW_TSB_DEVIATIONS = 2.0
USUAL_DAYS = 90
MIN_USUAL_DAYS = 42
NOTE_GAP = timedelta(days=3)
DISPUTED = "its value for predicting injury is disputed, so read it as information"


@dataclass(frozen=True, slots=True)
class FormDay:
    day: date
    load: float
    atl: float
    ctl: float
    tsb: float
    acwr: float | None

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "load": round(self.load, 1),
            "atl": round(self.atl, 1),
            "ctl": round(self.ctl, 1),
            "tsb": round(self.tsb, 1),
            "acwr": None if self.acwr is None else round(self.acwr, 2),
        }


@dataclass(frozen=True, slots=True)
class FormState:
    """Where the series stands at the end of `day`: enough to continue it with the next day's load."""

    day: date
    atl: float = 0.0
    ctl: float = 0.0
    recent: tuple[float, ...] = ()  # the last KEPT_DAYS daily loads, oldest first


def start(first_day: date) -> FormState:
    """The state before `first_day`: nothing known, fitness and fatigue 0."""
    return FormState(first_day - timedelta(days=1))


def advance(state: FormState, load: float) -> tuple[FormDay, FormState]:
    """The next day after `state.day`, with that day's load."""
    day = state.day + timedelta(days=1)
    atl = state.atl + (load - state.atl) * ATL_WEIGHT
    ctl = state.ctl + (load - state.ctl) * CTL_WEIGHT
    recent = (*state.recent, load)[-KEPT_DAYS:]
    acwr = None
    if len(recent) == KEPT_DAYS:
        chronic = sum(recent[:CHRONIC_DAYS]) / CHRONIC_DAYS
        if chronic > 0:
            acwr = sum(recent[CHRONIC_DAYS:]) / ACUTE_DAYS / chronic
    return FormDay(day, load, atl, ctl, ctl - atl, acwr), FormState(day, atl, ctl, recent)


def continue_series(
    state: FormState, daily: Mapping[date, float], through: date
) -> tuple[list[FormDay], FormState]:
    """Every day after `state.day` up to `through`, loads from `daily` (missing days are 0)."""
    days: list[FormDay] = []
    while state.day < through:
        today, state = advance(state, daily.get(state.day + timedelta(days=1), 0.0))
        days.append(today)
    return days, state


def series(daily: Mapping[date, float], through: date) -> list[FormDay]:
    """The whole series from the first day with a load up to `through` ([] without any load)."""
    if not daily:
        return []
    first = min(daily)
    days, _ = continue_series(start(first), daily, through)
    return days


# -- what to tell ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormNote:
    day: date
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def ratio_text(acwr: float) -> str:
    return f"acute:chronic ratio {acwr:.2f} ({DISPUTED})"


def note_for(days: Sequence[FormDay]) -> FormNote | None:
    """The note for the last day of `days` (the series up to today), or None when nothing stands out."""
    if not days:
        return None
    today = days[-1]
    lines: list[str] = []
    if today.acwr is not None and today.acwr > JUMP_RATIO:
        lines.append(
            f"Your load jumped: the last 7 days carried {today.acwr:.1f}× the daily load of the 4 weeks "
            f"before ({ratio_text(today.acwr)})."
        )
    usual = [d.tsb for d in days[-USUAL_DAYS - 1 : -1]]
    if len(usual) >= MIN_USUAL_DAYS and today.tsb < LOW_TSB and today.acwr is not None and today.acwr > 1:
        mean = statistics.fmean(usual)
        spread = statistics.pstdev(usual)
        if today.tsb < mean - LOW_TSB_DEVIATIONS * spread:
            lines.append(
                f"Form is {today.tsb:.0f}, well below your usual {mean:.0f} after a hard block: "
                "consider an easy or rest day tomorrow."
            )
    return FormNote(today.day, tuple(lines)) if lines else None


def note_due(day: date, last_note: date | None) -> bool:
    """At most one form note in three days."""
    return last_note is None or day - last_note >= NOTE_GAP
