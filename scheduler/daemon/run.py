"""The process lifecycle of `recovery run`: start, wait for SIGTERM/SIGINT, stop within 10 s, exit 0."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from scheduler.logs import setup_logging
from scheduler.notify.check import start_check
from scheduler.settings import Settings
from scheduler.store.db import check_sqlite_file, sqlite_file

log = logging.getLogger(__name__)

# Service managers send SIGKILL 10 s (docker) to 90 s (systemd) after SIGTERM; stay well inside the shortest.
JOBS_GRACE_SECONDS = 7.0


def run(settings: Settings) -> int:
    """Run the daemon until a stop signal; returns the exit code. Configuration errors raise ConfigError
    (InputError for an unusable database), each before the database is written."""
    redactor = setup_logging(settings)
    # The destinations are checked in a child process while this one imports the daemon's modules.
    destinations = start_check(
        [url.get_secret_value() for url in settings.notify.urls], settings.notify.config
    )
    from scheduler.daemon.app import build_daemon  # most of the start-up time: imports

    destinations.wait()
    database = sqlite_file(settings.db_url)
    if database is not None:
        # What is wrong with the data directory or the file, before any line of the start-up log.
        check_sqlite_file(database)
    stop = threading.Event()
    signals_seen: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        signals_seen.append(signum)
        if len(signals_seen) > 1:
            # Asked twice: the user does not want to wait for running jobs. Leases expire by themselves.
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            _flush_logs()
            os._exit(1)
        stop.set()

    # Installed before the database is touched, so a signal during migration still stops us cleanly.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            daemon = build_daemon(settings, redactor)
        except OSError as exc:  # a busy port
            log.error("cannot start: %s", exc)
            return 1
        if not stop.is_set():
            daemon.start()
            log.info("running; stop with SIGTERM or Ctrl-C")
        # A timeout keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
        name = signal.Signals(signals_seen[0]).name if signals_seen else "stop"
        log.info("%s received: finishing running jobs (up to %.0f s)", name, JOBS_GRACE_SECONDS)
        unfinished = daemon.stop(JOBS_GRACE_SECONDS)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if unfinished:
        # Their worker threads would keep the interpreter alive past the service manager's patience.
        log.warning(
            "stopped with jobs still running (%s); their work resumes at the next start",
            ", ".join(unfinished),
        )
        _flush_logs()
        os._exit(0)
    log.info("stopped")
    return 0


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
