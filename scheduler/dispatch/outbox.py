"""The outbox statements: expire, claim under a lease, finish, release. Each runs in the caller's transaction.

Claiming is one UPDATE … RETURNING. On PostgreSQL its row set comes from a `FOR UPDATE SKIP LOCKED` subquery,
so concurrent instances each take different rows without waiting for one another. On SQLite the engine opens
every transaction with BEGIN IMMEDIATE (scheduler.store.db), which serialises writers, so the plain UPDATE is
already exclusive. Finishing a row is conditional on still holding its lease: once the lease has lapsed
another instance may have taken the row over, and the late finisher must not overwrite that one's outcome.

The statements of the hot path (claim, finish_sent, record_deliveries) are Core statements built once per
dialect with named parameters, so SQLAlchemy compiles each once and psycopg reuses its prepared form: under
load their per-row cost, not the database, is what bounds throughput.

Delivery is tracked per destination: `delivered_to` holds the destinations earlier attempts reached, a retry
goes to the others only, and a row whose window closes or whose attempts run out with some reached and some
not ends `partial`. Reminders of a suspended athlete (a deauthorization not yet confirmed) are not claimed:
they wait, and expire only at their own expiry.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from scheduler.domain.status import PENDING, AthleteState, ReminderStatus
from scheduler.notify.port import DestinationResult, SendResult
from scheduler.store import models

# Core columns, not the ORM entity: the ORM's bulk-update bookkeeping costs more than the statements here.
REMINDERS = cast(Table, models.Reminder.__table__)
DELIVERIES = cast(Table, models.Delivery.__table__)
R = REMINDERS.c
PLANNED, SENDING, SENT = ReminderStatus.PLANNED, ReminderStatus.SENDING, ReminderStatus.SENT
FAILED, EXPIRED, PARTIAL = ReminderStatus.FAILED, ReminderStatus.EXPIRED, ReminderStatus.PARTIAL
NEVER_SENT_IN_TIME = "its window closed before it could be sent"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A reminder this instance holds under a lease, with what it takes to send it."""

    id: int
    athlete_id: int
    activity_id: int | None  # None: a message about a day (before a run, a summary, an alert)
    step: str
    title: str
    body: str
    tags: tuple[str, ...]
    attempts: int  # attempts made before this one
    due_at: datetime
    expires_at: datetime
    lease_until: datetime
    delivered_to: frozenset[str] = frozenset()  # destination keys an earlier attempt reached


def _lease_lapsed(now: Any) -> Any:
    # A `sending` row whose lease has run out belongs to nobody: its instance died or stalled.
    return or_(R.status == PLANNED, and_(R.status == SENDING, R.lease_until <= now))


def _athlete_sendable() -> Any:
    athletes = cast(Table, models.Athlete.__table__).c
    suspended = select(athletes.id).where(athletes.state == AthleteState.SUSPENDED)
    return R.athlete_id.not_in(suspended)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _skip_locked(dialect: str, query: Select[Any]) -> Select[Any]:
    if dialect == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _instant(name: str) -> Any:
    return bindparam(name, type_=R.due_at.type)


