"""Strava push events: the subscription handshake, fast intake, and the processing afterwards.

Strava wants an answer within 2 s and repeats events, sends a create before the activity is readable, and
loses some: `accept_event` only validates and stores (deduplicated by a unique key), `process_events` does
the work later and retries a not-yet-readable activity by leaving the event pending with a later retry time.
Polling stays on as the backstop for lost events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.errors import InputError
from scheduler.ingest import delete_activity, forget_athlete, ingest_activity
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import insert_for, transaction
from scheduler.strava import poll_state, tokens
from scheduler.strava.access import AthleteAccess, BudgetSpent
from scheduler.strava.port import Json, NotFound, StravaError, StravaUnavailable
from scheduler.strava.sync import Poller

log = logging.getLogger(__name__)

OBJECT_TYPES = frozenset({"activity", "athlete"})
ASPECT_TYPES = frozenset({"create", "update", "delete"})
# When attempt n+1 may run, counted from the event's arrival: Strava announces activities before they are
# readable (404 for a while), so a few spaced-out tries, then polling is left to catch up.
RETRY_DELAYS = (
    timedelta(0),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
)
MAX_ATTEMPTS = len(RETRY_DELAYS)


# -- handshake -----------------------------------------------------------------------------------------------


def handshake(params: Mapping[str, str], verify_token: str) -> tuple[int, dict[str, Any]]:
    """Answer Strava's subscription check: echo `hub.challenge` only for our verify token."""
    given = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge", "")
    if (
        params.get("hub.mode") == "subscribe"
        and verify_token
        and challenge
        and hmac.compare_digest(given.encode(), verify_token.encode())
    ):
        return 200, {"hub.challenge": challenge}
    return 403, {"error": "subscription check refused: wrong hub.mode or hub.verify_token"}


# -- intake --------------------------------------------------------------------------------------------------


class EventError(ValueError):
    """The body is not a Strava event."""


def parse_event(body: bytes) -> Json:
    """Validate a pushed event; raise EventError with a one-line reason."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise EventError(f"body is not JSON ({type(error).__name__})") from None
    if not isinstance(event, dict):
        raise EventError("event must be a JSON object")
    for name in ("object_id", "owner_id", "event_time"):
        value = event.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventError(f"{name} must be an integer")
    if event.get("object_type") not in OBJECT_TYPES:
        raise EventError("object_type must be 'activity' or 'athlete'")
    if event.get("aspect_type") not in ASPECT_TYPES:
        raise EventError("aspect_type must be 'create', 'update' or 'delete'")
    updates = event.get("updates", {})
    if updates is None:
        updates = {}
    if not isinstance(updates, dict):
        raise EventError("updates must be an object")
    return {**event, "updates": updates}


def dedupe_key(event: Mapping[str, Any]) -> str:
    """Strava repeats an event with the same fields: these identify it."""
    updates = json.dumps(event.get("updates") or {}, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(updates.encode()).hexdigest()[:16]
    return (
        f"{event['object_type']}:{event['object_id']}:{event['aspect_type']}:{event['event_time']}:{digest}"
    )


def accept_event(sessions: sessionmaker[Session], body: bytes, now: datetime) -> tuple[int, dict[str, Any]]:
    """Store one pushed event for later processing; 400 (nothing stored) when it is not a Strava event."""
    try:
        event = parse_event(body)
    except EventError as error:
        return 400, {"error": str(error)}
    key = dedupe_key(event)
    with transaction(sessions) as session:
        result = session.execute(
            insert_for(session, models.WebhookEvent)
            .values(dedupe_key=key, payload=event, received_at=now, attempts=0)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        stored = bool(getattr(result, "rowcount", 0))
    return 200, {"status": "accepted" if stored else "duplicate"}


# -- processing ----------------------------------------------------------------------------------------------


@dataclass
class EventsReport:
    processed: int = 0
    ingested: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)  # event ids left pending with a later retry time
    waiting: int = 0  # pending for a rate limit or an athlete deferred
    given_up: list[int] = field(default_factory=list)


def next_attempt_at(received_at: datetime, attempts: int) -> datetime | None:
    """When a pending event may be tried again; None when it has had all its attempts."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return received_at + RETRY_DELAYS[attempts]


def pending_events(session: Session, now: datetime, limit: int) -> list[models.WebhookEvent]:
    rows = session.scalars(
        select(models.WebhookEvent)
        .where(models.WebhookEvent.processed_at.is_(None))
        .order_by(models.WebhookEvent.id)
        .limit(limit * 4)
    ).all()
    ready = []
    for row in rows:
        at = next_attempt_at(row.received_at, row.attempts)
        if at is None or at <= now:
            ready.append(row)
    return ready[:limit]


class _Stop(Exception):
    """The rate budget is spent: nothing more this round."""


def process_events(poller: Poller, *, limit: int = 100) -> EventsReport:
    """Work through the pending events that are due; never sleeps, never waits for Strava to be ready."""
    report = EventsReport()
    with transaction(poller.sessions) as session:
        due = [
            (row.id, dict(row.payload), row.attempts)
            for row in pending_events(session, poller.clock(), limit)
        ]
    accesses: dict[int, AthleteAccess] = {}
    for position, (event_id, event, attempts) in enumerate(due):
        try:
            _process_one(poller, accesses, event_id, event, attempts, report)
        except _Stop:
            report.waiting += len(due) - position
            log.info("webhook events: Strava rate budget spent; %d event(s) wait", len(due) - position)
            break
    return report


