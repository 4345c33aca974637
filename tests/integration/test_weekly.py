"""The evening training messages through the database (SQLite and PostgreSQL): planned at 19:00 in the
athlete's zone by the daemon's job, one row per (athlete, day, step) without an activity, sent by the real
dispatcher."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.daemon.jobs import ANCHOR, EVENING_JOB, WAKEUP_JOB, DaemonJobs, JobTimings, Work
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.ingest import ingest_history
from scheduler.notify.memory import MemoryNotifier
from scheduler.settings import DispatchSettings
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.weekly import last_summary, plan_evenings
from tests.doubles.outbox_seed import FakeClock

ATHLETE = 77
ZONE = ZoneInfo("America/New_York")
SUNDAY = date(2026, 11, 29)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def run(
    id_: int, day: date, km: float, minutes: int, hr: float | None = None, **extra: Any
) -> dict[str, Any]:
    start = local(day, 7)
    raw: dict[str, Any] = {
        "id": id_,
        "athlete": {"id": ATHLETE},
        "name": "Morning Run",
        "sport_type": "Run",
        "distance": km * 1000,
        "moving_time": minutes * 60,
        "elapsed_time": minutes * 60 + 20,
        "total_elevation_gain": 0.0,
        "start_date": start.isoformat().replace("+00:00", "Z"),
        "timezone": "(GMT-05:00) America/New_York",
        "average_speed": km * 1000 / (minutes * 60),
        **extra,
    }
    if hr is not None:
        raw.update(has_heartrate=True, average_heartrate=hr, max_heartrate=hr + 12)
    return raw


def store(sessions: sessionmaker[Session], raws: list[dict[str, Any]], now: datetime) -> None:
    with transaction(sessions) as session:
        athlete = models.Athlete(
            id=ATHLETE,
            name="Ada",
            timezone="America/New_York",
            state="files",
            max_hr=190,
            rest_hr=50,
            created_at=now,
            updated_at=now,
        )
        session.add(athlete)
        session.flush()
        ingest_history(session, athlete, raws, now)


def rows(sessions: sessionmaker[Session]) -> list[models.Reminder]:
    with sessions() as session:
        return list(session.scalars(select(models.Reminder).order_by(models.Reminder.id)))


def add_reminder(
    sessions: sessionmaker[Session], step: str, day: date, status: str, response: str | None, due: datetime
) -> None:
    with transaction(sessions) as session:
        session.add(
            models.Reminder(
                activity_id=None,
                athlete_id=ATHLETE,
                step=step,
                local_day=day,
                due_at=due,
                expires_at=due + timedelta(hours=2),
                available_at=due,
                status=status,
                title=f"{step} title",
                body="body",
                tags=["routine"],
                response=response,
                created_at=due,
                updated_at=due,
            )
        )


WEEK = [
    run(1, SUNDAY - timedelta(days=5), 8.0, 45, hr=140.0),
    run(2, SUNDAY - timedelta(days=3), 10.0, 50, hr=150.0),
    run(3, SUNDAY, 18.0, 100),  # this morning, without heart rate
]


def test_the_summary_is_planned_once_at_19_local_on_sunday_only(sessions: sessionmaker[Session]) -> None:
    store(sessions, WEEK, local(SUNDAY, 12))

    assert plan_evenings(sessions, local(SUNDAY, 18, 55), "UTC") == {}
    assert plan_evenings(sessions, local(SUNDAY, 19), "UTC") == {ATHLETE: ["weekly_summary"]}
    assert plan_evenings(sessions, local(SUNDAY, 19, 5), "UTC") == {}  # already there
    assert plan_evenings(sessions, local(SUNDAY + timedelta(days=1), 19), "UTC") == {}  # Monday

    [row] = rows(sessions)
    assert (row.step, row.activity_id, row.local_day, row.status) == (
        "weekly_summary",
        None,
        SUNDAY,
        "planned",
    )
    assert row.due_at == local(SUNDAY, 19) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert row.expires_at == local(SUNDAY, 22)
    assert row.tags == ["routine"]
    assert row.title == "Your week: 3 runs, 36.0 km"


def test_no_summary_before_any_activity_is_known(sessions: sessionmaker[Session]) -> None:
    store(sessions, [], local(SUNDAY, 12))
    assert plan_evenings(sessions, local(SUNDAY, 19), "UTC") == {}
    assert rows(sessions) == []


def test_a_daemon_back_within_the_evening_still_plans_it_due_at_19(sessions: sessionmaker[Session]) -> None:
    store(sessions, WEEK, local(SUNDAY, 12))
    assert plan_evenings(sessions, local(SUNDAY, 21, 40), "UTC") == {ATHLETE: ["weekly_summary"]}
    assert rows(sessions)[0].due_at == local(SUNDAY, 19)
    assert plan_evenings(sessions, local(SUNDAY + timedelta(days=7), 22), "UTC") == {}  # past its window


def test_the_summary_tells_runs_answers_and_the_coming_days(sessions: sessionmaker[Session]) -> None:
    store(sessions, WEEK, local(SUNDAY, 12))
    add_reminder(
        sessions,
        "foam_roll",
        SUNDAY - timedelta(days=4),
        "sent",
        "done",
        local(SUNDAY - timedelta(days=4), 8),
    )
    add_reminder(
        sessions,
        "leg_massager",
        SUNDAY - timedelta(days=3),
        "sent",
        "skipped",
        local(SUNDAY - timedelta(days=3), 20),
    )
    add_reminder(
        sessions,
        "foot_massager",
        SUNDAY - timedelta(days=3),
        "sent",
        None,
        local(SUNDAY - timedelta(days=3), 20, 30),
    )
    add_reminder(
        sessions,
        "foam_roll",
        SUNDAY + timedelta(days=1),
        "planned",
        None,
        local(SUNDAY + timedelta(days=1), 8),
    )

    plan_evenings(sessions, local(SUNDAY, 19), "UTC")

    with sessions() as session:
        summary = last_summary(session, ATHLETE)
    assert summary is not None
    lines = summary.body.splitlines()
    assert lines[0].startswith("Runs: 3, 36.0 km in 3 h 15 min; longest 18.0 km")
    assert lines[1].startswith("Load: ")
    assert lines[2].startswith("Fitness ") and ", form " in lines[2]
    assert "Reminders: 1 done, 1 skipped, 1 unanswered." in lines
    assert "Coming days: Mon 08:00 foam_roll title." in lines


def hard_block_history() -> list[dict[str, Any]]:
    """16 ordinary weeks, then a week of long hard runs ending on a Wednesday."""
    end = date(2026, 11, 25)  # Wednesday
    first = end - timedelta(weeks=16, days=6)
    raws: list[dict[str, Any]] = []
    pattern = {
        1: (8.0, 45, 140.0),
        2: (10.0, 50, 155.0),
        3: (8.0, 45, 140.0),
        5: (9.0, 50, 142.0),
        6: (18.0, 100, 145.0),
    }
    day = first
    while day <= end - timedelta(days=7):
        if day.weekday() in pattern:
            km, minutes, hr = pattern[day.weekday()]
            raws.append(run(len(raws) + 1, day, km, minutes, hr=hr))
        day += timedelta(days=1)
    while day <= end:
        raws.append(run(len(raws) + 1, day, 20.0, 110, hr=165.0))
        day += timedelta(days=1)
    return raws


def test_form_note_after_a_hard_block_at_most_once_in_three_days(sessions: sessionmaker[Session]) -> None:
    wednesday = date(2026, 11, 25)
    store(sessions, hard_block_history(), local(wednesday, 12))

    assert plan_evenings(sessions, local(wednesday, 19), "UTC") == {ATHLETE: ["form_note"]}
    # Still tired the next two evenings (nothing new was run), but the note does not come again.
    assert plan_evenings(sessions, local(wednesday + timedelta(days=1), 19), "UTC") == {}
    assert plan_evenings(sessions, local(wednesday + timedelta(days=2), 19, 30), "UTC") == {}

    [note] = rows(sessions)
    assert (note.step, note.activity_id, note.local_day) == ("form_note", None, wednesday)
    assert note.due_at == local(wednesday, 19)
    assert "consider an easy or rest day tomorrow" in note.body
    assert "disputed" in note.body  # the ratio is shown, with its caveat


def test_no_note_for_ordinary_weeks(sessions: sessionmaker[Session]) -> None:
    raws = [r for r in hard_block_history() if r["average_heartrate"] != 165.0]
    last = max(datetime.fromisoformat(r["start_date"]) for r in raws).astimezone(ZONE).date()
    store(sessions, raws, local(last, 12))
    assert plan_evenings(sessions, local(last, 19), "UTC") == {}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local(SUNDAY, 19))


def test_the_daemons_evening_job_plans_the_summary_and_the_dispatcher_sends_it(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    store(sessions, WEEK, local(SUNDAY, 12))
    notifier = MemoryNotifier()
    dispatcher = Dispatcher(sessions, notifier, DispatchSettings(), "a", clock)
    work = Work(
        dispatcher=dispatcher,
        connected_athletes=lambda: [],
        housekeeping=lambda: None,
        plan_evenings=lambda: plan_evenings(sessions, clock(), "UTC"),
    )
    jobs = DaemonJobs(work, JobTimings(poll_interval=600, sweep_interval=30), FakeHealthSink(), clock)
    jobs.start(paused=True)
    try:
        job = jobs.scheduler.get_job(EVENING_JOB)
        assert job is not None
        assert job.trigger.interval == timedelta(minutes=5) and job.trigger.start_date == ANCHOR
        job.func()  # what the scheduler runs every 5 minutes
        wakeup = jobs.scheduler.get_job(WAKEUP_JOB)
        assert wakeup is not None  # armed for the new row, not left to the next sweep
        report = dispatcher.run_once()
    finally:
        jobs.stop(5)
    assert report.sent == 1
    [message] = notifier.messages
    assert message.title == "Your week: 3 runs, 36.0 km"
    assert message.body.startswith("Runs: 3, 36.0 km")
    assert rows(sessions)[0].status == "sent"


class FakeHealthSink:
    def dispatched(self, at: datetime) -> None:
        pass

    def dispatch_failed(self, error: str) -> None:
        pass

    def polled(self, at: datetime) -> None:
        pass
