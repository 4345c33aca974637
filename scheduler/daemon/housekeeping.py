"""Periodic tidying: drop what has served its purpose so the database stays small on a Raspberry Pi."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from scheduler.store import models

# Strava repeats an event for a few minutes at most; two weeks is ample to dedupe and to debug.
WEBHOOK_EVENT_RETENTION = timedelta(days=14)
# `recovery history` shows per-destination results; a year covers any question about a past season.
DELIVERY_RETENTION = timedelta(days=365)


def prune(session: Session, now: datetime) -> dict[str, int]:
    """Delete webhook events and delivery attempts past their retention; returns counts."""
    events = session.execute(
        # Unprocessed ones too: by then polling has long picked up whatever they announced.
        delete(models.WebhookEvent).where(models.WebhookEvent.received_at < now - WEBHOOK_EVENT_RETENTION)
    )
    deliveries = session.execute(
        delete(models.Delivery).where(models.Delivery.finished_at < now - DELIVERY_RETENTION)
    )
    return {"webhook_events": _count(events), "deliveries": _count(deliveries)}


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
