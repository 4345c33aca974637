"""Several dispatcher processes on one database: each reminder delivered once; a killed one loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import utc_now
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker
from tests.doubles.outbox_seed import add_activity, add_athlete, add_reminders
from tests.doubles.receivers import HttpReceiver

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
COUNT = 1000
BATCH = 20
LEASE = 5  # seconds: the shortest the settings allow, so a dead instance's rows come back quickly
DEADLINE = 90.0


def prepare(url: str) -> tuple[sessionmaker[Session], list[int]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = utc_now()
    add_athlete(sessions, now, athlete_id=1)
    add_activity(sessions, now, activity_id=100, athlete_id=1)
    ids = add_reminders(sessions, now, COUNT, activity_id=100, due_at=now - timedelta(minutes=1))
    return sessions, ids


def start(url: str, receiver: HttpReceiver, instance: str, logs: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tests.doubles.dispatch_worker",
        url,
        f"json://{receiver.host_port}/inbox",
        "--instance",
        instance,
        "--batch-size",
        str(BATCH),
        "--workers",
        "4",
        "--lease",
        str(LEASE),
        "--deadline",
        str(DEADLINE),
    ]
    log = (logs / f"{instance}.log").open("wb")
    return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def finish(processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + DEADLINE + 10
    for process in processes:
        process.wait(timeout=max(deadline - time.monotonic(), 1))
        args = cast(list[str], process.args)
        instance = args[args.index("--instance") + 1]
        assert process.returncode == 0, (logs / f"{instance}.log").read_text()


def received_indexes(receiver: HttpReceiver) -> Counter[int]:
    return Counter(int(r.json()["title"].rsplit("#", 1)[1]) for r in receiver.delivered)


def statuses(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(models.Reminder.status, func.count()).group_by(models.Reminder.status)
        ).all()
    return {status: count for status, count in rows}


def leased_by(sessions: sessionmaker[Session], instance: str) -> set[int]:
    with sessions() as session:
        return set(
            session.scalars(
                select(models.Reminder.id).where(
                    models.Reminder.status == "sending", models.Reminder.leased_by == instance
                )
            ).all()
        )


def run_all(url: str, receiver: HttpReceiver, processes: int, logs: Path) -> None:
    sessions, _ = prepare(url)
    started = [start(url, receiver, f"p{n}", logs) for n in range(processes)]
    finish(started, logs)

    counts = received_indexes(receiver)
    assert sorted(counts) == list(range(COUNT)), "some reminders never arrived"
    assert max(counts.values()) == 1, f"duplicates: {[n for n, c in counts.items() if c > 1][:10]}"
    assert statuses(sessions) == {"sent": COUNT}


def run_with_a_crash(url: str, receiver: HttpReceiver, processes: int, logs: Path) -> None:
    sessions, ids = prepare(url)
    # Slow answers keep sends in flight, so the victim surely dies holding leases on rows it has sent.
    receiver.answer_after(0.01)
    started = [start(url, receiver, f"p{n}", logs) for n in range(processes)]
    victim = started[0]

    deadline = time.monotonic() + DEADLINE
    while not (len(receiver.delivered) >= COUNT // 5 and leased_by(sessions, "p0")):
        assert time.monotonic() < deadline, "the run never got going"
        assert victim.poll() is None, "the victim finished before it could be killed"
        time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    orphaned = leased_by(sessions, "p0")
    finish(started[1:], logs)

    counts = received_indexes(receiver)
    assert sorted(counts) == list(range(COUNT)), "a reminder was lost with the killed instance"
    assert statuses(sessions) == {"sent": COUNT}
    assert 0 < len(orphaned) <= BATCH
    index_of = {reminder_id: n for n, reminder_id in enumerate(ids)}
    duplicated = {n for n, c in counts.items() if c > 1}
    assert duplicated <= {index_of[i] for i in orphaned}, "a duplicate outside the killed instance's leases"
    assert sum(c - 1 for c in counts.values()) <= BATCH


@pytest.mark.postgres
def test_three_processes_on_postgres_deliver_each_reminder_once(
    pg_url: str, http: HttpReceiver, tmp_path: Path
) -> None:
    run_all(pg_url, http, 3, tmp_path)


def test_two_processes_on_sqlite_deliver_each_reminder_once(
    sqlite_url: str, http: HttpReceiver, tmp_path: Path
) -> None:
    run_all(sqlite_url, http, 2, tmp_path)


@pytest.mark.postgres
def test_a_killed_process_on_postgres_loses_nothing(pg_url: str, http: HttpReceiver, tmp_path: Path) -> None:
    run_with_a_crash(pg_url, http, 3, tmp_path)


def test_a_killed_process_on_sqlite_loses_nothing(
    sqlite_url: str, http: HttpReceiver, tmp_path: Path
) -> None:
    run_with_a_crash(sqlite_url, http, 2, tmp_path)
