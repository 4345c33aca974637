"""The poller's rules against the in-memory Strava (fast): tokens, claims, pending details, alerts, events."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.protocols import load_protocols
from scheduler.ingest import IngestConfig
from scheduler.notify.memory import MemoryNotifier
from scheduler.settings import Settings
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava import poll_state, webhooks
from scheduler.strava.poll_state import PollState
from scheduler.strava.port import RateLimited, StravaUnavailable
from scheduler.strava.sync import Poller
from scheduler.strava.webhooks import WebhookDeps
from scheduler.web.views import athlete_page
from tests.doubles import strava_data
from tests.doubles.alert_outbox import deliver, queued_alerts
from tests.doubles.memory_strava import MemoryStrava
from tests.doubles.outbox_seed import FakeClock
from tests.integration.test_dispatch_cli import recovery

ATHLETE = 101
START = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def strava(clock: FakeClock) -> MemoryStrava:
    return MemoryStrava(clock=clock)


@pytest.fixture
def notifier() -> MemoryNotifier:
    return MemoryNotifier()


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(data_dir=tmp_path, timezone="UTC")


def make_poller(
    sessions: sessionmaker[Session], settings: Settings, strava: MemoryStrava, clock: FakeClock
) -> Poller:
    config = IngestConfig(load_protocols(settings.protocols_file), "UTC")
    return Poller(sessions, settings, strava.port, config, clock)


@pytest.fixture
def poller(
    sessions: sessionmaker[Session],
    settings: Settings,
    strava: MemoryStrava,
    clock: FakeClock,
) -> Poller:
    return make_poller(sessions, settings, strava, clock)


@pytest.fixture
def athlete(sessions: sessionmaker[Session], strava: MemoryStrava, clock: FakeClock) -> int:
    grant = strava.connect(ATHLETE, "Ada Runner")
    with transaction(sessions) as session:
        athlete_store.upsert_connected(
            session,
            ATHLETE,
            name="Ada Runner",
            timezone=None,
            grant=grant,
            scope="read,activity:read_all",
            now=clock(),
        )
    return ATHLETE


_ids = iter(range(9_000_001, 9_999_999))


def summary(when: datetime, name: str = "Morning Run", **fields: Any) -> dict[str, Any]:
    fields.setdefault("distance", 8000.0)
    fields.setdefault("moving_time", 2700)
    fields.setdefault("average_heartrate", 140.0)
    return strava_data.summary_activity(next(_ids), ATHLETE, name, when, **fields)


def stored(sessions: sessionmaker[Session]) -> dict[int, models.Activity]:
    with sessions() as session:
        return {a.id: a for a in session.scalars(select(models.Activity))}


def athlete_row(sessions: sessionmaker[Session]) -> models.Athlete:
    with sessions() as session:
        found = session.get(models.Athlete, ATHLETE)
        assert found is not None
        return found


def pending_details(sessions: sessionmaker[Session]) -> dict[int, Any]:
    """The activities whose details the poll still has to read (its saved state)."""
    with sessions() as session:
        row = session.get(models.AppState, poll_state.state_key(ATHLETE))
        assert row is not None
        return dict(PollState.from_json(row.value).pending_details)


def event_body(clock: FakeClock, object_id: int, aspect_type: str = "create", **fields: Any) -> bytes:
    """A webhook event for our athlete's activity, as Strava posts it to subscription 1."""
    body = {
        "object_type": "activity",
        "object_id": object_id,
        "aspect_type": aspect_type,
        "owner_id": ATHLETE,
        "subscription_id": 1,
        "event_time": int(clock.now.timestamp()),
        **fields,
    }
    return json.dumps(body).encode()


def set_expiry(sessions: sessionmaker[Session], expires_at: datetime) -> None:
    with transaction(sessions) as session:
        found = session.get(models.Athlete, ATHLETE)
        assert found is not None
        found.token_expires_at = expires_at


@pytest.mark.usefixtures("athlete")
@pytest.mark.parametrize(("left", "refreshed"), [(timedelta(minutes=9), 1), (timedelta(minutes=11), 0)])
def test_token_is_refreshed_before_the_call_when_under_ten_minutes_remain(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    clock: FakeClock,
    left: timedelta,
    refreshed: int,
) -> None:
    set_expiry(sessions, clock.now + left)

    assert poller.poll_athlete(ATHLETE).outcome == "synced"

    assert strava.count("refresh") == refreshed
    assert athlete_row(sessions).access_token == strava.tokens_of(ATHLETE)[0]


