"""The object graph's shared parts, built in one place for the daemon and the CLI: the ingest configuration
(protocols + default zone), the notifier from the settings' apprise URLs, and the Strava poller.

Heavy libraries stay out until used: apprise is imported when a notifier is built (the daemon's one even
later, at its first send), stravalib when the poller first talks to Strava.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock, utc_now
from scheduler.domain.protocols import Protocols, load_protocols
from scheduler.ingest import IngestConfig
from scheduler.notify.port import Message, SendResult
from scheduler.settings import Settings

if TYPE_CHECKING:
    from scheduler.notify.apprise_notifier import AppriseNotifier
    from scheduler.strava.sync import Poller


def ingest_config(settings: Settings, protocols: Protocols | None = None) -> IngestConfig:
    """How activities are planned: the protocols file (loaded here unless given) and the default zone.
    A bad protocols file raises ProtocolsError, before anything touches the database."""
    loaded = protocols if protocols is not None else load_protocols(settings.protocols_file)
    return IngestConfig(loaded, settings.timezone)


def default_urls(settings: Settings) -> list[str]:
    """The default destinations (RECOVERY_NOTIFY__URLS), unmasked for apprise."""
    return [url.get_secret_value() for url in settings.notify.urls]


def notifier(settings: Settings, urls: Sequence[str] | None = None) -> AppriseNotifier:
    """The apprise notifier of the settings (or of `urls` alone, as `notify-test URL…` asks), built now."""
    from scheduler.notify.apprise_notifier import AppriseNotifier  # apprise costs ~0.4 s and ~40 MiB

    if urls is not None:
        return AppriseNotifier(list(urls), timeout=settings.notify.timeout)
    return AppriseNotifier(default_urls(settings), settings.notify.config, timeout=settings.notify.timeout)


class LazyAppriseNotifier:
    """The apprise notifier, built when first needed: apprise stays out of an idle daemon's memory."""

    def __init__(self, urls: Sequence[str], config_path: Path | None, timeout: float) -> None:
        self._urls = list(urls)
        self._config_path = config_path
        self._timeout = timeout
        self._lock = threading.Lock()
        self._notifier: AppriseNotifier | None = None

    def _get(self) -> AppriseNotifier:
        with self._lock:
            if self._notifier is None:
                from scheduler.notify.apprise_notifier import AppriseNotifier

                self._notifier = AppriseNotifier(self._urls, self._config_path, timeout=self._timeout)
            return self._notifier

    def ready(self) -> None:
        """Build the apprise notifier now: a broken configuration fails here, before any attempt."""
        self._get()

    def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
        return self._get().send(message, athlete_urls)

    def warm_up(self) -> list[str]:
        """Import apprise and load its plugins (about 0.4 s of CPU) before a reminder is due."""
        return self._get().destinations()


def lazy_notifier(settings: Settings) -> LazyAppriseNotifier:
    """The daemon's notifier: the settings' destinations, apprise loaded at the first send or warm-up."""
    return LazyAppriseNotifier(default_urls(settings), settings.notify.config, settings.notify.timeout)


def poller(
    settings: Settings,
    sessions: sessionmaker[Session],
    config: IngestConfig,
    clock: Clock = utc_now,
    *,
    interval: int | None = None,
    interactive: bool = False,
) -> Poller:
    """The Strava poller over the real adapter; `interactive` commands may use the rate reserve."""
    from scheduler.strava.sync import make_poller

    return make_poller(settings, sessions, config, clock, interval=interval, interactive=interactive)
