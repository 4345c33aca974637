"""The dispatcher: one pass expires stale rows, claims due ones under a lease, sends them, and marks each.

Several instances may run it against one database at once; the lease makes each row go to one of them.
Delivery is at-least-once: a reminder is sent twice only when an instance dies (or stalls past its lease)
between sending and marking — at most `batch_size` reminders, the leases it held.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock, utc_now
from scheduler.dispatch import outbox
from scheduler.dispatch.backoff import Backoff, RetryPolicy
from scheduler.notify.port import DestinationResult, Message, Notifier, SendResult
from scheduler.settings import DispatchSettings
from scheduler.store.db import transaction

log = logging.getLogger("scheduler.dispatch")

Outcome = Literal["sent", "retrying", "failed", "lease_lost", "deferred"]


@dataclass(frozen=True, slots=True)
class DispatchReport:
    expired: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, planned again after a backoff
    failed: int = 0  # failed for good (attempts exhausted, or the next try would fall after expiry)
    lease_lost: int = 0  # finished after the lease lapsed: left to the instance that holds the row now
    deferred: int = 0  # not sent: too little of the lease was left, or shutting down; given back at once


@dataclass(frozen=True, slots=True)
class _Attempt:
    reminder: outbox.Claimed
    started_at: datetime
    finished_at: datetime
    result: SendResult


@dataclass(frozen=True, slots=True)
class _Skip:
    reminder: outbox.Claimed
    reason: str


class Dispatcher:
    """Sends due reminders from the outbox. `run_once` may be called from several threads and processes.

    `notifier_for` is a Notifier, or a callable returning one (called once per pass that has work, so a
    changed configuration applies without a restart).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifier_for: Notifier | Callable[[], Notifier],
        settings: DispatchSettings,
        instance_id: str,
        clock: Clock = utc_now,
        *,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._notifier_for = notifier_for
        self._settings = settings
        self._instance = instance_id
        self._clock = clock
        self._policy = RetryPolicy(settings.max_attempts, backoff or Backoff())
        self._rng = rng or random.Random()
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._closing = False

    @property
    def instance_id(self) -> str:
        return self._instance

    def run_once(self) -> DispatchReport:
        """One pass. When nothing is due it costs one short transaction of two indexed UPDATEs."""
        now = self._clock()
        with transaction(self._sessions) as session:
            expired = outbox.expire(session, now)
            claimed: list[outbox.Claimed] = []
            urls: dict[int, tuple[str, ...]] = {}
            if not self._closing:
                claimed = outbox.claim(session, now, self._instance, self._lease, self._settings.batch_size)
                urls = outbox.athlete_urls(session, {reminder.athlete_id for reminder in claimed})
        if expired:
            log.info("%d reminder(s) expired unsent", expired)
        if not claimed:
            return DispatchReport(expired=expired)
        notifier = self._notifier()
        counts = dict.fromkeys(("sent", "retrying", "failed", "lease_lost", "deferred"), 0)
        workers = min(self._settings.workers, len(claimed))
        # Sends run in parallel; outcomes are written here, one short transaction each, as they complete,
        # so a crash loses (and later repeats) as few sends as possible.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch") as pool:
            futures = [pool.submit(self._attempt, notifier, r, urls.get(r.athlete_id, ())) for r in claimed]
            for future in as_completed(futures):
                counts[self._settle(future.result())] += 1
        return DispatchReport(
            expired=expired,
            claimed=len(claimed),
            sent=counts["sent"],
            retrying=counts["retrying"],
            failed=counts["failed"],
            lease_lost=counts["lease_lost"],
            deferred=counts["deferred"],
        )

    def next_due_at(self) -> datetime | None:
        """When a row next becomes claimable (may be in the past: then something is due now)."""
        with transaction(self._sessions) as session:
            return outbox.next_claimable_at(session)

    def release(self) -> int:
        """Graceful shutdown: stop claiming and give back every lease not being sent right now.

        Sends already in progress finish and are marked by the pass running them. Returns how many rows
        were given back. This dispatcher claims nothing afterwards.
        """
        with self._lock:
            self._closing = True
            in_flight = set(self._in_flight)
        with transaction(self._sessions) as session:
            released = outbox.release(session, self._instance, self._clock(), keep=in_flight)
        if released:
            log.info("gave back %d leased reminder(s)", released)
        return released

    def _notifier(self) -> Notifier:
        if callable(getattr(self._notifier_for, "send", None)):
            return cast(Notifier, self._notifier_for)
        return cast(Callable[[], Notifier], self._notifier_for)()

    def _attempt(
        self, notifier: Notifier, reminder: outbox.Claimed, athlete_urls: Sequence[str]
    ) -> _Attempt | _Skip:
        with self._lock:
            if self._closing:
                return _Skip(reminder, "shutting down")
            # Half the lease must remain: a send outliving the lease could be repeated by another instance.
            if self._clock() >= reminder.lease_until - self._lease / 2:
                return _Skip(reminder, "too little of its lease left")
            self._in_flight.add(reminder.id)
        started = self._clock()
        message = Message(title=reminder.title, body=reminder.body, tags=reminder.tags)
        try:
            result = notifier.send(message, athlete_urls)
        except Exception as exc:
            # A notifier should report failures, not raise; never let one lose the row. The exception text may
            # quote a URL with its secrets, so only its type is kept.
            log.error("notifier raised %s while sending reminder %d", type(exc).__name__, reminder.id)
            result = SendResult(
                (DestinationResult("(notifier)", False, f"notifier raised {type(exc).__name__}"),)
            )
        return _Attempt(reminder, started, self._clock(), result)

    def _settle(self, attempt: _Attempt | _Skip) -> Outcome:
        if isinstance(attempt, _Skip):
            with transaction(self._sessions) as session:
                outbox.release(session, self._instance, self._clock(), only=[attempt.reminder.id])
            log.info("reminder %d given back unsent: %s", attempt.reminder.id, attempt.reason)
            return "deferred"
        reminder, result = attempt.reminder, attempt.result
        now = self._clock()
        number = reminder.attempts + 1
        outcome: Outcome
        try:
            with transaction(self._sessions) as session:
                if result.ok:
                    outcome = "sent"
                    held = outbox.finish(session, reminder.id, self._instance, now, status=outbox.SENT)
                else:
                    retry_at = self._policy.next_attempt_at(number, now, reminder.expires_at, self._rng)
                    outcome = "retrying" if retry_at else "failed"
                    held = outbox.finish(
                        session,
                        reminder.id,
                        self._instance,
                        now,
                        status=outbox.PLANNED if retry_at else outbox.FAILED,
                        available_at=retry_at,
                        error=result.error if retry_at else self._final_error(result, number),
                    )
                outbox.record_delivery(
                    session,
                    reminder.id,
                    number,
                    self._instance,
                    attempt.started_at,
                    attempt.finished_at,
                    result,
                )
        finally:
            with self._lock:
                self._in_flight.discard(reminder.id)
        if not held:
            log.warning(
                "lease on reminder %d lapsed before its outcome (%s) was saved; another instance may redo it",
                reminder.id,
                outcome,
            )
            return "lease_lost"
        if outcome == "sent":
            log.info("reminder %d (%s) sent, attempt %d", reminder.id, reminder.step, number)
        else:
            log.warning(
                "reminder %d (%s) attempt %d failed, %s: %s",
                reminder.id,
                reminder.step,
                number,
                outcome,
                result.error,
            )
        return outcome

    def _final_error(self, result: SendResult, attempts: int) -> str:
        reason = (
            f"gave up after {attempts} attempts"
            if attempts >= self._policy.max_attempts
            else "gave up: the next attempt would fall after the step's expiry"
        )
        return f"{result.error}; {reason}"
