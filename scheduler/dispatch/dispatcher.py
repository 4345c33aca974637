"""The dispatcher: one pass expires stale rows, claims due ones under a lease, sends them, and marks each.

Several instances may run it against one database at once; the lease makes each row go to one of them.
Delivery is at-least-once: a reminder is sent twice only when an instance dies (or stalls past its lease)
between sending and marking — at most `batch_size` reminders, the leases it held. It is tracked per
destination: a retry goes only to the destinations that have not had the reminder, so one dead destination
never makes the working ones receive a copy per attempt.

On time at scale. A pass that has work does not end when nothing more is due this instant: it waits, within
the pass and on the same connection, for rows falling due in the next `LINGER`, and claims them as they fall
due, at most once per `GATHER` (what falls due meanwhile goes in one claim), so under a steady stream a
reminder leaves tens of milliseconds after its due time instead of waiting for the next wake-up. Instances
sharing a database race for those rows (SKIP LOCKED gives each row to one); one that keeps finding them taken
gathers longer, up to `MAX_GATHER`, so the losers cost little.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler import metrics
from scheduler.clock import Clock, utc_now
from scheduler.dispatch import outbox
from scheduler.dispatch.backoff import Backoff, RetryPolicy
from scheduler.domain.status import ReminderStatus
from scheduler.notify.port import DestinationResult, Message, Notifier, SendResult
from scheduler.settings import DispatchSettings
from scheduler.store.db import transaction
from scheduler.web import links, signing

log = logging.getLogger("scheduler.dispatch")

# Longest a completed send waits to be written with others (its row stays leased meanwhile), in seconds.
SETTLE_DELAY = 0.05
# A pass that has sent something waits for rows falling due this soon rather than ending: being woken again
# costs a round of queries and comes at least 0.2 s later (scheduler.daemon.jobs.MIN_WAKEUP_GAP)...
LINGER = timedelta(seconds=1)
# ...but a pass ends after this long, so the expiry of stale rows and the health mark come round.
MAX_LINGER = timedelta(seconds=10)
# A lingering pass claims at most once per this: under a stream, the rows falling due meanwhile go in one
# transaction. Measured with three daemons and 10,000 reminders over 30 s: 20 ms cost ~10 % more CPU than
# 50 ms, for a p50 35 ms sooner; well inside the 1 s target either way.
GATHER = timedelta(milliseconds=50)
# Each lingering claim that finds the rows gone (another instance was quicker) doubles the gathering time, up
# to this: instances sharing a database do not all query for every few rows, and the one that keeps up goes on
# claiming them at the short gathering time.
MAX_GATHER = timedelta(milliseconds=400)
Outcome = Literal["sent", "retrying", "failed", "partial", "lease_lost", "deferred"]


@dataclass(frozen=True, slots=True)
class DispatchReport:
    expired: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, planned again after a backoff
    failed: int = 0  # failed for good (attempts exhausted, or the next try would fall after expiry)
    partial: int = 0  # as failed, but some destinations did get it
    lease_lost: int = 0  # finished after the lease lapsed: left to the instance that holds the row now
    deferred: int = 0  # not sent: too little of the lease was left, or shutting down; given back at once


@dataclass(frozen=True, slots=True)
class _Attempt:
    reminder: outbox.Claimed
    started_at: datetime
    finished_at: datetime
    result: SendResult  # of the destinations tried this time: those earlier attempts reached are left out

    @property
    def reached(self) -> frozenset[str]:
        """Every destination that has the reminder now, this attempt's and earlier ones'."""
        return self.reminder.delivered_to | {r.identity for r in self.result.results if r.ok}

    @property
    def complete(self) -> bool:
        """Every destination has it: none failed this time, and some destination has it at all."""
        return all(r.ok for r in self.result.results) and bool(self.reached)


@dataclass(frozen=True, slots=True)
class _Settled:
    outcomes: list[Outcome]
    claimed: list[outbox.Claimed]
    expired: int
    next_due: datetime | None  # when lingering: the next row's due time, if within LINGER


@dataclass(frozen=True, slots=True)
class _Skip:
    reminder: outbox.Claimed
    reason: str


class _Completions:
    """Where workers leave finished sends. The pass is woken once a group is ready, not once per send."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._items: list[_Attempt | _Skip] = []
        self._outstanding = 0  # sends claimed and not yet taken by the pass: their leases are still held
        self._group = 1

    @property
    def outstanding(self) -> int:
        with self._ready:
            return self._outstanding

    def expect(self, count: int) -> None:
        with self._ready:
            self._outstanding += count

    def put(self, item: _Attempt | _Skip) -> None:
        with self._ready:
            self._items.append(item)
            if len(self._items) >= min(self._group, self._outstanding):
                self._ready.notify()

    def take(self, group: int, timeout: float) -> list[_Attempt | _Skip]:
        with self._ready:
            self._group = group
            self._ready.wait_for(lambda: len(self._items) >= min(self._group, self._outstanding), timeout)
            items, self._items = self._items, []
            self._outstanding -= len(items)
            return items


