"""The running job scheduler: a reminder's wake-up fires on time, webhook processing can be kicked."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from scheduler.clock import utc_now
from scheduler.daemon.jobs import WEBHOOKS_JOB, DaemonJobs, JobTimings, Work
from tests.doubles.deadlines import GENEROUS, wait_until


class RecordingDispatcher:
    """Reports one reminder due at `due`; records when each dispatch run happened."""

    def __init__(self, due: datetime) -> None:
        self.due: datetime | None = due
        self.runs: list[datetime] = []
        self.ran_after_due = threading.Event()

    def run_once(self) -> object:
        now = utc_now()
        self.runs.append(now)
        if self.due is not None and now >= self.due:
            self.due = None  # sent
            self.ran_after_due.set()
        return {}

    def next_due_at(self) -> datetime | None:
        return self.due


class NullHealth:
    def dispatched(self, at: datetime) -> None:
        pass

    def dispatch_failed(self, error: str) -> None:
        pass

    def polled(self, at: datetime) -> None:
        pass


def no_athletes() -> Sequence[int]:
    return []


def test_a_due_reminder_is_dispatched_by_its_wakeup_at_its_due_time() -> None:
    due = utc_now() + timedelta(seconds=1.5)
    dispatcher = RecordingDispatcher(due)
    work = Work(dispatcher=dispatcher, connected_athletes=no_athletes, housekeeping=dict)
    # A sweep an hour apart: only the wake-up armed for `due` can explain a run before the deadline.
    jobs = DaemonJobs(work, JobTimings(poll_interval=600, sweep_interval=3600), NullHealth(), utc_now)
    jobs.start()
    try:
        assert dispatcher.ran_after_due.wait(GENEROUS), dispatcher.runs
    finally:
        jobs.stop(2)
    late = [run for run in dispatcher.runs if run >= due]
    assert len(late) == 1, dispatcher.runs  # one timed wake-up, not a loop polling until it is due


def test_kick_runs_webhook_processing_now() -> None:
    processed = threading.Event()
    work = Work(
        dispatcher=RecordingDispatcher(utc_now() + timedelta(days=1)),
        connected_athletes=no_athletes,
        housekeeping=dict,
        process_webhooks=processed.set,
    )
    timings = JobTimings(poll_interval=600, sweep_interval=3600, webhook_interval=3600)
    jobs = DaemonJobs(work, timings, NullHealth(), utc_now)
    jobs.start()
    try:
        assert processed.wait(GENEROUS)  # the first run at start
        processed.clear()
        jobs.kick(WEBHOOKS_JOB)
        # The next scheduled run is an hour away: only the kick can explain a run before the deadline.
        assert processed.wait(GENEROUS)
    finally:
        jobs.stop(2)


def test_an_event_arriving_during_processing_is_processed_by_one_more_run() -> None:
    inside = threading.Event()
    release = threading.Event()
    runs: list[float] = []

    def process() -> None:
        runs.append(time.monotonic())
        if len(runs) == 2:  # the kicked run: hold it until the test has kicked again
            inside.set()
            release.wait(GENEROUS)

    work = Work(
        dispatcher=RecordingDispatcher(utc_now() + timedelta(days=1)),
        connected_athletes=no_athletes,
        housekeeping=dict,
        process_webhooks=process,
    )
    timings = JobTimings(poll_interval=600, sweep_interval=3600, webhook_interval=3600)
    jobs = DaemonJobs(work, timings, NullHealth(), utc_now)
    jobs.start()
    try:
        wait_until(lambda: len(runs) == 1, GENEROUS, "the run at start")
        jobs.kick(WEBHOOKS_JOB)
        assert inside.wait(GENEROUS)
        jobs.kick(WEBHOOKS_JOB)  # an event accepted while the second run is busy
        release.set()
        wait_until(lambda: len(runs) == 3, GENEROUS, "the run for the event accepted meanwhile")
    finally:
        jobs.stop(2)
