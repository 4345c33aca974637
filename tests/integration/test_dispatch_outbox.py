"""The dispatcher against a real database (SQLite and PostgreSQL) with the in-memory notifier."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, update
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatch.backoff import Backoff
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.domain.status import AthleteState
from scheduler.notify.memory import MemoryNotifier
from scheduler.notify.port import Message, SendResult
from scheduler.settings import DispatchSettings
from scheduler.store import models
from scheduler.store.db import transaction
from tests.doubles.outbox_seed import (
    FakeClock,
    add_activity,
    add_athlete,
    add_reminders,
    deliveries,
    reminder,
)
from tests.integration.conftest import T0

NO_JITTER = Backoff(first=timedelta(seconds=30), factor=2, maximum=timedelta(minutes=10), jitter=0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def notifier() -> MemoryNotifier:
    return MemoryNotifier()


def make(
    sessions: sessionmaker[Session],
    notifier: MemoryNotifier,
    clock: FakeClock,
    instance: str = "a",
    **settings: int,
) -> Dispatcher:
    config = DispatchSettings(
        **{"lease_seconds": 60, "max_attempts": 3, "batch_size": 50, "workers": 4, **settings}
    )
    return Dispatcher(sessions, notifier, config, instance, clock, backoff=NO_JITTER)


def test_a_due_reminder_is_sent_once_and_logged(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100, due_at=T0 - timedelta(minutes=1))
    dispatcher = make(seeded, notifier, clock)

    report = dispatcher.run_once()
    again = dispatcher.run_once()

    assert (report.claimed, report.sent) == (1, 1)
    assert again.claimed == 0
    assert [m.title for m in notifier.messages] == ["Ice now — Harbourfront 10K #0"]
    assert notifier.messages[0].tags == ("urgent",)
    row = reminder(seeded, rid)
    assert (row.status, row.sent_at, row.attempts, row.leased_by, row.lease_until) == (
        "sent",
        T0,
        1,
        None,
        None,
    )
    [delivery] = deliveries(seeded, rid)
    assert delivery.ok and delivery.instance == "a" and delivery.attempt == 1
    assert delivery.results == [{"destination": "memory://default", "ok": True, "error": None}]


def test_nothing_is_sent_before_it_is_due_and_the_wake_up_time_is_known(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    due = T0 + timedelta(hours=6)
    add_reminders(seeded, T0, 1, activity_id=100, due_at=due)
    dispatcher = make(seeded, notifier, clock)

    assert dispatcher.run_once().claimed == 0
    assert dispatcher.next_due_at() == due

    clock.set(due)
    assert dispatcher.run_once().sent == 1
    assert dispatcher.next_due_at() is None


def test_a_reminder_past_its_window_expires_and_is_never_sent(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(
        seeded, T0, 1, activity_id=100, due_at=T0 - timedelta(hours=4), useful_for=timedelta(hours=3)
    )
    report = make(seeded, notifier, clock).run_once()

    assert (report.expired, report.claimed) == (1, 0)
    assert notifier.attempts == 0
    row = reminder(seeded, rid)
    assert row.status == "expired"
    assert row.last_error == "its window closed before it could be sent"


def set_state(sessions: sessionmaker[Session], athlete_id: int, state: str) -> None:
    with transaction(sessions) as session:
        session.execute(update(models.Athlete).where(models.Athlete.id == athlete_id).values(state=state))


def test_a_suspended_athletes_reminders_wait_and_go_out_once_they_are_active_again(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    add_athlete(seeded, T0, athlete_id=2)
    add_activity(seeded, T0, activity_id=200, athlete_id=2)
    [waiting] = add_reminders(seeded, T0, 1, activity_id=100, due_at=T0 - timedelta(minutes=1))
    [other] = add_reminders(seeded, T0, 1, activity_id=200, athlete_id=2, title="Refuel #{n}")
    set_state(seeded, 1, AthleteState.SUSPENDED)
    dispatcher = make(seeded, notifier, clock)

    report = dispatcher.run_once()
    clock.advance(minutes=30)
    later = dispatcher.run_once()

    assert (report.claimed, report.sent, later.claimed, later.expired) == (1, 1, 0, 0)
    assert [m.title for m in notifier.messages] == ["Refuel #0"]  # the other athlete is not held up
    row = reminder(seeded, waiting)
    assert (row.status, row.attempts, row.last_error) == ("planned", 0, None)
    assert reminder(seeded, other).status == "sent"
    assert dispatcher.next_due_at() is None  # nothing for the wake-up to spin on meanwhile

    set_state(seeded, 1, AthleteState.ACTIVE)
    assert dispatcher.next_due_at() == row.available_at
    assert dispatcher.run_once().sent == 1
    assert reminder(seeded, waiting).status == "sent"


def test_a_suspended_athletes_reminder_still_expires_at_its_own_expiry_only(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100, useful_for=timedelta(hours=3))
    set_state(seeded, 1, AthleteState.SUSPENDED)
    dispatcher = make(seeded, notifier, clock)

    clock.set(T0 + timedelta(hours=2, minutes=59))
    assert dispatcher.run_once().expired == 0
    assert reminder(seeded, rid).status == "planned"
    clock.set(T0 + timedelta(hours=3))
    assert dispatcher.run_once().expired == 1
    assert reminder(seeded, rid).status == "expired"
    assert notifier.attempts == 0


def test_a_retry_goes_only_to_the_destinations_that_failed(
    seeded: sessionmaker[Session], clock: FakeClock
) -> None:
    notifier = MemoryNotifier(["memory://phone", "memory://mail"])
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    dispatcher = make(seeded, notifier, clock)
    notifier.fail(times=1, error="mail server down", only=["memory://mail"])

    first = dispatcher.run_once()
    clock.set(dispatcher.next_due_at())  # type: ignore[arg-type]
    second = dispatcher.run_once()

    assert (first.retrying, second.sent) == (1, 1)
    assert [entry.destinations for entry in notifier.sent] == [("memory://phone",), ("memory://mail",)]
    row = reminder(seeded, rid)
    assert (row.status, row.attempts, row.delivered_to) == ("sent", 2, ["memory://phone"])


def test_some_destinations_never_reached_ends_partial_listing_them(
    seeded: sessionmaker[Session], clock: FakeClock
) -> None:
    notifier = MemoryNotifier(["memory://phone", "memory://mail"])
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    dispatcher = make(seeded, notifier, clock, max_attempts=2)
    notifier.fail(error="mail server down", only=["memory://mail"])

    first = dispatcher.run_once()
    clock.set(dispatcher.next_due_at())  # type: ignore[arg-type]
    last = dispatcher.run_once()

    assert (first.retrying, last.partial, last.failed) == (1, 1, 0)
    assert [entry.destinations for entry in notifier.sent] == [("memory://phone",)]
    row = reminder(seeded, rid)
    assert row.status == "partial"
    assert row.last_error == "memory://mail: mail server down; gave up after 2 attempts"


def test_a_partly_delivered_reminder_whose_window_closes_is_partial_not_expired(
    seeded: sessionmaker[Session], clock: FakeClock
) -> None:
    notifier = MemoryNotifier(["memory://phone", "memory://mail"])
    [rid] = add_reminders(seeded, T0, 1, activity_id=100, useful_for=timedelta(minutes=10))
    dispatcher = make(seeded, notifier, clock, max_attempts=5)
    notifier.fail(error="mail server down", only=["memory://mail"])
    dispatcher.run_once()  # phone has it; mail is retried in 30 s

    clock.set(T0 + timedelta(minutes=10))
    report = dispatcher.run_once()

    assert report.expired == 1
    row = reminder(seeded, rid)
    assert (row.status, row.last_error) == ("partial", "memory://mail: mail server down")


def test_failures_back_off_exponentially_then_succeed(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    dispatcher = make(seeded, notifier, clock)
    notifier.fail(times=2, error="HTTP 500")

    first = dispatcher.run_once()
    row = reminder(seeded, rid)
    assert first.retrying == 1
    assert (row.status, row.attempts, row.last_error) == ("planned", 1, "memory://default: HTTP 500")
    assert row.available_at == T0 + timedelta(seconds=30)
    assert dispatcher.next_due_at() == T0 + timedelta(seconds=30)

    clock.advance(seconds=29)
    assert dispatcher.run_once().claimed == 0  # not before its backoff

    clock.set(dispatcher.next_due_at())  # type: ignore[arg-type]
    assert dispatcher.run_once().retrying == 1
    assert reminder(seeded, rid).available_at == clock.now + timedelta(seconds=60)  # doubled

    clock.set(dispatcher.next_due_at())  # type: ignore[arg-type]
    assert dispatcher.run_once().sent == 1
    row = reminder(seeded, rid)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert [d.ok for d in deliveries(seeded, rid)] == [False, False, True]
    assert len(notifier.messages) == 1


def test_it_gives_up_after_max_attempts(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    dispatcher = make(seeded, notifier, clock, max_attempts=2)
    notifier.fail(error="refused")

    dispatcher.run_once()
    clock.set(dispatcher.next_due_at())  # type: ignore[arg-type]
    report = dispatcher.run_once()

    row = reminder(seeded, rid)
    assert report.failed == 1
    assert row.status == "failed"
    assert row.last_error == "memory://default: refused; gave up after 2 attempts"
    assert dispatcher.next_due_at() is None
    assert len(deliveries(seeded, rid)) == 2


def test_a_retry_that_would_land_after_expiry_fails_now(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100, due_at=T0, useful_for=timedelta(seconds=20))
    notifier.fail(error="refused")

    report = make(seeded, notifier, clock, max_attempts=5).run_once()

    row = reminder(seeded, rid)
    assert report.failed == 1
    assert row.status == "failed"
    assert "the next attempt would fall after the step's expiry" in (row.last_error or "")


def test_a_notifier_that_raises_counts_as_a_failed_attempt(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    notifier.raise_next(RuntimeError("json://user:hunter2@host boom"))

    report = make(seeded, notifier, clock).run_once()

    row = reminder(seeded, rid)
    assert report.retrying == 1
    assert row.status == "planned"
    assert row.last_error == "(notifier): notifier raised RuntimeError"
    assert "hunter2" not in str(deliveries(seeded, rid)[0].results)


def test_the_athletes_own_urls_are_passed_to_the_notifier(
    sessions: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    add_athlete(sessions, T0, athlete_id=2, notify_urls=["ntfy://ntfy.sh/ada"])
    add_activity(sessions, T0, activity_id=200, athlete_id=2)
    add_reminders(sessions, T0, 1, activity_id=200, athlete_id=2)

    make(sessions, notifier, clock).run_once()

    assert [s.destinations for s in notifier.sent] == [("ntfy://ntfy.sh/ada",)]


def test_a_pass_sends_soonest_first_never_holding_more_than_batch_size_leases(
    seeded: sessionmaker[Session], clock: FakeClock
) -> None:
    dues = [T0 - timedelta(minutes=n) for n in range(7)]
    add_reminders(seeded, T0, 7, activity_id=100, due_at=dues)
    leases_seen: list[int] = []

    class CountingNotifier(MemoryNotifier):
        def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
            with seeded() as session:
                leases_seen.append(
                    session.query(models.Reminder).filter_by(status="sending", leased_by="a").count()
                )
            return super().send(message, athlete_urls)

    notifier = CountingNotifier()
    report = make(seeded, notifier, clock, batch_size=2, workers=1).run_once()

    assert (report.claimed, report.sent) == (7, 7)
    assert [m.title[-2:] for m in notifier.messages] == ["#6", "#5", "#4", "#3", "#2", "#1", "#0"]
    assert max(leases_seen) == 2


def test_a_live_lease_is_respected_and_a_lapsed_one_is_taken_over(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    with transaction(seeded) as session:  # another instance holds it, as if it had crashed mid-send
        session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == rid)
            .values(status="sending", leased_by="dead", lease_until=T0 + timedelta(seconds=60))
        )
    dispatcher = make(seeded, notifier, clock)

    assert dispatcher.run_once().claimed == 0
    assert dispatcher.next_due_at() == T0 + timedelta(seconds=60)

    clock.advance(seconds=60)
    assert dispatcher.run_once().sent == 1
    assert reminder(seeded, rid).status == "sent"


def test_an_outcome_after_the_lease_lapsed_does_not_overwrite_the_new_holder(
    seeded: sessionmaker[Session], clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)

    class SlowNotifier(MemoryNotifier):
        def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
            # While this send is in progress the lease runs out and instance "b" takes the row.
            clock.advance(seconds=61)
            with transaction(seeded) as session:
                session.execute(
                    update(models.Reminder)
                    .where(models.Reminder.id == rid)
                    .values(leased_by="b", lease_until=clock.now + timedelta(seconds=60))
                )
            return super().send(message, athlete_urls)

    report = make(seeded, SlowNotifier(), clock).run_once()

    row = reminder(seeded, rid)
    assert report.lease_lost == 1
    assert (row.status, row.leased_by) == ("sending", "b")
    assert len(deliveries(seeded, rid)) == 1  # the attempt itself is still on record


def test_release_gives_leases_back_for_another_instance_at_once(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    add_reminders(seeded, T0, 3, activity_id=100)
    with transaction(seeded) as session:
        session.execute(
            update(models.Reminder).values(
                status="sending", leased_by="a", lease_until=T0 + timedelta(seconds=60)
            )
        )
    leaving = make(seeded, notifier, clock, instance="a")
    staying = make(seeded, notifier, clock, instance="b")

    assert staying.run_once().claimed == 0
    assert leaving.release() == 3
    assert leaving.run_once().claimed == 0  # a released dispatcher claims nothing more
    assert staying.run_once().sent == 3


def test_two_dispatchers_in_threads_send_each_reminder_once(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    add_reminders(seeded, T0, 60, activity_id=100)
    dispatchers = [make(seeded, notifier, clock, instance=name, batch_size=7) for name in ("a", "b", "c")]

    def drain(dispatcher: Dispatcher) -> None:
        while dispatcher.run_once().claimed:
            pass

    threads = [threading.Thread(target=drain, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    titles = [m.title for m in notifier.messages]
    assert len(titles) == 60
    assert len(set(titles)) == 60


def test_a_pass_with_nothing_due_is_two_statements(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock, engine: Engine
) -> None:
    add_reminders(seeded, T0, 200, activity_id=100, due_at=T0 + timedelta(hours=8))
    dispatcher = make(seeded, notifier, clock)
    statements: list[str] = []

    def record(
        conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        report = dispatcher.run_once()
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert report.claimed == 0
    assert [s for s in statements if s not in ("BEGIN",)] == ["UPDATE", "UPDATE"]


def test_the_notifier_is_made_ready_once_per_pass_with_work(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    calls: list[int] = []

    class Counting(MemoryNotifier):
        def ready(self) -> None:
            calls.append(1)

    counting = Counting()
    dispatcher = Dispatcher(seeded, counting, DispatchSettings(), "a", clock)
    dispatcher.run_once()  # nothing due: nothing to load
    add_reminders(seeded, T0, 3, activity_id=100)
    dispatcher.run_once()

    assert len(calls) == 1
    assert len(counting.messages) == 3


def test_rows_are_given_back_when_no_notifier_can_be_built(
    seeded: sessionmaker[Session], notifier: MemoryNotifier, clock: FakeClock
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)

    class Broken(MemoryNotifier):
        def ready(self) -> None:
            raise ValueError("bad apprise config")

    with pytest.raises(ValueError):
        Dispatcher(seeded, Broken(), DispatchSettings(), "a", clock).run_once()

    row = reminder(seeded, rid)
    assert (row.status, row.leased_by, row.attempts) == ("planned", None, 0)
    assert make(seeded, notifier, clock, instance="b").run_once().sent == 1
