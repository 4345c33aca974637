"""Delivery commands: `upcoming` and `history` of the reminders outbox, and `notify-test`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, settings
from scheduler.dispatch.deliveries import destinations_of
from scheduler.domain.status import PAST, PENDING, ReminderStatus
from scheduler.domain.zones import zone_named
from scheduler.errors import InputError
from scheduler.notify.port import Message
from scheduler.store import models

TEST_MESSAGE = Message(
    title="Recovery scheduler: test",
    body="A test from recovery-scheduler. If you can read this, your recovery reminders will reach you here.",
)
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]

R = models.Reminder


def _zone(name: str | None) -> tzinfo:
    return zone_named(name) or UTC


def _local(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _rows(session: Session, statuses: Sequence[str], newest_first: bool, limit: int | None) -> list[Any]:
    query = (
        select(R, models.Activity.timezone)
        .join(models.Activity, models.Activity.id == R.activity_id, isouter=True)
        .where(R.status.in_(statuses))
    )
    if newest_first:
        query = query.order_by(func.coalesce(R.sent_at, R.updated_at).desc(), R.id.desc())
    else:
        query = query.order_by(R.available_at, R.id)
    return list(session.execute(query.limit(limit)).all())


class _Zones:
    """Each row's zone: its activity's; a row about a day rather than an activity (a nudge before a run, a
    rest day, a summary, an alert) has none and shows in the athlete's zone, found as the page finds it
    (scheduler.lookahead.athlete_zone), once per athlete."""

    def __init__(self, session: Session, default_zone: str) -> None:
        self._session = session
        self._default = default_zone
        self._athletes: dict[int, tzinfo] = {}

    def of(self, reminder: models.Reminder, activity_zone: str | None) -> tzinfo:
        if reminder.activity_id is not None:
            return _zone(activity_zone)
        if reminder.athlete_id not in self._athletes:
            from scheduler.lookahead import athlete_zone

            athlete = self._session.get(models.Athlete, reminder.athlete_id)
            found = athlete_zone(self._session, athlete, self._default) if athlete else _zone(self._default)
            self._athletes[reminder.athlete_id] = found
        return self._athletes[reminder.athlete_id]


def _base(reminder: models.Reminder, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "athlete_id": reminder.athlete_id,
        "activity_id": reminder.activity_id,
        "step": reminder.step,
        "due_at": _local(reminder.due_at, zone),
        "expires_at": _local(reminder.expires_at, zone),
        "status": reminder.status,
        "title": reminder.title,
        "tags": list(reminder.tags or []),
        "response": reminder.response,  # the runner's answer: done, skipped, snoozed, or None
    }


@app.command("upcoming")
def upcoming_command(json_out: JsonOption = False) -> None:
    """Pending reminders, soonest first: planned, being sent, or waiting to retry after a failure."""
    config = settings()
    store = open_store(config)
    rows: list[dict[str, Any]] = []
    table: list[list[str]] = []
    with store.sessions() as session:
        zones = _Zones(session, config.timezone)
        for reminder, timezone in _rows(session, PENDING, newest_first=False, limit=None):
            zone = zones.of(reminder, timezone)
            row = {
                **_base(reminder, zone),
                "attempts": reminder.attempts,
                # When it will next go out: due_at at first, later the retry time after a failure.
                "next_attempt_at": _local(reminder.available_at, zone),
                "error": reminder.last_error,
                # Destinations an earlier attempt reached: the retry goes to the others only.
                "delivered_to": list(reminder.delivered_to or []),
            }
            rows.append(row)
            table.append(
                [
                    str(reminder.id),
                    _human(reminder.available_at, zone),
                    reminder.step,
                    reminder.title,
                    _pending_status(row),
                    _human(reminder.expires_at, zone),
                ]
            )
    if json_out:
        for row in rows:
            emit(row)
    elif rows:
        _table("Upcoming reminders", ["id", "next", "step", "title", "status", "expires"], table)
    else:
        typer.echo("no pending reminder", err=True)


@app.command("history")
def history_command(
    json_out: JsonOption = False,
    limit: Annotated[int, typer.Option("--limit", min=1, metavar="N", help="How many, newest first.")] = 50,
) -> None:
    """Past reminders, newest first (sent, partial, failed, expired, cancelled, skipped), with where they
    went: each destination, whether it got the reminder, and its error if not."""
    config = settings()
    store = open_store(config)
    rows: list[dict[str, Any]] = []
    table: list[list[str]] = []
    with store.sessions() as session:
        zones = _Zones(session, config.timezone)
        found = _rows(session, PAST, newest_first=True, limit=limit)
        destinations = destinations_of(session, [reminder.id for reminder, _ in found])
        for reminder, timezone in found:
            zone = zones.of(reminder, timezone)
            row = {
                **_base(reminder, zone),
                "sent_at": _local(reminder.sent_at, zone),
                "attempts": reminder.attempts,
                "error": _why(reminder),
                # One entry per destination over every attempt: a retry tries only those still missing it.
                "results": destinations.get(reminder.id, []),
            }
            rows.append(row)
            tries = f" ({reminder.attempts} tries)" if reminder.attempts > 1 else ""
            table.append(
                [
                    str(reminder.id),
                    _human(reminder.due_at, zone),
                    reminder.step,
                    reminder.title,
                    reminder.status + tries,
                    _human(reminder.sent_at, zone),
                    _where(row),
                ]
            )
    if json_out:
        for row in rows:
            emit(row)
    elif rows:
        _table("Reminder history", ["id", "due", "step", "title", "status", "sent", "where / why"], table)
    else:
        typer.echo("no past reminder", err=True)


def _why(reminder: models.Reminder) -> str | None:
    """Why it went as it did: the last error, or for a step the plan skipped the plan's reason (kept as its
    body, "skipped: …", which is what the runner would have read)."""
    if reminder.last_error:
        return reminder.last_error
    if reminder.status == ReminderStatus.SKIPPED:
        return reminder.body
    return None


def _pending_status(row: dict[str, Any]) -> str:
    if row["status"] == ReminderStatus.PLANNED and row["attempts"]:
        return f"retry after {row['attempts']} failed: {row['error'] or '?'}"
    return str(row["status"])


def _where(row: dict[str, Any]) -> str:
    lines = [
        f"{'ok' if result.get('ok') else 'failed'} {str(result.get('destination', '?')).split('?')[0]}"
        + (f": {result['error']}" if result.get("error") else "")
        for result in row["results"]
    ]
    if row["status"] != ReminderStatus.SENT and row["error"] and not lines:
        lines.append(row["error"])
    return "\n".join(lines) or "-"


def _human(moment: datetime | None, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%a %d %b %H:%M %Z}" if moment else "-"


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@app.command("notify-test")
def notify_test_command(
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="URL",
            help="Apprise URLs to test (default: RECOVERY_NOTIFY__URLS and RECOVERY_NOTIFY__CONFIG).",
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Send one test message and say, per destination, whether it got through (exit 1 if one did not)."""
    from scheduler import wiring  # apprise (0.4 s) is imported only when the notifier is built

    given = [url for url in urls or [] if url.strip()]
    config = settings()
    if given:
        notifier = wiring.notifier(config, given)
    else:
        if not config.notify.urls and config.notify.config is None:
            raise InputError(
                "nothing to test: no apprise URL configured "
                "(set RECOVERY_NOTIFY__URLS or RECOVERY_NOTIFY__CONFIG, or give URLs)"
            )
        notifier = wiring.notifier(config)
        if not notifier.destinations():
            raise InputError(f"nothing to test: {config.notify.config} holds no apprise URL apprise can use")
    result = notifier.send(TEST_MESSAGE)
    for outcome in result.results:
        if json_out:
            emit({"destination": outcome.destination, "ok": outcome.ok, "error": outcome.error})
        else:
            line = f"{'ok' if outcome.ok else 'FAILED':<6}  {outcome.destination}"
            typer.echo(line + (f"\n        {outcome.error}" if outcome.error else ""))
    if not result.ok:
        raise typer.Exit(1)
