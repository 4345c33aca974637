"""`recovery upcoming` and `recovery history` show a message about a day (a nudge before a run, a rest day,
an alert: no activity) in the athlete's zone, found as the page finds it: their latest activity's, else
their profile's; a reminder of an activity keeps that activity's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from tests.doubles.outbox_seed import add_activity, add_athlete, add_reminders
from tests.integration.test_dispatch_cli import json_lines, recovery

T0 = datetime(2026, 5, 3, 14, 0, tzinfo=UTC)  # 16:00 in Paris (CEST), 10:00 in Toronto (EDT)
PARIS, TORONTO = 1, 2  # athlete 1 lives in Paris (profile) with no activity; 2 ran in Toronto


def seed(tmp_path: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    add_athlete(sessions, T0, athlete_id=PARIS)  # profile zone Europe/Paris
    add_athlete(sessions, T0, athlete_id=TORONTO)  # profile says Paris too, but the latest run was Toronto
    add_activity(sessions, T0 - timedelta(days=1), activity_id=300, athlete_id=TORONTO)
    day = date(2026, 5, 4)
    [paris_nudge, paris_rest] = add_reminders(
        sessions,
        T0,
        2,
        activity_id=None,
        athlete_id=PARIS,
        step_prefix="paris",
        due_at=[T0 + timedelta(hours=2), T0 - timedelta(hours=5)],
        local_day=day,
    )
    [toronto_nudge] = add_reminders(
        sessions,
        T0,
        1,
        activity_id=None,
        athlete_id=TORONTO,
        step_prefix="toronto",
        due_at=T0 + timedelta(hours=3),
        local_day=day,
    )
    [ice] = add_reminders(sessions, T0, 1, activity_id=300, athlete_id=TORONTO, step_prefix="ice")
    with transaction(sessions) as session:
        session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == paris_rest)
            .values(status="cancelled", last_error="no longer expected", updated_at=T0)
        )
    engine.dispose()
    return {"paris_nudge": paris_nudge, "paris_rest": paris_rest, "toronto": toronto_nudge, "ice": ice}


def test_rows_without_an_activity_show_in_the_athletes_zone(tmp_path: Path) -> None:
    ids = seed(tmp_path)
    upcoming = recovery(["upcoming", "--json"], tmp_path)
    assert upcoming.returncode == 0, upcoming.stderr
    due = {row["id"]: row["due_at"] for row in json_lines(upcoming.stdout)}
    assert due[ids["paris_nudge"]] == "2026-05-03T18:00:00+02:00"
    assert due[ids["toronto"]] == "2026-05-03T13:00:00-04:00"
    assert due[ids["ice"]] == "2026-05-03T10:00:00-04:00"  # the activity's own zone

    history = recovery(["history", "--json"], tmp_path)
    assert history.returncode == 0, history.stderr
    [rest] = [row for row in json_lines(history.stdout) if row["id"] == ids["paris_rest"]]
    assert rest["due_at"] == "2026-05-03T11:00:00+02:00"

    table = recovery(["upcoming"], tmp_path)
    assert table.returncode == 0, table.stderr
    assert "Sun 03 May 18:00 CEST" in table.stdout and "Sun 03 May 13:00 EDT" in table.stdout