def expire(session: Session, now: datetime) -> int:
    """Unsent rows whose window has closed become `expired`: a reminder is never sent late."""
    stale = select(R.id).where(R.status.in_(PENDING), R.expires_at <= now, _lease_lapsed(now))
    result = session.execute(
        update(REMINDERS)
        .where(R.id.in_(_skip_locked(_dialect(session), stale).scalar_subquery()))
        .values(
            # Reached some destinations before its window closed: that is not the same as never sent.
            status=case((R.delivered_to.is_(None), EXPIRED), else_=PARTIAL),
            lease_until=None,
            leased_by=None,
            last_error=func.coalesce(R.last_error, NEVER_SENT_IN_TIME),
            updated_at=now,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


_CLAIMED_COLUMNS = (
    R.id,
    R.athlete_id,
    R.activity_id,
    R.step,
    R.title,
    R.body,
    R.tags,
    R.attempts,
    R.due_at,
    R.expires_at,
    R.lease_until,
    R.available_at,
    R.delivered_to,
)
_claim_statements: dict[str, Update] = {}


def _claim_statement(dialect: str) -> Update:
    """UPDATE … RETURNING of up to :p_limit rows due by :p_due_by, leased to :p_instance until
    :p_lease_until; built once per dialect (SKIP LOCKED on PostgreSQL)."""
    statement = _claim_statements.get(dialect)
    if statement is None:
        now = _instant("p_now")
        due = (
            select(R.id)
            .where(
                R.status.in_(PENDING),
                R.available_at <= _instant("p_due_by"),
                R.expires_at > now,
                _lease_lapsed(now),
                _athlete_sendable(),
            )
            .order_by(R.available_at, R.id)
            .limit(bindparam("p_limit", type_=Integer))
        )
        statement = _claim_statements[dialect] = (
            update(REMINDERS)
            .where(R.id.in_(_skip_locked(dialect, due).scalar_subquery()))
            .values(
                status=SENDING,
                leased_by=bindparam("p_instance", type_=String),
                lease_until=_instant("p_lease_until"),
                updated_at=now,
            )
            .returning(*_CLAIMED_COLUMNS)
        )
    return statement


def claim(
    session: Session,
    now: datetime,
    instance: str,
    lease: timedelta,
    limit: int,
    due_by: datetime | None = None,
) -> list[Claimed]:
    """Lease up to `limit` rows due by `due_by` (default now), soonest first, to `instance` for `lease`."""
    parameters = {
        "p_now": now,
        "p_due_by": due_by or now,
        "p_limit": limit,
        "p_instance": instance,
        "p_lease_until": now + lease,
    }
    statement = _claim_statement(_dialect(session))
    rows = sorted(session.execute(statement, parameters).all(), key=lambda row: (row.available_at, row.id))
    return [
        Claimed(
            id=row.id,
            athlete_id=row.athlete_id,
            activity_id=row.activity_id,
            step=row.step,
            title=row.title,
            body=row.body,
            tags=tuple(str(tag) for tag in row.tags or ()),
            attempts=row.attempts,
            due_at=row.due_at,
            expires_at=row.expires_at,
            lease_until=row.lease_until,
            delivered_to=frozenset(str(key) for key in row.delivered_to or ()),
        )
        for row in rows
    ]


def athlete_urls(session: Session, athlete_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    """Each athlete's own apprise URLs (empty: the defaults apply)."""
    if not athlete_ids:
        return {}
    rows = session.execute(
        select(models.Athlete.id, models.Athlete.notify_urls).where(models.Athlete.id.in_(athlete_ids))
    ).all()
    return {row.id: tuple(str(url) for url in row.notify_urls or ()) for row in rows}


def _held(instance: Any, now: Any) -> Any:
    return and_(R.status == SENDING, R.leased_by == instance, R.lease_until > now)


_FINISH_SENT = (
    update(REMINDERS)
    .where(
        R.id.in_(bindparam("p_ids", expanding=True)),
        _held(bindparam("p_instance", type_=String), _instant("p_now")),
    )
    .values(
        status=SENT,
        sent_at=_instant("p_now"),
        attempts=R.attempts + 1,
        lease_until=None,
        leased_by=None,
        last_error=None,
        updated_at=_instant("p_now"),
    )
    .returning(R.id)
)


def finish_sent(session: Session, reminder_ids: Collection[int], instance: str, now: datetime) -> set[int]:
    """Mark delivered rows `sent` — those whose lease this instance still holds; returns their ids.

    One statement for a whole group of completed sends: under load the per-row cost is what bounds throughput.
    """
    if not reminder_ids:
        return set()
    parameters = {"p_ids": list(reminder_ids), "p_instance": instance, "p_now": now}
    return set(session.execute(_FINISH_SENT, parameters).scalars().all())


def finish_unsent(
    session: Session,
    reminder_id: int,
    instance: str,
    now: datetime,
    *,
    status: str,
    error: str | None,
    available_at: datetime | None = None,
    delivered_to: Collection[str] | None = None,
) -> bool:
    """Record an attempt that left destinations unreached: `planned` again at `available_at` for a retry,
    or `failed` / `partial` for good. `delivered_to` (when given) is every destination reached so far.

    Returns False when the lease had lapsed: the row is left to whichever instance holds it now.
    """
    values: dict[str, Any] = {
        "status": status,
        "attempts": R.attempts + 1,
        "lease_until": None,
        "leased_by": None,
        "last_error": error,
        "updated_at": now,
    }
    if available_at is not None:
        values["available_at"] = available_at
    if delivered_to:
        values["delivered_to"] = sorted(delivered_to)
    result = session.execute(
        update(REMINDERS).where(R.id == reminder_id, _held(instance, now)).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    reminder_id: int
    attempt: int
    started_at: datetime
    finished_at: datetime
    result: SendResult


def _result_row(result: DestinationResult) -> dict[str, Any]:
    row: dict[str, Any] = {"destination": result.destination, "ok": result.ok, "error": result.error}
    if result.identity != result.destination:
        row["key"] = result.identity
    return row


def record_deliveries(
    session: Session, instance: str, records: Sequence[AttemptRecord], known_present: Collection[int] = ()
) -> None:
    """One `deliveries` row per attempt with its per-destination results (none if the reminder is gone).

    `known_present`: reminder ids just updated by this transaction, which need no check that they still exist.
    """
    if not records:
        return
    unknown = [r.reminder_id for r in records if r.reminder_id not in known_present]
    gone = (
        set(unknown) - set(session.scalars(select(R.id).where(R.id.in_(unknown))).all()) if unknown else set()
    )
    rows = [
        {
            "reminder_id": record.reminder_id,
            "attempt": record.attempt,
            "instance": instance,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "ok": record.result.ok,
            "results": [_result_row(d) for d in record.result.results],
            "error": record.result.error,
        }
        for record in records
        if record.reminder_id not in gone
    ]
    if rows:
        # One fixed statement over the rows (executemany): compiled once; psycopg pipelines the rows in one
        # round trip. A multi-row VALUES built per group was compiled anew each time (5× the CPU per row).
        session.execute(insert(DELIVERIES), rows)


def release(
    session: Session,
    instance: str,
    now: datetime,
    *,
    keep: Collection[int] = (),
    only: Collection[int] | None = None,
) -> int:
    """Give back this instance's leases (all, or `only` these; never `keep`: in flight) to be claimed."""
    condition = and_(R.status == SENDING, R.leased_by == instance)
    if only is not None:
        condition = and_(condition, R.id.in_(list(only)))
    if keep:
        condition = and_(condition, R.id.not_in(list(keep)))
    result = session.execute(
        update(REMINDERS)
        .where(condition)
        .values(status=PLANNED, lease_until=None, leased_by=None, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


_next_due_statements: dict[str, tuple[Select[Any], Select[Any]]] = {}


def next_due_after(session: Session, now: datetime, until: datetime) -> datetime | None:
    """When the next row becomes claimable strictly after `now` and by `until`: a planned row falling due, or
    a lease running out (its instance died: the row must not wait for this pass to end).

    Strictly after: a row claimable now but not claimed is another instance's (locked) or beyond the claim's
    limit, and waiting for it would spin.
    """
    dialect = _dialect(session)
    statements = _next_due_statements.get(dialect)
    if statements is None:
        after, by = _instant("p_now"), _instant("p_until")
        planned = (
            select(R.available_at)
            .where(
                R.status == PLANNED,
                R.available_at > after,
                R.available_at <= by,
                R.available_at < R.expires_at,
                _athlete_sendable(),
            )
            .order_by(R.available_at)
            .limit(1)
        )
        lapsing = select(func.min(R.lease_until)).where(
            R.status == SENDING, R.lease_until > after, R.lease_until <= by
        )
        statements = _next_due_statements[dialect] = (planned, lapsing)
    parameters = {"p_now": now, "p_until": until}
    moments = [session.scalar(statement, parameters) for statement in statements]
    return min((m for m in moments if m is not None), default=None)


def next_claimable_at(session: Session) -> datetime | None:
    """The soonest instant a row becomes claimable: a planned row's `available_at` or a lease running out."""
    # The first in index order, not MIN(): with the suspended athletes' rows filtered out, MIN() would read
    # every planned row on SQLite.
    planned = session.scalar(
        select(R.available_at)
        .where(R.status == PLANNED, _athlete_sendable())
        .order_by(R.available_at)
        .limit(1)
    )
    leased = session.scalar(select(func.min(R.lease_until)).where(R.status == SENDING))
    candidates = [moment for moment in (planned, leased) if moment is not None]
    return min(candidates) if candidates else None
