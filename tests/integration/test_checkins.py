"""Check-ins change the plan at once: pain cancels the massage, rolling and massage-gun steps with the
reason and keeps cold; a knee ache brings the knee massager at the next suitable time, and without one it is
never planned; bad input changes nothing; the CLI prints what changed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.errors import InputError
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web import checkins
from tests.integration.test_web_answers import cli_db, recovery, row
from tests.integration.test_web_page import ADA, BO, NOW, ingest_config, seed

__all__ = ["cli_db"]  # the fixture, used by name below

LATER = NOW + timedelta(hours=1)  # 12:00 in Toronto: outside quiet hours
MASSAGE = {"leg_massager", "foam_roll", "massage_gun"}


def statuses(sessions: sessionmaker[Session], athlete_id: int) -> dict[str, str]:
    with sessions() as session:
        rows = session.scalars(select(models.Reminder).where(models.Reminder.athlete_id == athlete_id))
        return {r.step: r.status for r in rows}


def step_statuses(sessions: sessionmaker[Session], athlete_id: int, step: str) -> list[str]:
    """The statuses of the athlete's rows of one step (look-ahead steps have one per day)."""
    with sessions() as session:
        rows = session.scalars(
            select(models.Reminder.status).where(
                models.Reminder.athlete_id == athlete_id, models.Reminder.step == step
            )
        )
        return list(rows)


def test_pain_cancels_massage_steps_with_the_reason_and_keeps_cold(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    before, bo_before = statuses(sessions, ADA), statuses(sessions, BO)
    assert {step for step, status in before.items() if status == "planned"} >= MASSAGE
    with transaction(sessions) as session:
        changes = checkins.record(session, ADA, "pain", ingest_config(), LATER, area="calf")
    cancelled = {c.step for c in changes if c.change == "cancelled"}
    assert cancelled >= MASSAGE and "ice" not in cancelled
    assert all(
        c.reason == checkins.PAIN_REASON for c in changes if c.change == "cancelled" and c.step in MASSAGE
    )
    # The morning question is withdrawn too: the pain answers it.
    [legs] = [c for c in changes if c.step == "legs_check"]
    assert (legs.change, legs.reason) == ("cancelled", checkins.PAIN_ANSWERS_LEGS)
    after = statuses(sessions, ADA)
    assert after["ice"] == before["ice"] and all(after[step] == "cancelled" for step in MASSAGE)
    assert row(sessions, ADA, "foam_roll").last_error == checkins.PAIN_REASON
    assert statuses(sessions, BO) == bo_before  # another athlete's plan is untouched

    # Cleared: the steps still ahead come back.
    with transaction(sessions) as session:
        back = checkins.clear(session, ADA, "pain", ingest_config(), LATER + timedelta(minutes=5))
    assert {c.step for c in back if c.change == "added"} >= {"foam_roll", "massage_gun"}


def test_a_knee_ache_brings_the_knee_massager_now_and_only_then(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    assert "knee_massager" not in statuses(sessions, ADA)  # no knee ache reported: never planned
    with transaction(sessions) as session:
        changes = checkins.record(session, ADA, "knee_ache", ingest_config(), LATER)
    [added] = [c for c in changes if c.step == "knee_massager"]
    assert added.change == "added" and added.due_at == LATER
    assert statuses(sessions, ADA)["knee_massager"] == "planned"


def test_a_knee_ache_reported_at_night_waits_for_the_end_of_quiet_hours(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    night = NOW.replace(hour=3, minute=30) + timedelta(days=1)  # 23:30 in Toronto
    with transaction(sessions) as session:
        changes = checkins.record(session, ADA, "knee_ache", ingest_config(), night)
    [added] = [c for c in changes if c.step == "knee_massager"]
    assert added.due_at == NOW.replace(hour=11, minute=0) + timedelta(days=1)  # 07:00 in Toronto


def test_bad_input_changes_nothing(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    before = statuses(sessions, ADA)
    with pytest.raises(InputError, match="unknown check-in 'cramp'"), transaction(sessions) as session:
        checkins.record(session, ADA, "cramp", ingest_config(), LATER)
    with pytest.raises(InputError, match="no pain check-in in force"), transaction(sessions) as session:
        checkins.clear(session, ADA, "pain", ingest_config(), LATER)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.CheckIn)) == 0
    assert statuses(sessions, ADA) == before


def test_the_checkin_commands(tmp_path: Path, cli_db: sessionmaker[Session]) -> None:
    seed(cli_db)
    with transaction(cli_db) as session:  # Ada runs every morning: a nudge is always ahead
        ada = session.get(models.Athlete, ADA)
        assert ada is not None
        ada.run_times = [f"{day} 06:30" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    done = recovery(["checkin", str(ADA), "tight", "--area", "hamstrings"], tmp_path)
    assert done.returncode == 0, done.stderr
    # The look-ahead follows at once: the next nudge before a run is heat, printed with the rest.
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    heat = [c for c in printed if c["step"] == "heat"]
    assert heat and {c["change"] for c in heat} == {"added"}
    assert set(step_statuses(cli_db, ADA, "heat")) == {"planned"}
    listed = recovery(["checkins", str(ADA), "--json"], tmp_path)
    [tight] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (tight["kind"], tight["area"], tight["until"]) == ("tight", "hamstrings", None)
    bad = recovery(["checkin", str(ADA), "cramp"], tmp_path)
    assert bad.returncode == 2 and "unknown check-in 'cramp'" in bad.stderr
    cleared = recovery(["checkin", str(ADA), "--clear", "tight"], tmp_path)
    assert cleared.returncode == 0, cleared.stderr
    after = {(c["step"], c["change"]) for c in map(json.loads, cleared.stdout.splitlines())}
    assert {("heat", "cancelled"), ("pre_run_foot_massage", "added")} <= after
    assert set(step_statuses(cli_db, ADA, "heat")) == {"cancelled"}
    assert recovery(["checkins", str(ADA), "--json"], tmp_path).stdout == ""
