"""Strava commands: auth, athletes (set, notify), sync, activities, webhook (subscribe, status, unsubscribe).

stravalib and apprise are imported only by the commands that use them: `recovery --help` stays quick.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli.app import app
from scheduler.cli.common import emit, open_store, settings
from scheduler.cli.core import MaxHr, RestHr, ThresholdHr
from scheduler.clock import utc_now
from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.profile_options import parse_equipment, parse_quiet_hours
from scheduler.settings import Settings
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.strava import oauth
from scheduler.strava.port import InvalidGrant, StravaError

if TYPE_CHECKING:
    from scheduler.strava.sync import Poller, PollReport


def _fail(message: str) -> typer.Exit:
    typer.echo(f"recovery: {message}", err=True)
    return typer.Exit(1)


def _require_app(config: Settings) -> tuple[int, str]:
    strava = config.strava
    missing = [
        name
        for name, value in (
            ("RECOVERY_STRAVA__CLIENT_ID", strava.client_id),
            ("RECOVERY_STRAVA__CLIENT_SECRET", strava.client_secret),
        )
        if value is None
    ]
    if missing or strava.client_id is None or strava.client_secret is None:
        raise InputError(
            f"no Strava application configured: set {' and '.join(missing)} "
            "(from your own API application at https://www.strava.com/settings/api)"
        )
    return strava.client_id, strava.client_secret.get_secret_value()


# -- auth ----------------------------------------------------------------------------------------------------


@app.command("auth")
def auth_command(
    code: Annotated[
        str | None,
        typer.Option(
            "--code",
            help="Exchange this authorization code (or the whole redirect URL) without the browser step.",
        ),
    ] = None,
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, metavar="PORT", help="Local port for Strava's redirect."),
    ] = oauth.DEFAULT_PORT,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, metavar="SECONDS", help="Seconds to wait for the redirect.")
    ] = 600.0,
) -> None:
    """Connect a Strava athlete: open the printed URL, approve, and the redirect comes back here."""
    config = settings()
    client_id, _secret = _require_app(config)
    if code is not None:
        callback = oauth.parse_code_option(code)
    else:
        callback = _browser_step(config, client_id, port, timeout)
    warning = oauth.scope_warning(callback.scope)
    if warning is not None:
        typer.echo(f"recovery: warning: {warning}", err=True)
    store = open_store(config)
    from scheduler.strava.client import client_factory

    try:
        connected = oauth.connect(store.sessions, client_factory(config.strava), callback, utc_now)
    except InvalidGrant:
        raise _fail(
            "Strava refused the authorization code (codes work once and for a few minutes): "
            "run `recovery auth` again"
        ) from None
    except StravaError as error:
        raise _fail(f"could not connect: {error}") from None
    verb = "connected" if connected.created else "reconnected"
    zone = connected.timezone or "unknown until the first activity"
    typer.echo(f"{verb} athlete {connected.athlete_id} ({connected.name or 'no name'}), time zone {zone}")
    if callback.scope is None:
        typer.echo("scope unknown (pass the whole redirect URL to --code to have it checked)", err=True)
    typer.echo(f"next: `recovery sync --athlete {connected.athlete_id}`, or start `recovery run`", err=True)


def _browser_step(config: Settings, client_id: int, port: int, timeout: float) -> oauth.Callback:
    with oauth.CallbackListener(port) as listener:
        state = oauth.new_state()
        url = oauth.authorize_url(config.strava.oauth_url, client_id, listener.redirect_uri, state)
        typer.echo("Open this address in a browser, log in to Strava and approve:", err=True)
        typer.echo(url)
        sys.stdout.flush()
        typer.echo(
            f"Waiting up to {timeout:g} s for Strava's redirect to {listener.redirect_uri} (Ctrl-C stops).\n"
            "If the browser runs on another machine, the redirect page will not load there: copy the "
            "address it tried to open and run `recovery auth --code '<that address>'` instead.",
            err=True,
        )
        query = listener.wait(timeout)
    if query is None:
        raise _fail(f"no redirect from Strava within {timeout:g} s; run `recovery auth` again")
    try:
        return oauth.read_callback(query, state)
    except oauth.OAuthError as error:
        raise _fail(str(error)) from None


# -- athletes ------------------------------------------------------------------------------------------------

athletes_app = typer.Typer(
    help="Connected athletes; `set` and `notify` change one of them.", invoke_without_command=True
)
app.add_typer(athletes_app, name="athletes")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@athletes_app.callback()
def athletes_command(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List connected athletes: id, name, time zone, state, last sync, and failing polls with since when."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(settings())
    with store.sessions() as session:
        athletes = athlete_store.list_all(session)
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "timezone": a.timezone,
                "state": a.state,
                "last_sync_at": _iso(a.last_sync_at),
                "deferred_until": _iso(a.defer_until),
                "last_error": a.last_error,
                # The current streak of failed polls: since its first failure, how many in a row.
                "failing_since": _iso(a.failing_since),
                "failed_polls": a.failed_polls,
                "scope": a.scope,
                "notify_urls": len(a.notify_urls or []),
            }
            for a in athletes
        ]
    if json_out:
        for row in rows:
            emit(row)
        return
    if not rows:
        typer.echo("no athlete connected: run `recovery auth`", err=True)
        return
    for row in rows:
        line = (
            f"{row['id']:>10}  {row['name'] or '-':<24}  {row['timezone'] or '-':<22}  {row['state']:<13}  "
            f"last sync {row['last_sync_at'] or 'never'}"
        )
        if row["deferred_until"]:
            line += f"  (waits until {row['deferred_until']})"
        typer.echo(line)
        if row["failed_polls"]:
            typer.echo(
                f"{'':>10}  polls failing since {row['failing_since']} ({row['failed_polls']} in a row): "
                f"{row['last_error']}"
            )
        elif row["last_error"]:
            typer.echo(f"{'':>10}  last error: {row['last_error']}")


@athletes_app.command("set")
def athletes_set(
    athlete_id: Annotated[int, typer.Argument(metavar="ID", help="The athlete's Strava id.")],
    max_hr: MaxHr = None,
    rest_hr: RestHr = None,
    threshold_hr: ThresholdHr = None,
    equipment: Annotated[
        str | None,
        typer.Option(
            "--equipment", metavar="TOOLS", help="Tools owned, comma-separated (e.g. ice,foam_roller)."
        ),
    ] = None,
    quiet_hours: Annotated[
        str | None,
        typer.Option(
            "--quiet-hours", metavar="HH:MM-HH:MM", help="No deferred reminders then, e.g. 22:00-07:00."
        ),
    ] = None,
    runs: Annotated[
        str | None,
        typer.Option(
            "--runs",
            metavar="TIMES",
            help="When you run, e.g. 'tue 06:30, thu 06:30, sun 08:00'; 'learned' to learn from history "
            "again, 'none' for no pre-run nudges.",
        ),
    ] = None,
    cold_months: Annotated[
        str | None,
        typer.Option(
            "--cold-months",
            metavar="MONTHS",
            help="Months whose runs get heat first, e.g. nov,dec,jan,feb ('none' for none).",
        ),
    ] = None,
    rest_days: Annotated[
        str | None,
        typer.Option(
            "--rest-days",
            metavar="HOW",
            help="Rest-day foot massage: every-other-day (default), daily or off.",
        ),
    ] = None,
) -> None:
    """Set an athlete's profile: heart rates, the recovery tools they own, quiet hours, when they run.

    Every reminder not yet sent is re-planned at once: the first JSON line is the profile, then one line per
    changed reminder: {"reminder_id", "step", "change", "due_at", "reason"} (change: added, cancelled, moved,
    changed, skipped).
    """
    from scheduler import lookahead, wiring
    from scheduler.web.profile import save_profile

    habit_change = lookahead.parse_habit_change(runs, cold_months, rest_days)
    change = athlete_store.ProfileChange(
        max_hr=max_hr,
        rest_hr=rest_hr,
        threshold_hr=threshold_hr,
        equipment=parse_equipment(equipment) if equipment is not None else None,
        quiet_hours=parse_quiet_hours(quiet_hours) if quiet_hours is not None else None,
    )
    if change == athlete_store.ProfileChange() and habit_change.empty:
        raise InputError(
            "nothing to change: give --max-hr, --rest-hr, --threshold-hr, --equipment, --quiet-hours, "
            "--runs, --cold-months or --rest-days"
        )
    config = settings()
    ingest_config = wiring.ingest_config(config)
    store = open_store(config)
    now = utc_now()
    with transaction(store.sessions) as session:
        changes = save_profile(session, athlete_id, change, ingest_config, now, habit_change)
        athlete = session.get(models.Athlete, athlete_id)
        assert athlete is not None  # save_profile found it
        profile = {
            "id": athlete.id,
            "max_hr": athlete.max_hr,
            "rest_hr": athlete.rest_hr,
            "threshold_hr": athlete.threshold_hr,
            "equipment": athlete.equipment,
            "quiet_hours": f"{athlete.quiet_start}-{athlete.quiet_end}" if athlete.quiet_start else None,
            **lookahead.habit_settings(athlete),
        }
    emit(profile)
    for item in changes:
        emit(item.to_json())
    typer.echo(
        f"re-planned: {len(changes)} reminder(s) changed" if changes else "no unsent reminder changed",
        err=True,
    )


def _privacy_url(url: str) -> str:
    import apprise

    service: Any = apprise.Apprise.instantiate(url)
    if service is None:
        raise InputError(f"not an apprise URL apprise understands: {url.partition('://')[0]}://…")
    return str(service.url(privacy=True))


@athletes_app.command("notify")
def athletes_notify(
    athlete_id: Annotated[int, typer.Argument(metavar="ID", help="The athlete's Strava id.")],
    urls: Annotated[
        list[str] | None, typer.Argument(metavar="URL", help="Apprise URLs (none: show the current ones).")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the athlete's own URLs (the defaults apply again).")
    ] = False,
) -> None:
    """Where this athlete's reminders go (apprise URLs); printed back with credentials hidden."""
    given = [u for u in (urls or []) if u.strip()]
    if clear and given:
        raise InputError("give URLs or --clear, not both")
    privacy = [_privacy_url(u) for u in given]  # validates before anything is stored
    store = open_store(settings())
    with transaction(store.sessions) as session:
        if given or clear:
            athlete = athlete_store.set_notify_urls(session, athlete_id, given, utc_now())
        else:
            athlete = athlete_store.get(session, athlete_id)
            privacy = [_privacy_url(str(u)) for u in athlete.notify_urls or []]
    if not privacy:
        typer.echo(f"athlete {athlete_id}: no own URLs; reminders go to the default destinations")
    for url in privacy:
        typer.echo(url)


