"""SIGKILL at random moments while reminders fall due: after each restart nothing is lost, and a reminder
arrives twice only when its message had left and the kill came before it was marked sent (the README's rule).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import models
from tests.acceptance import conftest as acceptance
from tests.acceptance.conftest import DaemonFactory, wait_until
from tests.acceptance.receiver import Receiver, receiver
from tests.acceptance.test_daemon_delivery import default_db_url, env_for, now, open_database, seed, title

pytestmark = pytest.mark.slow
daemon = acceptance.daemon

CYCLES = 4
REMINDERS = 40
DUE_OVER = timedelta(seconds=12)  # the reminders fall due across the cycles, not all at once
LIFE = (0.3, 2.5)  # seconds a daemon lives before its SIGKILL, drawn per cycle
# A killed daemon's leases run out before another takes its rows: short ones keep the test short.
LEASE_SECONDS = 10
SETTINGS = {"RECOVERY_DISPATCH__LEASE_SECONDS": str(LEASE_SECONDS), "RECOVERY_NOTIFY__TIMEOUT": "5"}


@pytest.fixture
def inbox() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def test_sigkill_cycles_lose_nothing_and_repeat_only_what_had_left(
    daemon: DaemonFactory, inbox: Receiver, tmp_path: Path
) -> None:
    rng = random.Random(20260516)
    sessions = open_database(default_db_url(tmp_path))
    start = now() + timedelta(seconds=1)
    steps = {f"step_{n:02d}": start + DUE_OVER * rng.random() for n in range(REMINDERS)}
    seed(sessions, steps)

    kills: list[datetime] = []
    for _ in range(CYCLES):
        d = daemon(env_for(inbox, **SETTINGS))
        dies_at = now() + timedelta(seconds=rng.uniform(*LIFE))
        wait_until(lambda: now() >= dies_at, 10, "the moment of the kill", interval=0.02)  # noqa: B023
        d.kill()
        kills.append(now())

    last = daemon(env_for(inbox, **SETTINGS))
    deadline = LEASE_SECONDS + 30  # the last kill's leases lapse, then every row goes out
    wait_until(lambda: len(set(inbox.titles())) == REMINDERS, deadline, "every reminder at the receiver", 0.2)
    wait_until(lambda: _all_sent(sessions), 10, "every reminder marked sent")
    with sessions() as session:
        sent_at = dict(
            session.execute(
                select(models.Reminder.step, models.Reminder.sent_at).where(
                    models.Reminder.activity_id.is_not(None)
                )
            ).all()
        )
    assert last.stop() == 0

    received = Counter(inbox.titles())
    assert set(received) == {title(step) for step in steps}  # none lost
    for step in steps:
        copies = sorted(m.at for m in inbox.messages() if m.title == title(step))
        for early_copy in copies[:-1]:
            # An earlier copy left before some kill, and the row was marked sent only after that kill.
            marked = sent_at[step]
            assert marked is not None, step
            assert any(early_copy <= kill < marked for kill in kills), (step, copies, kills)
    print(f"\n{CYCLES} SIGKILLs, {REMINDERS} reminders: {sum(received.values()) - REMINDERS} duplicate(s)")


def _all_sent(sessions: sessionmaker[Session]) -> bool:
    """Every seeded reminder is sent (rows the daemon plans itself about a day, a rest-day evening, aside)."""
    with sessions() as session:
        seeded = select(models.Reminder.status).where(models.Reminder.activity_id.is_not(None))
        return set(session.scalars(seeded)) == {"sent"}
