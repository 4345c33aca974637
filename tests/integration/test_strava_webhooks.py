"""Webhooks end to end: the Strava double pushes events to the daemon's HTTP server, we process them later."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from scheduler.cli.app import app
from scheduler.clock import utc_now
from scheduler.daemon.app import build_daemon
from scheduler.http.server import WEBHOOK_PATH, Endpoints, HttpServer
from scheduler.logs import Redactor
from scheduler.settings import HttpSettings, Settings
from scheduler.store import models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.strava import webhooks
from scheduler.strava.client import StravaClient
from scheduler.strava.port import StravaError
from scheduler.strava.sync import Poller
from scheduler.strava.webhooks import WebhookDeps
from tests.doubles.deadlines import GENEROUS, finishes_within
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
# Strava waits 2 s for an answer; the receiver only stores the event, so on an idle machine it answers in
# milliseconds. The deadline is generous so that a loaded machine cannot fail the test, and still far below
# the time processing an event inline (a Strava fetch, a plan) would take under load.
ANSWER_DEADLINE = 10.0


@pytest.fixture
def receiver(sessions: sessionmaker[Session], clock: FakeClock) -> Iterator[str]:
    """The daemon's HTTP server with our webhook endpoint; yields the callback URL."""
    endpoints = Endpoints(
        health=lambda _details: (True, {}),
        status=lambda: {},
        webhook=webhooks.WebhookReceiver(sessions, VERIFY_TOKEN, clock),
    )
    server = HttpServer(HttpSettings(host="127.0.0.1", port=0), endpoints)
    server.start()
    yield server.url + WEBHOOK_PATH
    server.stop()


