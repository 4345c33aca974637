"""Dispatch benchmark (not a test): throughput against apprise alone, due-to-sent lateness, bursts.

    .venv/bin/python -m bench.dispatch_bench [--count 500] [--rounds 5] [--workers 8] [--no-postgres]

1. Throughput: reminders per second through the dispatcher (claim, send, mark, delivery log) to a local
   HTTP receiver (its own process), against apprise alone sending as many messages to the same receiver —
   one reused Apprise object, sequentially and from as many threads as the dispatcher has workers. Rounds
   alternate the three so a busy machine slows them alike; medians are printed, with the CPU time per
   reminder (steadier than wall clock on a shared machine).
2. Lateness: reminders due at known instants over the next seconds (spread out, plus a burst due at one
   instant), delivered by the real wake-up loop (sleep until `next_due_at()`, at most 1 s, then
   `run_once()`); lateness = sent_at − due_at, p50/p99/max.
3. Bursts to a throttled plugin (ntfy waits 5.5 s between two requests of one plugin instance): a burst
   through the notifier against three sends through one reused apprise object.

SQLite in a temporary file; PostgreSQL in a temporary database (RECOVERY_TEST_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test) unless --no-postgres or unreachable.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apprise
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import utc_now
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.notify.port import Message
from scheduler.settings import DispatchSettings
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from tests.doubles.databases import temporary_postgres
from tests.doubles.outbox_seed import add_activity, add_athlete, add_reminders

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def receiver_process() -> Iterator[str]:
    """host:port of an HTTP receiver in its own process: its work must not compete with ours for the GIL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.receivers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        yield f"127.0.0.1:{int(process.stdout.readline())}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


