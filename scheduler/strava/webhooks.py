"""Strava push events: the subscription we hold, the handshake, a guarded intake, the processing afterwards.

Strava events carry no signature and anyone can POST to the callback, so nothing in an event is believed on
its own word:
- **The door.** An event is stored only when its `subscription_id` is our live subscription (learned from
  Strava: `recovery webhook subscribe`/`status`, and the daemon's hourly `list_subscriptions`) and its owner
  is a connected (active) athlete. Anything else is answered 200 like a stored event and dropped: Strava
  does not retry a 200 (polling at the normal interval covers what a real but refused event announced), and
  the same answer for every well-formed event tells a prober nothing about which athletes are connected.
  Ids must be positive and below 2^63 (400 otherwise).
- **Deauthorization** deletes nothing at once: the athlete is `suspended` (nothing is sent or polled), then
  Strava is asked with a token refresh. Refused (invalid grant) → the athlete's Strava data is deleted;
  accepted → the event was forged or stale, the athlete is active again and nothing is lost; Strava
  unreachable → still suspended, asked again later.
- **Reads** for events come from their own share of the rate budget (`budget.WEBHOOK_SHARE`), so forged or
  bursty events cannot starve polling; a 404 is final after one retry.

Strava wants an answer within 2 s, repeats events, sends a create before the activity is readable, and
loses some: `accept_event` only checks and stores (deduplicated by a unique key), `process_events` does the
work later. Every stored event has its own failure accounting: an unexpected error is counted and retried
with backoff, then the event is parked with its error, and the queue moves on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.domain.status import AthleteState
from scheduler.ingest import IngestConfig, delete_activity, forget_athlete
from scheduler.store import app_state, models
from scheduler.store import athletes as athlete_store
from scheduler.store.db import insert_for, transaction
from scheduler.strava import budget, poll_state, tokens
from scheduler.strava.access import AthleteAccess, BudgetSpent, WebhookShareSpent
from scheduler.strava.fetched import InvalidActivity, ingest_fetched
from scheduler.strava.port import (
    InvalidGrant,
    Json,
    NotFound,
    StravaError,
    StravaPort,
    StravaPortFactory,
    StravaUnavailable,
)
from scheduler.strava.sync import Poller, PollOutcome, PollReport

log = logging.getLogger(__name__)

OBJECT_TYPES = frozenset({"activity", "athlete"})
ASPECT_TYPES = frozenset({"create", "update", "delete"})
ID_FIELDS = ("object_id", "owner_id", "subscription_id", "event_time")
ID_LIMIT = 2**63  # the database's BIGINT
# When attempt n+1 may run, counted from the event's arrival: Strava announces activities before they are
# readable ("still processing"), so a few spaced-out tries, then polling is left to catch up.
RETRY_DELAYS = (
    timedelta(0),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
)
MAX_ATTEMPTS = len(RETRY_DELAYS)
# A 404 gets one retry, late enough for an activity announced a moment early: forged events with made-up
# ids answer 404 too, and each try costs a read.
NOT_FOUND_DELAYS = (timedelta(0), timedelta(minutes=2))
MIN_RETRY_GAP = timedelta(seconds=30)
# Unexpected errors while processing one event: retried after these pauses, then the event is parked.
FAILURE_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5))
MAX_FAILURES = len(FAILURE_BACKOFF) + 1

SUBSCRIPTION_KEY = "strava.webhook_subscription"
# How often the daemon asks Strava which subscription is live (app credentials, no athlete's budget).
CONFIRM_EVERY = timedelta(hours=1)
CONFIRM_RETRY = timedelta(minutes=5)
# A subscription counts as live this long after Strava last listed it: a Strava hiccup does not turn webhooks
# off, and one deleted elsewhere is forgotten at the next hourly check.
LIVE_FOR = timedelta(hours=3)
# A deauthorization Strava could not be asked about is asked again after this pause.
DEAUTH_CONFIRM_RETRY = timedelta(minutes=5)


# -- the subscription we hold (AppState) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownSubscription:
    id: int
    callback_url: str
    confirmed_at: datetime  # when Strava last said it exists


def known_subscription(session: Session) -> KnownSubscription | None:
    row = session.get(models.AppState, SUBSCRIPTION_KEY)
    value = row.value if row is not None else {}
    subscription_id, confirmed_at = value.get("id"), value.get("confirmed_at")
    if not isinstance(subscription_id, int) or not isinstance(confirmed_at, str):
        return None
    return KnownSubscription(
        subscription_id, str(value.get("callback_url") or ""), datetime.fromisoformat(confirmed_at)
    )


def live_subscription(session: Session, now: datetime) -> int | None:
    """The id of our push subscription while it is confirmed live; None otherwise.

    Decides both whether an event may come in and whether polling may slow down to the backstop interval."""
    known = known_subscription(session)
    if known is None or now - known.confirmed_at > LIVE_FOR:
        return None
    return known.id


def remember_subscription(session: Session, subscription_id: int, callback_url: str, now: datetime) -> None:
    value = {"id": subscription_id, "callback_url": callback_url, "confirmed_at": now.isoformat()}
    app_state.put(session, SUBSCRIPTION_KEY, value, now)


def forget_subscription(session: Session, now: datetime) -> None:
    app_state.put(session, SUBSCRIPTION_KEY, {"id": None}, now)


def learn_subscriptions(session: Session, listed: Sequence[Json], now: datetime) -> KnownSubscription | None:
    """Store what Strava lists as the app's subscription (one per app), or forget ours when none is listed."""
    before = known_subscription(session)
    found = next((item for item in listed if _is_id(item.get("id"))), None)
    if found is None:
        forget_subscription(session, now)
        if before is not None:
            log.warning(
                "push subscription %s no longer exists on Strava: events are refused and polling runs at "
                "the normal interval",
                before.id,
            )
        return None
    remember_subscription(session, int(found["id"]), str(found.get("callback_url") or ""), now)
    if before is None or before.id != found["id"]:
        log.info("push subscription %s is live: polling is now only the backstop", found["id"])
    return known_subscription(session)


