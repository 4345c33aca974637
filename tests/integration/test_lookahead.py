"""The look-ahead against a real database (SQLite file and PostgreSQL): habits learned from stored runs, a
nudge before the expected run planned once (activity_id NULL), following check-ins, rest-day evenings that
a run cancels, three skips that stop them once, and the daemon's job planning a nudge the dispatcher sends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import lookahead
from scheduler.daemon.jobs import DaemonJobs, JobTimings, Work
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.domain.ahead import PRE_RUN_FOOT, REST_DAY_FOOT, REST_DAY_OFF
from scheduler.domain.habits import RunTime
from scheduler.domain.protocols import load_protocols
from scheduler.domain.timing import wall_clock_on
from scheduler.ingest import IngestConfig, ingest_activity
from scheduler.notify.memory import MemoryNotifier
from scheduler.resources import PROTOCOLS_FILE
from scheduler.settings import DispatchSettings
from scheduler.store import models
from scheduler.store.athletes import ProfileChange, set_profile
from scheduler.store.db import transaction
from scheduler.web import checkins
from tests.doubles.outbox_seed import FakeClock
from tests.integration.test_web_answers import cli_db, recovery
from tests.integration.test_web_page import csrf_of, start_site

__all__ = ["cli_db"]  # the fixture, used by name below

TORONTO = ZoneInfo("America/Toronto")
ADA, BO = 7, 8
TUESDAY = date(2026, 12, 1)
MON_2100 = wall_clock_on(TUESDAY - timedelta(days=1), time(21, 0), TORONTO)
TUE_0630 = wall_clock_on(TUESDAY, time(6, 30), TORONTO)


def config() -> IngestConfig:
    return IngestConfig(protocols=load_protocols(PROTOCOLS_FILE), default_zone="UTC")


def run(activity_id: int, athlete_id: int, start: datetime, km: float = 8.0) -> dict[str, Any]:
    return {
        "id": activity_id,
        "athlete": {"id": athlete_id},
        "name": "Morning Run",
        "sport_type": "Run",
        "distance": km * 1000,
        "moving_time": int(km * 330),
        "elapsed_time": int(km * 340),
        "start_date": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": "(GMT-05:00) America/Toronto",
        "average_speed": 3.0,
    }


def ingest(sessions: sessionmaker[Session], athlete_id: int, activity_id: int, start: datetime) -> None:
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, athlete_id)
        assert athlete is not None
        raw = run(activity_id, athlete_id, start)
        ingest_activity(session, athlete, raw, config(), start + timedelta(hours=1))


def seed(sessions: sessionmaker[Session]) -> None:
    """Ada ran at 06:30 on each of the eight Tuesdays before 1 Dec (across the November clock change); Bo
    has no history."""
    with transaction(sessions) as session:
        for athlete_id in (ADA, BO):
            session.add(
                models.Athlete(
                    id=athlete_id,
                    name=f"athlete {athlete_id}",
                    timezone="America/Toronto",
                    state="active",
                    created_at=MON_2100 - timedelta(weeks=10),
                    updated_at=MON_2100 - timedelta(weeks=10),
                    notify_urls=[],
                )
            )
    for week in range(1, 9):
        ingest(
            sessions, ADA, 1000 + week, wall_clock_on(TUESDAY - timedelta(weeks=week), time(6, 30), TORONTO)
        )


def plan(sessions: sessionmaker[Session], now: datetime, athlete_id: int = ADA) -> list[str]:
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, athlete_id)
        assert athlete is not None
        changes = lookahead.plan_athlete(session, athlete, config().protocols, now, "UTC")
    return [f"{change.change} {change.step}" for change in changes]


def rows(sessions: sessionmaker[Session], athlete_id: int = ADA) -> list[models.Reminder]:
    """The athlete's look-ahead rows (check-ins add rows of their own, about pain: not these)."""
    with sessions() as session:
        return [
            row
            for row in session.scalars(
                select(models.Reminder)
                .where(models.Reminder.athlete_id == athlete_id, models.Reminder.activity_id.is_(None))
                .order_by(models.Reminder.id)
            )
            if lookahead.is_lookahead_step(row.step)
        ]


def live(
    sessions: sessionmaker[Session], athlete_id: int = ADA
) -> dict[tuple[date | None, str], models.Reminder]:
    return {(r.local_day, r.step): r for r in rows(sessions, athlete_id) if r.status == "planned"}


