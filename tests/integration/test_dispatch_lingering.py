"""A busy pass keeps sending rows as they fall due (real clock, SQLite and PostgreSQL, in-memory notifier).

Under a steady stream of due reminders a pass does not end and wait to be woken again: it claims what falls
due within `LINGER` as it falls due. These tests run on the real clock, and wait with deadlines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import utc_now
from scheduler.dispatch.dispatcher import LINGER, Dispatcher, DispatchReport
from scheduler.notify.memory import MemoryNotifier
from scheduler.settings import DispatchSettings
from scheduler.store import models
from scheduler.store.db import transaction
from tests.doubles.outbox_seed import add_activity, add_athlete, add_reminders, deliveries, reminder

DEADLINE_SECONDS = 30.0


def seed(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    now = utc_now()
    add_athlete(sessions, now, athlete_id=1)
    add_activity(sessions, now, activity_id=100, athlete_id=1)
    return sessions


def dispatcher(sessions: sessionmaker[Session], notifier: MemoryNotifier, instance: str = "a") -> Dispatcher:
    return Dispatcher(sessions, notifier, DispatchSettings(batch_size=10, workers=4), instance)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_rows_falling_due_during_a_busy_pass_go_out_in_that_pass_and_never_early(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    now = utc_now()
    dues = [now - timedelta(seconds=1), now + LINGER * 0.3, now + LINGER * 0.6]
    ids = add_reminders(sessions, now, 3, activity_id=100, due_at=dues)
    notifier = MemoryNotifier()

    report = dispatcher(sessions, notifier).run_once()

    assert (report.claimed, report.sent) == (3, 3)
    assert [m.title[-2:] for m in notifier.messages] == ["#0", "#1", "#2"]
    for rid in ids:
        row = reminder(sessions, rid)
        assert row.status == "sent"
        assert row.sent_at is not None and row.sent_at >= row.due_at


def test_a_row_due_later_than_the_linger_is_left_for_the_wake_up(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    now = utc_now()
    dues = [now - timedelta(seconds=1), now + LINGER + timedelta(seconds=30)]
    soon, later = add_reminders(sessions, now, 2, activity_id=100, due_at=dues)
    runner = dispatcher(sessions, MemoryNotifier())

    report = runner.run_once()

    assert report.sent == 1
    assert reminder(sessions, soon).status == "sent"
    assert (reminder(sessions, later).status, reminder(sessions, later).attempts) == ("planned", 0)
    assert runner.next_due_at() == dues[1]


def test_release_ends_a_lingering_pass_and_leaves_the_next_row_to_others(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    now = utc_now()
    first, waiting = add_reminders(
        sessions, now, 2, activity_id=100, due_at=[now - timedelta(seconds=1), now + LINGER * 0.9]
    )
    notifier = MemoryNotifier()
    runner = dispatcher(sessions, notifier)
    reports: list[DispatchReport] = []
    thread = threading.Thread(target=lambda: reports.append(runner.run_once()))
    thread.start()
    wait_until(lambda: reminder(sessions, first).status == "sent", "the first reminder to be sent")

    runner.release()
    thread.join(DEADLINE_SECONDS)

    assert not thread.is_alive()
    assert reports[0].sent == 1
    row = reminder(sessions, waiting)
    assert (row.status, row.leased_by, row.attempts) == ("planned", None, 0)
    assert len(notifier.messages) == 1
    assert Dispatcher(sessions, notifier, DispatchSettings(), "b").run_once().claimed == 0  # not due yet


def test_lingering_dispatchers_on_one_database_send_each_reminder_once_and_never_early(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    now = utc_now()
    dues = [now - timedelta(seconds=1)] * 10 + [now + LINGER * (n / 40) for n in range(30)]
    ids = add_reminders(sessions, now, len(dues), activity_id=100, due_at=dues)
    notifier = MemoryNotifier()
    runners = [dispatcher(sessions, notifier, instance) for instance in ("a", "b", "c")]
    failures: list[BaseException] = []

    def drain(runner: Dispatcher) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while time.monotonic() < deadline:
                if runner.run_once().claimed:
                    continue
                due = runner.next_due_at()
                if due is None:
                    return
                time.sleep(min(max((due - utc_now()).total_seconds(), 0.005), 0.05))
        except BaseException as exc:  # the assertion below names it
            failures.append(exc)

    threads = [threading.Thread(target=drain, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 5)

    assert failures == []
    titles = [m.title for m in notifier.messages]
    assert sorted(titles) == sorted(f"Ice now — Harbourfront 10K #{n}" for n in range(len(dues)))
    with sessions() as session:
        rows = session.execute(
            select(models.Reminder.status, models.Reminder.due_at, models.Reminder.sent_at)
        ).all()
    assert {row.status for row in rows} == {"sent"}
    assert all(row.sent_at >= row.due_at for row in rows)
    assert all(len(deliveries(sessions, rid)) == 1 for rid in ids)


def test_a_message_about_a_day_is_dispatched_like_any_reminder(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    now = utc_now()
    [rid] = add_reminders(
        sessions,
        now,
        1,
        activity_id=None,
        due_at=now - timedelta(seconds=1),
        title="Rest day — an easy walk is plenty",
        tags=("routine",),
        step_prefix="rest-day",
        local_day=now.date(),
    )
    notifier = MemoryNotifier()

    report = dispatcher(sessions, notifier).run_once()

    row = reminder(sessions, rid)
    assert report.sent == 1
    assert (row.status, row.activity_id, row.attempts) == ("sent", None, 1)
    assert [m.title for m in notifier.messages] == ["Rest day — an easy walk is plenty"]
    [delivery] = deliveries(sessions, rid)
    assert delivery.ok and delivery.results == [
        {"destination": "memory://default", "ok": True, "error": None}
    ]


def test_a_lease_lapsing_during_a_busy_pass_is_taken_over_in_that_pass(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    now = utc_now()
    due, orphaned = add_reminders(sessions, now, 2, activity_id=100, due_at=now - timedelta(seconds=1))
    lapses_at = now + LINGER * 0.5
    with transaction(sessions) as session:  # a dead instance's lease, running out during the pass
        session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == orphaned)
            .values(status="sending", leased_by="dead", lease_until=lapses_at)
        )
    notifier = MemoryNotifier()

    report = dispatcher(sessions, notifier).run_once()

    assert (report.claimed, report.sent) == (2, 2)
    row = reminder(sessions, orphaned)
    assert row.status == "sent"
    assert row.sent_at is not None and row.sent_at >= lapses_at
    assert reminder(sessions, due).status == "sent"