def confirm_subscription(sessions: sessionmaker[Session], port: StravaPort, now: datetime) -> int | None:
    """Ask Strava which subscription the app has (raises StravaError when it cannot say); returns its id."""
    listed = port.list_subscriptions()
    with transaction(sessions) as session:
        budget.record(session, port.rate_usage, now)
        known = learn_subscriptions(session, listed, now)
    return known.id if known else None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < ID_LIMIT


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


def _refuse_constant(name: str) -> Any:
    raise EventError(f"{name} is not a JSON number")


def parse_event(body: bytes) -> Json:
    """Validate a pushed event; raise EventError with a one-line reason."""
    try:
        event = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        if isinstance(error, EventError):
            raise
        raise EventError(f"body is not JSON ({type(error).__name__})") from None
    if not isinstance(event, dict):
        raise EventError("event must be a JSON object")
    for name in ID_FIELDS:
        value = event.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventError(f"{name} must be an integer")
        if not 0 < value < ID_LIMIT:
            raise EventError(f"{name} must be positive and below 2^63")
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


# Every well-formed event gets this answer, stored or not (see the module's docstring).
RECEIVED: dict[str, Any] = {"status": "received"}


@dataclass(frozen=True, slots=True)
class Intake:
    status: int
    body: dict[str, Any]
    outcome: str  # stored | duplicate | refused | invalid
    reason: str = ""


def refusal(session: Session, event: Mapping[str, Any], now: datetime) -> str | None:
    """Why a well-formed event is not ours to act on; None when it is."""
    live = live_subscription(session, now)
    if live is None or event["subscription_id"] != live:
        return f"subscription {event['subscription_id']} is not our live subscription"
    state = session.scalar(select(models.Athlete.state).where(models.Athlete.id == event["owner_id"]))
    if state != AthleteState.ACTIVE:
        return f"owner {event['owner_id']} is not a connected athlete"
    return None


