"""Check-ins raised by an activity's own words on Strava: "knee hurts" in its name, description or private
note records the matching check-in (scheduler.domain.descriptions), with the quoted words as its reason.

Called from the one ingest step (scheduler.strava.fetched) whenever an activity arrives new or changed. Each
kind is raised once per activity: the check-in keeps the activity's id (unique with its kind), so a re-poll,
a rename or a check-in the runner cleared on the page never brings it back. Words on a backfilled or old
activity (ended more than 48 h ago) say nothing about the legs now and raise nothing. Only what Strava's
payload holds is read: the name always, the description and private note when the detailed activity was
fetched (webhooks always fetch it; polling when the summary left the class undecided).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain.descriptions import activity_findings, reason, still_fresh
from scheduler.ingest import IngestConfig, ReminderChange
from scheduler.store import models
from scheduler.web import checkins

log = logging.getLogger(__name__)


def raise_checkins(
    session: Session, athlete: models.Athlete, activity_id: int, config: IngestConfig, now: datetime
) -> list[ReminderChange]:
    """Record the check-ins the stored activity's words speak of and not raised before; the plan changes."""
    row = session.get(models.Activity, activity_id)
    if row is None or row.backfilled or row.deleted_at is not None or row.athlete_id != athlete.id:
        return []
    end = row.start_date + timedelta(seconds=row.elapsed_time)
    if not still_fresh(end, now):
        return []
    found = activity_findings(row.raw)
    if not found:
        return []
    raised = set(
        session.scalars(select(models.CheckIn.kind).where(models.CheckIn.activity_id == activity_id))
    )
    changes: list[ReminderChange] = []
    for finding in found:
        if finding.kind.value in raised:
            continue
        changes += checkins.record(
            session,
            athlete.id,
            finding.kind.value,
            config,
            now,
            area=finding.area,
            note=reason(finding),
            activity_id=activity_id,
        )
        # The kind only: the runner's own words stay out of the log.
        log.info("athlete %s: activity %s raised a %s check-in", athlete.id, activity_id, finding.kind)
    return changes
