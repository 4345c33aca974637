"""Activities from files: `recovery import PATH…`, and `recovery athletes add NAME` (no Strava needed)."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, settings
from scheduler.cli.strava import athletes_app
from scheduler.clock import utc_now
from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.store import athletes as athlete_store
from scheduler.store.db import transaction


@athletes_app.command("add")
def athletes_add(
    name: Annotated[str, typer.Argument(help="The athlete's name.")],
    zone: Annotated[
        str | None, typer.Option("--zone", "--timezone", help="Their IANA time zone, e.g. Europe/Berlin.")
    ] = None,
) -> None:
    """Add an athlete without Strava (activities from files only); prints the new id on its last line."""
    from scheduler.files.athletes import add_local

    store = open_store(settings())
    with transaction(store.sessions) as session:
        athlete = add_local(session, name, zone, utc_now())
    typer.echo(f"added {athlete.name} (files only): `recovery import FILE --athlete {athlete.id}`")
    typer.echo(str(athlete.id))


@app.command("import")
def import_files(
    paths: Annotated[list[Path], typer.Argument(help="FIT, GPX or TCX files, or folders of them.")],
    athlete: Annotated[int | None, typer.Option("--athlete", help="Whose activities (if several).")] = None,
) -> None:
    """Import activity files like activities from Strava; one JSON object per file on stdout."""
    from scheduler import wiring
    from scheduler.files.importer import REJECTED
    from scheduler.files.importer import import_files as import_all
    from scheduler.files.scan import activity_files

    config = settings()
    ingest_config = wiring.ingest_config(config)  # a bad protocols file stops before the database
    files = activity_files(paths)
    store = open_store(config)
    athlete_id = _athlete(store.sessions, athlete)
    rejected = 0
    outcomes = import_all(store.sessions, athlete_id, files, ingest_config, utc_now, workers=_cores())
    first = next(outcomes, None)  # parser processes start before the progress bar's thread
    with _progress(len(files)) as advance:
        for outcome in itertools.chain([first] if first else [], outcomes):
            emit(outcome.as_json())
            if outcome.outcome == REJECTED:
                rejected += 1
                typer.echo(f"recovery: {outcome.path}: {outcome.reason}", err=True)
            advance()
    if rejected:
        raise typer.Exit(2)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _athlete(sessions: sessionmaker[Session], given: int | None) -> int:
    """The athlete given, else the only one there is."""
    with sessions() as session:
        if given is not None:
            return athlete_store.get(session, given).id
        ids = [a.id for a in athlete_store.list_all(session) if a.state != AthleteState.DEAUTHORIZED]
    if not ids:
        raise InputError("--athlete: no athlete yet: `recovery athletes add NAME` creates one")
    if len(ids) > 1:
        raise InputError(f"--athlete: give one of {', '.join(map(str, ids))}")
    return ids[0]


@contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; the JSON lines stay alone on stdout."""
    if not sys.stderr.isatty() or total < 2:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    # stdout is not redirected into the bar: the JSON lines must reach a pipe or file, not the terminal.
    with Progress(console=Console(stderr=True), transient=True, redirect_stdout=False) as progress:
        task = progress.add_task("importing", total=total)
        yield lambda: progress.advance(task)
