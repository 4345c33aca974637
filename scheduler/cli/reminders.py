"""The runner's side from the command line: `reminder done|skip|snooze ID`, `athletes link|calendar ID`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, settings
from scheduler.cli.strava import athletes_app
from scheduler.clock import utc_now
from scheduler.store.db import transaction
from scheduler.web import answers, signin

reminder_app = typer.Typer(help="Answer a reminder: done, skip or snooze.", no_args_is_help=True)
app.add_typer(reminder_app, name="reminder")

ReminderId = Annotated[int, typer.Argument(help="The reminder's id (`recovery upcoming` lists them).")]


def _answer(reminder_id: int, action: str, snooze: timedelta = answers.DEFAULT_SNOOZE) -> None:
    store = open_store(settings())
    with transaction(store.sessions) as session:
        row = answers.answer_reminder(session, reminder_id, action, utc_now(), snooze=snooze)
        emit(
            {
                "id": row.id,
                "step": row.step,
                "status": row.status,
                "response": row.response,
                "available_at": row.available_at.isoformat(),
                "expires_at": row.expires_at.isoformat(),
            }
        )


@reminder_app.command("done")
def reminder_done(reminder_id: ReminderId) -> None:
    """Mark it done: not sent if it has not gone yet; the answer is recorded."""
    _answer(reminder_id, "done")


@reminder_app.command("skip")
def reminder_skip(reminder_id: ReminderId) -> None:
    """Skip it: not sent if it has not gone yet; the answer is recorded."""
    _answer(reminder_id, "skip")


@reminder_app.command("snooze")
def reminder_snooze(
    reminder_id: ReminderId,
    minutes: Annotated[int, typer.Option("--minutes", min=1, max=24 * 60, help="How long to wait.")] = 30,
) -> None:
    """Send it again later (30 min by default), never past its usefulness."""
    _answer(reminder_id, "snooze", timedelta(minutes=minutes))


@athletes_app.command("link")
def athletes_link(
    athlete_id: Annotated[int, typer.Argument(help="The athlete's Strava id.")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Revoke the athlete's earlier links and end their sessions.")
    ] = False,
) -> None:
    """Print the athlete's personal sign-in link for the page (keep it private: it opens their plan)."""
    config = settings()
    store = open_store(config)
    with transaction(store.sessions) as session:
        token = signin.issue_link(session, athlete_id, utc_now(), rotate=rotate)
    typer.echo(signin.link_url(config.http.base_url, token))


@athletes_app.command("calendar")
def athletes_calendar(
    athlete_id: Annotated[int, typer.Argument(help="The athlete's Strava id.")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Revoke the athlete's earlier calendar URLs.")
    ] = False,
) -> None:
    """Print the athlete's secret calendar feed URL (.ics) to subscribe to in a calendar app."""
    from scheduler.web import calendar_feed

    config = settings()
    store = open_store(config)
    with transaction(store.sessions) as session:
        token = calendar_feed.issue(session, athlete_id, utc_now(), rotate=rotate)
    typer.echo(calendar_feed.feed_url(config.http.base_url, token))
