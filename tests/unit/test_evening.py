"""When the evening training messages go and what the weekly summary says (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain.evening import (
    Answers,
    Coming,
    evening_window,
    is_summary_day,
    weekly_summary,
)
from scheduler.domain.form import FormNote, series
from scheduler.domain.load import Workout

NEW_YORK = ZoneInfo("America/New_York")
SUNDAY = date(2026, 11, 29)


def test_sunday_evening_at_19_local_until_22() -> None:
    window = evening_window(SUNDAY, NEW_YORK, time(22, 0))
    assert window.due_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 19:00 EST
    assert window.expires_at == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert not window.holds(window.due_at - timedelta(seconds=1))
    assert window.holds(window.due_at) and not window.holds(window.expires_at)


def test_the_window_follows_daylight_saving_time() -> None:
    # 2026-03-08: New York springs forward at 02:00; 19:00 that evening is EDT (UTC−4).
    assert evening_window(date(2026, 3, 8), NEW_YORK, time(22, 0)).due_at == datetime(
        2026, 3, 8, 23, 0, tzinfo=UTC
    )


def test_quiet_hours_starting_early_end_the_window_and_move_it_earlier() -> None:
    at_21 = evening_window(SUNDAY, NEW_YORK, time(21, 0))
    assert at_21.expires_at.astimezone(NEW_YORK).time() == time(21, 0)
    at_1830 = evening_window(SUNDAY, NEW_YORK, time(18, 30))
    local = (at_1830.due_at.astimezone(NEW_YORK).time(), at_1830.expires_at.astimezone(NEW_YORK).time())
    assert local == (time(17, 30), time(18, 30))
    # Quiet hours from after midnight leave the evening as it is.
    at_0030 = evening_window(SUNDAY, NEW_YORK, time(0, 30))
    assert at_0030.due_at.astimezone(NEW_YORK).time() == time(19, 0)


def test_only_sunday_is_summary_day() -> None:
    assert [is_summary_day(SUNDAY - timedelta(days=d)) for d in range(7)] == [True] + [False] * 6


def workout(id_: int, day: date, km: float, minutes: int, is_run: bool = True) -> Workout:
    start = datetime.combine(day, time(7), tzinfo=UTC)
    return Workout(id_, day, start, is_run, "easy", minutes * 60, km * 1000, 0.0, None, None)


def test_the_summary_names_the_weeks_runs_load_form_answers_and_what_comes() -> None:
    runs = [
        workout(1, SUNDAY - timedelta(days=5), 8.0, 45),
        workout(2, SUNDAY - timedelta(days=3), 10.5, 55),
        workout(3, SUNDAY, 21.1, 115),
        workout(4, SUNDAY - timedelta(days=2), 30.0, 60, is_run=False),  # a ride: not a run
        workout(5, SUNDAY - timedelta(days=9), 12.0, 60),  # the week before
    ]
    loads = {1: 40.0, 2: 60.0, 3: 130.0, 4: 35.0, 5: 70.0}
    daily = {w.day: loads[w.id] for w in runs}
    days = series(daily, SUNDAY)
    coming = [Coming(datetime(2026, 11, 30, 8, 0, tzinfo=NEW_YORK), "Foam roll this morning")]

    title, body = weekly_summary(
        SUNDAY, days, runs, loads, Answers(done=4, skipped=1, unanswered=2), coming, None
    )

    assert title == "Your week: 3 runs, 39.6 km"
    lines = body.splitlines()
    assert lines[0] == "Runs: 3, 39.6 km in 3 h 35 min; longest 21.1 km, hardest on Sunday."
    assert lines[1] == "Load: 265 (the week before: 70)."
    assert lines[2] == f"Fitness {days[-1].ctl:.0f}, fatigue {days[-1].atl:.0f}, form {days[-1].tsb:+.0f}."
    assert lines[3] == "Reminders: 4 done, 1 skipped, 2 unanswered."
    assert lines[4] == "Coming days: Mon 08:00 Foam roll this morning."


def test_a_quiet_week_says_so_and_a_note_is_added() -> None:
    note = FormNote(
        SUNDAY,
        ("Form is -30, well below your usual -5 after a hard block: consider an easy or rest day tomorrow.",),
    )
    title, body = weekly_summary(SUNDAY, [], [], {}, Answers(), [], note)
    assert title == "Your week: 0 runs, 0.0 km"
    assert "Runs: none this week." in body
    assert "Coming days: nothing planned yet." in body
    assert body.endswith("consider an easy or rest day tomorrow.")


def test_the_ratio_in_the_summary_comes_with_its_caveat() -> None:
    days = series({SUNDAY - timedelta(days=d): 50.0 for d in range(40)}, SUNDAY)
    _, body = weekly_summary(SUNDAY, days, [], {}, Answers(), [], None)
    assert "acute:chronic ratio 1.00" in body and "disputed" in body
