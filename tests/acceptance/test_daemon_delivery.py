"""Reminders leave on time, survive a crash, and go out once: the daemon against a loopback receiver."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from tests.acceptance.conftest import DaemonFactory, wait_until
from tests.acceptance.receiver import Received, Receiver, receiver
from tests.acceptance.seed import add_activity, add_athlete, add_reminder

pytestmark = pytest.mark.slow

# A wake-up, not the sweep, must explain a timely send: keep the sweep far apart.
SLOW_SWEEP = "3600"
ON_TIME = timedelta(seconds=1)
WARM_UP = timedelta(seconds=2)  # time the daemon takes after start to load what sending needs
AT_START = timedelta(seconds=5)


@pytest.fixture
def inbox() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def now() -> datetime:
    return datetime.now(UTC)


def default_db_url(tmp_path: Path) -> str:
    """The database the `daemon` fixture's processes use, to seed before they start."""
    return f"sqlite:///{tmp_path / 'data' / 'recovery.db'}"


def open_database(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    return make_sessionmaker(engine)


def seed(sessions: sessionmaker[Session], steps: dict[str, datetime], **reminder_fields: Any) -> None:
    at = now()
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, 7001) or add_athlete(session, at)
        activity = session.get(models.Activity, 9001) or add_activity(session, athlete.id, at)
        for step, due in steps.items():
            add_reminder(session, activity, step, due, at, **reminder_fields)


def statuses(sessions: sessionmaker[Session]) -> dict[str, str]:
    """The seeded reminders' statuses (rows the daemon plans itself, such as a rest-day evening, aside)."""
    with sessions() as session:
        return {
            r.step: r.status
            for r in session.scalars(select(models.Reminder).where(models.Reminder.activity_id.is_not(None)))
        }


def deliveries(sessions: sessionmaker[Session]) -> Counter[str]:
    with sessions() as session:
        rows = session.execute(
            select(models.Reminder.step).join(
                models.Delivery, models.Delivery.reminder_id == models.Reminder.id
            )
        ).all()
    return Counter(step for (step,) in rows)


def title(step: str) -> str:
    return f"{step} after Parkrun #123"


def env_for(inbox: Receiver, **extra: str) -> dict[str, str]:
    return {"RECOVERY_NOTIFY__URLS": inbox.url, "RECOVERY_DISPATCH__SWEEP_INTERVAL": SLOW_SWEEP, **extra}


def assert_on_time(arrived: datetime, due: datetime, ready_at: datetime) -> None:
    """Within a second of its due time, when the daemon was up (and had loaded apprise) by then; a reminder
    already due at start goes out with the first sweep, which pays for those imports (slower on a busy
    machine)."""
    if due >= ready_at + WARM_UP:
        assert due <= arrived < due + ON_TIME, (arrived, due)
    else:
        assert arrived - max(due, ready_at) < AT_START, (arrived, due, ready_at)


def arrival(inbox: Receiver, step: str, timeout: float) -> datetime:
    found: list[Received] = wait_until(
        lambda: [m for m in inbox.messages() if m.title == title(step)], timeout, f"{step} at the receiver"
    )
    return found[0].at


def test_reminders_planned_before_start_leave_within_a_second_of_due(
    daemon: DaemonFactory, inbox: Receiver, tmp_path: Path
) -> None:
    sessions = open_database(default_db_url(tmp_path))
    due_ice, due_massage = now() + timedelta(seconds=5), now() + timedelta(seconds=7)
    seed(sessions, {"ice_now": due_ice, "leg_massager": due_massage})

    d = daemon(env_for(inbox))
    ready = now()
    assert_on_time(arrival(inbox, "ice_now", 15), due_ice, ready)
    assert_on_time(arrival(inbox, "leg_massager", 15), due_massage, ready)
    assert arrival(inbox, "ice_now", 0) >= due_ice  # never early
    wait_until(
        lambda: statuses(sessions) == {"ice_now": "sent", "leg_massager": "sent"}, 5, "both marked sent"
    )
    assert d.stop() == 0
    assert Counter(inbox.titles()) == {title("ice_now"): 1, title("leg_massager"): 1}


def test_a_reminder_planned_elsewhere_while_running_is_noticed_by_the_sweep(
    daemon: DaemonFactory, inbox: Receiver, tmp_path: Path
) -> None:
    d = daemon(env_for(inbox, RECOVERY_DISPATCH__SWEEP_INTERVAL="2"))
    sessions = open_database(d.db_url)
    due = now() + timedelta(seconds=6)
    seed(sessions, {"foam_roll": due})  # as another instance (or `recovery sync`) would
    assert due <= arrival(inbox, "foam_roll", 15) < due + ON_TIME
    assert d.stop() == 0