def _mark_done(session: Session, event_id: int, now: datetime, error: str | None) -> None:
    row = session.get(models.WebhookEvent, event_id)
    if row is not None:
        row.processed_at = now
        row.last_error = error


def _claim(sessions: sessionmaker[Session], event_id: int, attempts: int, change: int = 1) -> bool:
    """Count an attempt, unless another instance counted it first (then it is theirs to make)."""
    with transaction(sessions) as session:
        result = session.execute(
            update(models.WebhookEvent)
            .where(
                models.WebhookEvent.id == event_id,
                models.WebhookEvent.attempts == attempts,
                models.WebhookEvent.processed_at.is_(None),
            )
            .values(attempts=attempts + change)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1


def _finish(sessions: sessionmaker[Session], event_id: int, now: datetime, error: str | None = None) -> None:
    with transaction(sessions) as session:
        _mark_done(session, event_id, now, error)


def _retry_later(
    sessions: sessionmaker[Session], event_id: int, error: str, report: EventsReport, now: datetime
) -> None:
    with transaction(sessions) as session:
        row = session.get(models.WebhookEvent, event_id)
        if row is None:
            return
        row.last_error = error
        if next_attempt_at(row.received_at, row.attempts) is None:
            row.processed_at = now
            report.given_up.append(event_id)
            log.warning("webhook event %s given up after %d attempts: %s", event_id, row.attempts, error)
        else:
            report.retrying.append(event_id)


def _process_one(
    poller: Poller,
    accesses: dict[int, AthleteAccess],
    event_id: int,
    event: Json,
    attempts: int,
    report: EventsReport,
) -> None:
    now = poller.clock()
    sessions = poller.sessions
    athlete_id = int(event["owner_id"])
    object_id = int(event["object_id"])

    if event["object_type"] == "athlete":
        if str(event["updates"].get("authorized", "")).lower() == "false":
            with transaction(sessions) as session:
                forget_athlete(session, athlete_id, now)
                poll_state.forget(session, athlete_id)
                _mark_done(session, event_id, now, None)
            report.forgotten.append(athlete_id)
            log.info("athlete %s deauthorized the app: their Strava data was deleted", athlete_id)
        else:
            _finish(sessions, event_id, now)
        report.processed += 1
        return

    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, athlete_id)
        state = athlete.state if athlete else None
        deferred = athlete is not None and athlete.defer_until is not None and athlete.defer_until > now

    if state != athlete_store.ACTIVE:
        # Unknown, deauthorized or waiting for `recovery auth`: the poll after reconnecting catches up.
        _finish(sessions, event_id, now, f"athlete {athlete_id} is {state or 'unknown'}")
        report.processed += 1
        return
    if deferred:
        report.waiting += 1
        return

    if event["aspect_type"] == "delete":
        with transaction(sessions) as session:
            delete_activity(session, object_id, now)
        _finish(sessions, event_id, now)
        report.deleted.append(object_id)
        report.processed += 1
        return

    if not _claim(sessions, event_id, attempts):
        return  # another instance is on it
    try:
        access = accesses.get(athlete_id) or AthleteAccess(
            poller.sessions, poller.port_factory, poller.clock, athlete_id, poller.reserve
        )
        accesses[athlete_id] = access
        detail = access(lambda port: port.get_activity(object_id))
    except NotFound:
        _retry_later(sessions, event_id, "activity not readable yet (404)", report, now)
        return
    except BudgetSpent as error:
        _claim(sessions, event_id, attempts + 1, change=-1)  # not the event's attempt: no request went out
        poller.handle_failure(athlete_id, error)
        raise _Stop from error
    except (tokens.ReauthNeeded, StravaError) as error:
        outcome, _until, message = poller.handle_failure(athlete_id, error)
        accesses.pop(athlete_id, None)
        if outcome in ("deferred", "app_inactive"):
            _claim(sessions, event_id, attempts + 1, change=-1)  # Strava's limits, not the event's fault
        if outcome == "deferred":
            raise _Stop from error
        if outcome == "failed" and isinstance(error, StravaUnavailable):
            _retry_later(sessions, event_id, message, report, now)
        elif outcome == "app_inactive":
            report.waiting += 1
        else:
            _finish(sessions, event_id, now, message)
            report.processed += 1
        return

    if detail.get("resource_state") == -1:
        _retry_later(sessions, event_id, "Strava is still processing the activity", report, now)
        return
    try:
        with transaction(sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is not None:
                ingest_activity(session, athlete, detail, poller.ingest_config, now)
            _mark_done(session, event_id, now, None)
    except (InputError, ValueError) as error:
        log.warning("webhook event %s: activity %s not ingested: %s", event_id, object_id, error)
        _finish(sessions, event_id, now, str(error))
    else:
        report.ingested.append(object_id)
    report.processed += 1


class WebhookReceiver:
    """The HTTP server's webhook endpoint: handshake and fast intake; `on_event` may wake the processing."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        verify_token: str,
        clock: Clock,
        on_event: Callable[[], object] | None = None,
    ) -> None:
        self._sessions = sessions
        self._verify_token = verify_token
        self._clock = clock
        self._on_event = on_event

    def handshake(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        return handshake(params, self._verify_token)

    def receive(self, body: bytes) -> tuple[int, dict[str, Any]]:
        status, reply = accept_event(self._sessions, body, self._clock())
        if status == 200 and reply.get("status") == "accepted" and self._on_event is not None:
            try:
                self._on_event()
            except Exception:  # waking the worker early is an optimisation; the periodic job still runs
                log.exception("could not wake the webhook processing")
        return status, reply
