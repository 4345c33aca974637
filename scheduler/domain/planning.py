"""Recovery planning: which protocol steps an activity gets, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

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
