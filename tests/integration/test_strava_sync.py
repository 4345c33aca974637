"""Polling through the real stravalib adapter against the HTTP Strava double, on SQLite and PostgreSQL.

The application and the double share one fake clock, so rate windows, token expiry and "late uploads" are
driven by the test, and nothing waits on the real clock.
"""

from __future__ import annotations

import contextlib
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.daemon.jobs import DaemonJobs, JobTimings, Work
from scheduler.domain.protocols import load_protocols
from scheduler.ingest import IngestConfig
from scheduler.notify.memory import MemoryNotifier
from scheduler.settings import Settings, StravaSettings
from scheduler.store import models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.strava import budget, oauth
from scheduler.strava.client import client_factory
from scheduler.strava.sync import Poller, PollReport
from tests.doubles import strava_fixtures
from tests.doubles.alert_outbox import deliver, queued_alerts
from tests.doubles.deadlines import GENEROUS, finishes_within
from tests.doubles.strava_double import StravaDouble

strava_double = strava_fixtures.strava_double

ATHLETE = 101
START = datetime(2026, 5, 16, 14, 3, tzinfo=UTC)  # 10:03 in Toronto


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """SQLite unless a test asks for both backends with BOTH_BACKENDS (keeps this module quick)."""
    backend = getattr(request, "param", "sqlite")
    return str(request.getfixturevalue("pg_url" if backend == "postgres" else "sqlite_url"))


BOTH_BACKENDS = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(strava_double: StravaDouble) -> FakeClock:
    fake = FakeClock(START)
    strava_double.use_clock(fake)
    return fake


@pytest.fixture
def app_settings(strava_double: StravaDouble, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        timezone="UTC",
        strava=StravaSettings(
            client_id=strava_double.client_id,
            client_secret=strava_double.client_secret,
            api_url=strava_double.api_url,
            oauth_url=strava_double.oauth_url,
        ),
    )


@pytest.fixture
def notifier() -> MemoryNotifier:
    return MemoryNotifier()


def make_poller(
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: FakeClock,
    **options: Any,
) -> Poller:
    return Poller(
        sessions,
        settings,
        client_factory(settings.strava, clock),
        IngestConfig(load_protocols(settings.protocols_file), "UTC"),
        clock,
        **options,
    )


@pytest.fixture
def poller(sessions: sessionmaker[Session], app_settings: Settings, clock: FakeClock) -> Poller:
    return make_poller(sessions, app_settings, clock)


def connect(
    double: StravaDouble, sessions: sessionmaker[Session], settings: Settings, clock: FakeClock
) -> oauth.Connected:
    double.add_athlete(ATHLETE, "Ada", "Runner")
    callback = oauth.Callback(double.issue_code(ATHLETE), "read,activity:read_all")
    return oauth.connect(sessions, client_factory(settings.strava, clock), callback, clock)


def run(double: StravaDouble, when: datetime, name: str = "Morning Run", **fields: Any) -> int:
    fields.setdefault("distance", 8000.0)
    fields.setdefault("moving_time", 2700)
    fields.setdefault("average_heartrate", 140.0)
    return int(double.add_activity(ATHLETE, name=name, start_date=when, **fields)["id"])


def stored(sessions: sessionmaker[Session]) -> dict[int, models.Activity]:
    with sessions() as session:
        return {a.id: a for a in session.scalars(select(models.Activity))}


def reminders(sessions: sessionmaker[Session], activity_id: int) -> dict[str, str]:
    with sessions() as session:
        rows = session.scalars(select(models.Reminder).where(models.Reminder.activity_id == activity_id))
        return {r.step: r.status for r in rows}


def athlete_row(sessions: sessionmaker[Session]) -> models.Athlete:
    with sessions() as session:
        athlete = session.get(models.Athlete, ATHLETE)
        assert athlete is not None
        return athlete


@pytest.fixture
def connected(
    strava_double: StravaDouble, sessions: sessionmaker[Session], app_settings: Settings, clock: FakeClock
) -> Iterator[None]:
    connect(strava_double, sessions, app_settings, clock)
    yield