def test_after_a_crash_every_pending_reminder_goes_out_once(
    daemon: DaemonFactory, inbox: Receiver, tmp_path: Path
) -> None:
    sessions = open_database(default_db_url(tmp_path))
    start = now()
    due = {
        "ice_now": start + timedelta(seconds=3),
        "leg_massager": start + timedelta(seconds=5),  # falls due while the daemon is down
        "foam_roll": start + timedelta(seconds=9),
    }
    seed(sessions, due)

    first = daemon(env_for(inbox))
    wait_until(lambda: statuses(sessions)["ice_now"] == "sent", 10, "ice_now marked sent")
    first.kill()  # power cut: no shutdown, no lease given back
    wait_until(lambda: now() > due["leg_massager"], 10, "leg_massager to fall due while down", interval=0.1)

    second = daemon(env_for(inbox))
    ready = now()
    # Due while the daemon was down: sent at restart, not dropped.
    assert_on_time(arrival(inbox, "leg_massager", 15), due["leg_massager"], ready)
    assert_on_time(arrival(inbox, "foam_roll", 15), due["foam_roll"], ready)
    wait_until(lambda: set(statuses(sessions).values()) == {"sent"}, 5, "every reminder marked sent")
    assert second.stop() == 0

    assert Counter(inbox.titles()) == {title(step): 1 for step in due}
    assert deliveries(sessions) == {step: 1 for step in due}


def test_a_send_lost_in_a_crash_is_reclaimed_and_a_stale_one_expires(
    daemon: DaemonFactory, inbox: Receiver, tmp_path: Path
) -> None:
    sessions = open_database(default_db_url(tmp_path))
    at = now()
    # Claimed by an instance that died before sending: its lease ran out a minute ago.
    seed(
        sessions,
        {"ice_now": at - timedelta(minutes=3)},
        status="sending",
        lease_until=at - timedelta(minutes=1),
        leased_by="dead-host-1-abcdef",
        attempts=0,
    )
    # Its window closed while the daemon was down: it must never be sent late.
    seed(sessions, {"leg_massager": at - timedelta(hours=5)}, expires_in=timedelta(hours=3))

    d = daemon(env_for(inbox))
    arrival(inbox, "ice_now", 10)
    wait_until(
        lambda: statuses(sessions) == {"ice_now": "sent", "leg_massager": "expired"}, 5, "sent and expired"
    )
    assert d.stop() == 0
    assert inbox.titles() == [title("ice_now")]


def test_a_reminder_sent_just_before_sigterm_is_not_sent_again(
    daemon: DaemonFactory, inbox: Receiver, tmp_path: Path
) -> None:
    sessions = open_database(default_db_url(tmp_path))
    due = now() + timedelta(seconds=3)
    seed(sessions, {"ice_now": due})
    d = daemon(env_for(inbox))
    arrival(inbox, "ice_now", 10)
    assert d.stop() == 0
    restarted = daemon(env_for(inbox))
    restarted.wait_healthy()
    # The restart's first sweep has run once healthy reports a dispatch.
    wait_until(lambda: restarted.get("/healthz")[1]["dispatch"]["last_ok_at"], 5, "a dispatch after restart")
    assert restarted.stop() == 0
    assert inbox.titles() == [title("ice_now")]
    assert statuses(sessions) == {"ice_now": "sent"}


@pytest.mark.postgres
def test_two_daemons_on_one_postgresql_send_each_reminder_once(
    daemon: DaemonFactory, inbox: Receiver, pg_url: str, tmp_path: Path
) -> None:
    sessions = open_database(pg_url)
    due = now() + timedelta(seconds=4)
    steps = {f"step_{n:02d}": due + timedelta(milliseconds=50 * n) for n in range(12)}
    seed(sessions, steps)

    # Instances on one database share one secret key (each data dir would otherwise make its own).
    env = env_for(inbox, RECOVERY_DATABASE_URL=pg_url, RECOVERY_SECRET_KEY_FILE=str(tmp_path / "secret.key"))
    first = daemon(env, data_dir=tmp_path / "one")
    second = daemon(env, data_dir=tmp_path / "two")
    wait_until(lambda: len(inbox.messages()) >= len(steps), 15, "every reminder at the receiver")
    wait_until(lambda: set(statuses(sessions).values()) == {"sent"}, 5, "every reminder marked sent")
    assert first.stop() == 0 and second.stop() == 0

    assert Counter(inbox.titles()) == {title(step): 1 for step in steps}
    assert deliveries(sessions) == {step: 1 for step in steps}
