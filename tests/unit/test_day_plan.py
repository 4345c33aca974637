"""One plan per athlete and local day: the hardest effort decides, the messages name the day's activities."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scheduler.domain.activity import Activity
from scheduler.domain.effort import Classification, Effort
from scheduler.domain.planning import DayActivity, PlannedStep, plan_days
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols
from scheduler.domain.status import ReminderStatus

PROTOCOLS = load_protocols(default_protocols_path())
SATURDAY = date(2024, 6, 15)


def item(activity_id: int, end: datetime, effort: Effort, name: str, km: float = 10.0) -> DayActivity:
    seconds = 40 * 60
    activity = Activity(
        id=activity_id,
        name=name,
        sport_type="Run",
        start_date=end - timedelta(seconds=seconds),
        elapsed_time=seconds,
        moving_time=seconds,
        distance=km * 1000,
        timezone="America/Toronto",
    )
    return DayActivity(activity, Classification(effort, (f"named {name}",), None), end)


def plan(*items: DayActivity) -> dict[date, dict[str, PlannedStep]]:
    now = max(i.noticed_at for i in items)
    days = plan_days(list(items), AthleteProfile(), PROTOCOLS, now, "UTC")
    result = {}
    for day, steps in days.items():
        keys = [s.step for s in steps]
        assert len(keys) == len(set(keys)), "one reminder per step and day"
        result[day] = {s.step: s for s in steps}
    return result


WARM_UP = item(1, datetime(2024, 6, 15, 13, 50, tzinfo=UTC), Effort.EASY, "Warm-up", km=3)
RACE = item(2, datetime(2024, 6, 15, 14, 40, tzinfo=UTC), Effort.RACE, "Harbourfront 10K")
COOL_DOWN = item(3, datetime(2024, 6, 15, 15, 5, tzinfo=UTC), Effort.EASY, "Cool-down", km=3)


def test_a_race_day_gets_one_set_of_steps_from_the_race_naming_the_other_runs() -> None:
    steps = plan(WARM_UP, RACE, COOL_DOWN)[SATURDAY]

    assert {"ice", "leg_massager", "foot_massager", "foam_roll"} <= set(steps)
    assert {s.activity_id for s in steps.values()} == {2}
    assert steps["foot_massager"].title == "Foot massage tonight — Harbourfront 10K and 2 more runs today"
    assert steps["ice"].due_at.isoformat() == "2024-06-15T10:40:00-04:00"  # timed from the race's end
    assert "Why: Harbourfront 10K (10.0 km" in steps["ice"].body


def test_a_later_harder_activity_upgrades_the_day_and_a_later_easy_one_adds_nothing() -> None:
    easy_only = plan(WARM_UP)[SATURDAY]
    assert set(easy_only) == {"foot_massager"}
    assert easy_only["foot_massager"].title.startswith("Optional foot massage tonight")

    upgraded = plan(WARM_UP, RACE)[SATURDAY]
    assert upgraded["foot_massager"].title.startswith("Foot massage tonight")
    assert "ice" in upgraded

    with_evening_jog = plan(
        WARM_UP, RACE, item(4, datetime(2024, 6, 15, 22, 0, tzinfo=UTC), Effort.EASY, "Jog")
    )
    assert set(with_evening_jog[SATURDAY]) == set(upgraded)


def test_the_hardest_effort_decides_race_over_speedwork_over_long_run_over_easy() -> None:
    end = datetime(2024, 6, 15, 14, 0, tzinfo=UTC)
    for order in (
        [Effort.EASY, Effort.LONG_RUN],
        [Effort.LONG_RUN, Effort.SPEEDWORK],
        [Effort.SPEEDWORK, Effort.RACE],
    ):
        items = [item(i, end + timedelta(hours=i), effort, effort.value) for i, effort in enumerate(order)]
        steps = plan(*items)[SATURDAY]
        assert {s.activity_id for s in steps.values()} == {1}, order


def test_activities_on_different_local_days_get_their_own_plans() -> None:
    friday_night = item(
        5, datetime(2024, 6, 15, 3, 30, tzinfo=UTC), Effort.EASY, "Night jog"
    )  # 23:30 EDT Fri
    plans = plan(friday_night, RACE)
    assert set(plans) == {date(2024, 6, 14), SATURDAY}


def test_two_hard_days_in_a_row_give_one_foam_roll_each_morning() -> None:
    late_race = item(
        6, datetime(2024, 6, 15, 3, 0, tzinfo=UTC), Effort.RACE, "Midnight 5K", km=5
    )  # 23:00 Fri
    plans = plan(late_race, RACE)
    friday, saturday = plans[date(2024, 6, 14)], plans[SATURDAY]
    # Friday's 23:00 finish needs 10 h: its foam roll would come Sunday 08:00, the morning that is Saturday's.
    assert saturday["foam_roll"].status == ReminderStatus.PLANNED
    assert saturday["foam_roll"].due_at.isoformat() == "2024-06-16T08:00:00-04:00"
    assert friday["foam_roll"].status == ReminderStatus.SKIPPED
    assert "already comes for Harbourfront 10K" in friday["foam_roll"].body
