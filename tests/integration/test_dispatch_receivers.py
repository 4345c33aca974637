"""The dispatcher through apprise to real receivers: retries, timeouts, expiry, email to the athlete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatch.backoff import Backoff
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.metrics import REGISTRY
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.settings import DispatchSettings
from tests.doubles.outbox_seed import (
    FakeClock,
    add_activity,
    add_athlete,
    add_reminders,
    deliveries,
    reminder,
)
from tests.doubles.receivers import HttpReceiver, SmtpReceiver
from tests.integration.conftest import T0


def dispatcher(
    sessions: sessionmaker[Session], url: str, clock: FakeClock, max_attempts: int = 5
) -> Dispatcher:
    settings = DispatchSettings(lease_seconds=60, max_attempts=max_attempts, batch_size=10, workers=2)
    return Dispatcher(sessions, AppriseNotifier([url]), settings, "test", clock, backoff=Backoff(jitter=0))


def test_a_receiver_failing_twice_gets_the_reminder_on_the_third_attempt(
    seeded: sessionmaker[Session], http: HttpReceiver
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    clock = FakeClock(T0)
    sender = dispatcher(seeded, f"json://{http.host_port}/inbox", clock)
    http.fail_next(2)

    reports = [sender.run_once()]
    for _ in range(2):
        clock.set(sender.next_due_at())  # type: ignore[arg-type]  # what the daemon's wake-up does
        reports.append(sender.run_once())

    assert [(r.retrying, r.sent) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    assert [r.status for r in http.requests] == [500, 500, 200]
    assert http.delivered[0].json()["title"] == "Ice now — Harbourfront 10K #0"
    row = reminder(seeded, rid)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, clock.now)
    history = deliveries(seeded, rid)
    assert [d.ok for d in history] == [False, False, True]
    assert "error=500" in (history[0].error or "")
    assert history[0].results[0]["destination"].startswith(f"json://{http.host_port}/inbox")


def test_a_receiver_that_never_answers_ends_failed_with_the_error(
    seeded: sessionmaker[Session], http: HttpReceiver
) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100)
    clock = FakeClock(T0)
    sender = dispatcher(seeded, f"json://{http.host_port}/inbox?rto=0.3&cto=0.3", clock, max_attempts=2)
    http.never_answer()

    sender.run_once()
    clock.set(sender.next_due_at())  # type: ignore[arg-type]
    report = sender.run_once()

    row = reminder(seeded, rid)
    assert report.failed == 1
    assert row.status == "failed"
    assert "Connection error" in (row.last_error or "")
    assert row.last_error.endswith("gave up after 2 attempts")  # type: ignore[union-attr]
    assert len(http.requests) == 2
    assert http.delivered == []


def test_an_expired_reminder_is_never_sent(seeded: sessionmaker[Session], http: HttpReceiver) -> None:
    [rid] = add_reminders(seeded, T0, 1, activity_id=100, due_at=T0 - timedelta(hours=3, minutes=1))
    sender = dispatcher(seeded, f"json://{http.host_port}/inbox", FakeClock(T0))

    report = sender.run_once()

    assert report.expired == 1
    assert reminder(seeded, rid).status == "expired"
    assert http.requests == []


def test_the_athletes_own_email_address_gets_the_reminder(sessions: sessionmaker[Session]) -> None:
    with SmtpReceiver() as smtp:
        url = f"mailto://127.0.0.1:{smtp.port}?from=coach@example.com&to=ada@example.com&mode=insecure"
        add_athlete(sessions, T0, athlete_id=5, notify_urls=[url])
        add_activity(sessions, T0, activity_id=500, athlete_id=5)
        add_reminders(sessions, T0, 1, activity_id=500, athlete_id=5)
        sender = dispatcher(sessions, "json://127.0.0.1:9/not-the-default", FakeClock(T0))

        report = sender.run_once()

        [mail] = smtp.wait_for(1)
    assert report.sent == 1
    assert mail.rcpt_tos == ("ada@example.com",)
    assert mail.subject == "Ice now — Harbourfront 10K #0"
    assert "<strong>Why:</strong> Harbourfront 10K was classed as race." in mail.text("html")


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_attempts_failures_and_lateness_are_counted_per_service(
    seeded: sessionmaker[Session], http: HttpReceiver
) -> None:
    add_reminders(seeded, T0, 2, activity_id=100, due_at=T0 - timedelta(seconds=4))
    clock = FakeClock(T0)
    settings = DispatchSettings(lease_seconds=60, max_attempts=1, batch_size=10, workers=2)
    notifier = AppriseNotifier([f"json://{http.host_port}/inbox", f"json://{http.host_port}/other"])
    sender = Dispatcher(seeded, notifier, settings, "test", clock, backoff=Backoff(jitter=0))
    before = {
        "attempts": metric("recovery_delivery_attempts_total", service="json"),
        "failures": metric("recovery_delivery_failures_total", service="json"),
        "late": metric("recovery_reminder_lateness_seconds_count"),
        "late_sum": metric("recovery_reminder_lateness_seconds_sum"),
    }
    http.fail_next(1)  # one of the four sends fails: that reminder ends partial, the other is sent

    report = sender.run_once()

    assert (report.sent, report.partial) == (1, 1)
    assert metric("recovery_delivery_attempts_total", service="json") - before["attempts"] == 4
    assert metric("recovery_delivery_failures_total", service="json") - before["failures"] == 1
    assert metric("recovery_reminder_lateness_seconds_count") - before["late"] == 1
    assert metric("recovery_reminder_lateness_seconds_sum") - before["late_sum"] == pytest.approx(4.0)
