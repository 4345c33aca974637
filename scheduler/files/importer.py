"""Import one activity file: read, parse, and hand the Strava-shaped summary to ingest, once per content.

The `file_imports` row is claimed (INSERT … ON CONFLICT DO NOTHING) in the same transaction that stores the
activity and plans its day, so two daemons watching one folder, or a file copied in twice, import it once.
A file is a duplicate, not a second activity, when the athlete already has one that started within a minute
of it and covered about the same distance (the same run from Strava, or exported twice).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.files.formats import parse_bytes
from scheduler.files.recording import FileRejected, Recording, content_digest, summary
from scheduler.ingest import IngestConfig, ingest_activity
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import insert_for, transaction

log = logging.getLogger(__name__)

# Files of activities that ended longer ago than this are history: classified, never notified (as a
# `sync --backfill`); the longest step of a protocol is useful until about two days after the end.
HISTORY_BEFORE = timedelta(days=3)
SAME_START = timedelta(seconds=60)
# "About the same distance": within 5 %, or 100 m for short ones (GPS and footpods disagree that much).
SAME_DISTANCE_SHARE, SAME_DISTANCE_METRES = 0.05, 100.0

IMPORTED, DUPLICATE, ALREADY, REJECTED = "imported", "duplicate", "already imported", "rejected"


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    path: Path
    outcome: str
    activity_id: int | None = None
    effort: str | None = None
    planned: list[str] = field(default_factory=list)
    reason: str | None = None
    history: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "outcome": self.outcome,
            "activity_id": self.activity_id,
            "effort": self.effort,
            "planned": self.planned,
            "history": self.history,
            "reason": self.reason,
        }


def import_file(
    sessions: sessionmaker[Session], athlete_id: int, path: Path, config: IngestConfig, now: datetime
) -> ImportOutcome:
    """Import one file for the athlete (who must exist). Never raises for a bad file: it is `rejected`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportOutcome(path, REJECTED, reason=f"cannot read: {exc.strerror or exc}")
    digest = content_digest(data)
    with sessions() as session:
        seen = session.get(models.FileImport, digest)
        if seen is not None and seen.outcome == REJECTED:
            return ImportOutcome(path, REJECTED, reason=seen.reason)
        if seen is not None:
            return ImportOutcome(path, ALREADY, activity_id=seen.activity_id, reason=seen.reason)
    try:
        recording = parse_bytes(data, path.name)
    except FileRejected as exc:
        _remember_rejection(sessions, athlete_id, digest, path, str(exc), now)
        return ImportOutcome(path, REJECTED, reason=str(exc))
    with transaction(sessions) as session:
        athlete = athlete_store.get(session, athlete_id)
        raw = summary(recording, digest, athlete.id, athlete.timezone, path.name)
        if not _claim(session, digest, athlete.id, path, now):
            return ImportOutcome(path, ALREADY)
        twin = _same_activity(session, athlete.id, recording, raw["id"])
        if twin is not None:
            _set_outcome(session, digest, DUPLICATE, twin, f"the same activity as {twin}")
            log.info("file %s: the same activity as %s; nothing imported", path.name, twin)
            return ImportOutcome(path, DUPLICATE, activity_id=twin, reason=f"the same activity as {twin}")
        end = recording.start + timedelta(seconds=recording.elapsed_time)
        history = end < now - HISTORY_BEFORE
        result = ingest_activity(session, athlete, raw, config, now, backfill=history)
        _set_outcome(session, digest, IMPORTED, result.activity_id, None)
    log.info("file %s imported as activity %s (%s)", path.name, result.activity_id, result.effort)
    return ImportOutcome(path, IMPORTED, result.activity_id, result.effort, result.planned, history=history)


def _claim(session: Session, digest: str, athlete_id: int, path: Path, now: datetime) -> bool:
    statement = (
        insert_for(session, models.FileImport)
        .values(
            sha256=digest,
            athlete_id=athlete_id,
            outcome=IMPORTED,
            file_name=path.name[:300],
            seen_at=now,
        )
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return bool(getattr(session.execute(statement), "rowcount", 0))


def _set_outcome(
    session: Session, digest: str, outcome: str, activity_id: int | None, reason: str | None
) -> None:
    row = session.get(models.FileImport, digest)
    if row is not None:
        row.outcome, row.activity_id, row.reason = outcome, activity_id, reason


def _remember_rejection(
    sessions: sessionmaker[Session], athlete_id: int, digest: str, path: Path, reason: str, now: datetime
) -> None:
    with transaction(sessions) as session:
        athlete_store.get(session, athlete_id)
        if _claim(session, digest, athlete_id, path, now):
            _set_outcome(session, digest, REJECTED, None, reason)


def _same_activity(session: Session, athlete_id: int, recording: Recording, own_id: int) -> int | None:
    rows = session.execute(
        select(models.Activity.id, models.Activity.distance).where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.id != own_id,
            models.Activity.deleted_at.is_(None),
            models.Activity.start_date >= recording.start - SAME_START,
            models.Activity.start_date <= recording.start + SAME_START,
        )
    ).all()
    tolerance = max(SAME_DISTANCE_METRES, SAME_DISTANCE_SHARE * recording.distance)
    for activity_id, distance in rows:
        if abs((distance or 0.0) - recording.distance) <= tolerance:
            return int(activity_id)
    return None
