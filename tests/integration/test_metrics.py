"""GET /metrics of a real daemon (built and started in this process): after a delivery and a failed poll, a
Prometheus scrape parses and shows them, next to the figures read from the database at scrape time."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from scheduler.clock import utc_now
from scheduler.daemon.app import Daemon, build_daemon
from scheduler.http.metrics import BudgetLeft, budget_left
from scheduler.logs import Redactor
from scheduler.metrics import REGISTRY
from scheduler.settings import DispatchSettings, HttpSettings, NotifySettings, Settings, StravaSettings
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava import budget
from scheduler.strava.port import RateMeter, RateUsage
from scheduler.strava.sync import PollReport
from tests.acceptance.seed import add_activity, add_athlete, add_reminder
from tests.doubles.receivers import HttpReceiver
from tests.doubles.strava_double import StravaDouble

TOKEN = "metrics-scrape-token"
ATHLETE = 7001
RESERVE = 0.1
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while (result := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.05)
    return result


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with StravaDouble() as strava, HttpReceiver() as receiver:
        settings = Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path}/metrics.db",
            timezone="UTC",
            # The reminder is seeded behind the daemon's back: a quick sweep finds it.
            dispatch=DispatchSettings(sweep_interval=1),
            http=HttpSettings(host="127.0.0.1", port=0, token=SecretStr(TOKEN)),
            notify=NotifySettings(urls=[SecretStr(f"json://{receiver.host_port}/")]),
            strava=StravaSettings(
                client_id=strava.client_id,
                client_secret=SecretStr(strava.client_secret),
                api_url=strava.api_url,
                oauth_url=strava.oauth_url,
                rate_reserve=RESERVE,
            ),
        )
        daemon = build_daemon(settings, Redactor())
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop(10)


def scrape(daemon: Daemon, token: str | None = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(daemon.http.url + "/metrics", headers=headers)
    with urllib.request.urlopen(req, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_scrape_shows_deliveries_poll_failures_reminders_and_the_budget(daemon: Daemon) -> None:
    now = utc_now()
    attempts_before = counter("recovery_delivery_attempts_total", service="json")
    failures_before = counter("recovery_poll_failures_total", athlete=str(ATHLETE))
    reads_before = counter("recovery_strava_requests_total", driver="poll")
    usage = RateUsage(now, overall=RateMeter(50, 200, 500, 2000), read=RateMeter(30, 100, 300, 1000))
    with transaction(daemon.sessions) as session:
        # The double does not know these tokens: the poll fails with a 401.
        add_athlete(session, now, ATHLETE)
        activity = add_activity(session, ATHLETE, now)
        add_reminder(session, activity, "ice_now", now - timedelta(seconds=5), now)
        budget.record(session, usage, now)

    def sent() -> models.Reminder | None:
        with daemon.sessions() as session:
            return session.scalars(select(models.Reminder).where(models.Reminder.status == "sent")).first()

    wait_for(sent, "delivered reminder")
    assert daemon.jobs.work.poller is not None
    report = daemon.jobs.work.poller.poll_athlete(ATHLETE)
    assert isinstance(report, PollReport) and report.outcome != "synced"

    samples = scrape(daemon)
    assert samples[("recovery_reminders", (("status", "sent"),))] == 1
    assert samples[("recovery_delivery_attempts_total", (("service", "json"),))] == attempts_before + 1
    assert samples[("recovery_poll_failures_total", (("athlete", str(ATHLETE)),))] == failures_before + 1
    assert samples[("recovery_strava_requests_total", (("driver", "poll"),))] > reads_before
    assert ("recovery_reminder_lateness_seconds_count", ()) in samples
    expected = {(f.kind, f.window): f.left for f in budget_left(budget.BudgetState(usage), now, RESERVE)}
    scraped = {
        (dict(labels)["kind"], dict(labels)["window"]): value
        for (name, labels), value in samples.items()
        if name == "recovery_strava_budget_left"
    }
    assert scraped == expected and expected[("overall", "15min")] == 180 - 50
    assert samples[("recovery_metrics_database_up", ())] == 1


def test_metrics_need_the_token_when_one_is_set(daemon: Daemon) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrape(daemon, token=None)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        scrape(daemon, token="wrong")
    assert wrong.value.code == 401


def test_budget_left_counts_from_the_usable_share_and_resets_with_the_window() -> None:
    now = utc_now()
    state = budget.BudgetState(RateUsage(now, overall=RateMeter(190, 200, 500, 2000), read=None))
    assert budget_left(state, now, RESERVE) == [
        BudgetLeft("overall", "15min", 0),  # past the usable 180: nothing left for background work
        BudgetLeft("overall", "daily", 1800 - 500),
    ]
    later = budget_left(state, now + timedelta(minutes=15), RESERVE)
    assert later[0] == BudgetLeft("overall", "15min", 180)
    assert budget_left(budget.BudgetState(), now, RESERVE) == []
