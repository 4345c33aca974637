"""Telling an athlete once about a problem only they (or the app owner) can fix.

An alert is an outbox row like every other message: the dispatcher sends it with its retries and backoff,
logs each attempt in the delivery log, and `recovery history` and the page show it. The mark
(`Athlete.alerted_problem`) and the row are written in one transaction under the athlete's row lock, so two
instances never both queue it; the mark stays until the problem is over (`clear`), and a new occurrence
queues a new row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.status import AthleteState
from scheduler.lookahead import athlete_zone
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.day_messages import insert_day_message
from scheduler.store.db import transaction

log = logging.getLogger(__name__)

STEP_PREFIX = "alert:"
# Past this an alert says something stale (the next occurrence queues a fresh one): it expires unsent.
ALERT_LIFETIME = timedelta(days=1)


class AlertKey(StrEnum):
    """What an athlete was told about, stored in `Athlete.alerted_problem` (not a state: see AthleteState)."""

    ACCESS_LOST = "needs_reauth"  # the stored word predates this name; rows written before keep meaning it
    APP_INACTIVE = "app_inactive"
    POLLS_FAILING = "polls_failing"


# This many failed polls in a row tell the athlete (once per streak): one failure is usually Strava's hiccup.
FAILING_AFTER = 3


@dataclass(frozen=True, slots=True)
class Problem:
    key: AlertKey
    title: str
    body: str
    tags: tuple[str, ...] = ("urgent",)  # the dispatcher sends urgent tags at high priority


def needs_reauth(name: str, athlete_id: int, reason: str) -> Problem:
    who = f"{name} ({athlete_id})" if name else str(athlete_id)
    return Problem(
        AlertKey.ACCESS_LOST,
        title=f"Strava access lost for {who}",
        body=(
            f"Strava no longer accepts this app's access for athlete {who} ({reason}). "
            "No recovery reminders will be planned for new activities until you connect again: "
            "run `recovery auth` on the machine running the recovery scheduler."
        ),
    )


def app_inactive(probe_minutes: float) -> Problem:
    return Problem(
        AlertKey.APP_INACTIVE,
        title="Strava refuses this app: Application Inactive",
        body=(
            'Strava answers every request with 403 "Application Inactive": the Strava account '
            "that owns the API application needs an active Strava subscription. Log in with that "
            "account, subscribe, then reactivate the application at https://www.strava.com/settings/api. "
            f"The scheduler checks again every {probe_minutes:g} minutes with one request and resumes "
            "by itself as soon as Strava answers; you will not be told again."
        ),
    )


def polls_failing(
    name: str, athlete_id: int, failed_polls: int, since: datetime, error: str, advice: str
) -> Problem:
    who = f"{name} ({athlete_id})" if name else str(athlete_id)
    return Problem(
        AlertKey.POLLS_FAILING,
        title=f"Recovery reminders stopped for {who}: reading Strava fails",
        body=(
            f"The last {failed_polls} polls of Strava for athlete {who} failed, the first at "
            f"{since:%Y-%m-%d %H:%M} UTC: {error}. Until a poll works again, new activities get no "
            f"recovery reminders. {advice} You will be told again only if it works and then fails again."
        ),
    )


def alert_once(
    sessions: sessionmaker[Session], athlete_id: int, problem: Problem, now: datetime, default_zone: str
) -> bool:
    """Queue `problem` for the athlete unless they were already told; True when it was queued now.

    The row is due at once and dated today in the athlete's zone; its step carries the time, so a new
    occurrence on the same day (a second failure streak) is a row of its own."""
    with transaction(sessions) as session:
        athlete = athlete_store.get_for_update(session, athlete_id)
        if athlete is None or athlete.alerted_problem == problem.key:
            return False
        if athlete.state == AthleteState.SUSPENDED:  # they may have revoked the app: send them nothing
            return False
        local = now.astimezone(athlete_zone(session, athlete, default_zone))
        step = alert_step(problem.key, local)
        queued = insert_day_message(
            session,
            athlete_id,
            local_day=local.date(),
            step=step,
            due_at=now,
            expires_at=now + ALERT_LIFETIME,
            title=problem.title,
            body=problem.body,
            tags=problem.tags,
            now=now,
        )
        if queued is None:  # the same alert in the same second: it is queued already
            return False
        athlete_store.mark_alerted(athlete, problem.key, now)
    log.warning("athlete %s: queued alert %s: %s", athlete_id, problem.key, problem.title)
    return True


def alert_step(key: AlertKey, local: datetime) -> str:
    """The outbox step of an alert queued at `local` (the athlete's wall-clock time), e.g.
    `alert:polls_failing:14:03:00`; at most 40 characters, the column's width."""
    return f"{STEP_PREFIX}{key}:{local:%H:%M:%S}"


def is_alert_step(step: str) -> bool:
    return step.startswith(STEP_PREFIX)


def clear(session: Session, athlete_id: int, problem: AlertKey) -> None:
    """The problem is over: a later occurrence is worth a new message."""
    athlete = session.get(models.Athlete, athlete_id)
    if athlete is not None and athlete.alerted_problem == problem:
        athlete.alerted_problem = None
        athlete.alerted_at = None
