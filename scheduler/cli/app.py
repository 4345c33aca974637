"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

from scheduler.cli.help import HelpGroup

app = typer.Typer(
    cls=HelpGroup,
    name="recovery",
    help="Recovery reminders for runners, from their Strava activities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