class Dispatcher:
    """Sends due reminders from the outbox. `run_once` may be called from several threads and processes.

    `notifier.ready()` is called once per pass that has work; when it raises, the pass gives its rows back.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        settings: DispatchSettings,
        instance_id: str,
        clock: Clock = utc_now,
        *,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        public_url: str | None = None,
    ) -> None:
        self._sessions = sessions
        # With the page's public URL, every message carries the runner's signed answers and the page's link.
        self._public_url = public_url
        self._link_key: bytes | None = None
        self._notifier = notifier
        self._settings = settings
        self._instance = instance_id
        self._clock = clock
        self._policy = RetryPolicy(
            settings.max_attempts,
            backoff
            or Backoff(
                first=timedelta(seconds=settings.retry_first),
                maximum=timedelta(seconds=max(settings.retry_max, settings.retry_first)),
            ),
        )
        self._rng = rng or random.Random()
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._closing = False
        self._wake = threading.Event()  # set once closing: a pass waiting for rows to fall due stops waiting

    @property
    def instance_id(self) -> str:
        return self._instance

    def run_once(self) -> DispatchReport:
        """One pass: expire, then send what is due. Cheap when nothing is due: one short transaction of two
        indexed UPDATEs.

        Sends run in parallel (`workers`). Rows are claimed in chunks as workers free up, so this instance
        never holds more than `batch_size` leases — the most a crash can make another instance repeat — and
        the workers never idle at the tail of a chunk. Completed sends are written in groups, together with
        the next claim, in one short transaction: under load the cost of writing is what bounds throughput.

        A pass that sent something keeps going while more rows fall due within `LINGER`, claiming each few
        milliseconds' worth as it falls due, for up to `MAX_LINGER` in all: under a steady stream a reminder
        waits for neither a wake-up (a round of queries, and at least 0.2 s after the previous pass) nor the
        end of the sends before it. The pass uses one database connection throughout.
        """
        started = self._clock()
        linger_until = started + MAX_LINGER
        expired, claimed_total = 0, 0
        counts: Counter[Outcome] = Counter()
        notifier: Notifier | None = None
        pool: ThreadPoolExecutor | None = None
        completions = _Completions()
        urls: dict[int, tuple[str, ...]] = {}
        more_due, first = True, True
        claim_at: datetime | None = None  # while lingering: when to claim the rows falling due next
        gather = GATHER
        top_up_at = max(1, self._settings.batch_size // 2)
        with self._pass_session() as session:
            try:
                while True:
                    until_claim = None if claim_at is None else _seconds(claim_at - self._clock())
                    soon = until_claim is not None and until_claim <= SETTLE_DELAY and not self._closing
                    if soon and until_claim is not None and completions.outstanding:
                        # The next claim comes sooner than a group would be written: what completes by then
                        # is written with it, in one transaction. (Once closing, `_wake` no longer waits.)
                        self._wake.wait(until_claim)
                        group = completions.take(top_up_at, 0)
                    elif completions.outstanding:
                        # Wake once half a batch of sends has completed (or SETTLE_DELAY passed, or none is
                        # left, or the next rows fall due)...
                        group = completions.take(top_up_at, SETTLE_DELAY)
                    else:
                        group = []
                    if claim_at is not None and self._clock() >= claim_at:
                        more_due, claim_at = True, None
                    room = self._settings.batch_size - completions.outstanding
                    # ...and top up once half the leases are free, not after every send.
                    wanted = room if more_due and not self._closing and room >= top_up_at else 0
                    if not group and not wanted:
                        if completions.outstanding:
                            continue
                        if claim_at is None or not self._linger(claim_at):
                            break
                        continue
                    # One short transaction writes the group's outcomes and claims the next chunk: few
                    # wake-ups and few writes under load, and a crash window of at most a group.
                    claiming_at = self._clock()
                    settled = self._settle_and_claim(
                        session, group, wanted, first, urls, linger_until, claimed_before=claimed_total > 0
                    )
                    counts.update(settled.outcomes)
                    expired += settled.expired
                    if wanted:
                        first, more_due = False, len(settled.claimed) == wanted
                        gather = GATHER if settled.claimed else min(gather * 2, MAX_GATHER)
                        if not more_due and settled.next_due is not None:
                            # At most one claim per `gather`: rows falling due meanwhile go in one claim,
                            # and a lone row after a quiet spell is claimed the moment it is due.
                            claim_at = max(settled.next_due, claiming_at + gather)
                    chunk = settled.claimed
                    if chunk:
                        claimed_total += len(chunk)
                        notifier = notifier or self._ready_or_release(chunk)
                        pool = pool or ThreadPoolExecutor(
                            self._settings.workers, thread_name_prefix="dispatch"
                        )
                        completions.expect(len(chunk))
                        for reminder in chunk:
                            urls_of = urls.get(reminder.athlete_id, ())
                            pool.submit(self._attempt_and_report, completions, notifier, reminder, urls_of)
            finally:
                if pool is not None:
                    pool.shutdown(wait=True)
        return DispatchReport(
            expired=expired,
            claimed=claimed_total,
            sent=counts["sent"],
            retrying=counts["retrying"],
            failed=counts["failed"],
            partial=counts["partial"],
            lease_lost=counts["lease_lost"],
            deferred=counts["deferred"],
        )

    @contextmanager
    def _pass_session(self) -> Iterator[Session]:
        """A session on one connection for the whole pass, one transaction per `begin()`: checking a pooled
        connection out (and pinging it) for each group cost a round trip each time."""
        engine: Engine = self._sessions.kw["bind"]
        with engine.connect() as connection, self._sessions(bind=connection) as session:
            yield session

    def _linger(self, claim_at: datetime) -> bool:
        """Wait, within the pass, until `claim_at`; False when the pass should end instead (shutting down, or
        a clock that did not get there: a test's)."""
        self._wake.wait(_seconds(claim_at - self._clock()))
        return not self._closing and self._clock() >= claim_at

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
        self._wake.set()  # a lingering pass ends now
        with transaction(self._sessions) as session:
            released = outbox.release(session, self._instance, self._clock(), keep=in_flight)
        if released:
            log.info("gave back %d leased reminder(s)", released)
        return released

    def _ready_or_release(self, claimed: list[outbox.Claimed]) -> Notifier:
        try:
            self._notifier.ready()
            return self._notifier
        except Exception:
            # No notifier (e.g. a configuration error): give the rows back rather than sit on their leases.
            with transaction(self._sessions) as session:
                outbox.release(session, self._instance, self._clock(), only=[r.id for r in claimed])
            raise

    def _attempt_and_report(
        self,
        completions: _Completions,
        notifier: Notifier,
        reminder: outbox.Claimed,
        athlete_urls: Sequence[str],
    ) -> None:
        outcome: _Attempt | _Skip
        try:
            outcome = self._attempt(notifier, reminder, athlete_urls)
        except Exception as exc:  # a bug here must not leave the pass waiting for this send forever
            log.error("dispatching reminder %d failed: %s", reminder.id, type(exc).__name__)
            outcome = _Skip(reminder, f"internal error ({type(exc).__name__})")
        completions.put(outcome)

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
        message = self._message(reminder)
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

    def _message(self, reminder: outbox.Claimed) -> Message:
        message = Message(reminder.title, reminder.body, reminder.tags, delivered=reminder.delivered_to)
        if self._public_url is None or self._link_key is None:
            return message
        return replace(
            message,
            links=links.answer_links(
                self._public_url, self._link_key, reminder.id, reminder.expires_at, reminder.step
            ),
            page_url=links.page_url(self._public_url, reminder.athlete_id, reminder.id),
        )

    def _settle_and_claim(
        self,
        session: Session,
        completed: list[_Attempt | _Skip],
        wanted: int,
        expire_first: bool,
        urls: dict[int, tuple[str, ...]],
        linger_until: datetime,
        *,
        claimed_before: bool,
    ) -> _Settled:
        """Write what completed, then claim up to `wanted` rows due now, in one transaction.

        `urls` (athlete id → own URLs, kept for the whole pass) gains the athletes not seen yet. When the
        claim comes up short in a pass that has claimed something (now or `claimed_before`), before
        `linger_until`, it also reads when the next row falls due, if within LINGER: the pass lingers for it.
        An idle pass stays two statements.
        """
        skipped = [item for item in completed if isinstance(item, _Skip)]
        attempts = [item for item in completed if isinstance(item, _Attempt)]
        outcomes: list[Outcome] = ["deferred"] * len(skipped)
        claimed: list[outbox.Claimed] = []
        expired = 0
        next_due: datetime | None = None
        try:
            with session.begin():
                now = self._clock()
                if skipped:
                    outbox.release(session, self._instance, now, only=[s.reminder.id for s in skipped])
                if attempts:
                    outcomes += self._write_attempts(session, attempts, now)
                if wanted:
                    expired = outbox.expire(session, now) if expire_first else 0
                    claimed = outbox.claim(session, now, self._instance, self._lease, wanted)
                    if claimed and self._public_url and self._link_key is None:
                        self._link_key = signing.secret(session, now)  # never changes: read once
                    urls.update(outbox.athlete_urls(session, {r.athlete_id for r in claimed} - urls.keys()))
                    lingering = (claimed or claimed_before) and now < linger_until
                    if lingering and len(claimed) < wanted:
                        next_due = outbox.next_due_after(session, now, until=min(now + LINGER, linger_until))
        finally:
            with self._lock:
                self._in_flight.difference_update(a.reminder.id for a in attempts)
        for skip in skipped:
            log.info("reminder %d given back unsent: %s", skip.reminder.id, skip.reason)
        if expired:
            log.info("%d reminder(s) expired unsent", expired)
        return _Settled(outcomes, claimed, expired, next_due)

    def _write_attempts(self, session: Session, attempts: list[_Attempt], now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        # Complete ones (the common case) in one statement; the rest are one row each anyway.
        delivered = [a.reminder.id for a in attempts if a.complete]
        held = outbox.finish_sent(session, delivered, self._instance, now)
        for attempt in attempts:
            _count(attempt)
            if attempt.complete:
                outcome = self._log_outcome(attempt, "sent", attempt.reminder.id in held)
                if outcome == "sent":
                    lateness = attempt.finished_at - attempt.reminder.due_at
                    metrics.LATENESS.observe(max(lateness.total_seconds(), 0.0))
                outcomes.append(outcome)
            else:
                outcome = self._finish_unsent(session, attempt, now)
                outcomes.append(outcome)
                if outcome != "lease_lost":
                    held.add(attempt.reminder.id)
        records = [
            outbox.AttemptRecord(
                a.reminder.id, a.reminder.attempts + 1, a.started_at, a.finished_at, a.result
            )
            for a in attempts
        ]
        outbox.record_deliveries(session, self._instance, records, known_present=held)
        return outcomes

    def _finish_unsent(self, session: Session, attempt: _Attempt, now: datetime) -> Outcome:
        number = attempt.reminder.attempts + 1
        retry_at = self._policy.next_attempt_at(number, now, attempt.reminder.expires_at, self._rng)
        reached = attempt.reached
        final: Outcome = "partial" if reached else "failed"
        held = outbox.finish_unsent(
            session,
            attempt.reminder.id,
            self._instance,
            now,
            status=ReminderStatus.PLANNED if retry_at else ReminderStatus(final),
            error=attempt.result.error if retry_at else self._final_error(attempt.result, number),
            available_at=retry_at,
            # Written only when this attempt reached someone new: most failures leave the column alone.
            delivered_to=reached if reached != attempt.reminder.delivered_to else None,
        )
        return self._log_outcome(attempt, "retrying" if retry_at else final, held)

    def _log_outcome(self, attempt: _Attempt, outcome: Outcome, held: bool) -> Outcome:
        reminder, number = attempt.reminder, attempt.reminder.attempts + 1
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
                attempt.result.error,
            )
        return outcome

    def _final_error(self, result: SendResult, attempts: int) -> str:
        reason = (
            f"gave up after {attempts} attempts"
            if attempts >= self._policy.max_attempts
            else "gave up: the next attempt would fall after the step's expiry"
        )
        return f"{result.error}; {reason}"


def _seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)


def _count(attempt: _Attempt) -> None:
    """Per-destination attempts and failures, by apprise service (the URL's scheme: never more of it)."""
    for result in attempt.result.results:
        service = _service(result.destination)
        metrics.DELIVERY_ATTEMPTS.labels(service=service).inc()
        if not result.ok:
            metrics.DELIVERY_FAILURES.labels(service=service).inc()


def _service(destination: str) -> str:
    scheme, separator, _ = destination.partition("://")
    return scheme.lower() if separator and scheme.isalnum() else "unknown"
