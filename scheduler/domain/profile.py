"""What the core needs to know about an athlete: physiology if known, tools owned, quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True, slots=True)
class AthleteProfile:
    max_hr: int | None = None
    rest_hr: int | None = None
    threshold_hr: int | None = None
    # None means "not told": a user with no settings is assumed to own every tool.
    equipment: frozenset[str] | None = None
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 0)

    def owns(self, tools: frozenset[str]) -> bool:
        return self.equipment is None or tools <= self.equipment
