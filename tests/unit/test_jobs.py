"""The daemon's job list: what runs, how often, and how it follows the database (no threads run here)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from scheduler.clock import utc_now
from scheduler.daemon.jobs import (
    ANCHOR,
    ATHLETES_JOB,
    FAILED_DISPATCH_BACKOFF,
    HOUSEKEEPING_JOB,
    SWEEP_JOB,
    TOKENS_JOB,
    WAKEUP_JOB,
    WARM_UP_JOB,
    WARM_UP_LEAD,
    WEBHOOKS_JOB,
    DaemonJobs,
    JobTimings,
    Work,
)


@dataclass
class FakeDispatcher:
    due: datetime | None = None
    fail: bool = False
    runs: int = 0

    def run_once(self) -> object:
        self.runs += 1
        if self.fail:
            raise RuntimeError("database is locked")
        return {"sent": 0}

    def next_due_at(self) -> datetime | None:
        return self.due


@dataclass
class FakePoller:
    offsets: dict[int, float] = field(default_factory=dict)
    overdue: set[int] = field(default_factory=set)
    polled: list[int] = field(default_factory=list)
    fail: bool = False

    def due_athletes(self, now: datetime) -> Sequence[int]:
        return sorted(self.overdue)

    def poll_athlete(self, athlete_id: int) -> object:
        self.polled.append(athlete_id)
        if self.fail:
            raise RuntimeError("Strava unavailable")
        return {"ingested": 0}

    def poll_offset(self, athlete_id: int, interval: int) -> float:
        return self.offsets.get(athlete_id, 0.0)


@dataclass
class FakeHealth:
    dispatches: list[datetime] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    polls: list[datetime] = field(default_factory=list)

    def dispatched(self, at: datetime) -> None:
        self.dispatches.append(at)

    def dispatch_failed(self, error: str) -> None:
        self.failures.append(error)

    def polled(self, at: datetime) -> None:
        self.polls.append(at)


@dataclass
class Setup:
    dispatcher: FakeDispatcher = field(default_factory=FakeDispatcher)
    poller: FakePoller = field(default_factory=FakePoller)
    health: FakeHealth = field(default_factory=FakeHealth)
    athletes: list[int] = field(default_factory=list)

    def jobs(
        self, *, poller: bool = True, tokens: bool = False, webhooks: bool = False, warm_up: bool = False
    ) -> DaemonJobs:
        work = Work(
            dispatcher=self.dispatcher,
            connected_athletes=lambda: list(self.athletes),
            housekeeping=lambda: {},
            poller=self.poller if poller else None,
            refresh_tokens=(lambda: None) if tokens else None,
            process_webhooks=(lambda: None) if webhooks else None,
            warm_up=(lambda: None) if warm_up else None,
        )
        return DaemonJobs(work, JobTimings(poll_interval=600, sweep_interval=30), self.health, utc_now)


Started = list[DaemonJobs]


@pytest.fixture
def setup() -> Setup:
    return Setup()


@pytest.fixture
def started() -> Iterator[Started]:
    """Jobs started paused: next run times are computed but nothing runs; shut down afterwards."""
    running: list[DaemonJobs] = []
    yield running
    for jobs in running:
        jobs.stop(1)


def start_paused(jobs: DaemonJobs, started: Started) -> DaemonJobs:
    jobs.start(paused=True)
    started.append(jobs)
    return jobs


def job_ids(jobs: DaemonJobs) -> set[str]:
    return {job.id for job in jobs.scheduler.get_jobs()}


def test_start_schedules_sweep_athlete_sync_and_housekeeping(setup: Setup, started: Started) -> None:
    jobs = start_paused(setup.jobs(), started)
    assert job_ids(jobs) == {SWEEP_JOB, ATHLETES_JOB, HOUSEKEEPING_JOB}
    sweep = jobs.scheduler.get_job(SWEEP_JOB)
    assert sweep.trigger.interval == timedelta(seconds=30)
    # The first sweep runs at start, so reminders that came due while the daemon was down go out at once.
    assert sweep.next_run_time <= utc_now() + timedelta(seconds=1)
    assert jobs.scheduler.get_job(ATHLETES_JOB).trigger.interval == timedelta(seconds=60)


def test_every_periodic_job_sets_misfire_grace_and_coalesces(setup: Setup, started: Started) -> None:
    # APScheduler 3 drops a run more than 1 s late by default: each job must say how late is still fine.
    jobs = start_paused(setup.jobs(tokens=True, webhooks=True), started)
    setup.athletes[:] = [7]
    jobs.sync_athletes()
    for job in jobs.scheduler.get_jobs():
        assert job.coalesce is True, job.id
        assert job.misfire_grace_time == job.trigger.interval.total_seconds(), job.id
        assert job.max_instances == 1, job.id


def test_token_and_webhook_jobs_only_when_their_feature_is_on(
    setup: Setup, started: list[DaemonJobs]
) -> None:
    jobs = start_paused(setup.jobs(tokens=True, webhooks=True), started)
    assert {TOKENS_JOB, WEBHOOKS_JOB} <= job_ids(jobs)


def test_one_poll_job_per_athlete_spread_over_the_interval(setup: Setup, started: Started) -> None:
    setup.athletes[:] = [11, 22, 33]
    setup.poller.offsets = {11: 0.0, 22: 200.0, 33: 400.0}
    jobs = start_paused(setup.jobs(), started)
    jobs.sync_athletes()

    polls = {job.id: job for job in jobs.scheduler.get_jobs() if job.id.startswith("poll-")}
    assert set(polls) == {"poll-11", "poll-22", "poll-33"}
    for job in polls.values():
        assert job.trigger.interval == timedelta(seconds=600)
    # Each athlete keeps its own place in the 10-minute cycle: 200 s apart.
    times = sorted(job.next_run_time for job in polls.values())
    gaps = {round((b - a).total_seconds()) % 600 for a, b in itertools.pairwise(times)}
    assert gaps <= {200, 400}


def test_athletes_added_and_removed_follow_the_database(setup: Setup, started: Started) -> None:
    setup.athletes[:] = [1, 2]
    jobs = start_paused(setup.jobs(), started)
    jobs.sync_athletes()
    assert {"poll-1", "poll-2"} <= job_ids(jobs)

    setup.athletes[:] = [2, 3]  # 1 deauthorized, 3 connected
    jobs.sync_athletes()
    polls = {job_id for job_id in job_ids(jobs) if job_id.startswith("poll-")}
    assert polls == {"poll-2", "poll-3"}


def test_an_overdue_new_athlete_is_polled_at_once_others_wait_their_turn(
    setup: Setup, started: Started
) -> None:
    setup.athletes[:] = [5, 6, 7]
    setup.poller.overdue = {5, 6}
    setup.poller.offsets = {5: 300.0, 6: 300.0, 7: 300.0}
    jobs = start_paused(setup.jobs(), started)
    before = utc_now()
    jobs.sync_athletes()

    def next_run(job_id: str) -> datetime:
        run_time: datetime = jobs.scheduler.get_job(job_id).next_run_time
        return run_time

    assert next_run("catch-up-5") <= before + timedelta(seconds=1)
    # Not all in the same second.
    assert next_run("catch-up-6") - next_run("catch-up-5") >= timedelta(seconds=1)
    assert jobs.scheduler.get_job("catch-up-7") is None
    # Every periodic poll keeps its slot, 300 s into each 600 s cycle since the anchor: a catch-up does not
    # move it (APScheduler would count the next interval from an early first run).
    for athlete in (5, 6, 7):
        assert (next_run(f"poll-{athlete}") - ANCHOR).total_seconds() % 600 == 300


def test_an_athlete_is_not_polled_at_once_on_every_sync(setup: Setup, started: Started) -> None:
    setup.athletes[:] = [5]
    setup.poller.overdue = {5}
    jobs = start_paused(setup.jobs(), started)
    jobs.sync_athletes()
    jobs.scheduler.remove_job("catch-up-5")  # as if it had run
    jobs.sync_athletes()
    assert jobs.scheduler.get_job("catch-up-5") is None


def test_a_disconnected_athlete_loses_its_pending_catch_up_too(setup: Setup, started: Started) -> None:
    setup.athletes[:] = [5]
    setup.poller.overdue = {5}
    jobs = start_paused(setup.jobs(), started)
    jobs.sync_athletes()
    setup.athletes[:] = []
    jobs.sync_athletes()
    assert job_ids(jobs) == {SWEEP_JOB, ATHLETES_JOB, HOUSEKEEPING_JOB}


def test_without_strava_no_poll_jobs(setup: Setup, started: Started) -> None:
    setup.athletes[:] = [1]
    jobs = start_paused(setup.jobs(poller=False), started)
    jobs.sync_athletes()
    assert not [job_id for job_id in job_ids(jobs) if job_id.startswith("poll-")]


def test_dispatch_arms_a_wakeup_at_the_next_due_reminder(setup: Setup, started: Started) -> None:
    due = utc_now() + timedelta(minutes=7)
    setup.dispatcher.due = due
    jobs = start_paused(setup.jobs(), started)
    jobs.dispatch()

    assert setup.dispatcher.runs == 1
    assert len(setup.health.dispatches) == 1
    wakeup = jobs.scheduler.get_job(WAKEUP_JOB)
    assert wakeup.next_run_time == due
    # A late wake-up must still run: the reminder may well be within its window.
    assert wakeup.misfire_grace_time is None


def test_sending_is_prepared_once_a_reminder_is_pending_never_when_idle(
    setup: Setup, started: Started
) -> None:
    jobs = start_paused(setup.jobs(warm_up=True), started)
    jobs.dispatch()  # nothing pending: apprise stays unloaded
    assert jobs.scheduler.get_job(WARM_UP_JOB) is None
    setup.dispatcher.due = utc_now() + timedelta(minutes=7)
    jobs.dispatch()
    warm_up = jobs.scheduler.get_job(WARM_UP_JOB)
    assert warm_up is not None and warm_up.next_run_time <= utc_now() + timedelta(seconds=1)
    jobs.scheduler.remove_job(WARM_UP_JOB)  # as if it had run
    jobs.dispatch()
    assert jobs.scheduler.get_job(WARM_UP_JOB) is None  # once is enough


def test_nothing_due_means_no_wakeup(setup: Setup, started: Started) -> None:
    setup.dispatcher.due = utc_now() + timedelta(minutes=7)
    jobs = start_paused(setup.jobs(), started)
    jobs.dispatch()
    setup.dispatcher.due = None
    jobs.dispatch()
    assert jobs.scheduler.get_job(WAKEUP_JOB) is None


def test_a_reminder_already_due_wakes_dispatch_at_once(setup: Setup, started: Started) -> None:
    setup.dispatcher.due = utc_now() - timedelta(minutes=1)
    jobs = start_paused(setup.jobs(), started)
    before = utc_now()
    jobs.dispatch()
    # Armed for "now" (plus the short minimum gap), not in the past and not at the next sweep; bounds taken
    # around the call, so a slow machine cannot fail it.
    wakeup: datetime = jobs.scheduler.get_job(WAKEUP_JOB).next_run_time
    assert before < wakeup <= utc_now() + timedelta(seconds=1)


def test_a_failing_dispatch_backs_off_and_reports_unhealthy(setup: Setup, started: Started) -> None:
    setup.dispatcher.due = utc_now() - timedelta(minutes=1)
    setup.dispatcher.fail = True
    jobs = start_paused(setup.jobs(), started)
    jobs.dispatch()
    assert setup.health.failures == ["RuntimeError: database is locked"]
    assert not setup.health.dispatches
    delay = jobs.scheduler.get_job(WAKEUP_JOB).next_run_time - utc_now()
    assert delay > FAILED_DISPATCH_BACKOFF - timedelta(seconds=1)


def test_a_poll_records_health_and_rearms_the_wakeup(setup: Setup, started: Started) -> None:
    jobs = start_paused(setup.jobs(), started)
    # The poll planned an "ice now" reminder.
    setup.dispatcher.due = utc_now()
    jobs.poll(42)
    assert setup.poller.polled == [42]
    assert len(setup.health.polls) == 1
    assert jobs.scheduler.get_job(WAKEUP_JOB) is not None


def test_a_failing_poll_is_not_recorded_as_a_success(setup: Setup, started: Started) -> None:
    setup.poller.fail = True
    jobs = start_paused(setup.jobs(), started)
    jobs.poll(42)
    assert setup.poller.polled == [42]
    assert setup.health.polls == []


def test_after_stop_no_job_does_any_work(setup: Setup) -> None:
    jobs = setup.jobs()
    jobs.start(paused=True)
    assert jobs.stop(1) == []
    assert not jobs.is_running()
    setup.athletes[:] = [1]
    jobs.dispatch()
    jobs.poll(1)
    assert setup.dispatcher.runs == 0
    assert setup.poller.polled == []


def test_stop_reports_a_job_that_does_not_finish_in_time(setup: Setup) -> None:
    release = threading.Event()
    entered = threading.Event()

    class SlowDispatcher(FakeDispatcher):
        def run_once(self) -> object:
            entered.set()
            release.wait(5)
            return {}

    setup.dispatcher = SlowDispatcher()
    jobs = setup.jobs()
    jobs.start(paused=True)
    worker = threading.Thread(target=jobs.dispatch)
    worker.start()
    assert entered.wait(2)
    assert jobs.stop(0.2) == ["dispatch"]
    release.set()
    worker.join(2)


def test_stop_waits_for_a_job_that_finishes_in_time(setup: Setup) -> None:
    entered = threading.Event()

    class BriefDispatcher(FakeDispatcher):
        def run_once(self) -> object:
            entered.set()
            threading.Event().wait(0.3)
            self.runs += 1
            return {}

    dispatcher = BriefDispatcher()
    setup.dispatcher = dispatcher
    jobs = setup.jobs()
    jobs.start(paused=True)
    worker = threading.Thread(target=jobs.dispatch)
    worker.start()
    assert entered.wait(2)
    assert jobs.stop(3) == []
    assert dispatcher.runs == 1
    worker.join(2)


@dataclass
class DeferredReport:
    deferred_until: datetime | None


def test_a_deferred_poll_runs_again_when_its_deferral_ends_not_at_the_next_interval(
    setup: Setup, started: Started
) -> None:
    # Strava answered 403 Application Inactive: the athlete is probed again in 15 minutes, although the
    # periodic poll (here every 10 minutes, an hour with webhooks) would come later or at another moment.
    probe_at = utc_now() + timedelta(minutes=15)

    class InactivePoller(FakePoller):
        def poll_athlete(self, athlete_id: int) -> object:
            super().poll_athlete(athlete_id)
            return DeferredReport(deferred_until=probe_at)

    setup.poller = InactivePoller(offsets={9: 0.0})
    setup.athletes[:] = [9]
    jobs = start_paused(setup.jobs(), started)
    jobs.sync_athletes()
    jobs.poll(9)

    catch_up = jobs.scheduler.get_job("catch-up-9")
    assert catch_up is not None and catch_up.next_run_time == probe_at
    assert catch_up.args == (9,)


def test_sending_is_prepared_shortly_before_a_reminder_hours_away_and_earlier_if_one_comes_sooner(
    setup: Setup, started: Started
) -> None:
    jobs = start_paused(setup.jobs(warm_up=True), started)
    due = utc_now() + timedelta(hours=20)  # tomorrow morning's foam roll: apprise stays out until then
    setup.dispatcher.due = due
    jobs.dispatch()
    warm_up = jobs.scheduler.get_job(WARM_UP_JOB)
    assert warm_up is not None and warm_up.next_run_time == due - WARM_UP_LEAD
    setup.dispatcher.due = utc_now() + timedelta(minutes=3)  # a reminder planned meanwhile, due sooner
    jobs.dispatch()
    warm_up = jobs.scheduler.get_job(WARM_UP_JOB)
    assert warm_up is not None and warm_up.next_run_time <= utc_now() + timedelta(seconds=1)
