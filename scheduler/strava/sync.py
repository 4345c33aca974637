"""The poller: reads each athlete's new and changed activities from Strava and hands them to ingest.

How a poll reads (one athlete), one read per tick in the steady state:
- A **window read**: `GET /athlete/activities?after=A` with A = the newest start seen minus `overlap_hours`.
  Late uploads from watches keep their old start time, and the window brings them in; it also brings back
  the recent activities, so a re-tag to "race", a rename or a deletion is seen within two ticks.
- Pages are read until an EMPTY page, never ending at the first short page (Strava's pages can come back
  short before the end). A full page is followed at once. After a short page the next page is read by the
  next tick, as a **cursor read** with A = the newest start seen (the last item of that short page): it
  returns exactly what a further page would, plus anything uploaded since. It usually comes back empty,
  which ends the sequence; so confirming the end costs no read beyond the one each tick makes anyway.
  Window and cursor reads therefore alternate while the window holds activities.
- The first poll of an athlete, `recovery sync` and backfills read all their pages at once.
- Activities seen before in the window read but missing from it are checked with one detail read: 404 →
  `delete_activity`.
- A detail read happens only when ingest says the summary cannot decide the class (`needs_detail`); the
  pending detail is remembered in the same transaction as the summary, so a 429 cannot lose it.
- Every page is committed on its own: nothing already read is lost when a later request fails.
- Before each request the shared rate budget is checked; when it is spent, or on a 429, the athlete is
  deferred to the window reset (`Athlete.defer_until`). Nothing sleeps.
- Several instances poll the same athletes on the same schedule; a per-athlete claim in `AppState`, held
  while the poll runs, and the start of the last scheduled poll let one of them poll per interval. A manual
  `recovery sync` holds the claim only while it runs. A poll that does not run logs why.
- A failed poll (Strava down, an answer we cannot use, a bug) counts towards the athlete's failure streak
  (`Athlete.failing_since`, `failed_polls`), shown by `recovery athletes`, /status and /healthz; the third in
  a row queues one alert (an outbox row, scheduler.strava.alerts) telling the athlete what is wrong and what
  to do. The next successful poll ends the streak.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock, utc_now
from scheduler.daemon.outage import is_connection_error
from scheduler.domain.activity import parse_timezone
from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.ingest import IngestConfig, IngestResult, delete_activity, ingest_history
from scheduler.metrics import POLL_FAILURES
from scheduler.settings import Settings
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava import alerts, budget, poll_state, tokens
from scheduler.strava.access import AthleteAccess, BudgetSpent
from scheduler.strava.fetched import InvalidActivity, ingest_fetched
from scheduler.strava.poll_state import PollState
from scheduler.strava.port import (
    ApplicationInactive,
    ClientRejected,
    Json,
    NotFound,
    RateLimited,
    StravaError,
    StravaPort,
    StravaPortFactory,
    StravaUnavailable,
    Unauthorized,
)

log = logging.getLogger(__name__)

PER_PAGE = 200  # Strava's maximum: one read covers a typical athlete's whole window
# While Strava answers 403 Application Inactive, each athlete's poll is retried this often: its first call
# fails at once (one request), and the first that answers is an ordinary poll, so nothing waits longer.
INACTIVE_PROBE = timedelta(minutes=15)
# A detail Strava keeps answering "still processing" (resource_state -1) for this long is given up.
PENDING_DETAIL_TTL = timedelta(days=1)
# Vanished activities are confirmed one read each; more than this in one poll smells of a Strava hiccup.
MAX_VANISHED_CHECKS = 5


def poll_offset(athlete_id: int, interval: float) -> float:
    """Where in the poll interval this athlete's polls fall (seconds): stable, and spread across athletes."""
    digest = hashlib.sha256(str(athlete_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") % max(int(interval * 1000), 1) / 1000


# -- reports -------------------------------------------------------------------------------------------------


class PollOutcome(StrEnum):
    """How one athlete's poll ended; webhooks read back the failure ones from `Poller.handle_failure`."""

    SYNCED = "synced"
    DEFERRED = "deferred"  # Strava's rate limit: the athlete's Strava work waits until then
    SKIPPED = "skipped"  # claimed elsewhere, deferred from before, or not active
    NEEDS_REAUTH = "needs_reauth"  # Strava refused the tokens: the athlete is now AthleteState.NEEDS_REAUTH
    APP_INACTIVE = "app_inactive"  # 403 Application Inactive: probed again later
    FAILED = "failed"


@dataclass
class PollReport:
    athlete_id: int
    outcome: PollOutcome = PollOutcome.SYNCED
    read: str = ""  # window | cursor | backfill
    reads: int = 0
    pages: int = 0
    details: int = 0  # detail reads because the summary could not decide
    checks: int = 0  # detail reads confirming that an activity missing from the list is gone
    seen: int = 0
    results: list[IngestResult] = field(default_factory=list)  # created or changed activities
    deleted: list[int] = field(default_factory=list)
    skipped_invalid: list[int] = field(default_factory=list)
    deferred_until: datetime | None = None
    message: str = ""

    def add(self, result: IngestResult) -> None:
        """Record an ingest; a second one of the same activity (its detail) folds into the first."""
        for index, earlier in enumerate(self.results):
            if earlier.activity_id == result.activity_id:
                planned = [
                    s for s in dict.fromkeys([*earlier.planned, *result.planned]) if s not in result.cancelled
                ]
                cancelled = [
                    s for s in dict.fromkeys([*earlier.cancelled, *result.cancelled]) if s not in planned
                ]
                self.results[index] = replace(
                    result, created=earlier.created or result.created, planned=planned, cancelled=cancelled
                )
                return
        self.results.append(result)

    @property
    def created(self) -> list[int]:
        return [r.activity_id for r in self.results if r.created]

    @property
    def changed(self) -> list[int]:
        return [r.activity_id for r in self.results if not r.created]

    def __str__(self) -> str:
        parts = [f"athlete {self.athlete_id}: {self.outcome}"]
        if self.outcome == PollOutcome.SYNCED:
            parts.append(
                f"{self.read} read, {self.reads} request(s) ({self.details} detail, {self.checks} check), "
                f"{len(self.created)} new, {len(self.changed)} changed, {len(self.deleted)} deleted"
            )
        if self.deferred_until:
            parts.append(f"until {self.deferred_until.isoformat()}")
        if self.message:
            parts.append(self.message)
        return "; ".join(parts)


class _Skip(Exception):
    """The poll does not run (claimed elsewhere, deferred, not active)."""


# -- the poller ----------------------------------------------------------------------------------------------


ProgressCallback = Callable[[datetime], None]


class Poller:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        port_factory: StravaPortFactory,
        ingest_config: IngestConfig,
        clock: Clock = utc_now,
        *,
        interval: int | None = None,
        interactive: bool = False,
        per_page: int = PER_PAGE,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.port_factory = port_factory
        self.ingest_config = ingest_config
        self.clock = clock
        self.interval = interval or settings.strava.poll_interval
        # Interactive commands may use the reserve the background polls leave untouched.
        self.interactive = interactive
        self.reserve = 0.0 if interactive else settings.strava.rate_reserve
        self.per_page = per_page
        self.overlap = timedelta(hours=settings.strava.overlap_hours)

    @staticmethod
    def poll_offset(athlete_id: int, interval: int) -> float:
        return poll_offset(athlete_id, interval)

    def due_athletes(self, now: datetime) -> list[int]:
        """Athletes a poll would do something for now: active, not deferred, not polled within the interval;
        and athletes who lost access but were not yet told."""
        with transaction(self.sessions) as session:
            spent = budget.load(session).wait_until(now, self.reserve) is not None
            rows = session.execute(
                select(
                    models.Athlete.id,
                    models.Athlete.state,
                    models.Athlete.defer_until,
                    models.Athlete.last_sync_at,
                    models.Athlete.alerted_problem,
                ).order_by(models.Athlete.id)
            ).all()
        due: list[int] = []
        for athlete_id, state, defer_until, last_sync_at, alerted in rows:
            untold = state == AthleteState.NEEDS_REAUTH and alerted != alerts.AlertKey.ACCESS_LOST
            pollable = (
                state == AthleteState.ACTIVE
                and not spent
                and (defer_until is None or defer_until <= now)
                and (last_sync_at is None or now - last_sync_at >= timedelta(seconds=self.interval))
            )
            if untold or pollable:
                due.append(athlete_id)
        return due

    def poll_all(self) -> list[PollReport]:
        return [self.poll_athlete(athlete_id) for athlete_id in self.due_athletes(self.clock())]

    def refresh_tokens(self) -> list[int]:
        """The daemon's token job: refresh every token with fewer than 10 minutes left; returns those done."""
        with transaction(self.sessions) as session:
            due = tokens.expiring(session, self.clock())
        done: list[int] = []
        for athlete_id in due:
            try:
                tokens.access_token(self.sessions, athlete_id, self.port_factory, self.clock)
            except (tokens.ReauthNeeded, StravaError) as error:
                self.handle_failure(athlete_id, error)
            else:
                done.append(athlete_id)
        return done

    # -- one athlete -------------------------------------------------------------------------------------

    def poll_athlete(
        self,
        athlete_id: int,
        *,
        scan: bool = False,
        backfill_days: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> PollReport:
        """Poll one athlete now. `scan` reads the whole overlap window, every page at once; `backfill_days`
        imports that much history (never notifying about old activities); `progress` is called with the start
        of the latest activity read, so a caller can show how far through the time span the import is."""
        report = PollReport(athlete_id)
        now = self.clock()
        try:
            state, claim = self._claim(athlete_id, now)
        except _Skip as skip:
            report.outcome, report.message = PollOutcome.SKIPPED, str(skip)
            log.info("athlete %s: poll skipped: %s", athlete_id, skip)
            return report
        except tokens.ReauthNeeded as error:
            self._lost_access(athlete_id, error.reason)
            report.outcome, report.message = PollOutcome.NEEDS_REAUTH, error.reason
            return report
        except _Deferred as deferred:
            report.outcome, report.deferred_until, report.message = (
                PollOutcome.DEFERRED,
                deferred.until,
                deferred.reason,
            )
            log.info(
                "athlete %s: poll deferred until %s: %s", athlete_id, deferred.until.isoformat(), deferred
            )
            return report
        access: AthleteAccess | None = None
        try:
            access = AthleteAccess(self.sessions, self.port_factory, self.clock, athlete_id, self.reserve)
            self._poll(access, state, report, scan=scan, backfill_days=backfill_days, progress=progress)
        except (tokens.ReauthNeeded, StravaError, BudgetSpent) as error:
            POLL_FAILURES.labels(athlete=str(athlete_id)).inc()
            report.outcome, report.deferred_until, report.message = self.handle_failure(athlete_id, error)
            if report.outcome == PollOutcome.FAILED:
                self._failed_poll(athlete_id, report.message, _advice(error, athlete_id))
        except Exception as error:
            # A bug (the core is meant to be total) fails this athlete's polls every time: count it like any
            # failed poll so it shows, then let the caller log the traceback. A database outage is not the
            # athlete's failure: the daemon tells it once.
            if not is_connection_error(error):
                POLL_FAILURES.labels(athlete=str(athlete_id)).inc()
                self._failed_poll_guarded(
                    athlete_id, f"{type(error).__name__}: {error}", _advice(error, athlete_id)
                )
            raise
        finally:
            if access is not None:
                report.reads = access.reads
            self._release(athlete_id, claim)
        log.info("%s", report)
        return report

    def handle_failure(self, athlete_id: int, error: Exception) -> tuple[PollOutcome, datetime | None, str]:
        """Apply what a failed Strava call means for the athlete: (outcome, deferred until, message)."""
        if isinstance(error, tokens.ReauthNeeded):
            self._lost_access(athlete_id, error.reason)
            return PollOutcome.NEEDS_REAUTH, None, error.reason
        if isinstance(error, Unauthorized):
            reason = f"Strava refused a fresh access token ({error})"
            self._lost_access(athlete_id, reason)
            return PollOutcome.NEEDS_REAUTH, None, reason
        if isinstance(error, BudgetSpent | RateLimited):
            until = error.until if isinstance(error, BudgetSpent) else error.reset_at
            self._defer(athlete_id, until, "Strava rate limit")
            log.warning("athlete %s: %s; Strava work resumes at %s", athlete_id, error, until.isoformat())
            return PollOutcome.DEFERRED, until, str(error)
        if isinstance(error, ApplicationInactive):
            until = self.clock() + INACTIVE_PROBE
            self._defer(athlete_id, until, str(error))
            problem = alerts.app_inactive(INACTIVE_PROBE.total_seconds() / 60)
            if self._alert(athlete_id, problem):
                log.error("Strava answers 403 Application Inactive: %s", problem.body)
            else:
                log.info("athlete %s: Strava app still inactive; next try %s", athlete_id, until.isoformat())
            return PollOutcome.APP_INACTIVE, until, str(error)
        if isinstance(error, ClientRejected):
            log.error("athlete %s: %s", athlete_id, error)
        else:
            log.warning("athlete %s: Strava call failed: %s", athlete_id, error)
        self._failed(athlete_id, str(error))
        return PollOutcome.FAILED, None, str(error)

    def _claim(self, athlete_id: int, now: datetime) -> tuple[PollState, str]:
        """Take the athlete's poll claim: (state, the claim's id for `_release`), or raise why not to poll.

        A scheduled poll runs unless another poll runs right now or another instance's scheduled poll started
        within half the interval. A manual one (`interactive`) always runs and leaves the schedule alone."""
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is None:
                raise _Skip("unknown athlete")
            if athlete.state == AthleteState.NEEDS_REAUTH:
                raise tokens.ReauthNeeded(athlete_id, athlete.last_error or "Strava refused the access")
            if athlete.state != AthleteState.ACTIVE:
                raise _Skip(f"athlete is {athlete.state}")
            if not self.interactive and athlete.defer_until is not None and athlete.defer_until > now:
                raise _Deferred(athlete.defer_until, athlete.last_error or "deferred")
            row, state = poll_state.locked_state(session, athlete_id, now)
            if not self.interactive:
                if state.claimed_until is not None and state.claimed_until > now:
                    raise _Skip(
                        f"another poll of this athlete runs right now (its claim lasts at most until "
                        f"{state.claimed_until.isoformat()})"
                    )
                since = now - state.scheduled_at if state.scheduled_at is not None else None
                if since is not None and since < timedelta(seconds=self.interval / 2):
                    raise _Skip(
                        f"a scheduled poll (this or another instance) ran {since.total_seconds():.0f} s ago"
                    )
                state.scheduled_at = now
            claim = uuid.uuid4().hex
            state.claimed_by, state.claimed_until = claim, now + poll_state.POLL_LEASE
            poll_state.save_state(row, state, now)
            return state, claim

    def _release(self, athlete_id: int, claim: str) -> None:
        """The poll is over: the next may start at once. If this fails the lease runs out by itself."""
        try:
            with transaction(self.sessions) as session:
                row, state = poll_state.locked_state(session, athlete_id, self.clock())
                if state.claimed_by == claim:
                    state.claimed_by = state.claimed_until = None
                    poll_state.save_state(row, state, self.clock())
        except Exception as error:
            log.warning(
                "athlete %s: poll claim not released (%s); it lapses within %s",
                athlete_id,
                error,
                poll_state.POLL_LEASE,
            )

    def _poll(
        self,
        access: AthleteAccess,
        state: PollState,
        report: PollReport,
        *,
        scan: bool,
        backfill_days: float | None,
        progress: ProgressCallback | None,
    ) -> None:
        athlete_id = access.athlete_id
        now = self.clock()
        self._fetch_pending_details(access, state, report)
        with transaction(self.sessions) as session:
            newest = session.scalar(
                select(func.max(models.Activity.start_date)).where(
                    models.Activity.athlete_id == athlete_id, models.Activity.deleted_at.is_(None)
                )
            )
        drain = bool(scan or backfill_days or self._never_synced(athlete_id))
        if backfill_days:
            report.read, after = "backfill", now - timedelta(days=backfill_days)
        elif state.unconfirmed and newest is not None and not drain:
            report.read, after = "cursor", newest
        else:
            report.read, after = "window", (newest or now) - self.overlap
        # Older than this, an activity is history: stored and classified, never notified.
        history_before = now - self.overlap if backfill_days else None

        seen: set[int] = set()
        page = 1
        while True:
            items = access(partial(_list_page, after=after, page=page, per_page=self.per_page))
            report.pages += 1
            self._ingest_page(access, items, report, history_before)
            seen.update(int(item["id"]) for item in items if isinstance(item.get("id"), int))
            if items and progress is not None:
                progress(max(_start(item) for item in items))
            if not items or (not drain and len(items) < self.per_page):
                break
            page += 1
        report.seen = len(seen)
        if report.read != "cursor":  # a cursor read starts after every activity we hold
            self._check_vanished(access, after, seen, report)
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is not None:
                if athlete.failed_polls:
                    log.warning(
                        "athlete %s: polls work again after %d failed in a row since %s",
                        athlete_id,
                        athlete.failed_polls,
                        athlete.failing_since.isoformat() if athlete.failing_since else "?",
                    )
                athlete.last_sync_at = self.clock()
                athlete.last_error = None
                athlete.defer_until = None
                athlete.failing_since = None
                athlete.failed_polls = 0
                athlete.updated_at = self.clock()
            alerts.clear(session, athlete_id, alerts.AlertKey.APP_INACTIVE)
            alerts.clear(session, athlete_id, alerts.AlertKey.POLLS_FAILING)
            row, current = poll_state.locked_state(session, athlete_id, now)
            current.unconfirmed = bool(items)  # the sequence ended on a short page, not an empty one
            poll_state.save_state(row, current, now)

    def _never_synced(self, athlete_id: int) -> bool:
        with self.sessions() as session:
            return (
                session.scalar(select(models.Athlete.last_sync_at).where(models.Athlete.id == athlete_id))
                is None
            )

    def _ingest_page(
        self,
        access: AthleteAccess,
        items: Sequence[Json],
        report: PollReport,
        history_before: datetime | None,
    ) -> None:
        needing_detail: list[int] = []
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, access.athlete_id)
            if athlete is None:
                return
            old = [i for i in items if history_before is not None and _start(i) < history_before]
            recent = [i for i in items if history_before is None or _start(i) >= history_before]
            results = self._ingest_history(session, athlete, old, report, history_before)
            results += [self._ingest(session, athlete, item, report, history_before) for item in recent]
            needing_detail += [r.activity_id for r in results if r is not None and r.needs_detail]
            newest = max(items, key=_start, default=None)
            if newest is not None:
                _update_zone(athlete, newest)
            if needing_detail:
                row, state = poll_state.locked_state(session, access.athlete_id, self.clock())
                for activity_id in needing_detail:
                    state.pending_details.setdefault(activity_id, self.clock())
                poll_state.save_state(row, state, self.clock())
        for activity_id in needing_detail:
            self._fetch_detail(access, activity_id, report)

    def _ingest_history(
        self,
        session: Session,
        athlete: models.Athlete,
        items: list[Json],
        report: PollReport,
        history_before: datetime | None,
    ) -> list[IngestResult | None]:
        """A backfill page in one classification pass; one bad or contested item sends it one by one."""
        if not items:
            return []
        try:
            with session.begin_nested():
                results = ingest_history(session, athlete, items, self.clock())
        except (IntegrityError, InputError, KeyError, ValueError):
            return [self._ingest(session, athlete, item, report, history_before) for item in items]
        for result in results:
            report.add(result)
        return list(results)

    def _ingest(
        self,
        session: Session,
        athlete: models.Athlete,
        raw: Json,
        report: PollReport,
        history_before: datetime | None,
    ) -> IngestResult | None:
        activity_id = raw.get("id")
        backfill = history_before is not None and _start(raw) < history_before
        try:
            result = ingest_fetched(
                session, athlete, raw, self.ingest_config, self.clock(), backfill=backfill
            )
        except InvalidActivity as error:
            log.warning("athlete %s: activity %s skipped: %s", athlete.id, activity_id, error)
            if isinstance(activity_id, int):
                report.skipped_invalid.append(activity_id)
            return None
        if result is not None and result.changed:
            report.add(result)
        return result

    def _fetch_detail(
        self, access: AthleteAccess, activity_id: int, report: PollReport, *, check: bool = False
    ) -> None:
        """Read the DetailedActivity and ingest it; the pending mark goes in the same transaction."""
        try:
            detail: Json | None = access(lambda port: port.get_activity(activity_id))
        except NotFound:
            detail = None
        if check:
            report.checks += 1
        else:
            report.details += 1
        now = self.clock()
        with transaction(self.sessions) as session:
            row, state = poll_state.locked_state(session, access.athlete_id, now)
            if detail is None:
                delete_activity(session, activity_id, now, self.ingest_config)
                report.deleted.append(activity_id)
            elif detail.get("resource_state") == -1:
                first = state.pending_details.get(activity_id, now)
                if now - first < PENDING_DETAIL_TTL:
                    state.pending_details[activity_id] = first
                    poll_state.save_state(row, state, now)
                    return
                log.warning(
                    "activity %s: still processing on Strava after a day; detail given up", activity_id
                )
            else:
                athlete = session.get(models.Athlete, access.athlete_id)
                if athlete is not None:
                    self._ingest(session, athlete, detail, report, None)
            state.pending_details.pop(activity_id, None)
            poll_state.save_state(row, state, now)

    def _fetch_pending_details(self, access: AthleteAccess, state: PollState, report: PollReport) -> None:
        for activity_id in sorted(state.pending_details):
            self._fetch_detail(access, activity_id, report)

    def _check_vanished(
        self, access: AthleteAccess, after: datetime, seen: set[int], report: PollReport
    ) -> None:
        """Activities we hold in the window just read that Strava no longer listed: confirm, then delete."""
        with transaction(self.sessions) as session:
            known = set(
                session.scalars(
                    select(models.Activity.id).where(
                        models.Activity.athlete_id == access.athlete_id,
                        models.Activity.deleted_at.is_(None),
                        models.Activity.start_date > after,
                    )
                )
            )
        vanished = sorted(known - seen - set(report.deleted))
        if len(vanished) > MAX_VANISHED_CHECKS:
            log.warning(
                "athlete %s: %d activities missing from Strava's list; checking %d now, the rest next poll",
                access.athlete_id,
                len(vanished),
                MAX_VANISHED_CHECKS,
            )
        for activity_id in vanished[:MAX_VANISHED_CHECKS]:
            self._fetch_detail(access, activity_id, report, check=True)

    # -- outcomes ----------------------------------------------------------------------------------------

    def _defer(self, athlete_id: int, until: datetime, reason: str) -> None:
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is not None:
                athlete.defer_until = until
                athlete.last_error = reason
                athlete.updated_at = self.clock()

    def _failed(self, athlete_id: int, reason: str) -> None:
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is not None:
                athlete.last_error = reason
                athlete.updated_at = self.clock()

    def _failed_poll(self, athlete_id: int, error: str, advice: str) -> None:
        """Count a failed poll in the athlete's streak; the `FAILING_AFTER`th in a row tells them once."""
        now = self.clock()
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is None:
                return
            athlete.failing_since = athlete.failing_since or now
            athlete.failed_polls = (athlete.failed_polls or 0) + 1
            athlete.last_error = error
            athlete.updated_at = now
            failed, since, name = athlete.failed_polls, athlete.failing_since, athlete.name
        log.warning(
            "athlete %s: poll failed (%d in a row since %s): %s", athlete_id, failed, since.isoformat(), error
        )
        if failed >= alerts.FAILING_AFTER:
            problem = alerts.polls_failing(name, athlete_id, failed, since, error, advice)
            self._alert(athlete_id, problem, now)

    def _failed_poll_guarded(self, athlete_id: int, error: str, advice: str) -> None:
        try:
            self._failed_poll(athlete_id, error, advice)
        except Exception as recording:  # the original error matters more; it is raised on
            log.error("athlete %s: could not record the failed poll: %s", athlete_id, recording)

    def _lost_access(self, athlete_id: int, reason: str) -> None:
        with transaction(self.sessions) as session:
            athlete = session.get(models.Athlete, athlete_id)
            if athlete is None:
                return
            if athlete.state == AthleteState.ACTIVE:
                athlete.access_token = athlete.refresh_token = None
                athlete.token_expires_at = None
                athlete_store.set_state(athlete, AthleteState.NEEDS_REAUTH, self.clock(), error=reason)
            name = athlete.name
        self._alert(athlete_id, alerts.needs_reauth(name, athlete_id, reason))

    def _alert(self, athlete_id: int, problem: alerts.Problem, now: datetime | None = None) -> bool:
        """Queue the alert in the outbox (once per occurrence); the daemon's dispatch sends it."""
        return alerts.alert_once(
            self.sessions, athlete_id, problem, now or self.clock(), self.ingest_config.default_zone
        )


def make_poller(
    settings: Settings,
    sessions: sessionmaker[Session],
    ingest_config: IngestConfig,
    clock: Clock = utc_now,
    *,
    interval: int | None = None,
    interactive: bool = False,
) -> Poller:
    """A poller over the real Strava adapter (stravalib is imported at the first call, not here)."""
    from scheduler.strava.client import client_factory

    return Poller(
        sessions,
        settings,
        client_factory(settings.strava, clock),
        ingest_config,
        clock,
        interval=interval,
        interactive=interactive,
    )


def _advice(error: Exception, athlete_id: int) -> str:
    """What the athlete (or whoever runs the scheduler) can do about a failed poll."""
    if isinstance(error, StravaUnavailable):
        return (
            "Strava, or this machine's network, does not answer; the scheduler keeps trying at every poll. "
            "If it lasts, check the network of the machine running it and https://status.strava.com."
        )
    if isinstance(error, ClientRejected):
        return (
            "Strava refuses the app's credentials: check RECOVERY_STRAVA__CLIENT_ID and "
            "RECOVERY_STRAVA__CLIENT_SECRET against https://www.strava.com/settings/api, then restart it."
        )
    if isinstance(error, StravaError):
        return (
            f"Strava answers something the scheduler cannot use: `recovery sync --athlete {athlete_id}` "
            "shows it; if it lasts, report it with the daemon's log."
        )
    return (
        f"This is an error inside the scheduler: `recovery sync --athlete {athlete_id}` shows it and the "
        "daemon's log has the details; please report it with that log."
    )


class _Deferred(Exception):
    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


def _list_page(port: StravaPort, *, after: datetime, page: int, per_page: int) -> list[Json]:
    return port.list_activities(after=after, page=page, per_page=per_page)


def _start(raw: Json) -> datetime:
    value = raw.get("start_date")
    if not isinstance(value, str):
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _update_zone(athlete: models.Athlete, newest: Json) -> None:
    """The athlete's zone follows their newest activity. Reminders keep their own activity's zone; this one
    decides which local day is "today" when a profile change re-plans, dates imported files that carry no
    zone, and is shown by `recovery athletes`, /status and the page."""
    raw = newest.get("timezone")
    if not isinstance(raw, str) or not raw.strip():
        return
    try:
        zone = parse_timezone(raw, "timezone")
    except InputError:
        return
    if athlete.timezone != zone:
        athlete.timezone = zone
