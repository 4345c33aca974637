"""Ingestion through a real database: activity → class → plan → outbox rows, idempotent and reconciling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.protocols import default_protocols_path, load_protocols
from scheduler.ingest import IngestConfig, delete_activity, forget_athlete, ingest_activity, ingest_history
from scheduler.store import models
from tests.integration.conftest import race

NOW = datetime(2026, 5, 16, 15, 0, tzinfo=UTC)  # 11:00 in Toronto


@pytest.fixture
def config() -> IngestConfig:
    return IngestConfig(protocols=load_protocols(default_protocols_path()), default_zone="UTC")


def add_athlete(session: Session, athlete_id: int = 7) -> models.Athlete:
    athlete = models.Athlete(
        id=athlete_id, name="Ada Runner", state="active", created_at=NOW, updated_at=NOW, notify_urls=[]
    )
    session.add(athlete)
    session.flush()
    return athlete


def reminders(session: Session, activity_id: int = 101) -> dict[str, str]:
    rows = session.scalars(select(models.Reminder).where(models.Reminder.activity_id == activity_id))
    return {r.step: r.status for r in rows}


def test_a_new_race_plans_its_steps_once(sessions: sessionmaker[Session], config: IngestConfig) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        result = ingest_activity(session, athlete, race(), config, NOW)
    assert result.created and result.effort == "race"
    assert {"ice", "leg_massager", "foot_massager", "foam_roll"} <= set(result.planned)
    with sessions() as session:
        first = reminders(session)
        assert first["ice"] == "planned"
        ice = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
        assert ice.due_at <= NOW + timedelta(minutes=1) and ice.expires_at > NOW
        assert "Harbourfront 10K" in ice.title

    with sessions.begin() as session:
        athlete = session.get_one(models.Athlete, 7)
        assert athlete is not None
        again = ingest_activity(session, athlete, race(), config, NOW + timedelta(minutes=5))
    assert not again.changed
    with sessions() as session:
        assert reminders(session) == first
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == len(first)


def test_retagging_replans_keeps_sent_steps_and_cancels_the_rest(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        ingest_activity(session, athlete, race(workout_type=3, name="Track 6x800m"), config, NOW)
    with sessions.begin() as session:
        assert "foot_massager" not in reminders(session)  # speedwork has no foot massager step
        ice = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
        ice.status, ice.sent_at = "sent", NOW

    with sessions.begin() as session:
        athlete = session.get_one(models.Athlete, 7)
        assert athlete is not None
        result = ingest_activity(session, athlete, race(), config, NOW + timedelta(minutes=10))
    assert result.changed and result.effort == "race"
    with sessions() as session:
        steps = reminders(session)
    assert steps["ice"] == "sent"  # never sent twice
    assert steps["foot_massager"] == "planned"  # a race adds it

    with sessions.begin() as session:
        athlete = session.get_one(models.Athlete, 7)
        assert athlete is not None
        easy = race(workout_type=0, name="Easy shakeout jog", average_heartrate=128.0, max_heartrate=140)
        ingest_activity(session, athlete, easy, config, NOW + timedelta(minutes=20))
    with sessions() as session:
        steps = reminders(session)
    assert steps["ice"] == "sent"
    assert steps["leg_massager"] == "cancelled"
    assert steps["foam_roll"] == "cancelled"


def test_deleting_an_activity_cancels_only_unsent_reminders(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        ingest_activity(session, athlete, race(), config, NOW)
        session.flush()
        ice = session.scalars(select(models.Reminder).where(models.Reminder.step == "ice")).one()
        ice.status = "sent"
    with sessions.begin() as session:
        cancelled = delete_activity(session, 101, NOW + timedelta(hours=1), config)
    with sessions() as session:
        steps = reminders(session)
    assert cancelled == len(steps) - 1
    assert steps["ice"] == "sent"
    assert {status for step, status in steps.items() if step != "ice"} == {"cancelled"}


def test_backfill_classifies_history_without_any_reminder(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        result = ingest_activity(session, athlete, race(), config, NOW, backfill=True)
    assert result.effort == "race" and result.planned == []
    with sessions() as session:
        assert reminders(session) == {}
        row = session.get(models.Activity, 101)
        assert row is not None and row.effort == "race" and row.reasons


def test_deauthorization_forgets_the_athletes_strava_data(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    with sessions.begin() as session:
        athlete = add_athlete(session)
        athlete.access_token, athlete.refresh_token = "a", "r"
        ingest_activity(session, athlete, race(), config, NOW)
    with sessions.begin() as session:
        forget_athlete(session, 7, NOW)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Activity)) == 0
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == 0
        athlete = session.get_one(models.Athlete, 7)
        assert athlete is not None
        assert athlete.state == "deauthorized" and athlete.refresh_token is None and athlete.name == ""


def test_an_activity_noticed_late_skips_what_is_no_longer_useful(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    late = NOW + timedelta(hours=6)
    with sessions.begin() as session:
        athlete = add_athlete(session)
        ingest_activity(session, athlete, race(), config, late)
    with sessions() as session:
        steps = reminders(session)
    assert steps["ice"] == "skipped"
    assert steps["foam_roll"] == "planned"


def test_a_backfill_page_is_classified_in_one_pass_without_reminders(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    easy_days = [
        race(
            200 + day,
            name="Morning Run",
            workout_type=None,
            start_date=f"2026-05-{day:02d}T10:00:00Z",
            distance=8_000.0,
            moving_time=2_900,
            elapsed_time=2_950,
            average_heartrate=135.0,
            max_heartrate=150,
        )
        for day in range(1, 15)
    ]
    page = [*easy_days, race()]
    with sessions.begin() as session:
        athlete = add_athlete(session)
        results = ingest_history(session, athlete, page, NOW)
    efforts = {r.activity_id: r.effort for r in results}
    assert efforts[101] == "race" and {efforts[a["id"]] for a in easy_days} == {"easy"}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == 0
        assert all(row.backfilled for row in session.scalars(select(models.Activity)))
    with sessions.begin() as session:
        athlete = session.get_one(models.Athlete, 7)
        assert athlete is not None
        assert ingest_history(session, athlete, page, NOW) == []  # unchanged: nothing to redo


def day_rows(session: Session, athlete_id: int = 7) -> list[models.Reminder]:
    query = (
        select(models.Reminder).where(models.Reminder.athlete_id == athlete_id).order_by(models.Reminder.id)
    )
    return list(session.scalars(query))


def easy_run(activity_id: int, start: str, minutes: int = 20, name: str = "Easy jog") -> dict[str, Any]:
    return race(
        activity_id,
        name=name,
        workout_type=0,
        start_date=start,
        distance=minutes * 160.0,
        moving_time=minutes * 60,
        elapsed_time=minutes * 60,
        average_speed=2.7,
        average_heartrate=128.0,
        max_heartrate=140,
    )


def ingest(sessions: sessionmaker[Session], config: IngestConfig, raw: dict[str, Any], now: datetime) -> None:
    with sessions.begin() as session:
        athlete = session.get(models.Athlete, 7) or add_athlete(session)
        ingest_activity(session, athlete, raw, config, now)


def test_warm_up_race_and_cool_down_share_one_set_of_steps_named_after_the_race(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    ingest(sessions, config, easy_run(100, "2026-05-16T13:40:00Z", name="Warm-up"), NOW)
    with sessions() as session:
        assert [r.title for r in day_rows(session)] == ["Optional foot massage tonight — Warm-up"]
    ingest(sessions, config, race(), NOW + timedelta(minutes=5))
    ingest(
        sessions, config, easy_run(102, "2026-05-16T14:55:00Z", name="Cool-down"), NOW + timedelta(minutes=30)
    )

    with sessions() as session:
        rows = day_rows(session)
    steps = [r.step for r in rows]
    assert len(steps) == len(set(steps)), "one reminder per step and day"
    assert {"ice", "leg_massager", "foot_massager", "foam_roll"} <= set(steps)
    by_step = {r.step: r for r in rows}
    # The easy warm-up's optional foot massage became the full one instead of a second reminder beside it.
    assert by_step["foot_massager"].title == "Foot massage tonight — Harbourfront 10K and 2 more runs today"
    assert by_step["foot_massager"].status == "planned"
    assert all(r.activity_id == 101 for r in rows)
    assert {str(r.local_day) for r in rows} == {"2026-05-16"}


def test_a_later_easy_run_adds_nothing_and_a_re_poll_changes_nothing(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    ingest(sessions, config, race(), NOW)
    with sessions() as session:
        before = {r.step: r.status for r in day_rows(session)}
    evening = easy_run(103, "2026-05-16T21:00:00Z", name="Evening shakeout")  # 17:00 in Toronto
    ingest(sessions, config, evening, NOW + timedelta(hours=7))
    ingest(sessions, config, evening, NOW + timedelta(hours=7, minutes=10))  # re-poll / re-delivered webhook
    with sessions() as session:
        rows = day_rows(session)
    assert {r.step: r.status for r in rows} == before
    assert "Optional" not in " ".join(r.title for r in rows)


def test_deleting_the_race_re_plans_its_day_from_the_runs_left(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    ingest(sessions, config, easy_run(100, "2026-05-16T13:40:00Z", name="Warm-up"), NOW)
    ingest(sessions, config, race(), NOW)
    with sessions.begin() as session:
        delete_activity(session, 101, NOW + timedelta(minutes=10), config)
    with sessions() as session:
        by_step = {r.step: r for r in day_rows(session)}
    assert by_step["ice"].status == "cancelled"
    assert by_step["leg_massager"].status == "cancelled"
    assert by_step["foot_massager"].status == "planned"
    assert by_step["foot_massager"].title == "Optional foot massage tonight — Warm-up"
    assert by_step["foot_massager"].activity_id == 100


def test_two_hard_days_in_a_row_get_one_foam_roll_each_morning(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    # Saturday's race ends 23:00 in Toronto: its foam roll needs 10 h, so it would roll to Monday 08:00 —
    # the morning Sunday's speedwork already gets its own.
    late_race = race(201, start_date="2026-05-17T02:17:00Z")
    sunday = race(202, name="Track 6x800m", workout_type=3, start_date="2026-05-17T14:00:00Z")
    ingest(sessions, config, late_race, datetime(2026, 5, 17, 3, 0, tzinfo=UTC))
    ingest(sessions, config, sunday, datetime(2026, 5, 17, 15, 0, tzinfo=UTC))
    with sessions() as session:
        rolls = [r for r in day_rows(session) if r.step == "foam_roll"]
    planned = [r for r in rolls if r.status == "planned"]
    assert len(planned) == 1
    assert planned[0].activity_id == 202
    assert planned[0].due_at.astimezone(UTC) == datetime(2026, 5, 18, 12, 0, tzinfo=UTC)  # Mon 08:00 EDT
    (skipped,) = [r for r in rolls if r.activity_id == 201]
    assert skipped.status == "skipped" and "already comes for Track 6x800m" in skipped.body


def test_heart_rate_without_max_heartrate_does_not_crash_the_poll(
    sessions: sessionmaker[Session], config: IngestConfig
) -> None:
    for day in range(1, 7):
        raw = easy_run(300 + day, f"2026-05-0{day}T12:00:00Z", minutes=45, name="Morning Run")
        del raw["max_heartrate"]
        ingest(sessions, config, raw, datetime(2026, 5, day, 13, 0, tzinfo=UTC))
    with sessions() as session:
        efforts = session.scalars(select(models.Activity.effort).where(models.Activity.id > 300)).all()
    assert efforts == ["easy"] * 6
