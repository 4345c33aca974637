"""`recovery upcoming`, `recovery history` and `recovery notify-test`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.notify.memory import MemoryNotifier
from scheduler.settings import DispatchSettings
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from tests.doubles.outbox_seed import FakeClock, add_activity, add_athlete, add_reminders
from tests.doubles.receivers import HttpReceiver

T0 = datetime(2026, 5, 3, 14, 0, tzinfo=UTC)  # 10:00 in Toronto (EDT, UTC-4)


def recovery(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
    environment.update(
        RECOVERY_DATA_DIR=str(tmp_path / "data"),
        RECOVERY_DATABASE_URL=f"sqlite:///{tmp_path / 'recovery.db'}",
        RECOVERY_TIMEZONE="UTC",
        COLUMNS="200",
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args],
        cwd=tmp_path,  # no stray .env file
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[dict[str, int]]:
    """One reminder of each kind, in the database the commands will open."""
    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    add_athlete(sessions, T0, athlete_id=1)
    add_activity(sessions, T0, activity_id=100, timezone="America/Toronto")
    add_activity(sessions, T0, activity_id=200, timezone=None, name="Zoneless run")
    [sent] = add_reminders(
        sessions, T0, 1, activity_id=100, step_prefix="ice", title="Ice now — Harbourfront 10K"
    )
    Dispatcher(
        sessions,
        MemoryNotifier(["json://coach:****@push.example/hook"]),
        DispatchSettings(),
        "t",
        FakeClock(T0),
    ).run_once()
    [later] = add_reminders(
        sessions,
        T0,
        1,
        activity_id=100,
        step_prefix="roll",
        due_at=T0 + timedelta(hours=18),
        title="Foam roll",
    )
    [retrying] = add_reminders(
        sessions,
        T0,
        1,
        activity_id=200,
        step_prefix="massager",
        due_at=T0 + timedelta(hours=6),
        title="Massager",
    )
    [stale] = add_reminders(
        sessions,
        T0,
        1,
        activity_id=200,
        step_prefix="stale",
        due_at=T0 - timedelta(hours=9),
        title="Old news",
    )
    with transaction(sessions) as session:
        session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == retrying)
            .values(
                attempts=1, last_error="ntfy://…: HTTP 502", available_at=T0 + timedelta(hours=6, seconds=30)
            )
        )
        session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == stale)
            .values(status="expired", last_error="its window closed before it could be sent", updated_at=T0)
        )
    engine.dispose()
    yield {"sent": sent, "later": later, "retrying": retrying, "stale": stale}


def test_upcoming_lists_pending_reminders_soonest_first_in_local_time(
    outbox: dict[str, int], tmp_path: Path
) -> None:
    done = recovery(["upcoming", "--json"], tmp_path)

    assert done.returncode == 0, done.stderr
    rows = json_lines(done.stdout)
    assert [r["id"] for r in rows] == [outbox["retrying"], outbox["later"]]
    retrying, later = rows
    assert later["due_at"] == "2026-05-04T04:00:00-04:00"  # Toronto time
    assert later["expires_at"] == "2026-05-04T07:00:00-04:00"
    assert retrying["due_at"] == "2026-05-03T20:00:00+00:00"  # activity without a zone: UTC
    assert (retrying["status"], retrying["attempts"], retrying["error"]) == (
        "planned",
        1,
        "ntfy://…: HTTP 502",
    )
    assert retrying["next_attempt_at"] == "2026-05-03T20:00:30+00:00"
    assert set(later) >= {
        "id",
        "athlete_id",
        "activity_id",
        "step",
        "due_at",
        "expires_at",
        "status",
        "title",
    }


def test_history_shows_sent_and_expired_with_destinations_and_errors(
    outbox: dict[str, int], tmp_path: Path
) -> None:
    done = recovery(["history", "--json"], tmp_path)

    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json_lines(done.stdout)}
    assert set(rows) == {outbox["sent"], outbox["stale"]}
    sent = rows[outbox["sent"]]
    assert (sent["status"], sent["attempts"], sent["error"]) == ("sent", 1, None)
    assert sent["sent_at"] == "2026-05-03T10:00:00-04:00"
    assert sent["results"] == [
        {"destination": "json://coach:****@push.example/hook", "ok": True, "error": None, "attempts": 1}
    ]
    stale = rows[outbox["stale"]]
    assert (stale["status"], stale["sent_at"], stale["error"]) == (
        "expired",
        None,
        "its window closed before it could be sent",
    )


def test_the_human_forms_are_tables(outbox: dict[str, int], tmp_path: Path) -> None:
    upcoming = recovery(["upcoming"], tmp_path)
    history = recovery(["history"], tmp_path)

    assert upcoming.returncode == history.returncode == 0
    assert "Upcoming reminders" in upcoming.stdout and "Foam roll" in upcoming.stdout
    assert "retry after 1 failed" in upcoming.stdout
    assert "Reminder history" in history.stdout and "Ice now — Harbourfront 10K" in history.stdout
    assert "ok json://coach:****@push.example/hook" in history.stdout


def test_notify_test_reports_each_destination(tmp_path: Path) -> None:
    with HttpReceiver() as http:
        done = recovery(["notify-test", f"json://{http.host_port}/hook", "bogus://x"], tmp_path)
        [request] = http.wait_for(1)

    assert done.returncode == 1  # one of the two failed
    assert request.json()["title"] == "Recovery scheduler: test"
    lines = done.stdout.splitlines()
    assert any(line.startswith("ok") and f"json://{http.host_port}/hook" in line for line in lines)
    assert any(line.startswith("FAILED") and "bogus://…" in line for line in lines)


def test_notify_test_uses_the_configured_destinations_and_exits_0(tmp_path: Path) -> None:
    config = tmp_path / "apprise.yaml"
    with HttpReceiver() as http:
        config.write_text(f"urls:\n  - json://{http.host_port}/push:\n      tag: urgent\n")
        done = recovery(
            ["notify-test", "--json"],
            tmp_path,
            RECOVERY_NOTIFY__URLS=f"json://{http.host_port}/default",
            RECOVERY_NOTIFY__CONFIG=str(config),
        )
        requests = http.wait_for(2)

    assert done.returncode == 0, done.stderr
    assert sorted(r.path for r in requests) == ["/default", "/push"]
    assert [row["ok"] for row in json_lines(done.stdout)] == [True, True]


def test_notify_test_says_when_nothing_is_configured(tmp_path: Path) -> None:
    done = recovery(["notify-test"], tmp_path)

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "recovery: error: nothing to test: no apprise URL configured "
        "(set RECOVERY_NOTIFY__URLS or RECOVERY_NOTIFY__CONFIG, or give URLs)"
    ]


def test_notify_test_fails_when_a_destination_refuses(tmp_path: Path) -> None:
    with HttpReceiver() as http:
        http.fail_next(1)
        done = recovery(["notify-test", f"json://user:hunter22@{http.host_port}/hook"], tmp_path)

    assert done.returncode == 1
    assert "FAILED" in done.stdout and "error=500" in done.stdout
    assert "hunter22" not in done.stdout + done.stderr


def test_history_says_why_a_reminder_was_skipped(tmp_path: Path) -> None:
    """A race noticed long after its end: ice (useful 3 h) is recorded as skipped, and history says why."""
    from scheduler.domain.protocols import load_protocols
    from scheduler.ingest import IngestConfig, ingest_activity
    from scheduler.settings import Settings
    from tests.doubles import strava_data

    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    add_athlete(sessions, T0, athlete_id=1)
    race = strava_data.summary_activity(
        300,
        1,
        "Harbourfront 10K",
        T0 - timedelta(hours=8),
        workout_type=1,
        distance=10000.0,
        moving_time=2580,
    )
    config = IngestConfig(load_protocols(Settings(data_dir=tmp_path).protocols_file), "UTC")
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, 1)
        assert athlete is not None
        ingest_activity(session, athlete, race, config, T0)
    engine.dispose()

    done = recovery(["history", "--json"], tmp_path)
    table = recovery(["history"], tmp_path)

    assert done.returncode == table.returncode == 0, done.stderr
    [ice] = [row for row in json_lines(done.stdout) if row["step"] == "ice"]
    assert ice["status"] == "skipped"
    assert isinstance(ice["error"], str) and ice["error"].startswith("skipped: ice")
    assert "useful" in ice["error"]
    assert "skipped: ice" in table.stdout


def test_the_readme_mailto_example_reaches_a_relay_addressed_by_ip(tmp_path: Path) -> None:
    """README's `mailto://` for a relay known by its IP: `from=` gives the sender (an IP has no domain to
    make one from), `to=` the recipient; plain SMTP, no login, as a LAN relay takes it."""
    from tests.doubles.receivers import SmtpReceiver

    with SmtpReceiver() as relay:
        url = f"mailto://127.0.0.1:{relay.port}?from=recovery@example.org&to=me@example.org"
        done = recovery(["notify-test", url], tmp_path)
        [mail] = relay.wait_for(1)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (mail.mail_from, mail.rcpt_tos) == ("recovery@example.org", ("me@example.org",))
    assert mail.subject == "Recovery scheduler: test"