def accept_event(sessions: sessionmaker[Session], body: bytes, now: datetime) -> Intake:
    """Check one pushed event and store it for later processing when it is ours."""
    try:
        event = parse_event(body)
    except EventError as error:
        return Intake(400, {"error": str(error)}, "invalid", str(error))
    with sessions() as session:  # a read only: a flood of refused events takes no write lock
        reason = refusal(session, event, now)
    if reason is not None:
        log.debug("webhook event refused: %s", reason)
        return Intake(200, RECEIVED, "refused", reason)
    with transaction(sessions) as session:
        result = session.execute(
            insert_for(session, models.WebhookEvent)
            .values(dedupe_key=dedupe_key(event), payload=event, received_at=now, attempts=0)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        stored = bool(getattr(result, "rowcount", 0))
    return Intake(200, RECEIVED, "stored" if stored else "duplicate")


# -- processing ----------------------------------------------------------------------------------------------


@dataclass
class EventsReport:
    processed: int = 0
    ingested: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    suspended: list[int] = field(default_factory=list)  # deauthorization announced, not yet confirmed
    forgotten: list[int] = field(default_factory=list)  # deauthorization confirmed by Strava: data deleted
    restored: list[int] = field(default_factory=list)  # Strava still authorizes the app: the event was false
    retrying: list[int] = field(default_factory=list)  # event ids left pending with a later retry time
    waiting: int = 0  # pending for a rate limit, the webhook share or an athlete deferred
    given_up: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # event ids whose processing raised; retried later
    parked: list[int] = field(default_factory=list)  # event ids that failed too often: set aside


def next_attempt_at(
    received_at: datetime, attempts: int, delays: Sequence[timedelta] = RETRY_DELAYS
) -> datetime | None:
    """When an event with `attempts` made may be tried again; None when it has had all its attempts."""
    if attempts >= len(delays):
        return None
    return received_at + delays[attempts]


def pending_events(session: Session, now: datetime, limit: int) -> list[models.WebhookEvent]:
    """Unprocessed events whose retry time has come, oldest first."""
    return list(
        session.scalars(
            select(models.WebhookEvent)
            .where(
                models.WebhookEvent.processed_at.is_(None),
                models.WebhookEvent.retry_at.is_(None) | (models.WebhookEvent.retry_at <= now),
            )
            .order_by(models.WebhookEvent.id)
            .limit(limit)
        )
    )


class _Stop(Exception):
    """The whole rate budget is spent: nothing more this round."""


FailureHandler = Callable[[int, Exception], tuple[PollOutcome, datetime | None, str]]


@dataclass(frozen=True, slots=True)
class WebhookDeps:
    """What processing events needs, named: the same database, Strava ports, clock, rate reserve, ingest
    configuration and failure policy as polling, so an event and a poll treat an athlete alike."""

    sessions: sessionmaker[Session]
    port_factory: StravaPortFactory
    clock: Clock
    reserve: float
    ingest_config: IngestConfig
    handle_failure: FailureHandler  # what a failed Strava call means for the athlete (the poller's policy)

    @classmethod
    def of(cls, poller: Poller) -> WebhookDeps:
        return cls(
            poller.sessions,
            poller.port_factory,
            poller.clock,
            poller.reserve,
            poller.ingest_config,
            poller.handle_failure,
        )


@dataclass
class _Pass:
    """One run through the queue: the athletes' Strava access, and whether the webhook share is spent."""

    deps: WebhookDeps
    report: EventsReport
    now: datetime
    accesses: dict[int, AthleteAccess] = field(default_factory=dict)
    share_spent_until: datetime | None = None

    def access(self, athlete_id: int) -> AthleteAccess:
        found = self.accesses.get(athlete_id)
        if found is None:
            deps = self.deps
            found = AthleteAccess(
                deps.sessions, deps.port_factory, deps.clock, athlete_id, deps.reserve, webhook=True
            )
            self.accesses[athlete_id] = found
        return found


def process_events(deps: WebhookDeps, *, limit: int = 100) -> EventsReport:
    """Confirm pending deauthorizations, then work through the pending events that are due; never sleeps,
    never waits for Strava to be ready. One event's failure never stops the ones after it."""
    report = EventsReport()
    confirm_suspended(deps, report)
    with transaction(deps.sessions) as session:
        due = [
            (row.id, dict(row.payload), row.attempts) for row in pending_events(session, deps.clock(), limit)
        ]
    work = _Pass(deps, report, deps.clock())
    for position, (event_id, event, attempts) in enumerate(due):
        work.now = deps.clock()
        try:
            _process_one(work, event_id, event, attempts)
        except _Stop:
            report.waiting += len(due) - position
            log.info("webhook events: Strava rate budget spent; %d event(s) wait", len(due) - position)
            break
        except (OperationalError, InterfaceError):
            raise  # the database itself is unreachable or locked: not this event's fault
        except Exception as error:
            _count_failure(deps.sessions, event_id, error, report, deps.clock())
    if work.share_spent_until is not None:
        log.info(
            "webhook events: their share of the Strava rate budget is spent until %s; polling goes on",
            work.share_spent_until.isoformat(),
        )
    return report


def _count_failure(
    sessions: sessionmaker[Session], event_id: int, error: Exception, report: EventsReport, now: datetime
) -> None:
    """An unexpected error while processing one event: retry it after a pause, park it after a few."""
    message = f"{type(error).__name__}: {error}".replace("\x00", "").splitlines()[0][:500]
    with transaction(sessions) as session:
        row = session.get(models.WebhookEvent, event_id)
        if row is None:
            return
        row.failures += 1
        row.last_error = message
        if row.failures >= MAX_FAILURES:
            row.parked = True
            row.processed_at = now
            report.parked.append(event_id)
            log.error("webhook event %s parked after %d failures: %s", event_id, row.failures, message)
        else:
            row.retry_at = now + FAILURE_BACKOFF[row.failures - 1]
            report.failed.append(event_id)
            log.warning(
                "webhook event %s failed (%d of %d): %s; retried at %s",
                event_id,
                row.failures,
                MAX_FAILURES,
                message,
                row.retry_at.isoformat(),
            )


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
    sessions: sessionmaker[Session],
    event_id: int,
    error: str,
    report: EventsReport,
    now: datetime,
    delays: Sequence[timedelta] = RETRY_DELAYS,
) -> None:
    """Leave the event pending until its next attempt (`delays`, from its arrival), or give it up."""
    with transaction(sessions) as session:
        row = session.get(models.WebhookEvent, event_id)
        if row is None:
            return
        row.last_error = error
        at = next_attempt_at(row.received_at, row.attempts, delays)
        if at is None:
            row.processed_at = now
            report.given_up.append(event_id)
            log.info("webhook event %s given up after %d attempts: %s", event_id, row.attempts, error)
        else:
            row.retry_at = max(at, now + MIN_RETRY_GAP)
            report.retrying.append(event_id)


