"""A dead destination beside a working one: the working one gets each reminder once, the dead one is named.

Real components only: apprise sends to a real HTTP receiver (json://) and to an SMTP port nothing listens on
(mailto://); the outbox is a real database; the user reads the outcome with `recovery history` and /status.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatch.backoff import Backoff
from scheduler.dispatch.dispatcher import Dispatcher, DispatchReport
from scheduler.http.status import status_report
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.settings import DispatchSettings
from scheduler.store import migrate
from scheduler.store.db import make_engine, make_sessionmaker
from tests.doubles.outbox_seed import (
    FakeClock,
    add_activity,
    add_athlete,
    add_reminders,
    deliveries,
    reminder,
)
from tests.doubles.receivers import HttpReceiver

T0 = datetime(2026, 5, 3, 14, 0, tzinfo=UTC)
ATTEMPTS = 5
COUNT = 3


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mailto(port: int) -> str:
    return f"mailto://coach:s3cretPassw0rd@127.0.0.1:{port}?from=coach@example.com&to=ada@example.com&mode=insecure"


def run_until_settled(sender: Dispatcher, clock: FakeClock, passes: int) -> list[DispatchReport]:
    """What the daemon's wake-ups do: a pass, then the next when something next falls due."""
    reports = [sender.run_once()]
    for _ in range(passes - 1):
        due = sender.next_due_at()
        if due is None:
            break
        clock.set(max(due, clock.now))
        reports.append(sender.run_once())
    return reports


def make_sender(sessions: sessionmaker[Session], urls: list[str], clock: FakeClock) -> Dispatcher:
    settings = DispatchSettings(lease_seconds=60, max_attempts=ATTEMPTS, batch_size=10, workers=2)
    return Dispatcher(sessions, AppriseNotifier(urls), settings, "test", clock, backoff=Backoff(jitter=0))


def test_a_dead_mailto_beside_a_working_json_gives_one_copy_each_and_ends_partial(
    sessions: sessionmaker[Session], http: HttpReceiver
) -> None:
    add_athlete(sessions, T0, athlete_id=1)
    add_activity(sessions, T0, activity_id=100, athlete_id=1)
    ids = add_reminders(sessions, T0, COUNT, activity_id=100)
    clock = FakeClock(T0)
    json_url = f"json://{http.host_port}/inbox"
    sender = make_sender(sessions, [mailto(dead_port()), json_url], clock)

    run_until_settled(sender, clock, passes=ATTEMPTS + 2)

    titles = sorted(request.json()["title"] for request in http.delivered)
    assert titles == sorted(f"Ice now — Harbourfront 10K #{n}" for n in range(COUNT))  # once each, not 5x
    for rid in ids:
        row = reminder(sessions, rid)
        assert (row.status, row.attempts) == ("partial", ATTEMPTS)
        assert "mailto://" in (row.last_error or "") and "json://" not in (row.last_error or "")
        assert "s3cretPassw0rd" not in (row.last_error or "")
        attempts = deliveries(sessions, rid)
        # The first attempt went to both; every retry only to the one that had failed.
        assert [len(d.results) for d in attempts] == [2] + [1] * (ATTEMPTS - 1)
        assert all(r["destination"].startswith("mailto://") for d in attempts[1:] for r in d.results)
    assert sender.next_due_at() is None  # nothing left to try


def test_a_destination_that_recovers_gets_its_copy_and_the_reminder_is_sent(
    sessions: sessionmaker[Session],
) -> None:
    with HttpReceiver() as flaky, HttpReceiver() as steady:
        add_athlete(sessions, T0, athlete_id=1)
        add_activity(sessions, T0, activity_id=100, athlete_id=1)
        [rid] = add_reminders(sessions, T0, 1, activity_id=100)
        clock = FakeClock(T0)
        sender = make_sender(sessions, [f"json://{flaky.host_port}/a", f"json://{steady.host_port}/b"], clock)
        flaky.fail_next(2)

        reports = run_until_settled(sender, clock, passes=ATTEMPTS)

        assert [r.status for r in flaky.requests] == [500, 500, 200]
        assert [r.status for r in steady.requests] == [200]
    row = reminder(sessions, rid)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert [(r.retrying, r.sent) for r in reports] == [(1, 0), (1, 0), (0, 1)]


def test_history_and_status_say_which_destination_got_it_and_which_did_not(
    tmp_path: Path, http: HttpReceiver
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    add_athlete(sessions, T0, athlete_id=1)
    add_activity(sessions, T0, activity_id=100, athlete_id=1)
    [rid] = add_reminders(sessions, T0, 1, activity_id=100)
    clock = FakeClock(T0)
    sender = make_sender(sessions, [mailto(dead_port()), f"json://{http.host_port}/inbox"], clock)
    run_until_settled(sender, clock, passes=ATTEMPTS + 2)

    with sessions() as session:
        page = status_report(session, clock.now)
    engine.dispose()
    [shown] = [r for r in page["recent_reminders"] if r["id"] == rid]
    assert shown["status"] == "partial"
    by_scheme = {d["destination"].split("://")[0]: d for d in shown["destinations"]}
    assert by_scheme["json"]["ok"] is True and by_scheme["json"]["attempts"] == 1
    assert by_scheme["mailto"]["ok"] is False and by_scheme["mailto"]["attempts"] == ATTEMPTS
    assert by_scheme["mailto"]["error"]
    assert "s3cretPassw0rd" not in json.dumps(page)

    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
    environment.update(
        RECOVERY_DATA_DIR=str(tmp_path / "data"),
        RECOVERY_DATABASE_URL=f"sqlite:///{tmp_path / 'recovery.db'}",
        COLUMNS="250",
    )

    def recovery(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scheduler", *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    as_json = recovery("history", "--json")
    table = recovery("history")
    assert as_json.returncode == table.returncode == 0, as_json.stderr + table.stderr
    [line] = [json.loads(text) for text in as_json.stdout.splitlines() if text.strip()]
    assert line["status"] == "partial"
    results = {r["destination"].split("://")[0]: r for r in line["results"]}
    assert (results["json"]["ok"], results["mailto"]["ok"]) == (True, False)
    assert results["mailto"]["error"]
    assert "partial" in table.stdout
    assert f"ok json://{http.host_port}/inbox" in table.stdout
    assert "failed mailto://" in table.stdout
    assert "s3cretPassw0rd" not in as_json.stdout + table.stdout