# -- sync ----------------------------------------------------------------------------------------------------


def build_poller(config: Settings, sessions: sessionmaker[Session], *, interactive: bool) -> Poller:
    from scheduler import wiring

    return wiring.poller(config, sessions, wiring.ingest_config(config), interactive=interactive)


def _names(sessions: sessionmaker[Session], ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    with sessions() as session:
        rows = session.execute(
            select(models.Activity.id, models.Activity.name).where(models.Activity.id.in_(ids))
        )
        return {int(i): str(n) for i, n in rows}


def _print_report(report: PollReport, names: dict[int, str]) -> None:
    typer.echo(str(report))
    for result in report.results:
        verb = "new" if result.created else "changed"
        line = f"  {verb} {result.activity_id} {names.get(result.activity_id, '')!r}: {result.effort}"
        if result.planned:
            line += f"; planned {', '.join(result.planned)}"
        if result.cancelled:
            line += f"; cancelled {', '.join(result.cancelled)}"
        typer.echo(line)
    for activity_id in report.deleted:
        typer.echo(f"  deleted {activity_id}")


@app.command("sync")
def sync_command(
    athlete: Annotated[
        int | None, typer.Option("--athlete", metavar="ID", help="Only this athlete (Strava id).")
    ] = None,
    backfill: Annotated[
        float | None,
        typer.Option(
            "--backfill",
            min=1,
            max=3650,
            metavar="DAYS",
            help="Also import this many days of history (no reminders).",
        ),
    ] = None,
) -> None:
    """Poll Strava once now and print what was ingested and planned."""
    from scheduler.notify.check import check_destinations  # loads apprise, which this command sends with
    from scheduler.strava.sync import PollOutcome

    config = settings()
    _require_app(config)
    check_destinations([u.get_secret_value() for u in config.notify.urls], config.notify.config)
    store = open_store(config)
    with store.sessions() as session:
        if athlete is not None:
            athlete_store.get(session, athlete)
            ids = [athlete]
        else:
            ids = [a.id for a in athlete_store.list_all(session) if a.state != AthleteState.DEAUTHORIZED]
    if not ids:
        raise _fail("no athlete connected: run `recovery auth` first")
    poller = build_poller(config, store.sessions, interactive=True)
    ok = True
    for athlete_id in ids:
        report = _poll_with_progress(poller, athlete_id, backfill)
        _print_report(report, _names(store.sessions, [r.activity_id for r in report.results]))
        ok = ok and report.outcome == PollOutcome.SYNCED
    if not ok:
        raise typer.Exit(1)


def _poll_with_progress(poller: Poller, athlete_id: int, backfill: float | None) -> PollReport:
    if not backfill:
        return poller.poll_athlete(athlete_id, scan=True)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    start = poller.clock() - timedelta(days=backfill)
    span = (poller.clock() - start).total_seconds()
    with Progress(
        TextColumn("athlete {task.fields[athlete]}"),
        BarColumn(),
        TextColumn("{task.fields[upto]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("backfill", total=span, athlete=athlete_id, upto=start.date().isoformat())

        def advance(upto: datetime) -> None:
            progress.update(task, completed=(upto - start).total_seconds(), upto=upto.date().isoformat())

        report = poller.poll_athlete(athlete_id, backfill_days=backfill, progress=advance)
        progress.update(task, completed=span)
    return report


# -- activities ----------------------------------------------------------------------------------------------


activities_app = typer.Typer(
    help="Ingested activities; `set-effort` corrects one's class.", invoke_without_command=True
)
app.add_typer(activities_app, name="activities")


@activities_app.callback()
def activities_command(
    ctx: typer.Context,
    athlete: Annotated[
        int | None, typer.Option("--athlete", metavar="ID", help="Only this athlete (Strava id).")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, metavar="N", help="How many days back.")] = 14,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Ingested activities, newest first, with their effort class, the reasons and the load.

    Times are the activity's own local time with its UTC offset, as `upcoming` and `history` show them. A
    class the signals left in doubt is marked `?` (its last reason says which other class it may be). The last
    line says how often the classifier agreed with the runner's corrections (with `--json`: one JSON object
    on stderr, so stdout keeps one activity a line).
    """
    if ctx.invoked_subcommand is not None:
        return
    from scheduler.corrections import agreement
    from scheduler.domain.effort import unsure_between

    config = settings()
    store = open_store(config)
    since = datetime.now(UTC) - timedelta(days=days)
    query = (
        select(models.Activity)
        .where(models.Activity.deleted_at.is_(None), models.Activity.start_date >= since)
        .order_by(models.Activity.start_date.desc(), models.Activity.id.desc())
    )
    if athlete is not None:
        query = query.where(models.Activity.athlete_id == athlete)
    with store.sessions() as session:
        if athlete is not None and session.get(models.Athlete, athlete) is None:
            raise InputError(f"no athlete {athlete}: `recovery athletes` lists the connected ones")
        rows: list[dict[str, Any]] = [
            {
                "id": a.id,
                "athlete_id": a.athlete_id,
                "name": a.name,
                "start_date": a.start_date.astimezone(ZoneInfo(a.timezone or config.timezone)).isoformat(),
                "effort": a.effort,
                "reasons": list(a.reasons or []),
                "load": a.load,
            }
            for a in session.scalars(query)
        ]
        agreed = agreement(session, athlete)
    if json_out:
        for row in rows:
            emit(row)
        per_class = {effort: {"agreed": a, "corrections": n} for effort, (a, n) in agreed.per_class.items()}
        summary = {"corrections": agreed.total, "agreed": agreed.agreed, "per_class": per_class}
        typer.echo(json.dumps(summary), err=True)
        return
    if not rows:
        typer.echo(f"no activity in the last {days} days", err=True)
    for row in rows:
        load = f"load {row['load']:.0f}" if row["load"] is not None else "load -"
        started = datetime.fromisoformat(row["start_date"]).isoformat(timespec="minutes")
        effort = (row["effort"] or "?") + ("?" if unsure_between(row["reasons"]) else "")
        typer.echo(f"{started}  {row['id']}  {effort:<10}  {load:<9}  {row['name']!r}")
        if row["reasons"]:
            typer.echo(f"    {'; '.join(row['reasons'])}")
    typer.echo(f"corrections: {agreed.describe()}")


@activities_app.command("set-effort")
def activities_set_effort(
    activity_id: Annotated[int, typer.Argument(help="The activity's Strava id.")],
    effort: Annotated[str, typer.Argument(help="race, speedwork, long_run, easy or other.")],
) -> None:
    """Correct an activity's class (the runner's word wins over re-classification); re-plans its day."""
    from scheduler import wiring
    from scheduler.corrections import set_effort

    config = settings()
    ingest = wiring.ingest_config(config)
    store = open_store(config)
    with transaction(store.sessions) as session:
        change = set_effort(session, activity_id, effort, ingest, utc_now())
    emit(
        {
            "activity_id": change.activity_id,
            "effort": change.effort,
            "classified_as": change.classified_as,
            "planned": change.planned,
            "cancelled": change.cancelled,
        }
    )


# -- webhook -------------------------------------------------------------------------------------------------

webhook_app = typer.Typer(
    help="The Strava push subscription (optional: polling works without).", no_args_is_help=True
)
app.add_typer(webhook_app, name="webhook")


def _app_port(config: Settings) -> Any:
    _require_app(config)
    from scheduler.strava.client import StravaClient

    return StravaClient(config.strava)


@webhook_app.command("subscribe")
def webhook_subscribe(
    callback_url: Annotated[
        str,
        typer.Option(
            "--callback-url", metavar="URL", help="Public https URL of the daemon's /webhooks/strava."
        ),
    ],
) -> None:
    """Ask Strava to push events to CALLBACK_URL; Strava checks it at once, so the daemon must be running."""
    from scheduler.strava import webhooks

    config = settings()
    if config.strava.webhook_verify_token is None:
        raise InputError(
            "set RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN (and restart the daemon) before subscribing"
        )
    if not callback_url.startswith(("http://", "https://")):
        raise InputError("--callback-url: must start with https:// (or http://)")
    port = _app_port(config)
    store = open_store(config)
    try:
        subscription_id = port.create_subscription(
            callback_url, config.strava.webhook_verify_token.get_secret_value()
        )
    except StravaError as error:
        raise _fail(
            f"Strava refused the subscription: {error}. Strava GETs the callback at once: the daemon "
            "must run with the same RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN and be reachable at that URL; "
            "`recovery webhook status` shows an existing subscription."
        ) from None
    # The daemon accepts only events of the subscription it knows: it knows this one from now on.
    with transaction(store.sessions) as session:
        webhooks.remember_subscription(session, subscription_id, callback_url, utc_now())
    emit({"subscription_id": subscription_id, "callback_url": callback_url})


@webhook_app.command("status")
def webhook_status() -> None:
    """Show the app's push subscription, if any (and tell the daemon what Strava says)."""
    from scheduler.strava import webhooks

    config = settings()
    port = _app_port(config)
    store = open_store(config)
    try:
        subscriptions = port.list_subscriptions()
    except StravaError as error:
        raise _fail(f"could not read the subscription: {error}") from None
    with transaction(store.sessions) as session:
        webhooks.learn_subscriptions(session, subscriptions, utc_now())
    if not subscriptions:
        typer.echo("no push subscription: polling only", err=True)
    for item in subscriptions:
        emit({"subscription_id": item.get("id"), "callback_url": item.get("callback_url")})


@webhook_app.command("unsubscribe")
def webhook_unsubscribe() -> None:
    """Delete the app's push subscription (polling goes on, at the normal interval)."""
    from scheduler.strava import webhooks

    config = settings()
    port = _app_port(config)
    store = open_store(config)
    try:
        subscriptions = port.list_subscriptions()
        for item in subscriptions:
            port.delete_subscription(int(item["id"]))
            typer.echo(f"deleted push subscription {item['id']}", err=True)
    except StravaError as error:
        raise _fail(f"could not delete the subscription: {error}") from None
    with transaction(store.sessions) as session:
        webhooks.forget_subscription(session, utc_now())
    if not subscriptions:
        typer.echo("no push subscription to delete", err=True)
