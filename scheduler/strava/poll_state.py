"""Per-athlete poll state shared by every instance (an `AppState` row): the claim that lets one instance poll
per interval, whether the last read sequence still waits for its empty page, and details still to read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from scheduler.store import app_state, models

POLL_STATE_PREFIX = "strava.poll."


@dataclass
class PollState:
    claimed_until: datetime | None = None
    # The last read sequence ended on a short page: the next tick reads on from the newest start.
    unconfirmed: bool = False
    pending_details: dict[int, datetime] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "claimed_until": self.claimed_until.isoformat() if self.claimed_until else None,
            "unconfirmed": self.unconfirmed,
            "pending_details": {str(k): v.isoformat() for k, v in self.pending_details.items()},
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> PollState:
        def instant(raw: Any) -> datetime | None:
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None

        pending = value.get("pending_details") or {}
        return cls(
            claimed_until=instant(value.get("claimed_until")),
            unconfirmed=bool(value.get("unconfirmed")),
            pending_details={int(k): datetime.fromisoformat(v) for k, v in pending.items()},
        )


def state_key(athlete_id: int) -> str:
    return f"{POLL_STATE_PREFIX}{athlete_id}"


def locked_state(session: Session, athlete_id: int, now: datetime) -> tuple[models.AppState, PollState]:
    row = app_state.locked(session, state_key(athlete_id), PollState().to_json(), now)
    return row, PollState.from_json(row.value)


def save_state(row: models.AppState, state: PollState, now: datetime) -> None:
    row.value = state.to_json()
    row.updated_at = now


def forget(session: Session, athlete_id: int) -> None:
    session.execute(delete(models.AppState).where(models.AppState.key == state_key(athlete_id)))
