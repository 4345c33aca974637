"""The Strava commands as a user runs them: auth (browser redirect and --code), athletes, sync, activities."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli import main
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.settings import DispatchSettings, StravaSettings
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker
from scheduler.strava import oauth
from scheduler.strava.client import client_factory
from tests.doubles import strava_fixtures
from tests.doubles.receivers import HttpReceiver
from tests.doubles.strava_double import StravaDouble

strava_double = strava_fixtures.strava_double

ATHLETE = 101
REPO = Path(__file__).resolve().parents[2]

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def env(strava_double: StravaDouble, sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    strava_double.add_athlete(ATHLETE, "Ada", "Runner")
    return {
        "RECOVERY_DATA_DIR": str(tmp_path),
        "RECOVERY_DATABASE_URL": sqlite_url,
        "RECOVERY_TIMEZONE": "UTC",
        "RECOVERY_STRAVA__CLIENT_ID": str(strava_double.client_id),
        "RECOVERY_STRAVA__CLIENT_SECRET": strava_double.client_secret,
        "RECOVERY_STRAVA__API_URL": strava_double.api_url,
        "RECOVERY_STRAVA__OAUTH_URL": strava_double.oauth_url,
    }


@pytest.fixture
def cli(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `recovery ARGS…` in this process; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(env["RECOVERY_DATA_DIR"])  # no stray .env file

    def invoke(*args: str, **extra_env: str) -> tuple[int, str, str]:
        for name, value in {**env, **extra_env}.items():
            if value:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(sys, "argv", ["recovery", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


@pytest.fixture
def db(sqlite_url: str) -> sessionmaker[Session]:
    engine: Engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    return make_sessionmaker(engine)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def athletes_in(db: sessionmaker[Session]) -> list[models.Athlete]:
    with db() as session:
        return list(session.scalars(select(models.Athlete)))


# -- auth: the browser redirect through the real command --------------------------------------------------


def start_auth(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """`recovery auth --port 0` in its own process; returns it and the authorize URL it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "auth", "--port", "0", "--timeout", "30"],
        cwd=env["RECOVERY_DATA_DIR"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")},
            **env,
            "PYTHONPATH": str(REPO),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith(env["RECOVERY_STRAVA__OAUTH_URL"] + "/authorize?"), url
    return process, url


def approve(url: str) -> int:
    """The browser: open Strava's authorize page, which redirects (302) to the local listener."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["state"] = state
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:/")))


@pytest.mark.slow  # runs `recovery auth` in its own process
def test_auth_redirect_flow_connects_the_athlete(
    strava_double: StravaDouble,
    env: dict[str, str],
    db: sessionmaker[Session],
) -> None:
    strava_double.add_activity(
        ATHLETE,
        name="Easy 40",
        start_date=datetime.now(UTC) - timedelta(days=1),
        distance=7000,
        moving_time=2400,
    )
    process, url = start_auth(env)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["scope"] == "read,activity:read_all"
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert query["approval_prompt"] == "auto" and query["response_type"] == "code" and query["state"]

    assert approve(url) == 200
    out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err
    assert "connected athlete 101 (Ada Runner), time zone America/Toronto" in out
    [athlete] = athletes_in(db)
    assert athlete.state == "active"
    assert athlete.scope == "read,activity:read_all"
    assert athlete.refresh_token == strava_double.current_tokens(ATHLETE)[1]


@pytest.mark.slow  # runs `recovery auth` in its own process
def test_auth_refuses_a_redirect_with_another_state(
    strava_double: StravaDouble,
    env: dict[str, str],
    db: sessionmaker[Session],
) -> None:
    process, url = start_auth(env)

    approve(with_state(url, "forged-state"))
    _, err = process.communicate(timeout=30)

    assert process.returncode == 1
    assert "different state" in err
    assert athletes_in(db) == []
    assert strava_double.count_requests("POST", "/oauth/token") == 0  # the code was never exchanged


@pytest.mark.slow  # runs `recovery auth` in its own process
def test_auth_warns_when_private_activities_were_unticked(
    strava_double: StravaDouble,
    env: dict[str, str],
    db: sessionmaker[Session],
) -> None:
    strava_double.authorize_as(ATHLETE, grant="read")  # the athlete unticked the activity permission
    process, url = start_auth(env)

    approve(url)
    out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err
    assert "recovery: warning: Strava granted no access to your activities" in err
    assert "activity:read_all" in err and "recovery auth" in err
    assert "connected athlete 101" in out
    [athlete] = athletes_in(db)
    assert athlete.scope == "read"


def test_auth_listener_reports_a_refusal(strava_double: StravaDouble) -> None:
    strava_double.authorize_as(ATHLETE, deny=True)
    strava_double.add_athlete(ATHLETE)
    with oauth.CallbackListener(0) as listener:
        state = oauth.new_state()
        approve(
            oauth.authorize_url(
                strava_double.oauth_url, strava_double.client_id, listener.redirect_uri, state
            )
        )
        query = listener.wait(5)
    assert query is not None
    with pytest.raises(oauth.OAuthError, match="declined"):
        oauth.read_callback(query, state)


# -- auth --code, and the missing-configuration message ---------------------------------------------------


def test_auth_with_a_code_connects_and_reconnecting_updates(
    strava_double: StravaDouble,
    cli: Cli,
    db: sessionmaker[Session],
) -> None:
    status, out, err = cli("auth", "--code", strava_double.issue_code(ATHLETE))
    assert status == 0, err
    assert "connected athlete 101" in out

    auth_code = strava_double.issue_code(ATHLETE, scope="read,activity:read")
    redirect = f"http://127.0.0.1:8788/callback?state=x&code={auth_code}&scope=read,activity:read"
    status, out, err = cli("auth", "--code", redirect)
    assert status == 0
    assert "warning" in err and "private" in err
    assert "reconnected athlete 101" in out

    status, out, _ = cli("auth", "--code", strava_double.issue_code(ATHLETE))
    assert status == 0
    assert "reconnected athlete 101" in out
    assert len(athletes_in(db)) == 1
    assert athletes_in(db)[0].scope == "read,activity:read"  # a bare code does not tell: kept

    status, _, err = cli("auth", "--code", "already-used-or-made-up")
    assert status == 1
    assert "refused the authorization code" in err


def test_auth_without_a_strava_app_says_which_variables_to_set(cli: Cli) -> None:
    code, _, err = cli("auth", RECOVERY_STRAVA__CLIENT_ID="", RECOVERY_STRAVA__CLIENT_SECRET="")
    assert code == 2
    assert "RECOVERY_STRAVA__CLIENT_ID and RECOVERY_STRAVA__CLIENT_SECRET" in err


# -- athletes, sync, activities ---------------------------------------------------------------------------


def test_athletes_sync_and_activities(
    strava_double: StravaDouble,
    cli: Cli,
    db: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC)
    race = strava_double.add_activity(
        ATHLETE,
        name="Harbourfront 10K",
        workout_type=1,
        start_date=now - timedelta(hours=2),
        distance=10000,
        moving_time=2580,
        average_heartrate=172,
    )
    old = strava_double.add_activity(
        ATHLETE, name="Easy 40", start_date=now - timedelta(days=20), distance=7000, moving_time=2400
    )
    assert cli("auth", "--code", strava_double.issue_code(ATHLETE))[0] == 0

    code, out, err = cli("athletes", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["id"] == ATHLETE and listed["state"] == "active" and listed["last_sync_at"] is None
    assert "refresh" not in out and "token" not in out

    code, out, err = cli("sync", "--backfill", "30")
    assert code == 0, err
    assert f"new {race['id']} 'Harbourfront 10K': race; planned ice" in out
    assert f"new {old['id']} 'Easy 40': easy" in out

    code, out, _ = cli("activities", "--json", "--days", "30")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [race["id"], old["id"]]  # newest first
    assert set(rows[0]) == {"id", "athlete_id", "name", "start_date", "effort", "reasons", "load"}
    assert rows[0]["effort"] == "race" and rows[0]["reasons"]
    with db() as session:
        backfilled = session.get(models.Activity, old["id"])
        assert backfilled is not None and backfilled.backfilled
        assert not session.scalars(
            select(models.Reminder).where(models.Reminder.activity_id == old["id"])
        ).all()

    code, out, _ = cli("activities")
    assert "race" in out and "Harbourfront 10K" in out

    code, out, _ = cli("athletes")
    assert "Ada Runner" in out and "America/Toronto" in out and "active" in out and "never" not in out


def test_athletes_set_and_notify(cli: Cli, strava_double: StravaDouble, db: sessionmaker[Session]) -> None:
    assert cli("auth", "--code", strava_double.issue_code(ATHLETE))[0] == 0

    code, out, err = cli(
        "athletes", "set", str(ATHLETE), "--max-hr", "188", "--rest-hr", "48",
        "--equipment", "ice,foam-roller", "--quiet-hours", "22:30-06:45",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == {
        "id": ATHLETE,
        "max_hr": 188,
        "rest_hr": 48,
        "threshold_hr": None,
        "equipment": ["foam_roller", "ice"],
        "quiet_hours": "22:30-06:45",
        "runs": "learned",
        "cold_months": "none",
        "rest_days": "every_other_day",
    }
    assert cli("athletes", "set", str(ATHLETE), "--equipment", "sauna")[0] == 2
    assert cli("athletes", "set", str(ATHLETE))[0] == 2
    assert cli("athletes", "set", "999", "--max-hr", "190")[0] == 2

    secret_url = "ntfy://user:hunter2secret@ntfy.example.org/ada-recovery"
    code, out, err = cli("athletes", "notify", str(ATHLETE), secret_url, "json://localhost/hook")
    assert code == 0, err
    assert "hunter2secret" not in out
    assert "ntfy" in out and "json://localhost" in out
    [athlete] = athletes_in(db)
    assert athlete.notify_urls == [secret_url, "json://localhost/hook"]

    code, out, _ = cli("athletes", "notify", str(ATHLETE))
    assert "hunter2secret" not in out and "ntfy" in out
    assert cli("athletes", "notify", str(ATHLETE), "nonsense-not-a-url")[0] == 2
    assert cli("athletes", "notify", str(ATHLETE), "--clear")[0] == 0
    assert athletes_in(db)[0].notify_urls == []


def unsent(db: sessionmaker[Session]) -> dict[str, models.Reminder]:
    with db() as session:
        rows = session.scalars(
            select(models.Reminder).where(models.Reminder.status.in_(("planned", "skipped")))
        )
        return {r.step: r for r in rows}


MASSAGERS = {"leg_massager", "foot_massager", "knee_massager", "massage_gun"}


def test_athletes_set_replans_unsent_reminders_at_once_and_prints_each_change(
    cli: Cli, strava_double: StravaDouble, db: sessionmaker[Session]
) -> None:
    strava_double.add_activity(
        ATHLETE,
        name="Harbourfront 10K",
        workout_type=1,
        start_date=datetime.now(UTC) - timedelta(hours=2),
        distance=10000,
        moving_time=2580,
        average_heartrate=172,
    )
    assert cli("auth", "--code", strava_double.issue_code(ATHLETE))[0] == 0
    assert cli("sync")[0] == 0
    before = unsent(db)
    assert MASSAGERS & set(before) and "foam_roll" in before

    code, out, err = cli("athletes", "set", str(ATHLETE), "--equipment", "ice,foam_roller")

    assert code == 0, err
    profile, *changes = [json.loads(line) for line in out.splitlines()]
    assert profile["equipment"] == ["foam_roller", "ice"]
    assert {c["step"] for c in changes} == MASSAGERS & set(before)
    for change in changes:
        assert set(change) == {"reminder_id", "step", "change", "due_at", "reason"}
        assert change["change"] == "cancelled"
        assert "no longer owns" in change["reason"] and change["step"].split("_")[0] in change["reason"]
        assert change["reminder_id"] == before[change["step"]].id
    after = unsent(db)
    assert not MASSAGERS & set(after) and "foam_roll" in after
    with db() as session:
        cancelled = session.scalars(
            select(models.Reminder).where(models.Reminder.status == "cancelled")
        ).all()
        assert {r.step for r in cancelled} == MASSAGERS & set(before)
        assert all("no longer owns" in (r.last_error or "") for r in cancelled)

    # Quiet hours until 09:30 move the 08:00 foam roll to 09:30, local time.
    code, out, err = cli("athletes", "set", str(ATHLETE), "--quiet-hours", "22:00-09:30")
    assert code == 0, err
    changed = {c["step"]: c for c in (json.loads(line) for line in out.splitlines()[1:])}
    assert set(changed) == {"foam_roll", "legs_check"}  # the 07:45 morning question moves too
    moved = changed["foam_roll"]
    assert moved["change"] == changed["legs_check"]["change"] == "moved"
    due = datetime.fromisoformat(moved["due_at"])
    assert (due.hour, due.minute) == (9, 30)
    assert due.utcoffset() == ZoneInfo("America/Toronto").utcoffset(due.replace(tzinfo=None))
    assert unsent(db)["foam_roll"].due_at == due

    code, out, err = cli("athletes", "set", str(ATHLETE), "--quiet-hours", "22:00-09:30")  # nothing new
    assert code == 0 and len(out.splitlines()) == 1 and "no unsent reminder changed" in err


def test_failing_syncs_show_in_athletes_and_the_third_tells_the_athlete_once(
    cli: Cli, strava_double: StravaDouble, db: sessionmaker[Session]
) -> None:
    assert cli("auth", "--code", strava_double.issue_code(ATHLETE))[0] == 0
    with HttpReceiver() as inbox:
        urls = f"json://{inbox.host_port}/hook"
        for _ in range(4):
            strava_double.fail_next(10, status=503, path="/api/v3/athlete/activities")
            code, out, err = cli("sync", RECOVERY_NOTIFY__URLS=urls)
            assert code == 1 and "failed" in out, err
            strava_double.clear_faults()

        code, out, err = cli("athletes", "--json")
        assert code == 0, err
        listed = json.loads(out)
        assert listed["failed_polls"] == 4 and listed["failing_since"] is not None
        assert "503" in listed["last_error"]
        # The third failure queued the alert, the fourth did not again; the daemon's dispatch sends it.
        [queued] = json_lines(cli("upcoming", "--json")[1])  # no run yet: the alert is all that is pending
        assert str(queued["step"]).startswith("alert:polls_failing:") and queued["activity_id"] is None
        assert Dispatcher(db, AppriseNotifier([urls]), DispatchSettings(), "test").run_once().sent == 1
        [told] = inbox.requests
        assert "stopped" in told.json()["title"] and "503" in told.json()["message"]

        code, out, _ = cli("athletes")
        assert f"polls failing since {listed['failing_since']} (4 in a row)" in out

        assert cli("sync", RECOVERY_NOTIFY__URLS=urls)[0] == 0
        listed = json.loads(cli("athletes", "--json")[1])
        assert (listed["failed_polls"], listed["failing_since"], listed["last_error"]) == (0, None, None)


def test_connect_uses_one_read_for_the_time_zone(
    strava_double: StravaDouble, db: sessionmaker[Session]
) -> None:
    strava_double.add_athlete(ATHLETE)
    config = StravaSettings(
        client_id=strava_double.client_id,
        client_secret=strava_double.client_secret,
        api_url=strava_double.api_url,
        oauth_url=strava_double.oauth_url,
    )
    connected = oauth.connect(
        db,
        client_factory(config),
        oauth.Callback(strava_double.issue_code(ATHLETE), None),
        lambda: datetime.now(UTC),
    )
    assert connected.timezone is None  # no activity yet
    assert strava_double.reads_count == 1
    lists = [r.query for r in strava_double.requests if r.path == "/api/v3/athlete/activities"]
    assert lists == [{"page": "1", "per_page": "1"}]
