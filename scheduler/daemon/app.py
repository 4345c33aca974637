"""The composition root of `recovery run`: settings → protocols → database → notifier → dispatcher → poller.

Everything that can be wrong with the user's configuration is checked before the database is touched, so a
bad setting or a corrupted protocols file changes nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scheduler import lookahead, training, weekly, wiring
from scheduler.clock import Clock, utc_now
from scheduler.daemon import housekeeping
from scheduler.daemon.health import HealthTracker
from scheduler.daemon.jobs import WEBHOOKS_JOB, DaemonJobs, JobTimings, Work
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.domain.protocols import load_protocols
from scheduler.domain.status import AthleteState
from scheduler.http import metrics as http_metrics
from scheduler.http.server import Endpoints, HttpServer, check_exposure
from scheduler.http.status import status_report
from scheduler.ingest import IngestConfig
from scheduler.logs import Redactor
from scheduler.settings import Settings
from scheduler.store import migrate, models, secret_keys
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.strava import webhooks
from scheduler.strava.sync import Poller
from scheduler.web.routes import Web, WebConfig

if TYPE_CHECKING:
    from scheduler.files.watcher import FolderImport

log = logging.getLogger(__name__)

# Longest a dispatch may go without completing before /healthz reports the instance stuck.
MIN_DISPATCH_STALE = timedelta(minutes=5)


def make_instance_id() -> str:
    """hostname-pid-suffix: unique per process, readable in `leased_by` and the delivery log."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class Daemon:
    settings: Settings
    instance_id: str
    engine: Engine
    sessions: sessionmaker[Session]
    dispatcher: Dispatcher
    jobs: DaemonJobs
    health: HealthTracker
    http: HttpServer
    folder: FolderImport | None = None  # the watched folder of activity files, when configured

    def start(self) -> None:
        self.jobs.start()
        self.http.start()
        if self.folder is not None:
            self.folder.start()
        log.info("listening on %s (health: %s/healthz)", self.http.url, self.http.url)

    def stop(self, wait_seconds: float) -> list[str]:
        """Stop serving and scheduling, give back leased reminders not yet being sent, and let the sends and
        polls in progress finish for up to `wait_seconds`. Returns the jobs still running after that."""
        self.http.stop()
        if self.folder is not None:
            self.folder.stop()
        self.jobs.halt()
        try:
            self.dispatcher.release()
        except Exception:
            log.exception("could not give back this instance's reminder leases; they expire by themselves")
        unfinished = self.jobs.wait_idle(wait_seconds)
        if not unfinished:
            self.engine.dispose()
        return unfinished


def build_daemon(settings: Settings, redactor: Redactor, clock: Clock = utc_now) -> Daemon:
    check_exposure(settings.http)
    protocols = load_protocols(settings.protocols_file)  # before the database: a bad file changes nothing
    instance_id = make_instance_id()
    log.info("recovery-scheduler starting (instance %s)", instance_id)

    engine = make_engine(settings.db_url)
    log.info("database %s: migrating to the newest schema", make_url(settings.db_url).render_as_string())
    migrate.upgrade(engine)
    secret_keys.unlock(engine, settings)  # seals tokens and URLs from now on; refuses a wrong key
    sessions = make_sessionmaker(engine)

    notifier = wiring.lazy_notifier(settings)
    ingest_config = wiring.ingest_config(settings, protocols)
    dispatcher = Dispatcher(
        sessions, notifier, settings.dispatch, instance_id, clock, public_url=settings.http.base_url
    )
    strava_ready = settings.strava.client_id is not None and settings.strava.client_secret is not None
    webhooks_on = strava_ready and settings.strava.webhook_verify_token is not None
    timings = JobTimings(
        # Polls run at the normal interval; with a confirmed live subscription BackstopPolls passes over an
        # athlete polled within the webhook backstop interval (webhooks.live_subscription decides).
        poll_interval=settings.strava.poll_interval,
        sweep_interval=settings.dispatch.sweep_interval,
    )
    poller = (
        wiring.poller(settings, sessions, ingest_config, clock, interval=timings.poll_interval)
        if strava_ready
        else None
    )

    health = HealthTracker(
        instance_id=instance_id,
        engine=engine,
        sessions=sessions,
        clock=clock,
        dispatch_stale_after=max(MIN_DISPATCH_STALE, timedelta(seconds=5 * settings.dispatch.sweep_interval)),
    )
    form_cache = training.FormCache()
    work = Work(
        dispatcher=dispatcher,
        connected_athletes=lambda: connected_athletes(sessions, redactor),
        housekeeping=lambda: _housekeeping(sessions, clock),
        poller=(
            webhooks.BackstopPolls(poller, settings.strava.webhook_poll_interval)
            if poller is not None and webhooks_on
            else poller
        ),
        refresh_tokens=poller.refresh_tokens if poller is not None else None,
        process_webhooks=_webhook_processor(poller) if poller is not None and webhooks_on else None,
        warm_up=notifier.warm_up,
        # One cache for the daemon's life: the evening job continues each athlete's form day by day.
        plan_evenings=lambda: weekly.plan_evenings(sessions, clock(), settings.timezone, form_cache),
        plan_ahead=lambda: lookahead.plan_all(sessions, protocols, clock(), settings.timezone),
    )
    jobs = DaemonJobs(work, timings, health, clock)
    health.watch_scheduler(jobs.is_running)

    receiver = None
    if webhooks_on and settings.strava.webhook_verify_token is not None:
        receiver = webhooks.WebhookReceiver(
            sessions,
            settings.strava.webhook_verify_token.get_secret_value(),
            clock,
            on_event=lambda: jobs.kick(WEBHOOKS_JOB),
        )
    token = settings.http.token.get_secret_value() if settings.http.token is not None else None
    http_metrics.install(http_metrics.DatabaseCollector(sessions, clock, settings.strava.rate_reserve))
    endpoints = Endpoints(
        health=health.report,
        status=lambda: _status(sessions, clock, instance_id),
        webhook=receiver,
        metrics=http_metrics.exposition,
        web=Web(WebConfig(sessions, ingest_config, clock, settings.http.base_url, token)),
    )
    http = HttpServer(settings.http, endpoints)
    _explain_setup(settings, sessions, strava_ready, webhooks_on)
    folder = _folder_import(settings, sessions, ingest_config, clock, jobs)
    return Daemon(settings, instance_id, engine, sessions, dispatcher, jobs, health, http, folder)