# -- pulling ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("connected")
def test_new_activity_is_ingested_classified_and_planned(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity_id = run(strava_double, clock.now - timedelta(hours=1), name="Harbourfront 10K", workout_type=1)

    report = poller.poll_athlete(ATHLETE)

    assert report.outcome == "synced"
    assert report.created == [activity_id]
    assert stored(sessions)[activity_id].effort == "race"
    assert "ice" in reminders(sessions, activity_id)
    assert athlete_row(sessions).timezone == "America/Toronto"


@pytest.mark.usefixtures("connected")
def test_late_upload_with_an_old_start_is_not_missed(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    # A phone-recorded ride is seen first; the watch run that started earlier syncs hours later.
    ride = run(strava_double, clock.now - timedelta(hours=2), name="Commute", sport_type="Ride")
    assert poller.poll_athlete(ATHLETE).created == [ride]
    clock.advance(minutes=10)
    late = run(
        strava_double, clock.now - timedelta(hours=30), name="Long run", distance=26000.0, moving_time=8400
    )

    reports = []
    for _ in range(2):  # a window read comes round within two ticks
        clock.advance(minutes=10)
        reports.append(poller.poll_athlete(ATHLETE))

    assert late in stored(sessions)
    assert stored(sessions)[late].effort == "long_run"
    assert [r.reads for r in reports] == [1, 1]  # each tick costs one read, finding it included


@pytest.mark.usefixtures("connected")
def test_a_short_page_is_continued_by_the_next_tick_until_an_empty_page(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    app_settings: Settings,
    clock: FakeClock,
) -> None:
    poller = make_poller(sessions, app_settings, clock, per_page=5)
    assert poller.poll_athlete(ATHLETE).outcome == "synced"  # the first poll: nothing yet
    ids = [run(strava_double, clock.now - timedelta(hours=9 - i), sport_type="Walk") for i in range(7)]
    strava_double.set_short_page(1, missing=2)  # every first page hides two slots

    reports: list[PollReport] = []
    while len(reports) < 8:
        clock.advance(minutes=10)
        reports.append(poller.poll_athlete(ATHLETE))
        if reports[-1].read == "cursor" and reports[-1].seen == 0:
            break  # the empty page: the sequence is complete

    assert set(stored(sessions)) == set(ids)
    assert all(r.reads == 1 for r in reports)
    assert [r.read for r in reports] == ["window", "cursor", "cursor", "cursor"]
    assert [r.seen for r in reports] == [3, 3, 1, 0]


@pytest.mark.usefixtures("connected")
def test_more_than_200_activities_page_until_an_empty_page(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    first = clock.now - timedelta(hours=47)
    ids = [run(strava_double, first + timedelta(minutes=13 * i), sport_type="Walk") for i in range(215)]
    strava_double.set_short_page(1, missing=3)  # page 1 comes back short before the end

    report = poller.poll_athlete(ATHLETE, scan=True)

    assert set(stored(sessions)) == set(ids)
    assert report.pages == 3  # 197, 18, then the empty page
    assert report.seen == 215


@pytest.mark.usefixtures("connected")
def test_retag_from_workout_to_race_replans(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity_id = run(
        strava_double,
        clock.now - timedelta(hours=1),
        name="Tempo 5K",
        workout_type=3,
        distance=5000.0,
        moving_time=1200,
    )
    poller.poll_athlete(ATHLETE)
    assert stored(sessions)[activity_id].effort == "speedwork"
    before = reminders(sessions, activity_id)

    strava_double.update_activity(activity_id, workout_type=1, name="Parkrun PB!")
    clock.advance(minutes=10)
    report = poller.poll_athlete(ATHLETE)  # a plain tick: the day's activities come back on every tick

    assert report.reads == 1
    assert report.changed == [activity_id]
    assert stored(sessions)[activity_id].effort == "race"
    after = reminders(sessions, activity_id)
    assert after != before
    assert [r.effort for r in report.results] == ["race"]


@pytest.mark.usefixtures("connected")
def test_deleted_activity_cancels_its_unsent_reminders(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    activity_id = run(strava_double, clock.now - timedelta(hours=1), name="Track 8x400", workout_type=3)
    poller.poll_athlete(ATHLETE)
    assert "planned" in reminders(sessions, activity_id).values()

    strava_double.delete_activity(activity_id)
    clock.advance(minutes=10)
    report = poller.poll_athlete(ATHLETE)

    assert report.deleted == [activity_id]
    assert (report.reads, report.checks) == (2, 1)  # the list, then one read confirming the 404
    assert stored(sessions)[activity_id].deleted_at is not None
    statuses = set(reminders(sessions, activity_id).values())
    assert statuses == {"cancelled"}


@pytest.mark.usefixtures("connected")
def test_detail_is_read_only_when_the_summary_cannot_decide(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    named = run(strava_double, clock.now - timedelta(hours=5), name="Easy 45")
    vague = run(strava_double, clock.now - timedelta(hours=2), name="Morning Run", average_heartrate=None)

    report = poller.poll_athlete(ATHLETE)

    assert set(report.created) == {named, vague}
    gets = [r.path for r in strava_double.requests if r.path.startswith("/api/v3/activities/")]
    assert gets == [f"/api/v3/activities/{vague}"]
    assert report.details == 1
    assert stored(sessions)[vague].detailed
    assert not stored(sessions)[named].detailed
    # The next ticks see the unchanged summaries and read no detail again.
    clock.advance(minutes=10)
    assert poller.poll_athlete(ATHLETE).details == 0


# -- tokens ----------------------------------------------------------------------------------------------


@BOTH_BACKENDS
def test_rotated_refresh_token_survives_a_restart(
    strava_double: StravaDouble,
    engine: Engine,
    sessions: sessionmaker[Session],
    app_settings: Settings,
    clock: FakeClock,
) -> None:
    connect(strava_double, sessions, app_settings, clock)
    strava_double.rotate_refresh_tokens()
    _, first_refresh = strava_double.current_tokens(ATHLETE)
    clock.advance(hours=6)  # the access token has expired

    assert make_poller(sessions, app_settings, clock).poll_athlete(ATHLETE).outcome == "synced"
    _, rotated = strava_double.current_tokens(ATHLETE)
    assert rotated != first_refresh

    # A new process: a fresh engine and session factory read the rotated token from the database.
    second_engine = make_engine(engine.url.render_as_string(hide_password=False))
    restarted = make_sessionmaker(second_engine)
    assert athlete_row(restarted).refresh_token == rotated
    clock.advance(hours=6)
    run(strava_double, clock.now - timedelta(minutes=50), name="Easy 30")
    report = make_poller(restarted, app_settings, clock).poll_athlete(ATHLETE)
    assert report.outcome == "synced"
    assert len(report.created) == 1
    assert athlete_row(restarted).state == "active"
    second_engine.dispose()


@pytest.mark.usefixtures("connected")
def test_expired_access_token_is_refreshed_once_after_a_401(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    strava_double.expire_access_token(ATHLETE)  # our stored expiry still says it is valid

    report = poller.poll_athlete(ATHLETE)

    assert report.outcome == "synced"
    assert strava_double.count_requests("POST", "/oauth/token") == 2  # the connect, then one refresh
    assert athlete_row(sessions).access_token == strava_double.current_tokens(ATHLETE)[0]


@pytest.mark.usefixtures("connected")
def test_invalid_refresh_token_needs_reauth_and_tells_the_athlete_once(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    poller: Poller,
    notifier: MemoryNotifier,
    clock: FakeClock,
) -> None:
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ATHLETE)
        assert athlete is not None
        athlete.notify_urls = ["json://localhost/ada"]
    strava_double.revoke(ATHLETE)
    clock.advance(hours=6)

    first = poller.poll_athlete(ATHLETE)
    clock.advance(minutes=10)
    second = poller.poll_athlete(ATHLETE)
    poller.refresh_tokens()

    assert first.outcome == second.outcome == "needs_reauth"
    athlete = athlete_row(sessions)
    assert athlete.state == "needs_reauth"
    assert athlete.refresh_token is None and athlete.access_token is None
    [queued] = queued_alerts(sessions, ATHLETE)  # one row for three tries
    assert queued.step.startswith("alert:needs_reauth:") and queued.status == "planned"
    [sent] = deliver(sessions, notifier, clock)
    assert "recovery auth" in sent.message.body
    assert sent.message.tags == ("urgent",)
    assert sent.destinations == ("json://localhost/ada",)
    assert ATHLETE not in poller.due_athletes(clock.now)


# An inactive application (alerted once, probed every quarter hour): tests/reliability/test_app_inactive.py


# -- a manual sync beside the daemon -------------------------------------------------------------------


class _NoDispatch:
    def run_once(self) -> object:
        return None

    def next_due_at(self) -> datetime | None:
        return None


class _NoHealth:
    def dispatched(self, at: datetime) -> None: ...

    def dispatch_failed(self, error: str) -> None: ...

    def polled(self, at: datetime) -> None: ...


def daemon_jobs(poller: Poller, clock: FakeClock) -> DaemonJobs:
    """The daemon's job runner around `poller` (its scheduler never started: the test calls the job)."""
    work = Work(
        dispatcher=_NoDispatch(),
        connected_athletes=lambda: [ATHLETE],
        housekeeping=lambda: None,
        poller=poller,
    )
    return DaemonJobs(work, JobTimings(poll_interval=poller.interval, sweep_interval=30), _NoHealth(), clock)


@pytest.mark.usefixtures("connected")
def test_the_daemon_polls_right_after_a_manual_sync_and_says_why_it_skips(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    app_settings: Settings,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # `recovery sync` with the default 600 s interval, then a daemon polling every 30 s started at once.
    manual = make_poller(sessions, app_settings, clock, interval=600, interactive=True)
    assert manual.poll_athlete(ATHLETE, scan=True).outcome == "synced"
    race = run(strava_double, clock.now - timedelta(minutes=5), name="Harbourfront 10K", workout_type=1)
    clock.advance(seconds=3)
    daemon = daemon_jobs(make_poller(sessions, app_settings, clock, interval=30), clock)

    daemon.poll(ATHLETE)

    assert reminders(sessions, race).get("ice") == "planned"

    # A second instance on the same schedule, two seconds later, does not repeat it, and says why.
    other = daemon_jobs(make_poller(sessions, app_settings, clock, interval=30), clock)
    requests = len(strava_double.requests)
    clock.advance(seconds=2)
    with caplog.at_level(logging.INFO, logger="scheduler.strava.sync"):
        other.poll(ATHLETE)
    assert len(strava_double.requests) == requests
    assert (
        f"athlete {ATHLETE}: poll skipped: a scheduled poll (this or another instance) ran 2 s ago"
        in caplog.text
    )


# -- rate limits -----------------------------------------------------------------------------------------


def _foreign_reads(double: StravaDouble, n: int) -> None:
    """Reads by another process of the same app: counted by Strava, unknown to our budget."""
    token, _ = double.current_tokens(ATHLETE)
    for _ in range(n):
        request = urllib.request.Request(
            f"{double.api_url}/athlete", headers={"Authorization": f"Bearer {token}"}
        )
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=5).close()


class _BusyNeighbour:
    """A port whose first activity-list call lets another instance spend the budget behind our back."""

    def __init__(self, port: Any, double: StravaDouble, reads: int) -> None:
        self._port, self._double, self._reads = port, double, reads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def list_activities(self, **kwargs: Any) -> Any:
        result = self._port.list_activities(**kwargs)
        if self._reads:
            _foreign_reads(self._double, self._reads)
            self._reads = 0
        return result


@BOTH_BACKENDS
@pytest.mark.usefixtures("connected")
def test_429_defers_to_the_window_reset_without_sleeping_or_losing_data(
    strava_double: StravaDouble,
    sessions: sessionmaker[Session],
    app_settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = clock.now - timedelta(hours=40)
    ids = [run(strava_double, first + timedelta(minutes=50 * i), sport_type="Walk") for i in range(30)]
    strava_double.set_rate_limits(read_15min=6)
    real = client_factory(app_settings.strava, clock)
    neighbour = _BusyNeighbour(None, strava_double, 4)

    def factory(token: str | None) -> Any:
        neighbour._port = real(token)
        return neighbour

    poller = make_poller(sessions, app_settings, clock, per_page=20)
    poller.port_factory = factory

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s")

    monkeypatch.setattr(time, "sleep", no_sleep)
    # stravalib's own limiter would have slept until 14:15; the poll must come back at once instead.
    report = finishes_within(GENEROUS, lambda: poller.poll_athlete(ATHLETE), "the poll hitting a 429")

    assert [r.status for r in strava_double.requests][-1] == 429
    assert report.outcome == "deferred"
    reset = datetime(2026, 5, 16, 14, 15, tzinfo=UTC)
    assert report.deferred_until == reset
    assert athlete_row(sessions).defer_until == reset
    assert len(stored(sessions)) == 20  # the page read before the 429 was committed
    with sessions() as session:
        assert budget.load(session).blocked_until == reset
    assert poller.due_athletes(clock.now) == []
    requests_before = len(strava_double.requests)
    assert poller.poll_athlete(ATHLETE).outcome == "deferred"
    assert len(strava_double.requests) == requests_before  # nothing sent before the reset

    clock.now = reset + timedelta(seconds=1)
    assert poller.due_athletes(clock.now) == [ATHLETE]
    resumed = poller.poll_athlete(ATHLETE)

    assert resumed.outcome == "synced"
    assert set(stored(sessions)) == set(ids)
    assert len(resumed.created) == 10


@pytest.mark.usefixtures("connected")
def test_budget_reserve_stops_polling_before_strava_says_429(
    strava_double: StravaDouble, sessions: sessionmaker[Session], poller: Poller, clock: FakeClock
) -> None:
    strava_double.set_rate_limits(read_daily=10)
    for _ in range(12):
        poller.poll_athlete(ATHLETE)
        clock.advance(minutes=10)

    assert all(r.status != 429 for r in strava_double.requests)
    assert strava_double.usage.read_daily == 9  # 10 minus the 10 % reserve
    assert athlete_row(sessions).defer_until == datetime(2026, 5, 17, tzinfo=UTC)
