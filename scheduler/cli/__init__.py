"""The `recovery` command line."""

from __future__ import annotations

import sys

from sqlalchemy.exc import OperationalError

from scheduler.cli import checkins, core, daemon, delivery, files, load, reminders, strava  # noqa: F401  (each registers its commands)
from scheduler.cli.app import app
from scheduler.errors import InputError


def main() -> None:
    try:
        app(standalone_mode=True)
    except InputError as exc:
        print(f"recovery: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except OperationalError as exc:
        print(f"recovery: database error: {str(exc.orig).splitlines()[0]}", file=sys.stderr)
        raise SystemExit(1) from None
