"""Webhooks end to end: the Strava double pushes events to the daemon's HTTP server, we process them later."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from scheduler.cli import app
from scheduler.http.server import WEBHOOK_PATH, Endpoints, HttpServer
from scheduler.settings import HttpSettings, Settings
from scheduler.store import models
from scheduler.strava import webhooks
from scheduler.strava.client import StravaClient
from scheduler.strava.port import StravaError
from scheduler.strava.sync import Poller
from tests.doubles.strava_double import StravaDouble
from tests.integration import test_strava_sync as shared
from tests.integration.test_strava_sync import ATHLETE, FakeClock, athlete_row, reminders, run, stored

# The fixtures this module shares with the polling tests.
db_url = shared.db_url
strava_double = shared.strava_double
clock = shared.clock
app_settings = shared.app_settings
notifier = shared.notifier
poller = shared.poller
connected = shared.connected

VERIFY_TOKEN = "s3cret-verify-token"


@pytest.fixture
def receiver(sessions: sessionmaker[Session], clock: FakeClock) -> Iterator[str]:
    """The daemon's HTTP server with our webhook endpoint; yields the callback URL."""
    endpoints = Endpoints(
        health=lambda: (True, {}),
        status=lambda: {},
        webhook=webhooks.WebhookReceiver(sessions, VERIFY_TOKEN, clock),
    )
    server = HttpServer(HttpSettings(host="127.0.0.1", port=0), endpoints)
    server.start()
    yield server.url + WEBHOOK_PATH
    server.stop()


@pytest.fixture
def subscribed(strava_double: StravaDouble, app_settings: Settings, receiver: str) -> int:
    return StravaClient(app_settings.strava).create_subscription(receiver, VERIFY_TOKEN)


def events(sessions: sessionmaker[Session]) -> list[models.WebhookEvent]:
    with sessions() as session:
        return list(session.scalars(select(models.WebhookEvent).order_by(models.WebhookEvent.id)))


def test_subscription_needs_our_verify_token(
    strava_double: StravaDouble, app_settings: Settings, receiver: str
) -> None:
    client = StravaClient(app_settings.strava)
    with pytest.raises(StravaError, match="not verifiable"):
        client.create_subscription(receiver, "someone-elses-token")
    assert strava_double.subscription is None

    query = "hub.mode=subscribe&hub.challenge=abc&hub.verify_token=wrong"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{receiver}?{query}", timeout=5)
    assert refused.value.code == 403

    subscription_id = client.create_subscription(receiver, VERIFY_TOKEN)
    assert strava_double.subscription is not None
    assert strava_double.subscription.id == subscription_id


