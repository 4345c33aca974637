"""The daemon wired to Strava (the local double): a pushed event becomes a reminder within seconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.store import models
from scheduler.store.db import make_engine, make_sessionmaker
from tests.acceptance.conftest import (
    DaemonFactory,
    base_env,
    recovery,
    strava_settings,
    wait_until,
)
from tests.acceptance.receiver import Receiver, receiver
from tests.doubles.strava_double import StravaDouble

pytestmark = pytest.mark.slow

ATHLETE = 101
VERIFY_TOKEN = "acceptance-verify-token"


@pytest.fixture
def inbox() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def strava_env(double: StravaDouble, inbox: Receiver) -> dict[str, str]:
    return strava_settings(double, inbox.url, RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN)


def test_a_race_pushed_by_webhook_brings_the_ice_reminder_at_once(
    daemon: DaemonFactory, double: StravaDouble, inbox: Receiver, tmp_path: Path
) -> None:
    env = base_env(tmp_path / "data", tmp_path) | strava_env(double, inbox)
    double.add_athlete(ATHLETE, "Ada", "Runner")
    connected = recovery(env, tmp_path, "auth", "--code", double.issue_code(ATHLETE))
    assert connected.returncode == 0, connected.stderr

    d = daemon(strava_env(double, inbox))
    wait_until(lambda: f"polling athlete {ATHLETE}" in d.logs(), 10, "the athlete's poll job")
    port = d.url.rsplit(":", 1)[1]
    subscribed = recovery(
        env, tmp_path, "webhook", "subscribe", "--callback-url", f"http://localhost:{port}/webhooks/strava"
    )
    assert subscribed.returncode == 0, subscribed.stderr

    finished = datetime.now(UTC) - timedelta(minutes=5)
    race = double.add_activity(
        ATHLETE,
        name="Riverside 10K",
        workout_type=1,
        start_date=finished - timedelta(minutes=42),
        distance=10_000.0,
        moving_time=42 * 60,
        elapsed_time=42 * 60,
    )
    deliveries = double.send_event("activity", int(race["id"]), "create", ATHLETE)
    assert deliveries[-1].acknowledged

    # The deadline is half the 60 s webhook job's period and far before the hourly backstop poll: the event
    # itself woke the daemon (the reminder normally arrives within a second or two).
    wait_until(inbox.messages, 30, "the first reminder at the receiver")

    engine = make_engine(d.db_url)
    with make_sessionmaker(engine)() as session:
        activity = session.get(models.Activity, int(race["id"]))
        assert activity is not None and activity.effort == "race"
        sent = session.scalars(select(models.Reminder).where(models.Reminder.status == "sent")).all()
        assert [r.step for r in sent] == ["ice"]
    engine.dispose()
    assert d.stop() == 0


def test_an_athlete_who_revoked_the_app_is_told_at_once_through_the_outbox(
    daemon: DaemonFactory, double: StravaDouble, inbox: Receiver, tmp_path: Path
) -> None:
    env = base_env(tmp_path / "data", tmp_path) | strava_env(double, inbox)
    double.add_athlete(ATHLETE, "Ada", "Runner")
    connected = recovery(env, tmp_path, "auth", "--code", double.issue_code(ATHLETE))
    assert connected.returncode == 0, connected.stderr
    double.revoke(ATHLETE)

    # An hourly sweep: only the wake-up the failed poll arms can bring the alert within the deadline.
    d = daemon(strava_env(double, inbox) | {"RECOVERY_DISPATCH__SWEEP_INTERVAL": "3600"})
    [told] = wait_until(inbox.messages, 30, "the alert at the receiver")
    assert told.title == "Strava access lost for Ada Runner (101)"
    assert "recovery auth" in str(told.body.get("message", ""))

    engine = make_engine(d.db_url)
    with make_sessionmaker(engine)() as session:
        [alert] = session.scalars(select(models.Reminder)).all()
        assert alert.step.startswith("alert:needs_reauth:") and alert.activity_id is None
        logged = session.scalars(select(models.Delivery).where(models.Delivery.reminder_id == alert.id)).all()
        assert [entry.ok for entry in logged] == [True]  # in the delivery log like every reminder
        athlete = session.get(models.Athlete, ATHLETE)
        assert athlete is not None and athlete.alerted_problem == "needs_reauth"
    engine.dispose()
    assert d.stop() == 0
    assert len(inbox.messages()) == 1  # told once
