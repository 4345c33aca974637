"""What the runner tells about the legs, and how long each kind stays in force (the table in product.md).

Planning takes the check-ins as an input: a step listing a kind in `suppressed_by` is not planned while one
is in force at its due time (pain: no massage, rolling, massage gun or heat for 72 h); a step listing kinds in
`only_with` is planned only when one is in force (the knee massager: only after a knee ache was reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


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