def fresh_outbox(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        session.execute(delete(models.Delivery))
        session.execute(delete(models.Reminder))


def rate(count: int, work: Callable[[], None]) -> tuple[float, float]:
    """(reminders per second, CPU milliseconds per reminder of this process, all threads)."""
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return count / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / count


def prepare(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = utc_now()
    add_athlete(sessions, now, athlete_id=1)
    add_activity(sessions, now, activity_id=100)
    return sessions


def throughput(
    sessions: sessionmaker[Session], receiver: str, count: int, rounds: int, workers: int
) -> dict[str, tuple[float, float]]:
    target = f"json://{receiver}/inbox"
    settings = DispatchSettings(workers=workers, batch_size=50, lease_seconds=60)
    figures: dict[str, list[tuple[float, float]]] = {
        "apprise, sequential": [],
        f"apprise, {workers} threads": [],
        "dispatcher": [],
    }
    for _ in range(rounds):
        alone = apprise.Apprise(target)

        def sequential(a: apprise.Apprise = alone) -> None:
            for _ in range(count):
                a.notify(title="t", body="b")

        def threaded(a: apprise.Apprise = alone) -> None:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda _: a.notify(title="t", body="b"), range(count)))

        figures["apprise, sequential"].append(rate(count, sequential))
        figures[f"apprise, {workers} threads"].append(rate(count, threaded))

        fresh_outbox(sessions)
        add_reminders(sessions, utc_now(), count, activity_id=100, due_at=utc_now() - timedelta(seconds=1))
        dispatcher = Dispatcher(sessions, AppriseNotifier([target]), settings, "bench")

        def drain(d: Dispatcher = dispatcher) -> None:
            while d.run_once().claimed:
                pass

        figures["dispatcher"].append(rate(count, drain))
    return {
        name: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        for name, values in figures.items()
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def lateness(
    sessions: sessionmaker[Session], receiver: str, spread: int, burst: int, window: float
) -> tuple[list[float], float]:
    """Seconds from due_at to sent_at (the send confirmed by the receiver and recorded) of each reminder, and
    the CPU milliseconds per reminder of the whole run (waiting for due times included)."""
    fresh_outbox(sessions)
    now = utc_now()
    start = now + timedelta(seconds=1)
    rng = random.Random(42)
    dues = sorted(start + timedelta(seconds=rng.uniform(0, window)) for _ in range(spread))
    dues += [start + timedelta(seconds=window / 2)] * burst
    add_reminders(sessions, now, len(dues), activity_id=100, due_at=dues, title="Reminder #{n}")
    dispatcher = Dispatcher(
        sessions, AppriseNotifier([f"json://{receiver}/late"]), DispatchSettings(), "late"
    )
    cpu = time.process_time()
    while True:  # the daemon's wake-up loop
        dispatcher.run_once()
        due = dispatcher.next_due_at()
        if due is None:
            break
        time.sleep(min(max((due - utc_now()).total_seconds(), 0.0), 1.0))
    cpu_per_reminder = (time.process_time() - cpu) * 1000 / len(dues)
    with sessions() as session:
        rows = session.execute(select(models.Reminder.due_at, models.Reminder.sent_at)).all()
    return [(row.sent_at - row.due_at).total_seconds() for row in rows if row.sent_at is not None], (
        cpu_per_reminder
    )


def bursts(receiver: str, size: int, workers: int) -> tuple[float, float]:
    """(seconds for `size` messages at once through the notifier, seconds for 3 via one reused apprise)."""
    target = f"ntfy://{receiver}/burst"
    notifier = AppriseNotifier([target])
    message = Message("Ice now", "10 min", ("urgent",))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        assert all(result.ok for result in pool.map(lambda _: notifier.send(message), range(size)))
    ours = time.perf_counter() - started
    shared = apprise.Apprise(target)
    started = time.perf_counter()
    for _ in range(3):
        shared.notify(title="Ice now", body="10 min")
    return ours, time.perf_counter() - started


def report_throughput(sessions: sessionmaker[Session], receiver: str, args: argparse.Namespace) -> None:
    figures = throughput(sessions, receiver, args.count, args.rounds, args.workers)
    for label, (per_second, cpu) in figures.items():
        print(f"  {label:<24} {per_second:6.0f} reminders/s   {cpu:5.2f} ms CPU per reminder")
    best = max(v for k, v in figures.items() if k.startswith("apprise"))
    ours = figures["dispatcher"]
    print(
        f"  dispatcher / best apprise-alone: {ours[0] / best[0]:.2f}x by wall clock,"
        f" {best[1] / ours[1]:.2f}x by CPU (target >= 0.8x)"
    )


def report_backend(name: str, url: str, receiver: str, args: argparse.Namespace) -> None:
    print(f"\n== {name} ==")
    sessions = prepare(url)
    if not args.no_throughput:
        report_throughput(sessions, receiver, args)
    late, cpu = lateness(sessions, receiver, args.spread, args.burst, args.window)
    print(
        f"  due-to-sent lateness, {len(late)} reminders due over {args.window:.0f} s incl. a burst of"
        f" {args.burst}: p50 {percentile(late, 0.5) * 1000:.0f} ms,"
        f" p99 {percentile(late, 0.99) * 1000:.0f} ms, max {max(late) * 1000:.0f} ms,"
        f" {cpu:.2f} ms CPU per reminder"
    )
    sessions.kw["bind"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=500, help="reminders per throughput round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--spread", type=int, default=200, help="reminders due at random instants")
    parser.add_argument("--burst", type=int, default=50, help="reminders due at one instant")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which reminders fall due")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-throughput", action="store_true", help="only the lateness part")
    args = parser.parse_args()
    print(f"dispatch bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, apprise {apprise.__version__}")
    print(f"{os.cpu_count()} CPU(s), load average at start {os.getloadavg()[0]:.1f}")
    with receiver_process() as receiver:
        with sqlite_database() as url:
            report_backend("SQLite", url, receiver, args)
        if not args.no_postgres:
            admin = os.environ.get("RECOVERY_TEST_DATABASE_URL", DEFAULT_PG)
            try:
                with temporary_postgres(admin) as url:
                    report_backend("PostgreSQL", url, receiver, args)
            except Exception as exc:  # unreachable server: say so and carry on
                print(f"\n== PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]} ==")
        ours, naive = bursts(receiver, 20, args.workers)
        print("\n== burst to a throttled plugin (ntfy waits 5.5 s between two requests of one instance) ==")
        print(f"  20 reminders due at once, through the notifier ({args.workers} threads): {ours:.2f} s")
        print(f"  3 sends through one reused apprise object: {naive:.1f} s")


if __name__ == "__main__":
    main()