@pytest.mark.usefixtures("athlete")
def test_pending_detail_survives_a_429_and_is_read_after_the_reset(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    vague = strava.add_activity(
        ATHLETE,
        strava_data.detailed_activity(summary(clock.now - timedelta(hours=2), average_heartrate=None)),
    )
    reset = datetime(2026, 5, 16, 14, 15, tzinfo=UTC)
    strava.fail_next(RateLimited("rate limit exceeded", reset), "get_activity")

    first = poller.poll_athlete(ATHLETE)

    assert first.outcome == "deferred" and first.deferred_until == reset
    assert vague["id"] in stored(sessions)  # the summary was kept
    assert not stored(sessions)[vague["id"]].detailed
    assert vague["id"] in pending_details(sessions)

    clock.now = reset + timedelta(seconds=5)
    second = poller.poll_athlete(ATHLETE)

    assert second.outcome == "synced"
    assert stored(sessions)[vague["id"]].detailed
    assert strava.count("get_activity") == 2
    assert pending_details(sessions) == {}


@pytest.mark.usefixtures("athlete")
def test_a_second_instance_does_not_repeat_a_poll_claimed_moments_ago(
    sessions: sessionmaker[Session],
    settings: Settings,
    strava: MemoryStrava,
    clock: FakeClock,
) -> None:
    one = make_poller(sessions, settings, strava, clock)
    two = make_poller(sessions, settings, strava, clock)

    assert one.poll_athlete(ATHLETE).outcome == "synced"
    calls = strava.count()
    clock.advance(seconds=2)
    assert two.poll_athlete(ATHLETE).outcome == "skipped"
    assert strava.count() == calls
    clock.advance(minutes=10)
    assert two.poll_athlete(ATHLETE).outcome == "synced"


@pytest.mark.usefixtures("athlete")
def test_due_athletes(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    assert poller.due_athletes(clock.now) == [ATHLETE]  # never synced
    poller.poll_athlete(ATHLETE)
    assert poller.due_athletes(clock.now + timedelta(minutes=5)) == []
    assert poller.due_athletes(clock.now + timedelta(minutes=10)) == [ATHLETE]
    assert [r.athlete_id for r in poller.poll_all()] == []

    with transaction(sessions) as session:
        found = session.get(models.Athlete, ATHLETE)
        assert found is not None
        found.defer_until = clock.now + timedelta(hours=1)
    assert poller.due_athletes(clock.now + timedelta(minutes=30)) == []


@pytest.mark.usefixtures("athlete")
def test_token_job_refreshes_expiring_tokens_and_flags_revoked_ones(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    notifier: MemoryNotifier,
    clock: FakeClock,
) -> None:
    set_expiry(sessions, clock.now + timedelta(minutes=5))
    assert poller.refresh_tokens() == [ATHLETE]
    assert poller.refresh_tokens() == []  # fresh now: no call
    assert strava.count("refresh") == 1

    strava.revoke(ATHLETE)
    set_expiry(sessions, clock.now + timedelta(minutes=5))
    assert poller.refresh_tokens() == []
    assert athlete_row(sessions).state == "needs_reauth"
    [alert] = queued_alerts(sessions, ATHLETE)
    assert alert.title == "Strava access lost for Ada Runner (101)" and alert.activity_id is None
    assert len(deliver(sessions, notifier, clock)) == 1


@pytest.mark.usefixtures("athlete")
def test_a_failed_alert_is_retried_by_the_dispatcher_and_logged(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    notifier: MemoryNotifier,
    clock: FakeClock,
) -> None:
    strava.revoke(ATHLETE)
    set_expiry(sessions, clock.now)
    notifier.fail(times=1, error="phone unreachable")

    assert poller.poll_athlete(ATHLETE).outcome == "needs_reauth"
    assert poller.due_athletes(clock.now) == []  # queued: no poll needed to tell them
    assert deliver(sessions, notifier, clock) == []
    [alert] = queued_alerts(sessions, ATHLETE)
    assert (alert.status, alert.attempts, alert.last_error) == (
        "planned",
        1,
        "memory://default: phone unreachable",
    )
    clock.advance(minutes=10)
    poller.poll_athlete(ATHLETE)  # a later poll queues nothing more

    [sent] = deliver(sessions, notifier, clock)
    assert sent.message.title == "Strava access lost for Ada Runner (101)"
    assert sent.message.tags == ("urgent",)
    [alert] = queued_alerts(sessions, ATHLETE)
    assert alert.status == "sent"
    with sessions() as session:
        attempts = session.scalars(
            select(models.Delivery.ok)
            .where(models.Delivery.reminder_id == alert.id)
            .order_by(models.Delivery.id)
        ).all()
    assert attempts == [False, True]  # both attempts are in the delivery log
    assert athlete_row(sessions).alerted_problem == "needs_reauth"


@pytest.mark.usefixtures("athlete")
def test_a_malformed_activity_is_skipped_and_the_rest_ingested(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    good = strava.add_activity(ATHLETE, summary(clock.now - timedelta(hours=3), "Easy 40"))
    bad = strava.add_activity(ATHLETE, {**summary(clock.now - timedelta(hours=2)), "distance": "far"})

    report = poller.poll_athlete(ATHLETE)

    assert report.outcome == "synced"
    assert report.skipped_invalid == [bad["id"]]
    assert set(stored(sessions)) == {good["id"]}


@pytest.mark.usefixtures("athlete")
def test_strava_down_is_a_failed_poll_that_the_next_one_repairs(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    activity = strava.add_activity(ATHLETE, summary(clock.now - timedelta(hours=1), "Easy 40"))
    strava.fail_next(StravaUnavailable("activity list: 502 Bad Gateway"), "list_activities")

    failed = poller.poll_athlete(ATHLETE)
    assert failed.outcome == "failed" and "502" in failed.message
    assert athlete_row(sessions).last_error is not None
    assert athlete_row(sessions).defer_until is None  # a hiccup does not stop polling

    clock.advance(minutes=10)
    assert poller.poll_athlete(ATHLETE).created == [activity["id"]]
    assert athlete_row(sessions).last_error is None


@pytest.fixture
def subscribed(sessions: sessionmaker[Session], clock: FakeClock) -> int:
    """Subscription 1 is our live one: only its events get in."""
    with sessions.begin() as session:
        webhooks.remember_subscription(session, 1, "https://example.org/webhooks/strava", clock.now)
    return 1


@pytest.mark.usefixtures("athlete", "subscribed")
def test_an_event_for_an_activity_that_never_becomes_readable_is_given_up(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    body = event_body(clock, 424242, updates={})
    assert webhooks.accept_event(sessions, body, clock.now).outcome == "stored"

    for _ in range(30):
        webhooks.process_events(WebhookDeps.of(poller))
        clock.advance(minutes=1)

    # A 404 for an announced activity is final after one retry.
    assert strava.count("get_activity") == len(webhooks.NOT_FOUND_DELAYS)
    with sessions() as session:
        event = session.scalars(select(models.WebhookEvent)).one()
        assert event.processed_at is not None
        assert event.attempts == len(webhooks.NOT_FOUND_DELAYS)
        assert "404" in (event.last_error or "")


@pytest.mark.usefixtures("athlete", "subscribed")
def test_events_wait_while_the_budget_is_spent(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    activity = strava.add_activity(
        ATHLETE, summary(clock.now - timedelta(hours=1), "Tempo 6k", workout_type=3)
    )
    strava.read_limits = (1, 1000)
    poller.poll_athlete(ATHLETE)  # spends the 15-minute window
    body = event_body(clock, activity["id"], "update", updates={"title": "Tempo 6k"})
    webhooks.accept_event(sessions, body, clock.now)
    calls = strava.count()

    waiting = webhooks.process_events(WebhookDeps.of(poller))
    assert waiting.waiting == 1 and waiting.processed == 0
    assert strava.count() == calls

    clock.now = datetime(2026, 5, 16, 14, 15, 1, tzinfo=UTC)
    assert webhooks.process_events(WebhookDeps.of(poller)).ingested == [activity["id"]]


@pytest.mark.usefixtures("athlete", "subscribed")
def test_only_one_instance_takes_an_event_attempt(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    webhooks.accept_event(sessions, event_body(clock, 7), clock.now)
    with sessions() as session:
        [event] = webhooks.pending_events(session, clock.now, 10)
    # Two instances read the same pending event; the first to count the attempt makes it.
    assert webhooks._claim(sessions, event.id, event.attempts)
    assert not webhooks._claim(sessions, event.id, event.attempts)


# -- poll claims and failure streaks ---------------------------------------------------------------------


@pytest.mark.usefixtures("athlete")
def test_a_claim_left_by_a_crashed_poll_lapses_with_its_lease(
    sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    with transaction(sessions) as session:  # an instance died mid-poll: its claim was never released
        row, state = poll_state.locked_state(session, ATHLETE, clock.now)
        state.claimed_by, state.claimed_until = "dead-instance", clock.now + poll_state.POLL_LEASE
        poll_state.save_state(row, state, clock.now)

    skipped = poller.poll_athlete(ATHLETE)
    assert skipped.outcome == "skipped" and "runs right now" in skipped.message
    clock.advance(seconds=poll_state.POLL_LEASE.total_seconds() + 1)
    assert poller.poll_athlete(ATHLETE).outcome == "synced"


@pytest.mark.usefixtures("athlete")
def test_a_poll_that_raises_still_releases_its_claim(
    sessions: sessionmaker[Session], poller: Poller, strava: MemoryStrava, clock: FakeClock
) -> None:
    strava.fail_next(ZeroDivisionError("float division by zero"), "list_activities")
    with pytest.raises(ZeroDivisionError):
        poller.poll_athlete(ATHLETE)
    with sessions() as session:
        row = session.get(models.AppState, poll_state.state_key(ATHLETE))
        assert row is not None and PollState.from_json(row.value).claimed_until is None


def fail_polls(poller: Poller, strava: MemoryStrava, clock: FakeClock, times: int) -> None:
    for _ in range(times):
        strava.fail_next(StravaUnavailable("activity list: 502 Bad Gateway"), "list_activities")
        assert poller.poll_athlete(ATHLETE).outcome == "failed"
        clock.advance(minutes=10)


@pytest.mark.usefixtures("athlete")
def test_failed_polls_in_a_row_show_since_when_and_the_third_tells_the_athlete_once(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    notifier: MemoryNotifier,
    clock: FakeClock,
) -> None:
    first_failure = clock.now
    fail_polls(poller, strava, clock, 2)
    row = athlete_row(sessions)
    assert (row.failed_polls, row.failing_since, queued_alerts(sessions, ATHLETE)) == (2, first_failure, [])
    assert "502" in (row.last_error or "")

    fail_polls(poller, strava, clock, 3)

    row = athlete_row(sessions)
    assert (row.failed_polls, row.failing_since) == (5, first_failure)
    [queued] = queued_alerts(sessions, ATHLETE)
    assert queued.local_day == first_failure.date() and queued.activity_id is None
    [told] = deliver(sessions, notifier, clock)
    assert "Ada Runner" in told.message.title and "stopped" in told.message.title
    assert "502 Bad Gateway" in told.message.body  # what is wrong
    assert "status.strava.com" in told.message.body  # and what to do

    assert poller.poll_athlete(ATHLETE).outcome == "synced"  # it recovers: the streak ends
    row = athlete_row(sessions)
    assert (row.failed_polls, row.failing_since, row.last_error) == (0, None, None)

    clock.advance(minutes=10)
    fail_polls(poller, strava, clock, 3)  # and fails again: a new streak, told again
    assert len(queued_alerts(sessions, ATHLETE)) == 2  # the same day: a row of its own
    assert len(deliver(sessions, notifier, clock)) == 2
    assert athlete_row(sessions).failing_since == clock.now - timedelta(minutes=30)


@pytest.mark.usefixtures("athlete")
def test_a_bug_in_a_poll_counts_as_a_failed_poll(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    notifier: MemoryNotifier,
    clock: FakeClock,
) -> None:
    for _ in range(3):
        strava.fail_next(ZeroDivisionError("float division by zero"), "list_activities")
        with pytest.raises(ZeroDivisionError):  # the daemon's job logs the traceback
            poller.poll_athlete(ATHLETE)
        clock.advance(minutes=10)

    row = athlete_row(sessions)
    assert row.failed_polls == 3 and row.last_error == "ZeroDivisionError: float division by zero"
    [told] = deliver(sessions, notifier, clock)
    assert (
        "error inside the scheduler" in told.message.body and f"sync --athlete {ATHLETE}" in told.message.body
    )


@pytest.mark.usefixtures("athlete")
def test_an_alert_shows_in_upcoming_then_history_and_on_the_page_in_the_athletes_zone(
    sessions: sessionmaker[Session],
    poller: Poller,
    strava: MemoryStrava,
    notifier: MemoryNotifier,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    with transaction(sessions) as session:
        found = session.get(models.Athlete, ATHLETE)
        assert found is not None
        found.timezone = "Europe/Paris"  # 2 hours ahead of UTC in May
    fail_polls(poller, strava, clock, 3)
    told_at = clock.now - timedelta(minutes=10)  # the third failure
    # The commands open the same database, with the key that sealed its tokens.
    env = {"RECOVERY_DATABASE_URL": sqlite_url, "RECOVERY_SECRET_KEY_FILE": str(tmp_path / "secret.key")}

    [pending] = json_lines(recovery(["upcoming", "--json"], tmp_path, **env))
    assert pending["step"] == f"alert:polls_failing:{told_at + timedelta(hours=2):%H:%M:%S}"
    assert pending["activity_id"] is None and pending["tags"] == ["urgent"]
    assert pending["due_at"] == told_at.astimezone(ZoneInfo("Europe/Paris")).isoformat()
    assert str(pending["title"]).startswith("Recovery reminders stopped for Ada Runner")

    assert len(deliver(sessions, notifier, clock)) == 1
    assert json_lines(recovery(["upcoming", "--json"], tmp_path, **env)) == []
    [past] = json_lines(recovery(["history", "--json"], tmp_path, **env))
    assert (past["id"], past["status"]) == (pending["id"], "sent")

    with sessions() as session:
        athlete = session.get(models.Athlete, ATHLETE)
        assert athlete is not None
        page = athlete_page(session, athlete, "UTC", clock.now)
    [shown] = [view for view in page.past if view.id == pending["id"]]
    assert shown.title == pending["title"] and shown.outcome == "Sent"
    assert shown.iso.endswith("+02:00")


def json_lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
