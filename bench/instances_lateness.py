"""Due-to-sent lateness with several `recovery run` daemons on one PostgreSQL (or SQLite) database.

Seeds reminders due at spread instants over the next half minute (plus a burst due at one instant), starts
N real daemons (`recovery run`, each with its own HTTP port and instance id) on the same database, and waits
until every reminder is sent. Prints lateness (sent_at − due_at) p50/p99/max, how each instance shared the
work, and how many messages the receiver got (duplicates would show there). The target: p99 under 1 s.

    .venv/bin/python bench/instances_lateness.py [--instances 3] [--count 300] [--sqlite] [--spread 30]
        [--log-dir DIR] [--log-level INFO]

Reminders later than 2 s are listed one a line (due, sent, attempts, which instance sent them), and with
--log-dir each daemon's log is kept there: the first thing to read when a figure is off.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker
from tests.doubles.databases import temporary_postgres
from tests.doubles.outbox_seed import add_activity, add_athlete, add_reminders
from tests.doubles.receivers import HttpReceiver

REPO = Path(__file__).resolve().parents[1]
RECOVERY = REPO / ".venv" / "bin" / "recovery"
ADMIN = os.environ.get("RECOVERY_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


LATE = timedelta(seconds=2)


# The stdlib server listens with a backlog of 5; three daemons of 8 senders each overflow it, and a connection
# it drops fails that send, retried 30 s later (the 32–35 s "late" reminders of the first measurements). A
# real push service accepts every connection, so the stand-in must too for the figure to be the scheduler's.
RECEIVER_BACKLOG = 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def daemons_cpu(daemons: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds (user + system, every thread) the daemons have used so far, from /proc (Linux)."""
    total = 0.0
    for proc in daemons:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_healthy(port: int, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the daemon on port {port} did not become healthy")
        time.sleep(0.2)


def run(
    url: str,
    instances: int,
    count: int,
    workdir: Path,
    *,
    spread: float,
    lead: float,
    log_dir: Path,
    log_level: str,
) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    # After the daemons are up (each arms its wake-up from the database): seeding and three starts on a busy
    # 2-core machine take a while, and a reminder already due at start measures the start, not the dispatch.
    start = now + timedelta(seconds=lead)
    rng = random.Random(7)
    dues = sorted(start + timedelta(seconds=rng.uniform(0, spread)) for _ in range(count - 50))
    dues += [start + timedelta(seconds=spread / 2)] * 50  # a burst: 50 due at the same instant
    add_athlete(sessions, now)
    add_activity(sessions, now, activity_id=1)

    ThreadingHTTPServer.request_queue_size = RECEIVER_BACKLOG
    with HttpReceiver() as receiver:
        add_reminders(sessions, now, count, activity_id=1, due_at=dues)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
        env |= {
            "RECOVERY_DATABASE_URL": url,
            "RECOVERY_NOTIFY__URLS": f"json://{receiver.host_port}/inbox",
            "RECOVERY_HTTP__PORT": "0",
            "RECOVERY_TIMEZONE": "UTC",
            "RECOVERY_LOG_LEVEL": log_level,
            # Instances sharing a database share the key that seals its secrets.
            "RECOVERY_SECRET_KEY": Fernet.generate_key().decode(),
        }
        ports = [free_port() for _ in range(instances)]
        daemons = []
        for n in range(instances):
            env_n = env | {
                "RECOVERY_DATA_DIR": str(workdir / f"instance{n}"),
                "RECOVERY_HTTP__PORT": str(ports[n]),
            }
            log = (log_dir / f"instance{n}.log").open("wb")
            daemons.append(subprocess.Popen([str(RECOVERY), "run"], env=env_n, stdout=log, stderr=log))
        for port in ports:
            wait_healthy(port, deadline=time.monotonic() + 60)
        margin = (start - datetime.now(UTC)).total_seconds()
        print(f"  all {instances} daemons healthy {margin:.1f} s before the first reminder is due")
        if margin < 0:
            print("  WARNING: the first reminders were due before the daemons were up; raise --lead")
        deadline = time.monotonic() + 120
        # The daemons' CPU from just before the first due reminder to the last sent: the dispatch's cost,
        # steadier than lateness on a shared machine (start-up and imports left out).
        cpu_from: float | None = None
        cpu_used: float | None = None
        try:
            while time.monotonic() < deadline:
                if cpu_from is None and datetime.now(UTC) >= start - timedelta(seconds=1):
                    cpu_from = daemons_cpu(daemons)
                with sessions() as session:
                    pending = session.scalar(
                        select(text("count(*)"))
                        .select_from(models.Reminder)
                        .where(models.Reminder.status != "sent")
                    )
                if pending == 0:
                    if cpu_from is not None:
                        cpu_used = daemons_cpu(daemons) - cpu_from
                    break
                time.sleep(0.5)
        finally:
            for proc in daemons:
                proc.terminate()
            for proc in daemons:
                proc.wait(15)
        received = len(receiver.delivered)

    with sessions() as session:
        rows = [
            row
            for row in session.execute(
                select(
                    models.Reminder.id,
                    models.Reminder.due_at,
                    models.Reminder.sent_at,
                    models.Reminder.attempts,
                )
            )
            if row.sent_at
        ]
        senders = session.scalars(select(models.Delivery.instance).where(models.Delivery.ok.is_(True))).all()
        sent_by = dict(
            session.execute(
                select(models.Delivery.reminder_id, models.Delivery.instance).where(
                    models.Delivery.ok.is_(True)
                )
            ).all()
        )
    engine.dispose()
    for row in sorted(rows, key=lambda r: r.due_at):
        if row.sent_at - row.due_at > LATE:
            print(
                f"  late: reminder {row.id} due {row.due_at.time()} sent {row.sent_at.time()} "
                f"({(row.sent_at - row.due_at).total_seconds():.1f} s), attempts {row.attempts}, "
                f"by {sent_by.get(row.id)}"
            )
    late = [(row.sent_at - row.due_at).total_seconds() for row in rows]
    share = Counter(instance.rsplit("-", 2)[1] for instance in senders)
    print(f"  sent {len(rows)}/{count}; receiver got {received} messages ({received - len(rows)} duplicates)")
    p50, p99 = statistics.median(late) * 1000, percentile(late, 0.99) * 1000
    print(f"  lateness p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(late) * 1000:.0f} ms")
    print(f"  reminders per instance (by pid): {dict(share)}")
    if cpu_used is not None:
        print(
            f"  daemons' CPU while dispatching: {cpu_used:.1f} s in all,"
            f" {cpu_used * 1000 / count:.2f} ms per reminder (apprise's own share included)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--sqlite", action="store_true", help="one SQLite file instead of PostgreSQL")
    parser.add_argument("--spread", type=float, default=30.0, help="seconds over which reminders fall due")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds from seeding to the first due")
    parser.add_argument("--log-dir", type=Path, help="keep each daemon's log here (default: discarded)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        log_dir = args.log_dir or workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        options = {"spread": args.spread, "lead": args.lead, "log_dir": log_dir, "log_level": args.log_level}
        what = f"{args.count} reminders due over {args.spread:g} s"
        if args.sqlite:
            print(f"{args.instances} daemons on one SQLite file, {what}")
            run(f"sqlite:///{workdir / 'recovery.db'}", args.instances, args.count, workdir, **options)
            return
        with temporary_postgres(ADMIN, prefix="recovery_bench") as url:
            print(f"{args.instances} daemons on one PostgreSQL database, {what}")
            run(url, args.instances, args.count, workdir, **options)


if __name__ == "__main__":
    main()
