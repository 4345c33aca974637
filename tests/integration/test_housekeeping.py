"""Housekeeping drops old webhook events and delivery attempts, and nothing a user still needs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import utc_now
from scheduler.daemon.housekeeping import DELIVERY_RETENTION, WEBHOOK_EVENT_RETENTION, prune
from scheduler.store import models
from scheduler.store.db import transaction
from tests.acceptance.seed import add_activity, add_athlete, add_reminder


def count(sessions: sessionmaker[Session], model: type[models.Base]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_prune_keeps_recent_rows_and_every_reminder(sessions: sessionmaker[Session]) -> None:
    now = utc_now()
    old_event_time = now - WEBHOOK_EVENT_RETENTION - timedelta(hours=1)
    old_delivery_time = now - DELIVERY_RETENTION - timedelta(days=1)
    with transaction(sessions) as session:
        athlete = add_athlete(session, now)
        activity = add_activity(session, athlete.id, now)
        reminder = add_reminder(session, activity, "ice_now", old_delivery_time, now, status="sent")
        for key, received in (("old", old_event_time), ("new", now - timedelta(days=1))):
            session.add(
                models.WebhookEvent(dedupe_key=key, payload={}, received_at=received, processed_at=received)
            )
        for attempt, finished in ((1, old_delivery_time), (2, now - timedelta(days=3))):
            session.add(
                models.Delivery(
                    reminder_id=reminder.id,
                    attempt=attempt,
                    instance="host-1-abc",
                    started_at=finished,
                    finished_at=finished,
                    ok=attempt == 2,
                    results=[],
                )
            )

    with transaction(sessions) as session:
        assert prune(session, now) == {"webhook_events": 1, "deliveries": 1}

    with sessions() as session:
        assert [e.dedupe_key for e in session.scalars(select(models.WebhookEvent))] == ["new"]
        assert [d.attempt for d in session.scalars(select(models.Delivery))] == [2]
    assert count(sessions, models.Reminder) == 1
    assert count(sessions, models.Activity) == 1
    with transaction(sessions) as session:
        assert prune(session, now) == {"webhook_events": 0, "deliveries": 0}