def _process_one(work: _Pass, event_id: int, event: Json, attempts: int) -> None:
    """One event, by kind: an athlete's (authorization), or an activity's (deleted, or created/updated)."""
    athlete_id = int(event["owner_id"])
    if event["object_type"] == "athlete":
        _athlete_event(work, event_id, athlete_id, event["updates"])
    elif _athlete_ready(work, event_id, athlete_id):
        if event["aspect_type"] == "delete":
            _activity_deleted(work, event_id, int(event["object_id"]))
        else:
            _activity_changed(work, event_id, athlete_id, int(event["object_id"]), attempts)


def _athlete_event(work: _Pass, event_id: int, athlete_id: int, updates: Mapping[str, Any]) -> None:
    if str(updates.get("authorized", "")).lower() == "false":
        _deauthorization_announced(work.deps, event_id, athlete_id, work.report)
    else:
        _finish(work.deps.sessions, event_id, work.now)
    work.report.processed += 1


def _athlete_ready(work: _Pass, event_id: int, athlete_id: int) -> bool:
    """Whether the athlete's activity events may be acted on now; otherwise the event is settled or waits."""
    now, sessions = work.now, work.deps.sessions
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, athlete_id)
        state = athlete.state if athlete else None
        deferred = athlete is not None and athlete.defer_until is not None and athlete.defer_until > now
    if state != AthleteState.ACTIVE:
        # Unknown, suspended, deauthorized or waiting for `recovery auth`: the poll after reconnecting
        # catches up, and no read is spent on it.
        _finish(sessions, event_id, now, f"athlete {athlete_id} is {state or 'unknown'}")
        work.report.processed += 1
        return False
    if deferred:
        work.report.waiting += 1
        return False
    return True


