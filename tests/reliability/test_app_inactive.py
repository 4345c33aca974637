"""403 "Application Inactive": probed with one request every 15 minutes, resumed as soon as Strava answers.

Deferring the athlete for hours lost the ice and refuel steps of every run in that window. Through the real
stravalib adapter against the HTTP Strava double, on a fake clock the double shares.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.notify.memory import MemoryNotifier
from scheduler.strava.sync import Poller
from tests.doubles.alert_outbox import deliver, queued_alerts
from tests.doubles.strava_double import StravaDouble
from tests.integration import test_strava_sync as strava_sync
from tests.integration.test_strava_sync import ATHLETE, FakeClock, athlete_row, reminders, run

strava_double = strava_sync.strava_double
db_url = strava_sync.db_url
clock = strava_sync.clock
app_settings = strava_sync.app_settings
notifier = strava_sync.notifier
poller = strava_sync.poller
connected = strava_sync.connected

PROBE = timedelta(minutes=15)


@pytest.mark.usefixtures("connected")
def test_an_inactive_app_is_probed_every_15_minutes_and_a_run_after_renewal_gets_its_ice(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    poller: Poller,
    notifier: MemoryNotifier,
    clock: FakeClock,
) -> None:
    strava_double.set_inactive()
    first = poller.poll_athlete(ATHLETE)
    assert first.outcome == "app_inactive"
    assert first.deferred_until == clock.now + PROBE
    [told] = deliver(sessions, notifier, clock)
    assert "Application Inactive" in told.message.title
    assert "every 15 minutes" in told.message.body

    requests = len(strava_double.requests)
    clock.advance(minutes=10)
    assert poller.poll_athlete(ATHLETE).outcome == "deferred"  # between probes: not one request
    assert len(strava_double.requests) == requests
    clock.advance(minutes=5)
    assert poller.poll_athlete(ATHLETE).outcome == "app_inactive"  # the probe: still inactive
    assert len(strava_double.requests) == requests + 1  # one request, and no second alert
    assert len(queued_alerts(sessions, ATHLETE)) == 1
    assert len(deliver(sessions, notifier, clock)) == 1

    # The owner renews the subscription; the athlete has just finished a race.
    strava_double.set_inactive(False)
    race = run(strava_double, clock.now - timedelta(minutes=40), name="Harbourfront 10K", workout_type=1)
    clock.advance(minutes=15)
    probe = poller.poll_athlete(ATHLETE)

    assert probe.outcome == "synced"
    assert athlete_row(sessions).alerted_problem is None  # told again if it happens again
    assert probe.created == [race]
    assert reminders(sessions, race).get("ice") == "planned"  # in time for the ice step
