"""Import one activity file: read, parse, and hand the Strava-shaped summary to ingest, once per content.

The `file_imports` row is claimed (INSERT … ON CONFLICT DO NOTHING) in the same transaction that stores the
activity and plans its day, so two daemons watching one folder, or a file copied in twice, import it once.
A file is a duplicate, not a second activity, when the athlete already has the same run (from Strava, or
exported twice; the rule is scheduler.files.twins).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.files.formats import parse_bytes
from scheduler.files.recording import FileRejected, Recording, content_digest, summary
from scheduler.files.twins import same_run, twin_of
from scheduler.ingest import IngestConfig, ingest_activity, ingest_history
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import insert_for, transaction

log = logging.getLogger(__name__)

# Files of activities that ended longer ago than this are history: classified, never notified (as a
# `sync --backfill`); the longest step of a protocol is useful until about two days after the end.
HISTORY_BEFORE = timedelta(days=3)

# Files per transaction: a commit (an fsync on SQLite) per file cost more than parsing it.
BATCH = 50
POOL_FROM = 16  # new files to parse before a pool of parser processes pays for its start

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
    [outcome] = import_files(sessions, athlete_id, [path], config, lambda: now)
    return outcome


def import_files(
    sessions: sessionmaker[Session],
    athlete_id: int,
    paths: Sequence[Path],
    config: IngestConfig,
    clock: Callable[[], datetime],
    *,
    workers: int = 1,
    batch: int = BATCH,
) -> Iterator[ImportOutcome]:
    """Import the files in order, yielding each one's outcome once its batch is committed.

    Files already seen (by content) are answered from one read and never parsed. The others are parsed in
    `workers` processes when there are enough of them to pay for starting those, while this process alone
    writes: one transaction per `batch` files, in order, so each activity's history holds the ones before it.
    """
    seen = _seen(sessions, paths)
    todo = [path for path in paths if path not in seen]
    with _parser_pool(workers if len(todo) >= POOL_FROM else 1) as parse:
        parsed = iter(parse(todo))
        waiting: list[Path] = []
        new = 0
        for path in paths:
            if path in seen and not waiting:
                yield seen[path]
                continue
            waiting.append(path)  # a seen file after new ones waits for them, to keep the order
            new += path not in seen
            if new >= batch:
                yield from _store_batch(sessions, athlete_id, waiting, seen, parsed, config, clock())
                waiting, new = [], 0
        if waiting:
            yield from _store_batch(sessions, athlete_id, waiting, seen, parsed, config, clock())


@dataclass(frozen=True, slots=True)
class Parsed:
    """A file as a parser process hands it back: its digest and recording, or why it is unusable."""

    path: Path
    digest: str | None
    recording: Recording | None = None
    reason: str | None = None


def read_and_parse(path: Path) -> Parsed:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Parsed(path, None, reason=f"cannot read: {exc.strerror or exc}")
    digest = content_digest(data)
    try:
        return Parsed(path, digest, parse_bytes(data, path.name))
    except FileRejected as exc:
        return Parsed(path, digest, reason=str(exc))


@contextmanager
def _parser_pool(workers: int) -> Iterator[Callable[[list[Path]], Iterable[Parsed]]]:
    if workers <= 1:
        yield lambda paths: map(read_and_parse, paths)
        return
    import multiprocessing  # only for a large import: the daemon's one file at a time never needs them
    from concurrent.futures import ProcessPoolExecutor

    # Forked before the command starts any other thread (a progress bar's): no held lock is copied.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield lambda paths: pool.map(read_and_parse, paths, chunksize=4)


def _seen(sessions: sessionmaker[Session], paths: Sequence[Path]) -> dict[Path, ImportOutcome]:
    """The outcome of every file whose content was handled before, from one read per thousand files."""
    digests: dict[str, list[Path]] = {}
    for path in paths:
        try:
            digests.setdefault(_file_digest(path), []).append(path)
        except OSError:
            continue  # read again by its parser, and rejected there with the reason
    seen: dict[Path, ImportOutcome] = {}
    keys = list(digests)
    with sessions() as session:
        for start in range(0, len(keys), 1000):
            rows = session.scalars(
                select(models.FileImport).where(models.FileImport.sha256.in_(keys[start : start + 1000]))
            )
            for row in rows:
                for path in digests[row.sha256]:
                    seen[path] = (
                        ImportOutcome(path, REJECTED, reason=row.reason)
                        if row.outcome == REJECTED
                        else ImportOutcome(path, ALREADY, activity_id=row.activity_id, reason=row.reason)
                    )
    return seen


def _file_digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _store_batch(
    sessions: sessionmaker[Session],
    athlete_id: int,
    paths: list[Path],
    seen: dict[Path, ImportOutcome],
    parsed: Iterator[Parsed],
    config: IngestConfig,
    now: datetime,
) -> list[ImportOutcome]:
    """Claim each new file, then store the batch's history in one classification pass (as a Strava backfill
    page) and the recent ones one by one, after it: their history holds the batch's older runs."""
    outcomes: dict[Path, ImportOutcome] = {}
    runs: list[tuple[Recording, int]] = []  # the batch's new activities, not stored yet: twins of later files
    history: list[tuple[Path, dict[str, Any]]] = []
    recent: list[tuple[Path, dict[str, Any]]] = []
    with transaction(sessions) as session:
        athlete = athlete_store.get(session, athlete_id)
        for path in paths:
            if path in seen:
                outcomes[path] = seen[path]
                continue
            admitted = _admit(session, athlete, next(parsed), runs, now)
            if isinstance(admitted, ImportOutcome):
                outcomes[path] = admitted
                continue
            recording, raw = admitted
            runs.append((recording, raw["id"]))
            ended = recording.start + timedelta(seconds=recording.elapsed_time)
            (history if ended < now - HISTORY_BEFORE else recent).append((path, raw))
        if history:
            results = {
                r.activity_id: r for r in ingest_history(session, athlete, [r for _, r in history], now)
            }
            for path, raw in history:
                effort = results[raw["id"]].effort if raw["id"] in results else None
                outcomes[path] = ImportOutcome(path, IMPORTED, raw["id"], effort, history=True)
        for path, raw in recent:
            result = ingest_activity(session, athlete, raw, config, now)
            outcomes[path] = ImportOutcome(path, IMPORTED, result.activity_id, result.effort, result.planned)
    ordered = [outcomes[path] for path in paths]
    for outcome in ordered:
        if outcome.outcome == IMPORTED:
            log.info(
                "file %s imported as activity %s (%s)", outcome.path.name, outcome.activity_id, outcome.effort
            )
        elif outcome.outcome == DUPLICATE:
            log.info("file %s: %s; nothing imported", outcome.path.name, outcome.reason)
    return ordered


