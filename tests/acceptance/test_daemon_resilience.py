"""Bad days never kill the daemon nor lose a reminder: a Strava 500 storm, then a mail server that is down."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scheduler.store import models
from scheduler.store.db import make_engine, make_sessionmaker
from tests.acceptance.conftest import (
    DaemonFactory,
    base_env,
    mailto,
    recovery,
    strava_settings,
    wait_until,
)
from tests.doubles.strava_double import StravaDouble

pytestmark = pytest.mark.slow

ATHLETE = 3030


class Inbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        self.subjects.append(str(message["subject"]))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_strava_storm_and_a_dead_mail_server_cost_nothing(
    daemon: DaemonFactory, double: StravaDouble, tmp_path: Path
) -> None:
    smtp_port = free_port()  # nothing listens there yet: the mail server is down
    settings = strava_settings(double, mailto(smtp_port), RECOVERY_STRAVA__POLL_INTERVAL="30")
    env = base_env(tmp_path / "data", tmp_path) | settings
    double.add_athlete(ATHLETE, "Ada", "Runner")
    connected = recovery(env, tmp_path, "auth", "--code", double.issue_code(ATHLETE))
    assert connected.returncode == 0, connected.stderr

    double.fail_next(10_000, status=500)  # every Strava call fails until cleared
    d = daemon(settings)
    double.add_activity(
        ATHLETE,
        name="Harbour 5K",
        workout_type=1,
        start_date=datetime.now(UTC) - timedelta(minutes=25),
        distance=5_000.0,
        moving_time=21 * 60,
        elapsed_time=21 * 60,
    )
    wait_until(lambda: any(r.status == 500 for r in double.requests), 30, "a poll to hit the storm")
    status, health = d.get("/healthz")
    assert status in (200, 503) and "database" in str(health)
    assert d.returncode() is None

    double.clear_faults()
    engine = make_engine(d.db_url)
    sessions = make_sessionmaker(engine)

    def ice() -> models.Reminder | None:
        with sessions() as session:
            row = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).first()
            return row if row is not None and row.attempts >= 1 else None

    failed_once = wait_until(ice, 60, "a first, failed attempt to mail the ice reminder", interval=0.5)
    assert failed_once.status == "planned" and failed_once.last_error  # kept for a retry, with the reason
    assert d.returncode() is None

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        wait_until(lambda: inbox.subjects, 90, "the retried ice email", interval=0.5)
    finally:
        controller.stop()
    assert inbox.subjects == ["Ice now — Harbour 5K"]

    def ice_sent() -> models.Reminder | None:
        # The mail arrives a moment before its row is marked sent (sends are marked in groups).
        with sessions() as session:
            row = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
            return row if row.status == "sent" else None

    row = wait_until(ice_sent, 10, "the ice reminder marked sent")
    assert row.attempts >= 2
    with sessions() as session:
        attempts = session.scalars(select(models.Delivery).where(models.Delivery.reminder_id == row.id)).all()
        assert [a.ok for a in attempts][-1] is True and not attempts[0].ok
    engine.dispose()
    assert d.stop() == 0