@pytest.fixture
def subscribed(
    strava_double: StravaDouble,
    app_settings: Settings,
    receiver: str,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> int:
    """Our live subscription, known to the database as `recovery webhook subscribe` leaves it."""
    subscription_id = StravaClient(app_settings.strava).create_subscription(receiver, VERIFY_TOKEN)
    with transaction(sessions) as session:
        webhooks.remember_subscription(session, subscription_id, receiver, clock.now)
    return subscription_id


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST one event; an answer that has not come within the deadline counts as a failed delivery."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_DEADLINE) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError as error:  # reset, refused or timed out: counted as a failed delivery
        return 0, {"error": str(error)}


def event_body(**fields: Any) -> bytes:
    event = {
        "object_type": "activity",
        "object_id": 5000,
        "aspect_type": "create",
        "owner_id": ATHLETE,
        "subscription_id": 1,
        "event_time": 1_780_000_000,
        "updates": {},
        **fields,
    }
    return json.dumps(event).encode()


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

    assert all(d.acknowledged for d in deliveries)  # a 2xx within the double's (Strava's) callback timeout
    assert len(events(sessions)) == 1
    report = webhooks.process_events(WebhookDeps.of(poller))
    assert report.ingested == [activity_id]
    assert stored(sessions)[activity_id].effort == "race"
    assert "ice" in reminders(sessions, activity_id)
    assert webhooks.process_events(WebhookDeps.of(poller)).processed == 0
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

    # Processing never sleeps waiting for the activity: it finishes well before the 2-minute retry.
    deps = WebhookDeps.of(poller)
    first = finishes_within(GENEROUS, lambda: webhooks.process_events(deps), "processing the event")
    assert first.retrying == [events(sessions)[0].id]
    assert webhooks.process_events(deps).processed == 0  # not due again yet: no request
    assert strava_double.count_requests("GET", "/api/v3/activities/") == 1

    clock.advance(seconds=31)
    assert webhooks.process_events(deps).processed == 0  # its one retry comes 2 min after arrival
    clock.advance(seconds=90)
    done = webhooks.process_events(deps)

    assert done.ingested == [activity["id"]]
    assert stored(sessions)[activity["id"]].effort == "speedwork"
    assert events(sessions)[0].processed_at is not None


@pytest.mark.usefixtures("connected", "subscribed")
def test_update_replans_and_delete_cancels(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity_id = run(strava_double, clock.now - timedelta(hours=1), name="Tempo 5K", workout_type=3)
    strava_double.send_event("activity", activity_id, "create", ATHLETE)
    webhooks.process_events(WebhookDeps.of(poller))
    assert stored(sessions)[activity_id].effort == "speedwork"

    strava_double.update_activity(activity_id, workout_type=1)
    strava_double.send_event("activity", activity_id, "update", ATHLETE, {"type": "Run"})
    clock.advance(seconds=5)
    webhooks.process_events(WebhookDeps.of(poller))
    assert stored(sessions)[activity_id].effort == "race"

    strava_double.delete_activity(activity_id)
    strava_double.send_event("activity", activity_id, "delete", ATHLETE)
    report = webhooks.process_events(WebhookDeps.of(poller))

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
    report = webhooks.process_events(WebhookDeps.of(poller))

    assert report.suspended == [ATHLETE]  # first suspended, then confirmed by Strava refusing the refresh
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


@pytest.mark.usefixtures("connected")
def test_intake_rejects_malformed_bodies_and_stays_fast_under_load(
    sessions: sessionmaker[Session], receiver: str, subscribed: int
) -> None:
    status, reply = post(receiver, b"{not json")
    assert status == 400 and "JSON" in reply["error"]
    status, reply = post(receiver, json.dumps({"object_type": "activity", "object_id": "x"}).encode())
    assert status == 400 and "object_id" in reply["error"]
    assert events(sessions) == []

    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def sender(first: int) -> None:
        for n in range(first, 80, 8):
            event = {
                "object_type": "activity",
                "object_id": 5000 + n % 40,  # 40 distinct events, each sent twice
                "aspect_type": "create",
                "owner_id": ATHLETE,
                "subscription_id": subscribed,
                "event_time": 1_780_000_000,
                "updates": {},
            }
            outcome = post(receiver, json.dumps(event).encode())
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]  # 8 at a time, 80 in all
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {status for status, _ in results} == {200}  # each answered within ANSWER_DEADLINE
    assert len(events(sessions)) == 40
    assert {reply["status"] for _, reply in results} == {"received"}


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
    engine = make_engine(sqlite_url)
    store = make_sessionmaker(engine)

    def known() -> int | None:
        with store() as session:
            return webhooks.live_subscription(session, utc_now())

    assert known() == subscription["subscription_id"]  # the daemon accepts its events from now on

    again = runner.invoke(app, ["webhook", "subscribe", "--callback-url", receiver], env=env)
    assert again.exit_code == 1
    assert "already exists" in again.stderr

    with transaction(store) as session:  # as if the database had been restored from an older backup
        webhooks.forget_subscription(session, utc_now())
    status = runner.invoke(app, ["webhook", "status"], env=env)
    assert json.loads(status.stdout)["subscription_id"] == subscription["subscription_id"]
    assert known() == subscription["subscription_id"]  # `status` refreshed what the daemon knows

    gone = runner.invoke(app, ["webhook", "unsubscribe"], env=env)
    assert gone.exit_code == 0
    assert strava_double.subscription is None
    assert known() is None
    engine.dispose()

    no_token = runner.invoke(
        app,
        ["webhook", "subscribe", "--callback-url", receiver],
        env={**env, "RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN": ""},
    )
    assert no_token.exit_code != 0


# -- the door: only our subscription, only connected athletes, ids in range ---------------------------------


@pytest.mark.usefixtures("connected")
def test_events_not_for_our_subscription_or_a_connected_athlete_are_refused_at_the_door(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    receiver: str,
    subscribed: int,
    poller: Poller,
    clock: FakeClock,
) -> None:
    refused = [
        event_body(subscription_id=subscribed + 1),  # someone else's (or a guessed) subscription
        event_body(subscription_id=subscribed, owner_id=999_999),  # an athlete who never connected here
        event_body(  # the forged deauthorization of the issue: any subscription id
            object_type="athlete",
            object_id=ATHLETE,
            aspect_type="update",
            updates={"authorized": "false"},
            subscription_id=999_999,
        ),
    ]
    for body in refused:
        status, reply = post(receiver, body)
        assert (status, reply) == (200, {"status": "received"})  # the same answer as a stored event
    assert events(sessions) == []

    assert webhooks.process_events(WebhookDeps.of(poller)).processed == 0
    assert strava_double.count_requests(path="/api/v3/activities") == 0
    assert athlete_row(sessions).state == "active"

    with transaction(sessions) as session:  # no subscription confirmed live: even a real event is refused
        webhooks.forget_subscription(session, clock.now)
    assert post(receiver, event_body(subscription_id=subscribed))[0] == 200
    assert events(sessions) == []

    with transaction(sessions) as session:
        webhooks.remember_subscription(session, subscribed, receiver, clock.now)
    assert post(receiver, event_body(subscription_id=subscribed))[0] == 200
    assert len(events(sessions)) == 1


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"owner_id": 2**63}, "owner_id"),
        ({"object_id": 2**63 + 5}, "object_id"),
        ({"object_id": 0}, "object_id"),
        ({"owner_id": -101}, "owner_id"),
        ({"subscription_id": None}, "subscription_id"),
        ({"event_time": 10**30}, "event_time"),
    ],
)
@pytest.mark.usefixtures("connected")
def test_ids_out_of_range_get_400_with_one_line_and_store_nothing(
    sessions: sessionmaker[Session], receiver: str, subscribed: int, fields: dict[str, Any], named: str
) -> None:
    status, reply = post(receiver, event_body(**{"subscription_id": subscribed, **fields}))

    assert status == 400
    assert named in reply["error"] and "\n" not in reply["error"]
    assert events(sessions) == []


