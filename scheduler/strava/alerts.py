"""Telling an athlete once about a problem only they (or the app owner) can fix.

The mark (`Athlete.alerted_problem`) is committed before the message goes out, under the athlete's row lock,
so two instances never both send it; a failed send clears the mark so the next poll tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.status import AthleteState
from scheduler.notify.port import Message, Notifier
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction

log = logging.getLogger(__name__)


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
    message: Message


def needs_reauth(name: str, athlete_id: int, reason: str) -> Problem:
    who = f"{name} ({athlete_id})" if name else str(athlete_id)
    return Problem(
        AlertKey.ACCESS_LOST,
        Message(
            title=f"Strava access lost for {who}",
            body=(
                f"Strava no longer accepts this app's access for athlete {who} ({reason}). "
                "No recovery reminders will be planned for new activities until you connect again: "
                "run `recovery auth` on the machine running the recovery scheduler."
            ),
            tags=("urgent",),
        ),
    )


def app_inactive(probe_minutes: float) -> Problem:
    return Problem(
        AlertKey.APP_INACTIVE,
        Message(
            title="Strava refuses this app: Application Inactive",
            body=(
                'Strava answers every request with 403 "Application Inactive": the Strava account '
                "that owns the API application needs an active Strava subscription. Log in with that "
                "account, subscribe, then reactivate the application at https://www.strava.com/settings/api. "
                f"The scheduler checks again every {probe_minutes:g} minutes with one request and resumes "
                "by itself as soon as Strava answers; you will not be told again."
            ),
            tags=("urgent",),
        ),
    )


def polls_failing(
    name: str, athlete_id: int, failed_polls: int, since: datetime, error: str, advice: str
) -> Problem:
    who = f"{name} ({athlete_id})" if name else str(athlete_id)
    return Problem(
        AlertKey.POLLS_FAILING,
        Message(
            title=f"Recovery reminders stopped for {who}: reading Strava fails",
            body=(
                f"The last {failed_polls} polls of Strava for athlete {who} failed, the first at "
                f"{since:%Y-%m-%d %H:%M} UTC: {error}. Until a poll works again, new activities get no "
                f"recovery reminders. {advice} You will be told again only if it works and then fails again."
            ),
            tags=("urgent",),
        ),
    )


def alert_once(
    sessions: sessionmaker[Session], notifier: Notifier, athlete_id: int, problem: Problem, now: datetime
) -> bool:
    """Send `problem` to the athlete's channel unless they were already told; True when it was sent now."""
    with transaction(sessions) as session:
        athlete = athlete_store.get_for_update(session, athlete_id)
        if athlete is None or athlete.alerted_problem == problem.key:
            return False
        if athlete.state == AthleteState.SUSPENDED:  # they may have revoked the app: send them nothing
            return False
        athlete_store.mark_alerted(athlete, problem.key, now)
        urls = [str(url) for url in athlete.notify_urls or []]
    result = notifier.send(problem.message, urls)
    if result.ok:
        log.warning("athlete %s told about %s: %s", athlete_id, problem.key, problem.message.title)
        return True
    log.error(
        "could not tell athlete %s about %s (%s): %s",
        athlete_id,
        problem.key,
        result.error,
        problem.message.title,
    )
    with transaction(sessions) as session:
        athlete = athlete_store.get_for_update(session, athlete_id)
        if athlete is not None and athlete.alerted_problem == problem.key and athlete.alerted_at == now:
            athlete.alerted_problem = None
            athlete.alerted_at = None
    return False


def clear(session: Session, athlete_id: int, problem: AlertKey) -> None:
    """The problem is over: a later occurrence is worth a new message."""
    athlete = session.get(models.Athlete, athlete_id)
    if athlete is not None and athlete.alerted_problem == problem:
        athlete.alerted_problem = None
        athlete.alerted_at = None
