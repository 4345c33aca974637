"""What each destination of a reminder got, over all its attempts: read by `history` and /status.

A retry tries only the destinations that have not had the reminder yet, so the newest attempt alone does not
say where a reminder went; this merges the delivery log's per-attempt results into one line per destination.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models


def destinations_of(session: Session, reminder_ids: Collection[int]) -> dict[int, list[dict[str, Any]]]:
    """`by_destination` of each reminder's delivery log (reminders never attempted are absent)."""
    attempts: dict[int, list[list[Any]]] = {}
    if reminder_ids:
        rows = session.execute(
            select(models.Delivery.reminder_id, models.Delivery.results)
            .where(models.Delivery.reminder_id.in_(list(reminder_ids)))
            .order_by(models.Delivery.attempt, models.Delivery.id)
        ).all()
        for reminder_id, results in rows:
            attempts.setdefault(reminder_id, []).append(list(results or []))
    return {reminder_id: by_destination(log) for reminder_id, log in attempts.items()}


def by_destination(attempts: Iterable[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One entry per destination, in the order they were first tried, from the attempts oldest first.

    Each entry: `destination` (privacy URL), `ok` (some attempt reached it), `error` (the last one, when no
    attempt reached it), `attempts` (how many attempts tried it).
    """
    merged: dict[str, dict[str, Any]] = {}
    for results in attempts:
        for result in results:
            destination = str(result.get("destination", "?"))
            entry = merged.setdefault(
                str(result.get("key") or destination),
                {"destination": destination, "ok": False, "error": None, "attempts": 0},
            )
            entry["attempts"] += 1
            if entry["ok"]:
                continue  # reached: a later duplicate (lease lost, crash) does not undo that
            entry["ok"] = bool(result.get("ok"))
            entry["error"] = None if entry["ok"] else result.get("error")
    return list(merged.values())
