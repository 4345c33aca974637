"""Access tokens: refreshed when fewer than 10 minutes remain, and once after a 401.

Strava may rotate the refresh token on any refresh, and the old one dies at once. The refresh therefore runs
inside the transaction that holds the athlete's row lock, and the new tokens are written in that same
transaction: a crash cannot lose the rotated token, and two instances (or threads) never refresh with the
same refresh token (the second waits for the lock, then finds a fresh token and makes no call).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.domain.status import AthleteState
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava.port import InvalidGrant, StravaPortFactory

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=10)


class ReauthNeeded(Exception):
    """The athlete must run `recovery auth` again (refresh token refused, or no tokens at all)."""

    def __init__(self, athlete_id: int, reason: str) -> None:
        super().__init__(f"athlete {athlete_id}: {reason}")
        self.athlete_id = athlete_id
        self.reason = reason


def needs_refresh(expires_at: datetime | None, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
    return expires_at is None or expires_at - now < margin


def access_token(
    sessions: sessionmaker[Session],
    athlete_id: int,
    port_factory: StravaPortFactory,
    clock: Clock,
    *,
    rejected: str | None = None,
) -> str:
    """A usable access token for the athlete, refreshing it first when needed.

    `rejected` is a token Strava just answered 401 to: it is refreshed even if it looks valid — unless
    someone else already replaced it, in which case the replacement is returned without a call.
    Raises ReauthNeeded (after storing the `needs_reauth` state) when Strava refuses the refresh token.
    """
    refused: InvalidGrant | None = None
    with transaction(sessions) as session:
        athlete = athlete_store.get_for_update(session, athlete_id)
        if athlete is None or athlete.state != AthleteState.ACTIVE or not athlete.refresh_token:
            raise ReauthNeeded(athlete_id, "not connected")
        now = clock()
        current = athlete.access_token
        if current and current != rejected and not needs_refresh(athlete.token_expires_at, now):
            return current
        try:
            grant = port_factory(None).refresh(athlete.refresh_token)
        except InvalidGrant as error:
            refused = error
            athlete.access_token = None
            athlete.refresh_token = None
            athlete.token_expires_at = None
            athlete_store.set_state(
                athlete, AthleteState.NEEDS_REAUTH, now, error="Strava refused the refresh token"
            )
        else:
            rotated = grant.refresh_token != athlete.refresh_token
            athlete_store.save_tokens(athlete, grant, now)
            log.info(
                "athlete %s: access token refreshed (valid until %s%s)",
                athlete_id,
                grant.expires_at.isoformat(),
                ", refresh token rotated" if rotated else "",
            )
            return grant.access_token
    log.warning("athlete %s: refresh token refused (%s); needs `recovery auth`", athlete_id, refused)
    raise ReauthNeeded(athlete_id, "Strava refused the refresh token") from refused


def expiring(session: Session, now: datetime, margin: timedelta = REFRESH_MARGIN) -> list[int]:
    """Active athletes, not deferred, whose access token has fewer than `margin` left."""
    return list(
        session.scalars(
            select(models.Athlete.id)
            .where(
                models.Athlete.state == AthleteState.ACTIVE,
                models.Athlete.refresh_token.is_not(None),
                models.Athlete.defer_until.is_(None) | (models.Athlete.defer_until <= now),
                models.Athlete.token_expires_at.is_(None) | (models.Athlete.token_expires_at < now + margin),
            )
            .order_by(models.Athlete.id)
        )
    )