def _activity_deleted(work: _Pass, event_id: int, activity_id: int) -> None:
    with transaction(work.deps.sessions) as session:
        delete_activity(session, activity_id, work.now, work.deps.ingest_config)
    _finish(work.deps.sessions, event_id, work.now)
    work.report.deleted.append(activity_id)
    work.report.processed += 1


def _activity_changed(work: _Pass, event_id: int, athlete_id: int, activity_id: int, attempts: int) -> None:
    """Read the activity (one attempt of the event's few) and ingest it like a poll would."""
    if work.share_spent_until is not None:
        work.report.waiting += 1  # no read left for webhooks in this window; events that need none go on
        return
    if not _claim(work.deps.sessions, event_id, attempts):
        return  # another instance is on it
    detail = _read_activity(work, event_id, athlete_id, activity_id, attempts)
    if detail is None:
        return
    if detail.get("resource_state") == -1:
        _retry_later(
            work.deps.sessions, event_id, "Strava is still processing the activity", work.report, work.now
        )
        return
    _ingest(work, event_id, athlete_id, activity_id, detail)


def _read_activity(
    work: _Pass, event_id: int, athlete_id: int, activity_id: int, attempts: int
) -> Json | None:
    """The activity's detail, or None when the event was settled, left for later or must wait."""
    sessions, report, now = work.deps.sessions, work.report, work.now
    try:
        return work.access(athlete_id)(lambda port: port.get_activity(activity_id))
    except NotFound:
        _retry_later(sessions, event_id, "activity not readable (404)", report, now, NOT_FOUND_DELAYS)
    except WebhookShareSpent as error:
        _claim(sessions, event_id, attempts + 1, change=-1)  # no request went out
        work.share_spent_until = error.until
        report.waiting += 1
    except BudgetSpent as error:
        _claim(sessions, event_id, attempts + 1, change=-1)  # not the event's attempt: no request went out
        work.deps.handle_failure(athlete_id, error)
        raise _Stop from error
    except (tokens.ReauthNeeded, StravaError) as error:
        _strava_refused(work, event_id, athlete_id, attempts, error)
    return None


def _strava_refused(
    work: _Pass, event_id: int, athlete_id: int, attempts: int, error: tokens.ReauthNeeded | StravaError
) -> None:
    """Apply the poller's failure policy to the athlete, then settle the event by what it decided."""
    sessions, report, now = work.deps.sessions, work.report, work.now
    outcome, _until, message = work.deps.handle_failure(athlete_id, error)
    work.accesses.pop(athlete_id, None)
    if outcome in (PollOutcome.DEFERRED, PollOutcome.APP_INACTIVE):
        _claim(sessions, event_id, attempts + 1, change=-1)  # Strava's limits, not the event's fault
    if outcome == PollOutcome.DEFERRED:
        raise _Stop from error
    if outcome == PollOutcome.FAILED and isinstance(error, StravaUnavailable):
        _retry_later(sessions, event_id, message, report, now)
    elif outcome == PollOutcome.APP_INACTIVE:
        report.waiting += 1
    else:
        _finish(sessions, event_id, now, message)
        report.processed += 1


