"""One run, two sources: when a file and another record (Strava's, or another file's) are the same activity.

The rule: the same athlete, starts within a minute, and about the same distance. A file that arrives second is
a duplicate and imports nothing (scheduler.files.importer). Strava's record that arrives second takes over the
file's row instead of adding one: Strava's id and name win (the runner sees and edits that one, and its
webhooks name it), while the stored class, the laps the file gave and every reminder of the day stay, so
nothing is planned or sent twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from scheduler.domain.activity import Activity
from scheduler.files.recording import FILE_ID_BASE
from scheduler.store import models

log = logging.getLogger(__name__)

SAME_START = timedelta(seconds=60)
_FILE_ACTIVITIES = "athlete has file activities"
# "About the same distance": within 5 %, or 100 m for short ones (GPS and footpods disagree that much).
SAME_DISTANCE_SHARE, SAME_DISTANCE_METRES = 0.05, 100.0


def twin_of(
    session: Session,
    athlete_id: int,
    start: datetime,
    distance: float,
    exclude_id: int,
    *,
    files_only: bool = False,
) -> int | None:
    """The stored activity of the athlete that is the same run, if any (`files_only`: one from a file)."""
    conditions = [
        models.Activity.athlete_id == athlete_id,
        models.Activity.id != exclude_id,
        models.Activity.deleted_at.is_(None),
        models.Activity.start_date >= start - SAME_START,
        models.Activity.start_date <= start + SAME_START,
    ]
    if files_only:
        conditions.append(models.Activity.id >= FILE_ID_BASE)
    rows = session.execute(
        select(models.Activity.id, models.Activity.distance).where(*conditions).order_by(models.Activity.id)
    ).all()
    for activity_id, stored_distance in rows:
        if same_distance(distance, stored_distance or 0.0):
            return int(activity_id)
    return None


def same_run(start: datetime, distance: float, other_start: datetime, other_distance: float) -> bool:
    """The rule itself, for two recordings not stored yet (two files of one import)."""
    return abs(start - other_start) <= SAME_START and same_distance(distance, other_distance)


def same_distance(distance: float, other: float) -> bool:
    return abs(other - distance) <= max(SAME_DISTANCE_METRES, SAME_DISTANCE_SHARE * distance)


def _has_file_activities(session: Session, athlete_id: int) -> bool:
    """Whether the athlete has any activity from a file: most have none, and a Strava backfill of years then
    costs one read instead of one per activity. The answer lives as long as the session;
    `note_file_activity` keeps it true when a file's activity is stored through the same session."""
    key = (_FILE_ACTIVITIES, athlete_id)
    if key not in session.info:
        found = session.scalar(
            select(models.Activity.id)
            .where(models.Activity.athlete_id == athlete_id, models.Activity.id >= FILE_ID_BASE)
            .limit(1)
        )
        session.info[key] = found is not None
    return bool(session.info[key])


def note_file_activity(session: Session, athlete_id: int) -> None:
    session.info[(_FILE_ACTIVITIES, athlete_id)] = True


def adopt_file_twin(
    session: Session, athlete_id: int, activity: Activity, raw: dict[str, Any]
) -> models.Activity | None:
    """Strava's activity, not stored yet, that the athlete already has from a file: the file's row moves to
    Strava's id (its reminders, correction and file record follow) and is returned; else None.

    The row keeps the file's laps unless Strava's record has its own, and its class fields stay the file's:
    the caller's usual update then sees what Strava changed (a new name, a race tag) and re-plans only then.
    """
    if not _has_file_activities(session, athlete_id):
        return None
    file_id = twin_of(
        session, athlete_id, activity.start_date, activity.distance, activity.id, files_only=True
    )
    if file_id is None:
        return None
    old = session.get(models.Activity, file_id)
    if old is None:
        return None
    columns = {attr.key: getattr(old, attr.key) for attr in inspect(models.Activity).column_attrs}
    laps = raw.get("laps") or old.raw.get("laps", [])
    columns.update(id=activity.id, raw={**old.raw, **raw, "laps": laps})
    adopted = models.Activity(**columns)
    # The new row first, then what points at the old one, then the old one: foreign keys hold at each step.
    session.add(adopted)
    session.flush()
    for model in (models.Reminder, models.EffortCorrection, models.FileImport):
        session.execute(
            update(model).where(model.activity_id == file_id).values(activity_id=activity.id),
            execution_options={"synchronize_session": "fetch"},
        )
    session.delete(old)
    session.flush()
    log.info(
        "athlete %s: Strava activity %s is the run imported from a file as %s; it keeps the file's plan",
        athlete_id,
        activity.id,
        file_id,
    )
    return adopted
