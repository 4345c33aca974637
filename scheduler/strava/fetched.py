"""The one ingest step for an activity read from Strava, and its one error policy, shared by polling and
webhooks.

Two processes can store the same activity at the same moment (the daemon's webhook work and a `recovery sync`
beside it, or two instances): both read it, neither finds it stored, both insert. On PostgreSQL the second
insert fails on the primary key; SQLite's writer lock keeps the two transactions apart. The loser's
savepoint is rolled back and the winner's row stands: both read the same activity from Strava, and the
loser's own transaction (its poll page, its webhook event) goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import InputError
from scheduler.ingest import IngestConfig, IngestResult, ingest_activity
from scheduler.store import models
from scheduler.strava.port import Json
from scheduler.strava.words import raise_checkins

log = logging.getLogger(__name__)


class InvalidActivity(InputError):
    """Strava's payload cannot be read as an activity; nothing of it was written."""


def ingest_fetched(
    session: Session,
    athlete: models.Athlete,
    raw: Json,
    config: IngestConfig,
    now: datetime,
    *,
    backfill: bool = False,
) -> IngestResult | None:
    """Store, classify and plan one activity read from Strava, in a savepoint of the caller's transaction.

    None when another process stored it at this very moment (theirs stands); InvalidActivity when the
    payload is not an activity the core can read."""
    try:
        with session.begin_nested():
            result = ingest_activity(session, athlete, raw, config, now, backfill=backfill)
            if result.changed and not backfill:  # "knee hurts" in its words: the matching check-in
                raise_checkins(session, athlete, result.activity_id, config, now)
            return result
    except IntegrityError:
        log.info("athlete %s: activity %s was stored at the same moment elsewhere", athlete.id, raw.get("id"))
        return None
    except (InputError, KeyError, ValueError) as error:
        raise InvalidActivity(str(error)) from error
