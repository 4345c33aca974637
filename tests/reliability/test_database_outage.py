"""A cut database: the daemon says so once, says when it is back, and delivers what fell due meanwhile.

The daemon reaches PostgreSQL through a TCP proxy the test cuts (open connections reset, new ones refused) and
restores, as a failed network path or a restarted database server would look to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.acceptance import conftest as acceptance
from tests.acceptance.conftest import DaemonFactory, wait_until
from tests.acceptance.receiver import Receiver, receiver
from tests.acceptance.test_daemon_delivery import now, open_database, seed, statuses, title
from tests.doubles.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
daemon = acceptance.daemon

OUTAGE_DUE_IN = timedelta(seconds=6)  # the reminder falls due while the database is unreachable
AFTER_DUE = timedelta(seconds=4)  # and the outage goes on a while after that, failing sweeps and wake-ups


@pytest.fixture
def inbox() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def test_an_outage_logs_two_lines_no_traceback_and_what_fell_due_goes_out_after(
    daemon: DaemonFactory, inbox: Receiver, pg_url: str, tmp_path: Path
) -> None:
    sessions = open_database(pg_url)
    with TcpProxy("127.0.0.1", make_url(pg_url).port or 5432) as proxy:
        via_proxy = make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)
        d = daemon(
            {
                "RECOVERY_DATABASE_URL": via_proxy,
                "RECOVERY_NOTIFY__URLS": inbox.url,
                # Sweeps every second: many failing operations during the outage, each once a traceback.
                "RECOVERY_DISPATCH__SWEEP_INTERVAL": "1",
            }
        )
        due = now() + OUTAGE_DUE_IN
        seed(sessions, {"ice_now": due})
        before_cut = len(d.logs())

        proxy.cut()
        wait_until(lambda: d.get("/healthz")[0] == 503, 10, "/healthz to report the outage")
        d.wait_for_log(r"database unreachable", timeout=10)
        wait_until(lambda: now() > due + AFTER_DUE, 15, "the reminder to fall due during the outage", 0.2)
        assert d.get("/healthz")[0] == 503
        during = d.logs()[before_cut:]

        proxy.restore()
        back = d.wait_for_log(r"database reachable again after (\d+) s; (\d+) operation\(s\) failed", 15)
        wait_until(lambda: [m for m in inbox.messages() if m.title == title("ice_now")], 15, "ice_now sent")
        wait_until(lambda: statuses(sessions) == {"ice_now": "sent"}, 10, "ice_now marked sent")
        wait_until(lambda: d.get("/healthz")[0] == 200, 10, "/healthz healthy again")
        assert d.stop() == 0

    outage_lines = [line for line in during.splitlines() if line.strip()]
    assert "Traceback" not in d.logs(), d.logs()
    assert sum("database unreachable" in line for line in outage_lines) == 1, during
    # The cut itself may surface in one more place before the tracker sees it; nothing repeats.
    assert len(outage_lines) <= 2, during
    assert int(back.group(1)) >= (OUTAGE_DUE_IN + AFTER_DUE).total_seconds() - 2
    assert int(back.group(2)) >= 3  # many operations failed, each silently counted
    assert Counter(inbox.titles()) == {title("ice_now"): 1}