def _admit(
    session: Session,
    athlete: models.Athlete,
    item: Parsed,
    runs: list[tuple[Recording, int]],
    now: datetime,
) -> ImportOutcome | tuple[Recording, dict[str, Any]]:
    """Claim the file's content; its outcome when it is no new activity, else its recording and summary."""
    path, digest, recording = item.path, item.digest, item.recording
    if digest is None:
        return ImportOutcome(path, REJECTED, reason=item.reason)
    if recording is None:
        if _claim(session, digest, athlete.id, path, now):
            _set_outcome(session, digest, REJECTED, None, item.reason)
        return ImportOutcome(path, REJECTED, reason=item.reason)
    raw = summary(recording, digest, athlete.id, athlete.timezone, path.name)
    if not _claim(session, digest, athlete.id, path, now):
        return ImportOutcome(path, ALREADY)  # the same content twice in one import, or by another importer
    twin = twin_of(session, athlete.id, recording.start, recording.distance, raw["id"])
    if twin is None:
        twin = next(
            (
                activity_id
                for run, activity_id in runs
                if same_run(recording.start, recording.distance, run.start, run.distance)
            ),
            None,
        )
    if twin is not None:
        _set_outcome(session, digest, DUPLICATE, twin, f"the same activity as {twin}")
        return ImportOutcome(path, DUPLICATE, activity_id=twin, reason=f"the same activity as {twin}")
    # The outcome is set now: the row is this transaction's, and the activity is stored before it commits.
    _set_outcome(session, digest, IMPORTED, raw["id"], None)
    return recording, raw


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
