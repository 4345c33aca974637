"""Effort classification: which kind of run an activity was, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from scheduler.domain.activity import Activity
from scheduler.domain.profile import AthleteProfile


class Effort(StrEnum):
    RACE = "race"
    SPEEDWORK = "speedwork"
    LONG_RUN = "long_run"
    EASY = "easy"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Classification:
    effort: Effort
    reasons: tuple[str, ...]
    load: float | None
    # False when the summary alone could not decide and laps (DetailedActivity) would help.
    decided: bool = True


def classify(activity: Activity, history: Sequence[Activity], profile: AthleteProfile) -> Classification:
    raise NotImplementedError  # filled in by the classification work