def test_a_nudge_before_the_habitual_run_is_planned_once(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        known = lookahead.run_habits(session, athlete, MON_2100, "UTC")
    assert known.times == (RunTime(1, time(6, 30)),) and known.source == "learned"
    assert (known.hit_rate.expected, known.hit_rate.happened) == (4, 4)

    assert plan(sessions, MON_2100) == [f"added {PRE_RUN_FOOT}"]
    [nudge] = rows(sessions)
    assert (nudge.local_day, nudge.activity_id, nudge.status) == (TUESDAY, None, "planned")
    assert nudge.due_at == TUE_0630 - timedelta(minutes=25)  # 06:05, before quiet hours end at 07:00
    assert nudge.expires_at == TUE_0630
    assert nudge.title == "Before your 06:30 run — foot massage"
    assert plan(sessions, MON_2100) == [] and plan(sessions, MON_2100 + timedelta(minutes=10)) == []
    assert len(rows(sessions)) == 1
    # Bo has no history: he is not training, so his days off are no rest days and nothing is planned.
    assert plan(sessions, MON_2100, BO) == []
    # Once he has run (Monday morning), no run is expected on Tuesday: its evening is a rest day for him.
    ingest(sessions, BO, 3000, wall_clock_on(TUESDAY - timedelta(days=1), time(7, 0), TORONTO))
    assert plan(sessions, MON_2100, BO) == [f"added {REST_DAY_FOOT}"]


def test_check_ins_change_the_nudge_and_pain_cancels_it(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    plan(sessions, MON_2100)
    # The check-in re-plans the look-ahead at once (scheduler.web.checkins): the job finds nothing left to do.
    with transaction(sessions) as session:
        tight = checkins.record(session, ADA, "tight", config(), MON_2100, area="calves")
    assert sorted(f"{c.change} {c.step}" for c in tight) == ["added heat", f"cancelled {PRE_RUN_FOOT}"]
    assert plan(sessions, MON_2100 + timedelta(minutes=1)) == []
    [nudge] = live(sessions).values()
    assert nudge.title == "Before your 06:30 run — heat (calves), foot massage"
    assert "Heat pack or heated massager on the tight area, 5–10 min" in nudge.body

    with transaction(sessions) as session:
        pain = checkins.record(session, ADA, "pain", config(), MON_2100 + timedelta(minutes=2), area="calf")
    assert [(c.change, c.step, c.reason) for c in pain if c.step == "heat"] == [
        ("cancelled", "heat", checkins.PAIN_AHEAD_REASON)
    ]
    assert plan(sessions, MON_2100 + timedelta(minutes=3)) == []
    assert live(sessions) == {}
    cancelled = [r for r in rows(sessions) if r.step == "heat"]
    assert cancelled[0].last_error == checkins.PAIN_AHEAD_REASON


def test_a_set_override_replaces_what_was_learned(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    plan(sessions, MON_2100)
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        athlete.run_times = ["tue 07:15", "wed 06:00"]
    assert sorted(plan(sessions, MON_2100)) == [f"added {PRE_RUN_FOOT}", f"moved {PRE_RUN_FOOT}"]
    due = sorted(r.due_at.astimezone(TORONTO).strftime("%a %H:%M") for r in live(sessions).values())
    assert due == ["Tue 06:50", "Wed 05:35"]


def test_rest_day_evenings_every_other_day_and_a_run_cancels_one(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    ingest(sessions, ADA, 2000, TUE_0630)  # Tuesday's run happened
    tue_noon = wall_clock_on(TUESDAY, time(12, 0), TORONTO)
    plan(sessions, tue_noon)
    rest = {day: r for (day, step), r in live(sessions).items() if step == REST_DAY_FOOT}
    wednesday = TUESDAY + timedelta(days=1)
    assert list(rest) == [wednesday]  # Tuesday was a run day
    assert rest[wednesday].due_at == wall_clock_on(wednesday, time(20, 30), TORONTO)
    assert "10–15 min with the foot massager on low" in rest[wednesday].body

    ingest(sessions, ADA, 2001, wall_clock_on(wednesday, time(17, 0), TORONTO))  # a run after all
    wed_1800 = wall_clock_on(wednesday, time(18, 0), TORONTO)
    assert f"cancelled {REST_DAY_FOOT}" in plan(sessions, wed_1800)
    # Wednesday is no rest day any more; Thursday, with no run expected, becomes the next one.
    assert [day for day, step in live(sessions) if step == REST_DAY_FOOT] == [wednesday + timedelta(days=1)]


def test_three_skips_in_a_row_stop_rest_day_massages_and_say_so_once(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    wed_noon = wall_clock_on(TUESDAY + timedelta(days=1), time(12, 0), TORONTO)
    with transaction(sessions) as session:
        for back in (6, 4, 2):
            day = TUESDAY - timedelta(days=back)
            due = wall_clock_on(day, time(20, 30), TORONTO)
            session.add(
                models.Reminder(
                    athlete_id=ADA,
                    local_day=day,
                    step=REST_DAY_FOOT,
                    due_at=due,
                    expires_at=due + timedelta(minutes=90),
                    available_at=due,
                    status="sent",
                    sent_at=due,
                    response="skipped",
                    title="Rest-day foot massage tonight",
                    body="…",
                    created_at=due,
                    updated_at=due,
                )
            )
    assert f"added {REST_DAY_OFF}" in plan(sessions, wed_noon)
    notice = live(sessions)[(TUESDAY + timedelta(days=1), REST_DAY_OFF)]
    assert notice.title == "Rest-day foot massages are off" and notice.due_at == wed_noon
    assert not any(step == REST_DAY_FOOT for _, step in live(sessions))
    assert plan(sessions, wed_noon + timedelta(hours=1)) == []  # told once
    with sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None and athlete.rest_days == "off"

    # Asked for again: the old skips no longer count.
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        athlete.rest_days, athlete.rest_days_since = "daily", wed_noon + timedelta(hours=1)
    assert f"added {REST_DAY_FOOT}" in plan(sessions, wed_noon + timedelta(hours=2))


def test_the_daemon_job_plans_a_nudge_that_the_dispatcher_sends(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with transaction(sessions) as session:
        set_profile(session, ADA, ProfileChange(equipment=frozenset({"foot_massager"})), MON_2100)
    clock = FakeClock(TUE_0630 - timedelta(minutes=24))  # the nudge is due: 06:05 has just passed
    notifier = MemoryNotifier()
    dispatcher = Dispatcher(
        sessions,
        notifier,
        DispatchSettings(lease_seconds=60, max_attempts=3, batch_size=50, workers=2),
        "test",
        clock,
    )
    protocols = config().protocols
    work = Work(
        dispatcher=dispatcher,
        connected_athletes=lambda: [],
        housekeeping=lambda: {},
        plan_ahead=lambda: lookahead.plan_all(sessions, protocols, clock(), "UTC"),
    )

    class Health:
        def dispatched(self, at: datetime) -> None: ...

        def dispatch_failed(self, error: str) -> None: ...

        def polled(self, at: datetime) -> None: ...

    jobs = DaemonJobs(work, JobTimings(poll_interval=600, sweep_interval=30), Health(), clock)
    try:
        jobs._plan_ahead()
        jobs.dispatch()
    finally:
        jobs.stop(1)
    [message] = notifier.messages
    assert message.title == "Before your 06:30 run — foot massage"
    [nudge] = rows(sessions)
    assert (nudge.status, nudge.activity_id, nudge.sent_at) == ("sent", None, clock.now)
    # The job planned every athlete: Bo, who has never run, gets nothing.
    assert rows(sessions, BO) == []


def test_athletes_set_runs_and_rest_days_from_the_command_line(
    tmp_path: Path, cli_db: sessionmaker[Session]
) -> None:
    with transaction(cli_db) as session:
        session.add(
            models.Athlete(
                id=ADA, name="Ada", timezone="America/Toronto", state="active",
                created_at=MON_2100, updated_at=MON_2100, notify_urls=[],
            )
        )  # fmt: skip
    done = recovery(
        ["athletes", "set", str(ADA), "--runs", "Tue 6:30, thu 06:30, sun 08:00", "--rest-days", "daily",
         "--cold-months", "nov,dec,jan", "--equipment", "ice"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    profile = json.loads(done.stdout.splitlines()[0])
    assert (profile["runs"], profile["rest_days"], profile["cold_months"]) == (
        "tue 06:30, thu 06:30, sun 08:00",
        "daily",
        "jan,nov,dec",
    )

    def stored() -> tuple[object, ...]:
        # Only these columns: the sealed ones need the key the command made.
        with cli_db() as session:
            a = models.Athlete
            row = session.execute(
                select(a.run_times, a.rest_days, a.cold_months, a.equipment).where(a.id == ADA)
            ).one()
            return tuple(row)

    before = stored()
    assert before == (["tue 06:30", "thu 06:30", "sun 08:00"], "daily", [1, 11, 12], ["ice"])
    for args, message in (
        (
            ["--runs", "tue 25:00", "--max-hr", "190"],
            "--runs: bad time in 'tue 25:00' (expected 00:00–23:59)",
        ),
        (["--runs", "someday"], "--runs: bad run time 'someday'"),
        (["--rest-days", "weekly"], "--rest-days: bad rest-day setting 'weekly'"),
        (["--cold-months", "winter"], "--cold-months: bad month 'winter'"),
    ):
        bad = recovery(["athletes", "set", str(ADA), *args], tmp_path)
        assert bad.returncode == 2 and message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
        assert stored() == before  # nothing changed

    back = recovery(["athletes", "set", str(ADA), "--runs", "learned"], tmp_path)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout.splitlines()[0])["runs"] == "learned" and stored()[0] is None


def test_the_page_shows_what_was_learned_and_sets_run_times(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    running = start_site(sessions)
    running.clock.now = MON_2100
    try:
        client = running.signed_in(ADA)
        page = client.get(f"/athletes/{ADA}").text
        assert "Learned from your runs: <strong>tue 06:30</strong>" in page
        assert "Expected 4 runs, 4 happened (last 28 days)" in page
        form = {
            "csrf": csrf_of(page),
            "tool": ["foot_massager", "heat_pack"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "habits": "1",
            "runs": "wed 06:00",
            "cold_months": "nov, dec",
            "rest_days": "daily",
        }
        assert client.post(f"/athletes/{ADA}/profile", data=form).status_code == 303
        nudges = [r for r in live(sessions).values() if r.step != REST_DAY_FOOT]
        # Saved and re-planned at once: Tuesday's nudge is gone, Wednesday 06:00 has heat (December is cold).
        assert [(r.local_day, r.title) for r in nudges] == [
            (TUESDAY + timedelta(days=1), "Before your 06:00 run — heat, foot massage")
        ]
        page = client.get(f"/athletes/{ADA}").text
        assert "Your times: <strong>wed 06:00</strong>" in page and 'value="nov,dec"' in page

        bad = client.post(f"/athletes/{ADA}/profile", data={**form, "runs": "wed 6"})
        assert bad.status_code == 400 and "Run times: bad run time &#39;wed 6&#39;" in bad.text
        with sessions() as session:
            stored = session.execute(
                select(models.Athlete.run_times, models.Athlete.rest_days).where(models.Athlete.id == ADA)
            ).one()
        assert tuple(stored) == (["wed 06:00"], "daily")  # nothing changed
    finally:
        running.server.stop()


def test_rest_day_massages_that_go_by_unanswered_stop_them_too(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    wed_noon = wall_clock_on(TUESDAY + timedelta(days=1), time(12, 0), TORONTO)

    def went_out(back: int, expires_after: timedelta) -> None:
        day = TUESDAY - timedelta(days=back)
        due = wall_clock_on(day, time(20, 30), TORONTO)
        with transaction(sessions) as session:
            session.add(
                models.Reminder(
                    athlete_id=ADA,
                    local_day=day,
                    step=REST_DAY_FOOT,
                    due_at=due,
                    expires_at=due + expires_after,
                    available_at=due,
                    status="sent",
                    sent_at=due,
                    title="Rest-day foot massage tonight",
                    body="…",
                    created_at=due,
                    updated_at=due,
                )
            )

    went_out(6, timedelta(minutes=90))
    went_out(4, timedelta(minutes=90))
    # The third can still be answered (a long usefulness, for the test): not judged yet.
    went_out(2, timedelta(days=3))
    assert f"added {REST_DAY_OFF}" not in plan(sessions, wed_noon)
    # Once its time has passed with no answer, three went by unanswered: they stop, and the runner is told.
    later = wall_clock_on(TUESDAY + timedelta(days=1), time(21, 0), TORONTO)
    assert f"added {REST_DAY_OFF}" in plan(sessions, later)
    with sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None and athlete.rest_days == "off"
