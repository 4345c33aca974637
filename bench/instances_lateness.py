"""Due-to-sent lateness with several `recovery run` daemons on one PostgreSQL (or SQLite) database.

Seeds reminders due at spread instants over the next half minute (plus a burst due at one instant), starts
N real daemons (`recovery run`, each with its own HTTP port and instance id) on the same database, and waits
until every reminder is sent. Prints lateness (sent_at − due_at) p50/p99/max, how each instance shared the
work, and how many messages the receiver got (duplicates would show there). The target: p99 under 1 s.

    .venv/bin/python bench/instances_lateness.py [--instances 3] [--count 300] [--sqlite]
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
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def run(url: str, instances: int, count: int, workdir: Path) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    start = now + timedelta(seconds=12)  # after the daemons are up: each arms its wake-up from the database
    rng = random.Random(7)
    dues = sorted(start + timedelta(seconds=rng.uniform(0, 30)) for _ in range(count - 50))
    dues += [start + timedelta(seconds=15)] * 50  # a burst: 50 due at the same instant
    add_athlete(sessions, now)
    add_activity(sessions, now, activity_id=1)

    with HttpReceiver() as receiver:
        add_reminders(sessions, now, count, activity_id=1, due_at=dues)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
        env |= {
            "RECOVERY_DATABASE_URL": url,
            "RECOVERY_NOTIFY__URLS": f"json://{receiver.host_port}/inbox",
            "RECOVERY_HTTP__PORT": "0",
            "RECOVERY_TIMEZONE": "UTC",
            "RECOVERY_LOG_LEVEL": "WARNING",
        }
        daemons = []
        for n in range(instances):
            env_n = env | {"RECOVERY_DATA_DIR": str(workdir / f"instance{n}")}
            log = (workdir / f"instance{n}.log").open("wb")
            daemons.append(subprocess.Popen([str(RECOVERY), "run"], env=env_n, stdout=log, stderr=log))
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                with sessions() as session:
                    pending = session.scalar(
                        select(text("count(*)"))
                        .select_from(models.Reminder)
                        .where(models.Reminder.status != "sent")
                    )
                if pending == 0:
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
            for row in session.execute(select(models.Reminder.due_at, models.Reminder.sent_at))
            if row.sent_at
        ]
        senders = session.scalars(select(models.Delivery.instance).where(models.Delivery.ok.is_(True))).all()
    engine.dispose()
    late = [(row.sent_at - row.due_at).total_seconds() for row in rows]
    share = Counter(instance.rsplit("-", 2)[1] for instance in senders)
    print(f"  sent {len(rows)}/{count}; receiver got {received} messages ({received - len(rows)} duplicates)")
    p50, p99 = statistics.median(late) * 1000, percentile(late, 0.99) * 1000
    print(f"  lateness p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(late) * 1000:.0f} ms")
    print(f"  reminders per instance (by pid): {dict(share)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--sqlite", action="store_true", help="one SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.sqlite:
            print(f"{args.instances} daemons on one SQLite file, {args.count} reminders")
            run(f"sqlite:///{workdir / 'recovery.db'}", args.instances, args.count, workdir)
            return
        with temporary_postgres(ADMIN, prefix="recovery_bench") as url:
            print(f"{args.instances} daemons on one PostgreSQL database, {args.count} reminders")
            run(url, args.instances, args.count, workdir)


if __name__ == "__main__":
    main()
