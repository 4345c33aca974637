"""The runner's answers (done, skip, snooze) and class corrections through the database and the CLI:
one function decides, re-planning leaves answers be, snoozed reminders are claimed again, never late."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatch import outbox
from scheduler.errors import InputError
from scheduler.ingest import ingest_activity
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.web import answers
from scheduler.web.answers import AnswerRefused, ReminderState, decide
from tests.integration.conftest import race
from tests.integration.test_web_page import ADA, ADA_RACE, BO, NOW, ingest_config, seed

HOUR = timedelta(hours=1)


def row(sessions: sessionmaker[Session], athlete_id: int, step: str) -> models.Reminder:
    with sessions() as session:
        found = session.scalars(
            select(models.Reminder).where(
                models.Reminder.athlete_id == athlete_id, models.Reminder.step == step
            )
        ).one()
        session.expunge(found)
        return found


def test_decide_covers_every_status() -> None:
    planned = ReminderState("planned", NOW, NOW + 3 * HOUR)
    assert decide(planned, "done", NOW).status == "cancelled"
    assert decide(planned, "skip", NOW).response == "skipped"
    assert decide(ReminderState("sent", NOW, NOW + HOUR), "done", NOW).status == "sent"
    assert decide(ReminderState("expired", NOW, NOW), "skip", NOW).status == "expired"
    sent = decide(ReminderState("sent", NOW, NOW + HOUR), "snooze", NOW)
    assert (sent.status, sent.available_at, sent.resend) == ("planned", NOW + timedelta(minutes=30), True)
    later = decide(ReminderState("planned", NOW + 2 * HOUR, NOW + 5 * HOUR), "snooze", NOW)
    assert later.available_at == NOW + 2 * HOUR + timedelta(minutes=30)  # from when it was due
    with pytest.raises(AnswerRefused, match="at most 20 min left"):
        decide(ReminderState("sent", NOW, NOW + timedelta(minutes=20)), "snooze", NOW)
    with pytest.raises(AnswerRefused, match="being sent"):
        decide(ReminderState("sending", NOW, NOW + HOUR), "snooze", NOW)
    with pytest.raises(AnswerRefused, match="no longer part of the plan"):
        decide(ReminderState("cancelled", NOW, NOW + HOUR), "done", NOW)
    with pytest.raises(AnswerRefused, match="unknown answer"):
        decide(planned, "later", NOW)
    assert answers.allowed(ReminderState("sending", NOW, NOW + HOUR), NOW) == ["done", "skip"]


def test_a_skipped_step_stays_skipped_when_the_day_is_replanned(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    leg = row(sessions, ADA, "leg_massager")
    with transaction(sessions) as session:
        answers.answer_reminder(session, leg.id, "skip", NOW)
    # The activity is renamed on Strava: its day is re-planned, and the runner's "skip" stands.
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        ingest_activity(
            session, athlete, race(ADA_RACE, ADA, name="Harbourfront 10K PB!"), ingest_config(), NOW + HOUR
        )
    after = row(sessions, ADA, "leg_massager")
    assert (after.status, after.response, after.last_error) == (
        "cancelled",
        "skipped",
        "skipped by the runner",
    )
    assert "PB!" in row(sessions, ADA, "foam_roll").title  # the rest of the day followed the rename


def test_a_snoozed_sent_reminder_goes_out_again_to_every_destination(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    ice = row(sessions, ADA, "ice")
    with transaction(sessions) as session:
        claimed = outbox.claim(session, NOW, "test", timedelta(minutes=1), 10)
        assert ice.id in {c.id for c in claimed}
        outbox.finish_unsent(
            session, ice.id, "test", NOW, status="partial", error="mail down", delivered_to=["ntfy://x"]
        )
    with transaction(sessions) as session:
        answers.answer_reminder(session, ice.id, "snooze", NOW + timedelta(minutes=5))
    snoozed = row(sessions, ADA, "ice")
    assert (snoozed.status, snoozed.response, snoozed.delivered_to) == ("planned", "snoozed", None)
    with transaction(sessions) as session:
        assert ice.id not in {c.id for c in outbox.claim(session, NOW + timedelta(minutes=30), "t", HOUR, 10)}
    with transaction(sessions) as session:
        again = outbox.claim(session, NOW + timedelta(minutes=36), "test", HOUR, 10)
    assert ice.id in {c.id for c in again} and not next(c for c in again if c.id == ice.id).delivered_to


def test_another_athletes_reminder_is_not_found(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    bo_ice = row(sessions, BO, "ice")
    with pytest.raises(answers.NotFound), transaction(sessions) as session:
        answers.answer_reminder(session, bo_ice.id, "done", NOW, athlete_id=ADA)
    assert row(sessions, BO, "ice").status == "planned"


def recovery(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
    environment.update(
        RECOVERY_DATA_DIR=str(tmp_path / "data"),
        RECOVERY_DATABASE_URL=f"sqlite:///{tmp_path / 'recovery.db'}",
        RECOVERY_TIMEZONE="UTC",
        RECOVERY_HTTP__PUBLIC_URL="https://recovery.example.org",
    )
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def cli_db(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    migrate.upgrade(engine)
    return make_sessionmaker(engine)


def test_the_reminder_commands_and_set_effort(tmp_path: Path, cli_db: sessionmaker[Session]) -> None:
    seed(cli_db)
    # The seeded plan was made at NOW; the commands run at the real time, so move the ice step's window there.
    ice = row(cli_db, ADA, "ice")
    with transaction(cli_db) as session:
        stored = session.get(models.Reminder, ice.id)
        assert stored is not None
        stored.available_at = stored.due_at = datetime.now(UTC) - timedelta(minutes=1)
        stored.expires_at = datetime.now(UTC) + timedelta(minutes=40)
    snoozed = recovery(["reminder", "snooze", str(ice.id), "--minutes", "45"], tmp_path)
    assert snoozed.returncode == 2 and "would pass its usefulness" in snoozed.stderr  # 40 min left
    done = recovery(["reminder", "done", str(ice.id)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "cancelled" and json.loads(done.stdout)["response"] == "done"
    assert (
        recovery(["reminder", "skip", "999999"], tmp_path).stderr.strip()
        == "recovery: error: no reminder 999999"
    )

    corrected = recovery(["activities", "set-effort", str(ADA_RACE), "long_run"], tmp_path)
    assert corrected.returncode == 0, corrected.stderr
    assert json.loads(corrected.stdout)["classified_as"] == "race"
    listed = recovery(["activities", "--days", "36500", "--json"], tmp_path)
    assert any(json.loads(line)["effort"] == "long_run" for line in listed.stdout.splitlines())
    bad = recovery(["activities", "set-effort", str(ADA_RACE), "marathon"], tmp_path)
    assert bad.returncode == 2 and "unknown effort 'marathon'" in bad.stderr

    link = recovery(["athletes", "link", str(ADA)], tmp_path)
    assert link.returncode == 0 and link.stdout.startswith("https://recovery.example.org/signin/")
    assert len(link.stdout.strip().rsplit("/", 1)[1]) >= 43


def test_a_correction_outlives_a_reclassification(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    from scheduler.corrections import set_effort

    with transaction(sessions) as session:
        set_effort(session, ADA_RACE, "easy", ingest_config(), NOW)
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        ingest_activity(
            session, athlete, race(ADA_RACE, ADA, name="Harbourfront 10K race"), ingest_config(), NOW
        )
    with sessions() as session:
        activity = session.get(models.Activity, ADA_RACE)
        assert activity is not None and activity.effort == "easy"
        assert activity.reasons == ["set by the runner (classified as race)"]
    with pytest.raises(InputError, match="no activity"), transaction(sessions) as session:
        set_effort(session, ADA_RACE, "race", ingest_config(), NOW, athlete_id=BO)
