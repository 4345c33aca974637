"""A dispatcher process for multi-instance tests and the benchmark.

    python -m tests.doubles.dispatch_worker DATABASE_URL APPRISE_URL --instance NAME [options]

Runs the real wake-up loop (dispatch, then sleep until `next_due_at()` but at most `--poll` seconds) until the
outbox has nothing pending, or `--deadline` seconds pass (exit 3). Prints one JSON line of totals at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from scheduler.clock import utc_now
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.settings import DispatchSettings
from scheduler.store.db import make_engine, make_sessionmaker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("apprise_url")
    parser.add_argument("--instance", required=True)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--lease", type=int, default=60)
    parser.add_argument("--poll", type=float, default=0.25, help="longest sleep between two passes")
    parser.add_argument("--deadline", type=float, default=120.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format=f"{args.instance} %(levelname)s %(message)s"
    )

    engine = make_engine(args.database_url)
    settings = DispatchSettings(lease_seconds=args.lease, batch_size=args.batch_size, workers=args.workers)
    dispatcher = Dispatcher(
        make_sessionmaker(engine), AppriseNotifier([args.apprise_url]), settings, args.instance
    )
    totals = {"claimed": 0, "sent": 0, "retrying": 0, "failed": 0, "lease_lost": 0, "deferred": 0}
    stop_at = time.monotonic() + args.deadline
    code = 3
    while time.monotonic() < stop_at:
        report = dispatcher.run_once()
        for key in totals:
            totals[key] += getattr(report, key)
        if report.claimed:
            continue
        due = dispatcher.next_due_at()
        if due is None:
            code = 0
            break
        # Sleep until the next row is due (a retry, a lease that lapses), re-checking at least every --poll.
        time.sleep(min(max((due - utc_now()).total_seconds(), 0.005), args.poll))
    print(json.dumps({"instance": args.instance, **totals}), flush=True)
    engine.dispose()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
