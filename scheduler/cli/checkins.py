"""`recovery checkin ID KIND` / `--clear KIND` and `recovery checkins ID`: what the runner tells about the
legs, and what it changed in the plan (one JSON object per reminder changed)."""

from __future__ import annotations

from typing import Annotated

import typer

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, settings
from scheduler.clock import utc_now
from scheduler.domain.checkins import CheckInKind
from scheduler.errors import InputError
from scheduler.store.db import transaction

KINDS = ", ".join(kind.value for kind in CheckInKind)
AthleteId = Annotated[int, typer.Argument(help="The athlete's id (`recovery athletes` lists them).")]


@app.command("checkin")
def checkin_command(
    athlete_id: AthleteId,
    kind: Annotated[str | None, typer.Argument(metavar="KIND", help=f"One of {KINDS}.")] = None,
    area: Annotated[str | None, typer.Option("--area", help="Where: calves, hamstrings, feet …")] = None,
    note: Annotated[str | None, typer.Option("--note", help="In your words.")] = None,
    clear: Annotated[str | None, typer.Option("--clear", metavar="KIND", help="End a check-in.")] = None,
) -> None:
    """Record a check-in (or end one with --clear) and print what it changed in the plan."""
    from scheduler import wiring
    from scheduler.web import checkins

    if (kind is None) == (clear is None):
        raise InputError(f"give a KIND ({KINDS}) or --clear KIND")
    config = settings()
    ingest_config = wiring.ingest_config(config)
    store = open_store(config)
    now = utc_now()
    with transaction(store.sessions) as session:
        if clear is not None:
            changes = checkins.clear(session, athlete_id, clear, ingest_config, now)
        else:
            assert kind is not None
            changes = checkins.record(session, athlete_id, kind, ingest_config, now, area=area, note=note)
    for change in changes:
        emit(change.to_json())
    if kind is not None and kind.strip().lower() == CheckInKind.PAIN:
        typer.echo(checkins.PAIN_ADVICE, err=True)
    if not changes:
        typer.echo("recorded; nothing in the plan changed", err=True)


@app.command("checkins")
def checkins_command(
    athlete_id: AthleteId,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The athlete's check-ins in force now."""
    from scheduler.web import checkins

    store = open_store(settings())
    with store.sessions() as session:
        rows = [checkins.to_json(row) for row in checkins.in_force(session, athlete_id, utc_now())]
    for row in rows:
        if json_out:
            emit(row)
        else:
            area = f" ({row['area']})" if row["area"] else ""
            typer.echo(f"{row['kind']}{area} since {row['since']} until {row['until'] or 'cleared'}")
    if not rows:
        typer.echo("no check-in in force", err=True)
