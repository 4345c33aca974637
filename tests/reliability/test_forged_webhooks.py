"""Reliability: forged and poison webhook events (issue 8) against the real HTTP intake, the stravalib client
and the Strava double, on a real database.

Anyone can POST to the callback and Strava's events carry no signature. What must hold: a forged
deauthorization deletes nothing and is undone by Strava's answer; a flood of forged creates costs a bounded
share of the rate budget and polling still plans a real race's ice; one event that breaks its processing is
parked and never holds up the events queued after it.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.notify.memory import MemoryNotifier
from scheduler.store import models
from scheduler.store.db import insert_for, transaction
from scheduler.strava import alerts, budget, webhooks
from scheduler.strava.sync import Poller
from scheduler.strava.webhooks import WebhookDeps
from tests.doubles.alert_outbox import deliver, queued_alerts
from tests.doubles.strava_double import StravaDouble
from tests.integration import test_strava_sync as sync_shared
from tests.integration import test_strava_webhooks as webhook_shared
from tests.integration.test_strava_sync import ATHLETE, BOTH_BACKENDS, FakeClock, athlete_row, reminders, run

db_url = sync_shared.db_url
strava_double = sync_shared.strava_double
clock = sync_shared.clock
app_settings = sync_shared.app_settings
notifier = sync_shared.notifier
poller = sync_shared.poller
connected = sync_shared.connected
receiver = webhook_shared.receiver
subscribed = webhook_shared.subscribed
events = webhook_shared.events
post = webhook_shared.post
event_body = webhook_shared.event_body


def counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(models.Activity)) or 0,
            session.scalar(select(func.count()).select_from(models.Reminder)) or 0,
        )


@pytest.mark.usefixtures("connected")
def test_a_forged_deauthorization_deletes_nothing_sends_nothing_and_is_undone_by_strava(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    poller: Poller,
    notifier: MemoryNotifier,
    receiver: str,
    subscribed: int,
    clock: FakeClock,
) -> None:
    race = run(strava_double, clock.now - timedelta(minutes=50), name="Harbourfront 10K", workout_type=1)
    poller.poll_athlete(ATHLETE)
    before = counts(sessions)
    assert before[0] == 1 and before[1] > 0
    strava_double.fail_next(3, 503, path="/oauth/token")  # Strava cannot answer the confirming refresh

    # The body, with the subscription id an attacker can guess (small, sequential).
    forged = event_body(
        object_type="athlete",
        object_id=ATHLETE,
        aspect_type="update",
        owner_id=ATHLETE,
        updates={"authorized": "false"},
        subscription_id=subscribed,
    )
    assert post(receiver, forged)[0] == 200
    report = webhooks.process_events(WebhookDeps.of(poller))

    assert report.suspended == [ATHLETE] and report.forgotten == []
    athlete = athlete_row(sessions)
    assert athlete.state == "suspended" and athlete.refresh_token is not None
    assert counts(sessions) == before  # nothing deleted
    # Until Strava answers: no poll, no alert, no Strava read for them.
    clock.advance(minutes=1)
    reads = strava_double.reads_count
    assert poller.poll_athlete(ATHLETE).outcome == "skipped"
    problem = alerts.needs_reauth("Ada", ATHLETE, "test")
    assert not alerts.alert_once(sessions, ATHLETE, problem, clock.now, "UTC")
    assert queued_alerts(sessions, ATHLETE) == []
    assert deliver(sessions, notifier, clock) == []  # not even the race's ice, planned before
    assert post(receiver, event_body(object_id=race, subscription_id=subscribed))[0] == 200
    assert len(events(sessions)) == 1  # an activity event for a suspended athlete is not even stored
    assert strava_double.reads_count == reads

    assert webhooks.process_events(WebhookDeps.of(poller)).restored == []  # asked again only after a pause
    strava_double.clear_faults()
    clock.advance(minutes=5)
    again = webhooks.process_events(WebhookDeps.of(poller))

    assert again.restored == [ATHLETE]
    assert athlete_row(sessions).state == "active"
    assert counts(sessions) == before
    assert "ice" in reminders(sessions, race)
    clock.advance(minutes=10)
    assert poller.poll_athlete(ATHLETE).outcome == "synced"  # the refreshed tokens work


@pytest.mark.usefixtures("connected")
def test_300_forged_creates_cost_a_bounded_share_and_polling_still_plans_a_races_ice(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    poller: Poller,
    receiver: str,
    subscribed: int,
    clock: FakeClock,
) -> None:
    poller.poll_athlete(ATHLETE)  # a quiet athlete, polled once: the budget's limits are known
    rng = random.Random(8)
    forged_ids = rng.sample(range(10**10, 10**11), 300)
    for activity_id in forged_ids:  # valid subscription id and a real owner: these pass the door
        status, _ = post(receiver, event_body(object_id=activity_id, subscription_id=subscribed))
        assert status == 200
    assert len(events(sessions)) == 300
    window_end = budget.next_quarter(clock.now)

    while clock.now + timedelta(seconds=30) < window_end:  # the daemon's webhook job all window long
        webhooks.process_events(WebhookDeps.of(poller))
        clock.advance(seconds=30)
    forged_reads = sum(strava_double.count_requests("GET", f"/api/v3/activities/{i}") for i in forged_ids)
    race = run(strava_double, clock.now - timedelta(minutes=45), name="Harbourfront 10K", workout_type=1)
    report = poller.poll_athlete(ATHLETE)

    allowance = budget.webhook_allowance(100, poller.reserve)  # the double's 100 reads / 15 min
    print(f"\n300 forged creates cost {forged_reads} Strava reads in one window (allowance {allowance})")
    assert forged_reads == allowance  # a quarter of the usable reads, never more
    assert report.outcome == "synced"
    assert reminders(sessions, race).get("ice") == "planned"
    assert athlete_row(sessions).defer_until is None


@BOTH_BACKENDS
@pytest.mark.usefixtures("connected", "subscribed")
def test_a_poison_event_is_parked_with_its_error_and_never_blocks_the_queue(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    # Stored before the door checked ids: its owner id does not fit the database's BIGINT.
    poison = {
        "object_type": "activity",
        "object_id": 42,
        "aspect_type": "create",
        "owner_id": 2**63,
        "subscription_id": 1,
        "event_time": 1_780_000_000,
        "updates": {},
    }
    with transaction(sessions) as session:
        session.execute(
            insert_for(session, models.WebhookEvent).values(
                dedupe_key="poison", payload=poison, received_at=clock.now, attempts=0
            )
        )
    race = run(strava_double, clock.now - timedelta(minutes=50), name="Harbourfront 10K", workout_type=1)
    strava_double.send_event("activity", race, "create", ATHLETE)

    first = webhooks.process_events(WebhookDeps.of(poller))

    assert first.ingested == [race]  # in the same pass, right after the poison
    assert "ice" in reminders(sessions, race)
    poisoned = events(sessions)[0]
    assert first.failed == [poisoned.id]
    assert poisoned.failures == 1 and poisoned.processed_at is None
    for _ in range(4):
        clock.advance(minutes=6)
        webhooks.process_events(WebhookDeps.of(poller))
    poisoned = events(sessions)[0]
    assert poisoned.parked and poisoned.processed_at is not None
    assert poisoned.failures == webhooks.MAX_FAILURES
    assert poisoned.last_error and "\n" not in poisoned.last_error
    assert ("Overflow" in poisoned.last_error) or ("out of range" in poisoned.last_error.lower())
    assert webhooks.process_events(WebhookDeps.of(poller)).processed == 0  # parked: left alone
