"""Check-ins from an activity's words, through the real poll path (in-memory Strava, real SQLite): the
words raise the matching check-in with the quoted words as its reason, once per activity, a re-poll or a
check-in the runner cleared never brings it back, and words added days later raise nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava.sync import Poller
from scheduler.web import checkins
from tests.doubles import strava_data
from tests.doubles.memory_strava import MemoryStrava
from tests.doubles.outbox_seed import FakeClock
from tests.integration.test_strava_poller import (
    ATHLETE,
    athlete,
    clock,
    notifier,
    poller,
    settings,
    strava,
    summary,
)
from tests.integration.test_web_page import ingest_config

__all__ = ["athlete", "clock", "notifier", "poller", "settings", "strava"]  # fixtures, used by name


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


def stored_checkins(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(models.CheckIn).order_by(models.CheckIn.id))
        return [
            {
                "kind": r.kind,
                "area": r.area,
                "note": r.note,
                "activity_id": r.activity_id,
                "cleared": r.cleared_at is not None,
            }
            for r in rows
        ]


@pytest.mark.usefixtures("athlete")
def test_words_in_the_name_raise_the_checkin_once(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    run = strava.add_activity(ATHLETE, summary(clock.now - timedelta(hours=2), "Easy 8k, knee felt wobbly"))
    assert poller.poll_athlete(ATHLETE).outcome == "synced"
    assert stored_checkins(sessions) == [
        {
            "kind": "knee_unstable",
            "area": "knee",
            "note": 'Strava: "knee felt wobbly"',
            "activity_id": run["id"],
            "cleared": False,
        }
    ]

    # Renamed on Strava: the activity changes and is ingested again, the check-in is not raised twice.
    strava.update_activity(run["id"], name="Easy 8k - knee felt wobbly again")
    clock.now += timedelta(minutes=20)
    poller.poll_athlete(ATHLETE)
    with sessions() as session:
        row = session.get(models.Activity, run["id"])
        assert row is not None and row.name == "Easy 8k - knee felt wobbly again"
    assert len(stored_checkins(sessions)) == 1


@pytest.mark.usefixtures("athlete")
def test_words_in_the_description_raise_pain_and_a_cleared_one_stays_cleared(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    # No heart rate: the summary leaves the class undecided, so the poll reads the detail (as it does today).
    vague = summary(clock.now - timedelta(hours=2), "Morning Run", average_heartrate=None)
    detail = strava_data.detailed_activity(vague, description="Felt good until a sharp pain in my calf at 6k")
    run = strava.add_activity(ATHLETE, detail)
    poller.poll_athlete(ATHLETE)
    assert strava.count("get_activity") == 1  # no Strava read beyond what the poll makes anyway
    [pain] = stored_checkins(sessions)
    assert (pain["kind"], pain["area"], pain["note"]) == ("pain", "calf", 'Strava: "sharp pain in my calf"')
    with sessions() as session:
        advice = session.scalars(select(models.Reminder).where(models.Reminder.step == "pain_advice")).one()
        assert advice.activity_id is None and advice.status == "planned"

    # The runner clears it on the page (the same function); a re-poll of the edited activity leaves it so.
    with transaction(sessions) as session:
        checkins.clear(session, ATHLETE, "pain", ingest_config(), clock.now)
    strava.update_activity(run["id"], description="Felt good until a sharp pain in my calf at 6k. Iced it.")
    clock.now += timedelta(minutes=20)
    poller.poll_athlete(ATHLETE)
    assert [(c["kind"], c["cleared"]) for c in stored_checkins(sessions)] == [("pain", True)]


@pytest.mark.usefixtures("athlete")
def test_fine_words_and_words_added_days_later_raise_nothing(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    strava.add_activity(
        ATHLETE, summary(clock.now - timedelta(hours=3), "Long run, no pain today, pain free")
    )
    tempo = strava.add_activity(ATHLETE, summary(clock.now - timedelta(hours=2), "Tempo"))
    poller.poll_athlete(ATHLETE)
    assert stored_checkins(sessions) == []

    # Three days on, the runner adds words to the run: they no longer say how the legs are now.
    clock.now += timedelta(days=3)
    strava.update_activity(tempo["id"], name="Tempo, tight hamstrings")
    poller.poll_athlete(ATHLETE)
    with sessions() as session:
        row = session.get(models.Activity, tempo["id"])
        assert row is not None and row.name == "Tempo, tight hamstrings"
    assert stored_checkins(sessions) == []