# -- reads: a 404 is final after one retry -------------------------------------------------------------------


@pytest.mark.usefixtures("connected", "subscribed")
def test_a_404_for_an_announced_activity_is_final_after_one_retry(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    strava_double.send_event("activity", 77_777_777, "create", ATHLETE)  # never readable

    assert webhooks.process_events(WebhookDeps.of(poller)).retrying
    clock.advance(minutes=2)
    second = webhooks.process_events(WebhookDeps.of(poller))
    for _ in range(5):
        clock.advance(minutes=15)
        webhooks.process_events(WebhookDeps.of(poller))

    assert second.given_up == [events(sessions)[0].id]
    assert strava_double.count_requests("GET", "/api/v3/activities/77777777") == 2
    assert events(sessions)[0].processed_at is not None


# -- the live subscription and the poll interval -------------------------------------------------------------


@pytest.mark.usefixtures("connected")
def test_the_daemon_learns_a_subscription_made_elsewhere_and_forgets_a_deleted_one(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    app_settings: Settings,
    receiver: str,
    poller: Poller,
    clock: FakeClock,
) -> None:
    # Made with another copy of the database (or by hand): this daemon has never heard of it.
    subscription_id = StravaClient(app_settings.strava).create_subscription(receiver, VERIFY_TOKEN)
    backstop = webhooks.BackstopPolls(poller, backstop_interval=3600)
    job = webhooks.WebhookWork(WebhookDeps.of(poller))

    def live() -> int | None:
        with sessions() as session:
            return webhooks.live_subscription(session, clock.now)

    assert live() is None
    assert backstop.poll_athlete(ATHLETE).outcome == "synced"
    clock.advance(minutes=10)
    # No live subscription: the verify token alone does not slow polling down (the normal 600 s apply).
    assert backstop.due_athletes(clock.now) == [ATHLETE]
    assert backstop.poll_athlete(ATHLETE).outcome == "synced"

    job()  # the daemon's first webhook run asks Strava
    assert live() == subscription_id
    clock.advance(minutes=10)
    reads = strava_double.reads_count
    assert backstop.due_athletes(clock.now) == []
    assert backstop.poll_athlete(ATHLETE).outcome == "skipped"  # webhooks live: polling is the backstop
    assert strava_double.reads_count == reads
    clock.advance(minutes=51)
    assert backstop.poll_athlete(ATHLETE).outcome == "synced"  # the hourly backstop poll
    job()  # an hour on: asked again, still there

    StravaClient(app_settings.strava).delete_subscription(subscription_id)
    clock.advance(minutes=30)
    job()  # not an hour since the last check: Strava is not asked again
    assert live() == subscription_id
    clock.advance(minutes=30)
    job()
    assert live() is None
    assert backstop.poll_athlete(ATHLETE).outcome == "synced"  # normal interval again
    assert post(receiver, event_body(subscription_id=subscription_id))[0] == 200
    assert events(sessions) == []


def test_a_verify_token_alone_keeps_the_normal_poll_interval(app_settings: Settings, tmp_path: Path) -> None:
    settings = app_settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path}/daemon.db",
            "strava": app_settings.strava.model_copy(
                update={"webhook_verify_token": SecretStr(VERIFY_TOKEN), "poll_interval": 600}
            ),
        }
    )
    daemon = build_daemon(settings, Redactor())
    try:
        assert daemon.jobs.timings.poll_interval == 600
        assert isinstance(daemon.jobs.work.poller, webhooks.BackstopPolls)
    finally:
        daemon.engine.dispose()
