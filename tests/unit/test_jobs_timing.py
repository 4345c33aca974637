"""The running job scheduler: a reminder's wake-up fires on time, webhook processing can be kicked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from scheduler.clock import utc_now
from scheduler.daemon.jobs import WEBHOOKS_JOB, DaemonJobs, JobTimings, Work


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


def test_a_due_reminder_is_dispatched_within_a_second_of_its_due_time() -> None:
    due = utc_now() + timedelta(seconds=1.5)
    dispatcher = RecordingDispatcher(due)
    work = Work(dispatcher=dispatcher, connected_athletes=no_athletes, housekeeping=dict)
    # A sweep far apart: only the wake-up can explain a timely run.
    jobs = DaemonJobs(work, JobTimings(poll_interval=600, sweep_interval=3600), NullHealth(), utc_now)
    jobs.start()
    try:
        assert dispatcher.ran_after_due.wait(5)
    finally:
        jobs.stop(2)
    late = [run for run in dispatcher.runs if run >= due]
    assert late, dispatcher.runs
    assert late[0] - due < timedelta(seconds=1)


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
        assert processed.wait(3)  # the first run at start
        processed.clear()
        started = time.monotonic()
        jobs.kick(WEBHOOKS_JOB)
        assert processed.wait(3)
        assert time.monotonic() - started < 1.5
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
            release.wait(3)

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
        wait_for(lambda: len(runs) == 1)  # the run at start
        jobs.kick(WEBHOOKS_JOB)
        assert inside.wait(3)
        jobs.kick(WEBHOOKS_JOB)  # an event accepted while the second run is busy
        release.set()
        wait_for(lambda: len(runs) == 3)
    finally:
        jobs.stop(2)


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
