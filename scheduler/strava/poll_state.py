"""Per-athlete poll state shared by every instance (an `AppState` row): the claim held while a poll runs, when
the daemon's last scheduled poll started, whether the last read sequence still waits for its empty page, and
details still to read.

The claim lasts as long as the poll: it is released when the poll ends, and its lease (`POLL_LEASE`) only
matters when an instance dies mid-poll. A manual `recovery sync` takes the claim while it runs but does not
count as a scheduled poll, so the daemon's next poll runs as planned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from scheduler.store import app_state, models

POLL_STATE_PREFIX = "strava.poll."
# A claim not released by then belongs to an instance that died mid-poll; longer than any poll but a backfill
# (an interactive one, which never waits for a claim).
POLL_LEASE = timedelta(minutes=5)


@dataclass
class PollState:
    claimed_until: datetime | None = None  # the lease of the poll running now (None: none runs)
    claimed_by: str | None = None  # which poll holds it: only that poll releases it
    # When the daemon's last scheduled poll (by any instance) started: one instance polls per interval.
    scheduled_at: datetime | None = None
    # The last read sequence ended on a short page: the next tick reads on from the newest start.
    unconfirmed: bool = False
    pending_details: dict[int, datetime] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "claimed_until": self.claimed_until.isoformat() if self.claimed_until else None,
            "claimed_by": self.claimed_by,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
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
            claimed_by=value.get("claimed_by") if isinstance(value.get("claimed_by"), str) else None,
            scheduled_at=instant(value.get("scheduled_at")),
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
