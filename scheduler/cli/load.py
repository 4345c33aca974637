"""`recovery load`: an athlete's daily training load, fatigue (ATL), fitness (CTL), form (TSB) and ratio."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, settings
from scheduler.clock import utc_now
from scheduler.domain import form
from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.store import models
from scheduler.training import athlete_form


def _athlete(session: Session, athlete_id: int | None) -> models.Athlete:
    if athlete_id is not None:
        row = session.get(models.Athlete, athlete_id)
        if row is None:
            raise InputError(f"no athlete {athlete_id}: `recovery athletes` lists the connected ones")
        return row
    rows = list(
        session.scalars(
            select(models.Athlete).where(models.Athlete.state != AthleteState.DEAUTHORIZED).limit(2)
        )
    )
    if not rows:
        raise InputError(
            "no athlete yet: connect one with `recovery auth` or add one with `recovery athletes add`"
        )
    if len(rows) > 1:
        raise InputError("several athletes: give --athlete ID (`recovery athletes` lists them)")
    return rows[0]


@app.command("load")
def load_command(
    athlete: Annotated[
        int | None,
        typer.Option("--athlete", metavar="ID", help="The athlete (needed if several)."),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, metavar="N", help="How many days back.")
    ] = 28,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per day.")] = False,
) -> None:
    """Daily training load and form, oldest day first, ending today in the athlete's zone.

    load: the day's TSS points (100 = an hour at threshold; hrTSS with heart rate, rTSS from pace without).

    atl: fatigue (7-day); ctl: fitness (42-day); tsb: form, ctl - atl.

    acwr: the last 7 days' load over the 28 days before; its value for predicting injury is disputed.
    """
    config = settings()
    store = open_store(config)
    with store.sessions() as session:
        row = _athlete(session, athlete)
        result = athlete_form(session, row, config.timezone, utc_now())
    shown = result.last(days)
    if json_out:
        for day in shown:
            emit(day.as_json())
        return
    if not shown:
        typer.echo(f"no activity for athlete {row.id} yet: nothing to compute", err=True)
        return
    typer.echo(f"{'date':<10}  {'load':>5}  {'fatigue':>7}  {'fitness':>7}  {'form':>5}  {'ratio':>5}")
    for day in shown:
        ratio = "-" if day.acwr is None else f"{day.acwr:.2f}"
        typer.echo(
            f"{day.day.isoformat():<10}  {day.load:>5.0f}  {day.atl:>7.1f}  {day.ctl:>7.1f}  "
            f"{day.tsb:>5.1f}  {ratio:>5}"
        )
    typer.echo(f"ratio: the acute:chronic workload ratio; {form.DISPUTED}.")
    note = form.note_for(result.days)
    if note is not None:
        typer.echo(note.text)