def _folder_import(
    settings: Settings, sessions: sessionmaker[Session], config: IngestConfig, clock: Clock, jobs: DaemonJobs
) -> FolderImport | None:
    if settings.imports.dir is None:
        return None
    from scheduler.files.watcher import FolderImport  # watchdog only when a folder is watched

    return FolderImport(settings.imports, sessions, config, clock, on_planned=jobs.arm_wakeup)


def connected_athletes(sessions: sessionmaker[Session], redactor: Redactor) -> Sequence[int]:
    """Athletes to keep a poll job for (all but the deauthorized and the files-only; the poller tells a
    needs_reauth athlete once); also teaches the log redactor their tokens and own URLs."""
    with sessions() as session:
        athletes = session.scalars(select(models.Athlete)).all()
        tokens = [t for a in athletes for t in (a.access_token, a.refresh_token) if t]
        urls = [str(u) for a in athletes for u in (a.notify_urls or [])]
        gone = (AthleteState.DEAUTHORIZED, AthleteState.FILES_ONLY)
        connected = [a.id for a in athletes if a.state not in gone]
    redactor.set_secrets("athlete-tokens", tokens)
    redactor.set_secrets("athlete-urls", urls, urls=True)
    return connected


def _status(sessions: sessionmaker[Session], clock: Clock, instance_id: str) -> dict[str, Any]:
    with sessions() as session:
        report = status_report(session, clock())
    return {"instance": instance_id, **report}


def _housekeeping(sessions: sessionmaker[Session], clock: Clock) -> dict[str, int]:
    with transaction(sessions) as session:
        pruned = housekeeping.prune(session, clock())
    if any(pruned.values()):
        log.info("housekeeping: pruned %s", ", ".join(f"{n} {what}" for what, n in pruned.items()))
    return pruned


def _webhook_processor(poller: Poller) -> Any:
    # Confirms the live subscription at start and hourly, then processes the pending events.
    return webhooks.WebhookWork(webhooks.WebhookDeps.of(poller))


def _explain_setup(
    settings: Settings, sessions: sessionmaker[Session], strava_ready: bool, webhooks_on: bool
) -> None:
    """Say exactly what is missing, once at start; the daemon keeps running and picks changes up."""
    with sessions() as session:
        athletes = session.scalars(select(models.Athlete)).all()
        active = [a for a in athletes if a.state == AthleteState.ACTIVE]
        own_urls = any(a.notify_urls for a in athletes)
    if not strava_ready:
        log.warning(
            "Strava is not configured: set RECOVERY_STRAVA__CLIENT_ID and RECOVERY_STRAVA__CLIENT_SECRET "
            "(your own API application, https://www.strava.com/settings/api) and restart"
        )
    if not active:
        log.warning(
            "no athlete connected yet: run `recovery auth` to connect one; polling starts within a minute"
        )
    else:
        log.info("%d athlete(s) connected: %s", len(active), ", ".join(str(a.id) for a in active))
    if not settings.notify.urls and settings.notify.config is None and not own_urls:
        log.warning(
            "no notification destination: set RECOVERY_NOTIFY__URLS (apprise URLs, "
            "e.g. ntfy://ntfy.sh/your-topic) or RECOVERY_NOTIFY__CONFIG; "
            "until then reminders cannot be delivered"
        )
    if settings.strava.webhook_verify_token is not None and not webhooks_on:
        log.warning(
            "RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN is set but Strava is not configured: webhooks are off"
        )