@pytest.mark.usefixtures("connected", "subscribed")
def test_repeated_events_are_stored_once_and_processed_once(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity_id = run(
        strava_double, clock.now - timedelta(minutes=50), name="Harbourfront 10K", workout_type=1
    )

    deliveries = strava_double.send_event("activity", activity_id, "create", ATHLETE, repeat=3)

    assert all(d.acknowledged for d in deliveries)
    assert max(d.seconds for d in deliveries) < 2
    assert len(events(sessions)) == 1
    report = webhooks.process_events(poller)
    assert report.ingested == [activity_id]
    assert stored(sessions)[activity_id].effort == "race"
    assert "ice" in reminders(sessions, activity_id)
    assert webhooks.process_events(poller).processed == 0
    assert strava_double.count_requests("GET", f"/api/v3/activities/{activity_id}") == 1


@pytest.mark.usefixtures("connected", "subscribed")
def test_create_announced_before_the_activity_is_readable_is_retried_later(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity = strava_double.add_activity(
        ATHLETE,
        name="Club Night - 6x800",
        start_date=clock.now - timedelta(hours=1),
        distance=9000.0,
        moving_time=2900,
        uploaded_at=clock.now + timedelta(minutes=1),
    )
    strava_double.send_event("activity", activity["id"], "create", ATHLETE)

    started = time.monotonic()
    first = webhooks.process_events(poller)
    assert time.monotonic() - started < 1
    assert first.retrying == [events(sessions)[0].id]
    assert webhooks.process_events(poller).processed == 0  # not due again yet: no request
    assert strava_double.count_requests("GET", "/api/v3/activities/") == 1

    clock.advance(seconds=31)
    assert webhooks.process_events(poller).retrying  # still 404
    clock.advance(minutes=2)
    done = webhooks.process_events(poller)

    assert done.ingested == [activity["id"]]
    assert stored(sessions)[activity["id"]].effort == "speedwork"
    assert events(sessions)[0].processed_at is not None


@pytest.mark.usefixtures("connected", "subscribed")
def test_update_replans_and_delete_cancels(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity_id = run(strava_double, clock.now - timedelta(hours=1), name="Tempo 5K", workout_type=3)
    strava_double.send_event("activity", activity_id, "create", ATHLETE)
    webhooks.process_events(poller)
    assert stored(sessions)[activity_id].effort == "speedwork"

    strava_double.update_activity(activity_id, workout_type=1)
    strava_double.send_event("activity", activity_id, "update", ATHLETE, {"type": "Run"})
    clock.advance(seconds=5)
    webhooks.process_events(poller)
    assert stored(sessions)[activity_id].effort == "race"

    strava_double.delete_activity(activity_id)
    strava_double.send_event("activity", activity_id, "delete", ATHLETE)
    report = webhooks.process_events(poller)

    assert report.deleted == [activity_id]
    assert set(reminders(sessions, activity_id).values()) <= {"cancelled", "sent", "skipped"}
    assert "planned" not in reminders(sessions, activity_id).values()


@pytest.mark.usefixtures("connected", "subscribed")
def test_deauthorization_removes_the_athletes_strava_data(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    run(strava_double, clock.now - timedelta(hours=2), name="Long run", distance=24000.0, moving_time=7600)
    poller.poll_athlete(ATHLETE)
    assert stored(sessions)
    strava_double.revoke(ATHLETE)

    strava_double.send_event("athlete", ATHLETE, "update", ATHLETE, {"authorized": "false"})
    report = webhooks.process_events(poller)

    assert report.forgotten == [ATHLETE]
    assert stored(sessions) == {}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == 0
        assert session.get(models.AppState, f"strava.poll.{ATHLETE}") is None
    athlete = athlete_row(sessions)
    assert athlete.state == "deauthorized"
    assert athlete.access_token is None and athlete.refresh_token is None
    clock.advance(minutes=10)
    requests_before = len(strava_double.requests)
    assert poller.poll_athlete(ATHLETE).outcome == "skipped"
    assert len(strava_double.requests) == requests_before


@pytest.mark.usefixtures("subscribed")
def test_intake_rejects_malformed_bodies_and_stays_fast_under_load(
    sessions: sessionmaker[Session], receiver: str
) -> None:
    def post(body: bytes) -> tuple[int, float, dict[str, Any]]:
        request = urllib.request.Request(
            receiver, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, time.monotonic() - started, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, time.monotonic() - started, json.loads(error.read())
        except OSError as error:  # reset or refused: counted as a failed delivery
            return 0, time.monotonic() - started, {"error": str(error)}

    status, _, reply = post(b"{not json")
    assert status == 400 and "JSON" in reply["error"]
    status, _, reply = post(json.dumps({"object_type": "activity", "object_id": "x"}).encode())
    assert status == 400 and "object_id" in reply["error"]
    assert events(sessions) == []

    results: list[tuple[int, float, dict[str, Any]]] = []
    lock = threading.Lock()

    def sender(first: int) -> None:
        for n in range(first, 80, 8):
            event = {
                "object_type": "activity",
                "object_id": 5000 + n % 40,  # 40 distinct events, each sent twice
                "aspect_type": "create",
                "owner_id": ATHLETE,
                "subscription_id": 1,
                "event_time": 1_780_000_000,
                "updates": {},
            }
            outcome = post(json.dumps(event).encode())
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]  # 8 at a time, 80 in all
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {status for status, _, _ in results} == {200}
    assert max(seconds for _, seconds, _ in results) < 2
    assert len(events(sessions)) == 40
    assert sum(reply["status"] == "duplicate" for _, _, reply in results) == 40


def test_webhook_commands_subscribe_show_and_unsubscribe(
    strava_double: StravaDouble, app_settings: Settings, receiver: str, sqlite_url: str
) -> None:
    env = {
        "RECOVERY_DATABASE_URL": sqlite_url,
        "RECOVERY_STRAVA__CLIENT_ID": str(strava_double.client_id),
        "RECOVERY_STRAVA__CLIENT_SECRET": strava_double.client_secret,
        "RECOVERY_STRAVA__API_URL": strava_double.api_url,
        "RECOVERY_STRAVA__OAUTH_URL": strava_double.oauth_url,
        "RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN": VERIFY_TOKEN,
    }
    runner = CliRunner()

    subscribed = runner.invoke(app, ["webhook", "subscribe", "--callback-url", receiver], env=env)
    assert subscribed.exit_code == 0, subscribed.output
    subscription = json.loads(subscribed.stdout)
    assert subscription["callback_url"] == receiver

    again = runner.invoke(app, ["webhook", "subscribe", "--callback-url", receiver], env=env)
    assert again.exit_code == 1
    assert "already exists" in again.stderr

    status = runner.invoke(app, ["webhook", "status"], env=env)
    assert json.loads(status.stdout)["subscription_id"] == subscription["subscription_id"]

    gone = runner.invoke(app, ["webhook", "unsubscribe"], env=env)
    assert gone.exit_code == 0
    assert strava_double.subscription is None

    no_token = runner.invoke(
        app,
        ["webhook", "subscribe", "--callback-url", receiver],
        env={**env, "RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN": ""},
    )
    assert no_token.exit_code != 0