def _ingest(work: _Pass, event_id: int, athlete_id: int, activity_id: int, detail: Json) -> None:
    sessions, now = work.deps.sessions, work.now
    try:
        with transaction(sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is not None:
                ingest_fetched(session, athlete, detail, work.deps.ingest_config, now)
            _mark_done(session, event_id, now, None)
    except InvalidActivity as error:
        log.warning("webhook event %s: activity %s not ingested: %s", event_id, activity_id, error)
        _finish(sessions, event_id, now, str(error))
    else:
        work.report.ingested.append(activity_id)
    work.report.processed += 1


# -- deauthorization: suspend, then ask Strava ---------------------------------------------------------------


def _deauthorization_announced(
    deps: WebhookDeps, event_id: int, athlete_id: int, report: EventsReport
) -> None:
    """Suspend the athlete (nothing sent, polled or deleted) and ask Strava whether it is true."""
    now = deps.clock()
    with transaction(deps.sessions) as session:
        athlete = athlete_store.get_for_update(session, athlete_id)
        suspended = athlete is not None and athlete.state == AthleteState.ACTIVE
        if athlete is not None and suspended:
            athlete_store.set_state(
                athlete, AthleteState.SUSPENDED, now, error="deauthorization announced, not yet confirmed"
            )
            athlete.defer_until = None
        _mark_done(session, event_id, now, None if suspended else "athlete is not active")
    if not suspended:
        return
    report.suspended.append(athlete_id)
    log.warning(
        "athlete %s: a webhook event says they deauthorized the app; nothing is sent to them until Strava "
        "confirms it",
        athlete_id,
    )
    confirm_deauthorization(deps, athlete_id, report)


def confirm_suspended(deps: WebhookDeps, report: EventsReport) -> None:
    """Ask Strava about every suspended athlete whose last question went unanswered (an outage)."""
    now = deps.clock()
    with deps.sessions() as session:
        due = list(
            session.scalars(
                select(models.Athlete.id)
                .where(
                    models.Athlete.state == AthleteState.SUSPENDED,
                    models.Athlete.defer_until.is_(None) | (models.Athlete.defer_until <= now),
                )
                .order_by(models.Athlete.id)
            )
        )
    for athlete_id in due:
        confirm_deauthorization(deps, athlete_id, report)


def confirm_deauthorization(deps: WebhookDeps, athlete_id: int, report: EventsReport) -> str:
    """The confirming call: a token refresh. Strava refuses it once the athlete revoked the app.

    Returns `forgotten` (confirmed: their Strava data is deleted), `restored` (Strava still authorizes the
    app: active again, nothing lost), `unconfirmed` (Strava could not answer: still suspended, asked again
    after DEAUTH_CONFIRM_RETRY) or `not_suspended`. The refresh runs under the athlete's row lock and a
    rotated refresh token is stored in the same transaction, as in `tokens.access_token`."""
    now = deps.clock()
    with transaction(deps.sessions) as session:
        athlete = athlete_store.get_for_update(session, athlete_id)
        if athlete is None or athlete.state != AthleteState.SUSPENDED:
            return "not_suspended"
        refused: str | None = None
        if not athlete.refresh_token:
            refused = "no refresh token to confirm with"
        else:
            try:
                grant = deps.port_factory(None).refresh(athlete.refresh_token)
            except InvalidGrant as error:
                refused = str(error)
            except StravaError as error:
                athlete.defer_until = now + DEAUTH_CONFIRM_RETRY
                athlete.last_error = f"deauthorization not yet confirmed: {error}"
                athlete.updated_at = now
                log.warning(
                    "athlete %s: could not confirm the deauthorization with Strava (%s); asking again at %s",
                    athlete_id,
                    error,
                    athlete.defer_until.isoformat(),
                )
                return "unconfirmed"
            else:
                athlete_store.save_tokens(athlete, grant, now)
                athlete_store.set_state(athlete, AthleteState.ACTIVE, now)
                athlete.defer_until = None
        if refused is None:
            report.restored.append(athlete_id)
            log.warning(
                "athlete %s: Strava still authorizes the app, so the deauthorization event was forged or "
                "stale; nothing was deleted and reminders resume",
                athlete_id,
            )
            return "restored"
        forget_athlete(session, athlete_id, now)
        poll_state.forget(session, athlete_id)
    report.forgotten.append(athlete_id)
    log.info(
        "athlete %s deauthorized the app (Strava confirms: %s); their Strava data was deleted",
        athlete_id,
        refused,
    )
    return "forgotten"


# -- the daemon's side ---------------------------------------------------------------------------------------


class WebhookWork:
    """The daemon's webhook job: asks Strava which subscription is live at start and every CONFIRM_EVERY
    (so one made or deleted elsewhere is learned), then processes the pending events."""

    def __init__(self, deps: WebhookDeps, confirm_every: timedelta = CONFIRM_EVERY) -> None:
        self.deps = deps
        self._confirm_every = confirm_every
        self._next_confirm: datetime | None = None  # None: at the first run

    def confirm_if_due(self) -> None:
        now = self.deps.clock()
        if self._next_confirm is not None and now < self._next_confirm:
            return
        try:
            confirm_subscription(self.deps.sessions, self.deps.port_factory(None), now)
        except StravaError as error:
            self._next_confirm = now + CONFIRM_RETRY
            log.warning(
                "could not ask Strava about the push subscription (%s); asking again at %s",
                error,
                self._next_confirm.isoformat(),
            )
        else:
            self._next_confirm = now + self._confirm_every

    def __call__(self) -> EventsReport:
        self.confirm_if_due()
        return process_events(self.deps)


class BackstopPolls:
    """The daemon's poller while the webhook receiver is on. Poll jobs run at the normal interval; while a
    subscription is confirmed live (`live_subscription`) an athlete polled within the backstop interval is
    passed over, so polling is only the backstop for lost events; without one every poll runs."""

    def __init__(self, poller: Poller, backstop_interval: int) -> None:
        self.poller = poller
        self.backstop = timedelta(seconds=backstop_interval)

    def _backstop_covers(self, session: Session, athlete_id: int, now: datetime) -> bool:
        if live_subscription(session, now) is None:
            return False
        last = session.scalar(select(models.Athlete.last_sync_at).where(models.Athlete.id == athlete_id))
        return last is not None and now - last < self.backstop

    def due_athletes(self, now: datetime) -> Sequence[int]:
        due = self.poller.due_athletes(now)
        with self.poller.sessions() as session:
            return [athlete_id for athlete_id in due if not self._backstop_covers(session, athlete_id, now)]

    def poll_athlete(self, athlete_id: int) -> PollReport:
        now = self.poller.clock()
        with self.poller.sessions() as session:
            covered = self._backstop_covers(session, athlete_id, now)
        if covered:
            report = PollReport(
                athlete_id, outcome=PollOutcome.SKIPPED, message="webhooks are live: backstop poll later"
            )
            log.debug("%s", report)
            return report
        return self.poller.poll_athlete(athlete_id)

    def poll_offset(self, athlete_id: int, interval: int) -> float:
        return self.poller.poll_offset(athlete_id, interval)


class WebhookReceiver:
    """The HTTP endpoint: handshake and guarded intake; `on_event` may wake the processing."""

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
        intake = accept_event(self._sessions, body, self._clock())
        if intake.outcome == "stored" and self._on_event is not None:
            try:
                self._on_event()
            except Exception:  # waking the worker early is an optimisation; the periodic job still runs
                log.exception("could not wake the webhook processing")
        return intake.status, intake.body
