"""Commands of the functional core: classify, plan, and the database schema."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import typer

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, parse_now, read_json_file, safe_url, settings
from scheduler.clock import utc_now
from scheduler.domain.activity import Activity, parse_activity
from scheduler.domain.effort import classify_series
from scheduler.domain.planning import DayActivity, plan_days
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import load_protocols
from scheduler.errors import InputError
from scheduler.profile_options import parse_equipment, parse_quiet_hours

MaxHr = Annotated[
    int | None, typer.Option("--max-hr", min=100, max=240, metavar="BPM", help="Maximum heart rate (bpm).")
]
RestHr = Annotated[
    int | None, typer.Option("--rest-hr", min=25, max=120, metavar="BPM", help="Resting heart rate (bpm).")
]
ThresholdHr = Annotated[
    int | None,
    typer.Option(
        "--threshold-hr",
        metavar="BPM",
        min=80,
        max=230,
        help="Lactate threshold heart rate (bpm): loads become hrTSS, 100 = an hour there.",
    ),
]


def _read_activities(path: Path) -> list[Activity]:
    data: Any = read_json_file(path)
    items = data if isinstance(data, list) else [data]
    activities = [
        parse_activity(raw, f"{path}[{i}]" if isinstance(data, list) else str(path))
        for i, raw in enumerate(items)
    ]
    # Each activity is judged against the earlier ones of the same input, so order by start.
    return sorted(activities, key=lambda a: a.start_date)


@app.command("classify")
def classify_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Strava activity JSON: one object or an array.")
    ],
    max_hr: MaxHr = None,
    rest_hr: RestHr = None,
    threshold_hr: ThresholdHr = None,
) -> None:
    """Classify each activity (race, speedwork, long_run, easy, other): one JSON line per activity."""
    activities = _read_activities(file)
    profile = AthleteProfile(max_hr=max_hr, rest_hr=rest_hr, threshold_hr=threshold_hr)
    for activity, result in zip(activities, classify_series(activities, profile), strict=True):
        emit(
            {
                "id": activity.id,
                "effort": result.effort.value,
                "reasons": list(result.reasons),
                "load": result.load,
            }
        )


@app.command("plan")
def plan_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Strava activity JSON: one object or an array.")
    ],
    now: Annotated[
        str | None,
        typer.Option(
            "--now", metavar="ISO8601", help="Plan as if it were this instant (ISO 8601 with offset)."
        ),
    ] = None,
    max_hr: MaxHr = None,
    rest_hr: RestHr = None,
    threshold_hr: ThresholdHr = None,
    equipment: Annotated[
        str | None,
        typer.Option("--equipment", metavar="TOOLS", help="Tools you own, comma-separated (default: all)."),
    ] = None,
    quiet_hours: Annotated[
        str | None,
        typer.Option(
            "--quiet-hours", metavar="HH:MM-HH:MM", help="No deferred reminders then, e.g. 22:00-07:00."
        ),
    ] = None,
) -> None:
    """Print the recovery plan of each day of the activities: one JSON line per step, planned or skipped.

    Activities ending on one local day share one set of steps, decided by the day's hardest effort.
    """
    config = settings()
    protocols = load_protocols(config.protocols_file)
    activities = _read_activities(file)
    at = parse_now(now) or utc_now()
    quiet = parse_quiet_hours(quiet_hours) if quiet_hours else None
    profile = AthleteProfile(
        max_hr=max_hr,
        rest_hr=rest_hr,
        threshold_hr=threshold_hr,
        equipment=parse_equipment(equipment) if equipment is not None else None,
        **({"quiet_start": quiet[0], "quiet_end": quiet[1]} if quiet else {}),
    )
    noticed = at.astimezone(UTC)
    items = [
        DayActivity(activity, result, noticed)
        for activity, result in zip(activities, classify_series(activities, profile), strict=True)
    ]
    for day, steps in plan_days(items, profile, protocols, noticed, config.timezone).items():
        for step in steps:
            emit(
                {
                    "day": day.isoformat(),
                    "activity_id": step.activity_id,
                    "step": step.step,
                    "due_at": step.due_at.isoformat(),
                    "expires_at": step.expires_at.isoformat(),
                    "status": step.status,
                    "title": step.title,
                    "body": step.body,
                }
            )


db_app = typer.Typer(help="The database: its schema and the key sealing its secrets.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (alembic upgrade head)."""
    config = settings()
    try:
        open_store(config, upgrade=True)
    except InputError:
        raise
    typer.echo(f"database {safe_url(config.db_url)} is at the newest schema", err=True)


@db_app.command("rotate-key")
def db_rotate_key() -> None:
    """Seal every token and URL with a new key, then drop the old one (stop the daemons first)."""
    from scheduler.store import secret_keys

    config = settings()
    rotation = secret_keys.rotate(open_store(config).engine, config)
    where = (
        f"the old key is gone from {rotation.file}"
        if rotation.file is not None
        else "remove the older keys from RECOVERY_SECRET_KEY on every instance"
    )
    typer.echo(f"{rotation.values} secrets sealed with the new key {rotation.fingerprint}; {where}", err=True)
