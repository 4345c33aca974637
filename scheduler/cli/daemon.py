"""`recovery run`: the daemon."""

from __future__ import annotations

from scheduler.cli.app import app
from scheduler.cli.common import settings


@app.command("run")
def run_command() -> None:
    """Run the daemon: migrate the database, poll Strava, send due reminders, serve HTTP; stop on SIGTERM."""
    from scheduler.daemon.run import run  # the daemon's modules are not needed by the other commands

    raise SystemExit(run(settings()))
