"""How often the classifier agreed with the runner's corrections, and which classes it was unsure of: in
`recovery activities` (text, and `--json` with the summary on stderr) and on the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.corrections import Agreement, agreement, set_effort
from scheduler.ingest import ingest_activity
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from tests.integration.conftest import race
from tests.integration.test_web_answers import recovery
from tests.integration.test_web_page import ADA, ADA_RACE, BO, NOW, Site, ingest_config, seed, start_site

CORRECTED, LEFT_UNSURE = 102, 103


def moderate_run(activity_id: int, day: int) -> dict[str, object]:
    """An automatic name and a moderate heart rate, no laps: easy by the numbers, perhaps a workout."""
    return race(
        activity_id,
        ADA,
        name="Lunch Run",
        workout_type=None,
        start_date=f"2026-05-{day:02d}T16:00:00Z",
        distance=9_000.0,
        moving_time=2_900,
        elapsed_time=2_950,
        average_speed=3.1,
        average_heartrate=150.0,
        max_heartrate=163,
    )


def seed_corrections(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        for activity_id, day in ((CORRECTED, 13), (LEFT_UNSURE, 14)):
            ingest_activity(session, athlete, moderate_run(activity_id, day), ingest_config(), NOW)
    with transaction(sessions) as session:
        set_effort(session, ADA_RACE, "race", ingest_config(), NOW)  # the runner confirms: agreement
        set_effort(session, CORRECTED, "speedwork", ingest_config(), NOW)  # classified easy: disagreement


def test_agreement_counts_each_athletes_own_corrections(sessions: sessionmaker[Session]) -> None:
    seed_corrections(sessions)
    with sessions() as session:
        assert agreement(session, ADA) == Agreement(1, 2, {"race": (1, 1), "speedwork": (0, 1)})
        assert agreement(session, BO) == Agreement(0, 0, {})
        assert agreement(session).total == 2
        assert agreement(session, ADA).describe() == (
            "the classifier agreed with 1 of 2 corrections (50 %): race 1 of 1, speedwork 0 of 1"
        )
        left = session.get(models.Activity, LEFT_UNSURE)
        assert left is not None and left.effort == "easy"
        assert left.reasons[-1] == "unsure: easy run or speedwork?"


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    seed_corrections(sessions)
    running = start_site(sessions)
    yield running
    running.server.stop()


def test_the_page_shows_the_agreement_and_makes_unsure_classes_stand_out(site: Site) -> None:
    html = site.signed_in(ADA).get(f"/athletes/{ADA}").text
    assert "Your corrections: The classifier agreed with 1 of 2 corrections (50 %)" in html
    unsure = html.split(f'id="activity-{LEFT_UNSURE}"')[1].split("</article>")[0]
    assert "Not sure: Easy run or speedwork?" in unsure and 'class="primary">Correct' in unsure
    assert 'class="card activity unsure" id="activity-' + str(LEFT_UNSURE) in html
    sure = html.split(f'id="activity-{ADA_RACE}"')[1].split("</article>")[0]
    assert "Not sure" not in sure and 'class="primary"' not in sure
    assert "unsure:" not in html  # said once, as a question, not again among the reasons


def test_recovery_activities_reports_the_agreement_and_marks_doubt(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    migrate.upgrade(engine)
    seed_corrections(make_sessionmaker(engine))
    engine.dispose()

    text = recovery(["activities", "--athlete", str(ADA), "--days", "36500"], tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[-1] == (
        "corrections: the classifier agreed with 1 of 2 corrections (50 %): race 1 of 1, speedwork 0 of 1"
    )
    [unsure_line] = [line for line in lines if f"  {LEFT_UNSURE}  " in line]
    assert "  easy?  " in unsure_line

    listed = recovery(["activities", "--athlete", str(ADA), "--days", "36500", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["id"] for r in rows] == [ADA_RACE, LEFT_UNSURE, CORRECTED]
    assert all(
        set(r) == {"id", "athlete_id", "name", "start_date", "effort", "reasons", "load"} for r in rows
    )
    summary = json.loads(listed.stderr.strip().splitlines()[-1])
    assert summary == {
        "corrections": 2,
        "agreed": 1,
        "per_class": {"race": {"agreed": 1, "corrections": 1}, "speedwork": {"agreed": 0, "corrections": 1}},
    }


def test_corrections_calibrate_the_next_classification(sessions: sessionmaker[Session]) -> None:
    """Three runs the runner corrected to races at 86 % of max: a hard 10K at that level is a race too."""

    def hard_10k(activity_id: int, day: int, heart: float) -> dict[str, object]:
        return race(
            activity_id,
            ADA,
            name="Morning Run",
            workout_type=None,
            start_date=f"2026-05-{day:02d}T12:00:00Z",
            average_speed=3.7,
            max_speed=4.9,  # surges: hard efforts inside, as a workout would have
            average_heartrate=heart,
            max_heartrate=181,
        )

    with transaction(sessions) as session:
        athlete = models.Athlete(
            id=ADA, name="Ada", state="active", created_at=NOW, updated_at=NOW, notify_urls=[], max_hr=190
        )
        session.add(athlete)
        session.flush()
        for activity_id, day in ((301, 2), (302, 5), (303, 8)):
            ingest_activity(session, athlete, hard_10k(activity_id, day, 163.0), ingest_config(), NOW)
        first = session.get(models.Activity, 303)
        assert first is not None and first.effort == "speedwork"  # the levels everyone starts with
    with transaction(sessions) as session:
        for activity_id in (301, 302, 303):
            set_effort(session, activity_id, "race", ingest_config(), NOW)
        ada = session.get(models.Athlete, ADA)
        assert ada is not None
        ingest_activity(session, ada, hard_10k(304, 11, 164.0), ingest_config(), NOW)
    with sessions() as session:
        after = session.get(models.Activity, 304)
        assert after is not None and after.effort == "race"
        assert any("your races run at 86% of max HR" in reason for reason in after.reasons)
        assert agreement(session, ADA) == Agreement(0, 3, {"race": (0, 3)})
