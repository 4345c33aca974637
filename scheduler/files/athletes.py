"""Athletes who come only from files: no Strava account, tokens or polls; the same profile and reminders.

They get ids from LOCAL_ID_BASE on (Strava's athlete ids are about 2e8 in 2026), short enough to type and to
name a watched sub-folder, and the state `files`: the poller, the token refresh and the webhooks act only on
`active` athletes, so none of them ever calls Strava for one.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.store import models

LOCAL_ID_BASE = 9_000_000_000
LOCAL_ID_END = 10_000_000_000


def is_local(athlete_id: int) -> bool:
    return LOCAL_ID_BASE < athlete_id < LOCAL_ID_END


def add_local(session: Session, name: str, zone: str | None, now: datetime) -> models.Athlete:
    """Create a files-only athlete; raises InputError for an empty name or an unknown zone."""
    name = name.strip()
    if not name:
        raise InputError("athletes add: give the athlete a name")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"--zone: unknown time zone {zone!r} (an IANA name such as Europe/Berlin)"
            ) from None
    highest = session.scalar(
        select(func.max(models.Athlete.id)).where(
            models.Athlete.id > LOCAL_ID_BASE, models.Athlete.id < LOCAL_ID_END
        )
    )
    athlete = models.Athlete(
        id=(highest or LOCAL_ID_BASE) + 1,
        name=name[:200],
        timezone=zone,
        scope="",
        notify_urls=[],
        state=AthleteState.FILES_ONLY,
        created_at=now,
        updated_at=now,
    )
    session.add(athlete)
    session.flush()
    return athlete
