"""The daemon's clock: APScheduler 3 jobs that poll, dispatch, refresh tokens, process webhooks, tidy up.

APScheduler only decides *when* work runs; *what* is due lives in the database, so every job list here is
rebuilt from it (at start, after each dispatch, and every minute for the athletes). Jobs live in memory only:
a crash loses nothing because nothing is only here.

APScheduler 3 silently drops a run that starts more than `misfire_grace_time` (default 1 s) late, which a busy
thread pool or a suspended laptop easily causes; every job sets it explicitly and coalesces missed runs into
one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.clock import Clock
from scheduler.daemon.outage import DatabaseOutage

log = logging.getLogger(__name__)

# Interval jobs are anchored here so each athlete's poll keeps its place in the interval across restarts.
ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)

SWEEP_JOB = "dispatch-sweep"
WAKEUP_JOB = "dispatch-wakeup"
ATHLETES_JOB = "athletes-sync"
TOKENS_JOB = "token-refresh"
WEBHOOKS_JOB = "webhook-events"
HOUSEKEEPING_JOB = "housekeeping"
EVENING_JOB = "evening-messages"
LOOKAHEAD_JOB = "look-ahead"
WARM_UP_JOB = "warm-up"
POLL_PREFIX = "poll-"
CATCH_UP_PREFIX = "catch-up-"

DISPATCH_EXECUTOR = "dispatch"
# A wake-up never comes sooner than this after a dispatch run, so a row that stays due (a bug, a database
# error) cannot make the dispatcher spin.
MIN_WAKEUP_GAP = timedelta(seconds=0.2)
# What a send needs (apprise, ~12 MiB) is loaded this long before the first due reminder, not as soon as one
# is planned: a daemon whose next message is hours away (tomorrow's foam roll, a look-ahead nudge) stays
# small until then, and ten minutes leave the 0.4 s of imports ample room even on a busy machine.
WARM_UP_LEAD = timedelta(minutes=10)
FAILED_DISPATCH_BACKOFF = timedelta(seconds=5)
# Athletes newly seen and overdue are polled at once, this far apart, not all in the same second.
CATCH_UP_STAGGER = timedelta(seconds=2)


class DispatcherPort(Protocol):
    def run_once(self) -> object: ...

    def next_due_at(self) -> datetime | None: ...


class PollerPort(Protocol):
    def due_athletes(self, now: datetime) -> Sequence[int]: ...

    def poll_athlete(self, athlete_id: int) -> object: ...

    def poll_offset(self, athlete_id: int, interval: int) -> float: ...


class HealthSink(Protocol):
    def dispatched(self, at: datetime) -> None: ...

    def dispatch_failed(self, error: str) -> None: ...

    def polled(self, at: datetime) -> None: ...


@dataclass(frozen=True)
class JobTimings:
    """Seconds between runs of each periodic job."""

    poll_interval: int
    sweep_interval: int
    athlete_sync_interval: int = 60
    token_refresh_interval: int = 300
    webhook_interval: int = 60
    housekeeping_interval: int = 3600
    housekeeping_delay: int = 60  # after start: let the first polls and sends go first
    # Runs on the clock's multiples of this (UTC), so 19:00 in any zone (offsets are multiples of 15 min)
    # is met on time: the form note and weekly summary are planned the minute they fall due.
    evening_interval: int = 300
    # The look-ahead (pre-run nudges, rest days) plans 36 h ahead with a 25 min lead: ten minutes is soon
    # enough to pick up a new check-in or a run that makes an evening no rest day.
    lookahead_interval: int = 600
    workers: int = 4


@dataclass(frozen=True)
class Work:
    """What the jobs call. Optional parts are None when their feature is off (no Strava app, no webhook)."""

    dispatcher: DispatcherPort
    connected_athletes: Callable[[], Sequence[int]]
    housekeeping: Callable[[], object]
    poller: PollerPort | None = None
    refresh_tokens: Callable[[], object] | None = None
    process_webhooks: Callable[[], object] | None = None
    # Loads what a send needs (apprise and its plugins) ahead of the first due reminder, so that reminder
    # does not wait for imports; an idle daemon with nothing to send never loads them.
    warm_up: Callable[[], object] | None = None
    # Plans the evening training messages (form note, weekly summary: scheduler.weekly) when evening comes.
    plan_evenings: Callable[[], object] | None = None
    # Plans the messages before expected runs and on rest days (scheduler.lookahead), idempotently.
    plan_ahead: Callable[[], object] | None = None


class DaemonJobs:
    def __init__(self, work: Work, timings: JobTimings, health: HealthSink, clock: Clock) -> None:
        self.work = work
        self.timings = timings
        self.health = health
        self.clock = clock
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            executors={
                "default": ThreadPoolExecutor(timings.workers),
                # Dispatch has its own threads so slow Strava polls never delay a due reminder.
                DISPATCH_EXECUTOR: ThreadPoolExecutor(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._dispatch_lock = threading.Lock()
        self._arm_lock = threading.Lock()
        self._running_lock = threading.Condition()
        self._running: dict[int, str] = {}
        self._stopping = False
        self._warm_up_at: datetime | None = None  # when the warm-up is (or was) set to run
        self._kicked: set[str] = set()  # jobs asked to run again while they were running
        # Every job needs the database: while it is down they all fail alike, and this tells it once.
        self.outage = DatabaseOutage(clock)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self, *, paused: bool = False) -> None:
        now = self.clock()
        t = self.timings
        self._add_periodic(SWEEP_JOB, self.dispatch, t.sweep_interval, first=now, executor=DISPATCH_EXECUTOR)
        self._add_periodic(ATHLETES_JOB, self.sync_athletes, t.athlete_sync_interval, first=now)
        if self.work.refresh_tokens is not None:
            self._add_periodic(TOKENS_JOB, self._refresh_tokens, t.token_refresh_interval, first=now)
        if self.work.plan_evenings is not None:
            self._add_periodic(EVENING_JOB, self._plan_evenings, t.evening_interval, first=now, anchor=ANCHOR)
        if self.work.plan_ahead is not None:
            self._add_periodic(LOOKAHEAD_JOB, self._plan_ahead, t.lookahead_interval, first=now)
        if self.work.process_webhooks is not None:
            self._add_periodic(WEBHOOKS_JOB, self._process_webhooks, t.webhook_interval, first=now)
        self._add_periodic(
            HOUSEKEEPING_JOB,
            self._housekeeping,
            t.housekeeping_interval,
            first=now + timedelta(seconds=t.housekeeping_delay),
        )
        self.scheduler.start(paused=paused)

    def is_running(self) -> bool:
        return bool(self.scheduler.running) and not self._stopping

    def halt(self) -> None:
        """Start no more runs; runs in progress carry on."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def wait_idle(self, wait_seconds: float) -> list[str]:
        """Wait up to `wait_seconds` for the runs in progress; returns the jobs still running then."""
        deadline = self.clock() + timedelta(seconds=wait_seconds)
        with self._running_lock:
            while self._running:
                remaining = (deadline - self.clock()).total_seconds()
                if remaining <= 0:
                    break
                self._running_lock.wait(min(remaining, 0.1))
            return sorted(self._running.values())

    def stop(self, wait_seconds: float) -> list[str]:
        self.halt()
        return self.wait_idle(wait_seconds)

    def kick(self, job_id: str) -> None:
        """Run a periodic job now (e.g. webhook processing right after an event arrives).

        If it is running at this moment, it runs once more when done: the event may have come too late for
        the run in progress to see it.
        """
        if self._stopping:
            return
        with self._running_lock:
            if job_id in self._running.values():
                self._kicked.add(job_id)
                return
        job = self.scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=self.clock())

    # -- dispatch ----------------------------------------------------------------------------------------

    def dispatch(self) -> None:
        failed = False
        with self._tracked("dispatch"), self._dispatch_lock:
            if self._stopping:
                return
            try:
                report = self.work.dispatcher.run_once()
            except Exception as exc:
                failed = True
                self._log_failure("dispatch", exc)
                self.health.dispatch_failed(f"{type(exc).__name__}: {exc}")
            else:
                self.outage.succeeded()
                log.debug("dispatch: %s", report)
                try:
                    self.health.dispatched(self.clock())
                except Exception as exc:
                    self._log_failure("recording the dispatch time", exc)
        self.arm_wakeup(backoff=FAILED_DISPATCH_BACKOFF if failed else MIN_WAKEUP_GAP)

    def arm_wakeup(self, backoff: timedelta = MIN_WAKEUP_GAP) -> None:
        """(Re)schedule the one-off dispatch at the next due time in the database."""
        if self._stopping:
            return
        with self._arm_lock:
            try:
                due = self.work.dispatcher.next_due_at()
            except Exception as exc:
                self._log_failure("reading the next due reminder (the sweep will retry)", exc)
                return
            if due is None:
                if self.scheduler.get_job(WAKEUP_JOB) is not None:
                    self.scheduler.remove_job(WAKEUP_JOB)
                return
            at = max(due, self.clock() + backoff)
            self.scheduler.add_job(
                self.dispatch,
                DateTrigger(run_date=at, timezone=UTC),
                id=WAKEUP_JOB,
                name=WAKEUP_JOB,
                replace_existing=True,
                executor=DISPATCH_EXECUTOR,
                misfire_grace_time=None,  # a late wake-up must still run: the reminder may not be expired
                coalesce=True,
            )
            log.debug("next dispatch wake-up at %s", at.isoformat())
            self._schedule_warm_up(due)

    def _schedule_warm_up(self, due: datetime) -> None:
        if self.work.warm_up is None:
            return
        at = max(self.clock(), due - WARM_UP_LEAD)
        if self._warm_up_at is not None and self._warm_up_at <= at:
            return  # set for earlier already (or done): once is enough
        self._warm_up_at = at
        warm_up = self.work.warm_up
        self.scheduler.add_job(
            lambda: self._run_guarded(WARM_UP_JOB, warm_up, uses_database=False),
            DateTrigger(run_date=at, timezone=UTC),
            id=WARM_UP_JOB,
            name=WARM_UP_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    # -- polling -----------------------------------------------------------------------------------------

    def sync_athletes(self) -> None:
        """Make the poll jobs match the connected athletes: one job each, spread over the interval."""
        with self._tracked(ATHLETES_JOB):
            if self._stopping:
                return
            try:
                self._sync_athletes()
            except Exception as exc:
                self._log_failure("refreshing the list of athletes to poll", exc)
            else:
                self.outage.succeeded()

    def _sync_athletes(self) -> None:
        athlete_ids = set(self.work.connected_athletes())
        poller = self.work.poller
        if poller is None:
            return
        scheduled = {
            int(job.id.removeprefix(POLL_PREFIX))
            for job in self.scheduler.get_jobs()
            if job.id.startswith(POLL_PREFIX)
        }
        for athlete_id in sorted(scheduled - athlete_ids):
            for job_id in (f"{POLL_PREFIX}{athlete_id}", f"{CATCH_UP_PREFIX}{athlete_id}"):
                if self.scheduler.get_job(job_id) is not None:
                    self.scheduler.remove_job(job_id)
            log.info("athlete %s is no longer connected: polling stopped", athlete_id)
        added = sorted(athlete_ids - scheduled)
        if not added:
            return
        now = self.clock()
        overdue = [athlete_id for athlete_id in poller.due_athletes(now) if athlete_id in added]
        interval = self.timings.poll_interval
        for athlete_id in added:
            offset = timedelta(seconds=poller.poll_offset(athlete_id, interval))
            self._add_periodic(
                f"{POLL_PREFIX}{athlete_id}",
                self.poll,
                interval,
                first=None,
                anchor=ANCHOR + offset,
                args=(athlete_id,),
            )
            job = self.scheduler.get_job(f"{POLL_PREFIX}{athlete_id}")
            next_run = job.next_run_time if job is not None else None
            log.info(
                "polling athlete %s every %s s (next %s)",
                athlete_id,
                interval,
                next_run.isoformat() if next_run else "when started",
            )
        # Never polled, or not for longer than the interval (the daemon was down): poll once now, apart from
        # the periodic job so that one keeps its slot in the interval.
        for position, athlete_id in enumerate(overdue):
            self.scheduler.add_job(
                self.poll,
                DateTrigger(run_date=now + position * CATCH_UP_STAGGER, timezone=UTC),
                args=(athlete_id,),
                id=f"{CATCH_UP_PREFIX}{athlete_id}",
                name=f"{CATCH_UP_PREFIX}{athlete_id}",
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )
            log.info("athlete %s is overdue for a poll: polling now", athlete_id)

    def poll(self, athlete_id: int) -> None:
        poller = self.work.poller
        if poller is None:
            return
        with self._tracked(f"{POLL_PREFIX}{athlete_id}"):
            if self._stopping:
                return
            try:
                result = poller.poll_athlete(athlete_id)
            except Exception as exc:
                self._log_failure(f"polling athlete {athlete_id}", exc)
                self.arm_wakeup()  # a poll that raised may still have queued the athlete's alert
                return
            self.outage.succeeded()
            log.debug("polled athlete %s: %s", athlete_id, result)
            self._poll_again_when_deferral_ends(athlete_id, result)
            try:
                self.health.polled(self.clock())
            except Exception as exc:
                self._log_failure("recording the poll time", exc)
        # New activities may have planned reminders due at once ("ice now"), or the poll queued an alert.
        self.arm_wakeup()

    def _poll_again_when_deferral_ends(self, athlete_id: int, result: object) -> None:
        """A deferred poll (Strava app inactive, rate window spent) runs again the moment its deferral ends,
        not at the first periodic run after it, up to an interval (an hour with webhooks) later."""
        until = getattr(result, "deferred_until", None)
        if not isinstance(until, datetime):
            return
        self.scheduler.add_job(
            self.poll,
            DateTrigger(run_date=until, timezone=UTC),
            args=(athlete_id,),
            id=f"{CATCH_UP_PREFIX}{athlete_id}",
            name=f"{CATCH_UP_PREFIX}{athlete_id}",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )
        log.debug("athlete %s deferred: polling again at %s", athlete_id, until.isoformat())

    # -- the rest ----------------------------------------------------------------------------------------

    def _refresh_tokens(self) -> None:
        if self.work.refresh_tokens is not None and self._run_guarded(TOKENS_JOB, self.work.refresh_tokens):
            self.arm_wakeup()  # a revoked token queued an alert due now: it goes at once, not at the sweep

    def _process_webhooks(self) -> None:
        process = self.work.process_webhooks
        if process is None:
            return
        self._enter(WEBHOOKS_JOB)
        try:
            while not self._stopping:
                if self._call_logged(WEBHOOKS_JOB, process):
                    self.arm_wakeup()
                # Deciding to stop and ceasing to count as running happen under one lock, so a kick in
                # between cannot be lost.
                with self._running_lock:
                    if WEBHOOKS_JOB not in self._kicked or self._stopping:
                        self._running.pop(threading.get_ident(), None)
                        self._running_lock.notify_all()
                        return
                    self._kicked.discard(WEBHOOKS_JOB)
        finally:
            self._leave()

    def _plan_evenings(self) -> None:
        if self.work.plan_evenings is not None and self._run_guarded(EVENING_JOB, self.work.plan_evenings):
            self.arm_wakeup()  # a row planned due now goes at once, not at the next sweep

    def _plan_ahead(self) -> None:
        if self.work.plan_ahead is not None and self._run_guarded(LOOKAHEAD_JOB, self.work.plan_ahead):
            self.arm_wakeup()  # a nudge planned due now goes at once, not at the next sweep

    def _housekeeping(self) -> None:
        self._run_guarded(HOUSEKEEPING_JOB, self.work.housekeeping)

    def _run_guarded(self, name: str, call: Callable[[], object], *, uses_database: bool = True) -> bool:
        with self._tracked(name):
            if self._stopping:
                return False
            return self._call_logged(name, call, uses_database=uses_database)

    def _call_logged(self, name: str, call: Callable[[], object], *, uses_database: bool = True) -> bool:
        try:
            result = call()
        except Exception as exc:
            self._log_failure(name, exc)
            return False
        if uses_database:  # a success that never touched the database says nothing about an outage
            self.outage.succeeded()
        log.debug("%s: %s", name, result)
        return True

    def _log_failure(self, what: str, error: Exception) -> None:
        """A traceback for a bug; for an unreachable database, the outage's one line."""
        if not self.outage.failed(what, error):
            log.error("%s failed", what, exc_info=error)

    def _add_periodic(
        self,
        job_id: str,
        func: Callable[..., None],
        seconds: int,
        *,
        first: datetime | None,
        anchor: datetime | None = None,
        args: tuple[Any, ...] = (),
        executor: str = "default",
    ) -> None:
        trigger = IntervalTrigger(seconds=seconds, start_date=anchor or self.clock(), timezone=UTC)
        options: dict[str, Any] = {"next_run_time": first} if first is not None else {}
        self.scheduler.add_job(
            func,
            trigger,
            args=args,
            id=job_id,
            name=job_id,
            replace_existing=True,
            executor=executor,
            # A run late by up to one interval still happens; later ones are coalesced into the next.
            misfire_grace_time=seconds,
            coalesce=True,
            max_instances=1,
            **options,
        )

    def _tracked(self, name: str) -> _Tracked:
        return _Tracked(self, name)

    def _enter(self, name: str) -> None:
        with self._running_lock:
            self._running[threading.get_ident()] = name

    def _leave(self) -> None:
        with self._running_lock:
            self._running.pop(threading.get_ident(), None)
            self._running_lock.notify_all()


class _Tracked:
    """Marks the current thread as running a job, so `stop` knows what it waits for."""

    def __init__(self, jobs: DaemonJobs, name: str) -> None:
        self._jobs = jobs
        self._name = name

    def __enter__(self) -> None:
        self._jobs._enter(self._name)

    def __exit__(self, *exc: object) -> None:
        self._jobs._leave()
