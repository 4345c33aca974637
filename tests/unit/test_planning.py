"""Planning rules, table-driven: what a runner gets reminded of, and when (local wall clock, DST included)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from scheduler.domain.activity import Activity
from scheduler.domain.effort import Classification, Effort
from scheduler.domain.planning import PlannedStep, plan_activity
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import Protocols, default_protocols_path, load_protocols, parse_protocols
from scheduler.domain.status import ReminderStatus

DEFAULTS = load_protocols(default_protocols_path())
QUIET_NEVER = AthleteProfile(quiet_start=time(0, 0), quiet_end=time(0, 0))  # start == end: no quiet hours
RACE = Classification(effort=Effort.RACE, reasons=("tagged Race on Strava", "fast for you"), load=None)


def run(
    end_utc: datetime,
    *,
    km: float = 10.0,
    minutes: float = 42.0,
    zone: str | None = "America/Toronto",
    name: str = "Harbourfront 10K",
) -> Activity:
    seconds = round(minutes * 60)
    return Activity(
        id=42,
        name=name,
        sport_type="Run",
        start_date=end_utc - timedelta(seconds=seconds),
        elapsed_time=seconds,
        moving_time=seconds,
        distance=km * 1000,
        timezone=zone,
    )


def plan(
    activity: Activity,
    now: datetime | None = None,
    *,
    effort: Classification = RACE,
    profile: AthleteProfile | None = None,
    protocols: Protocols = DEFAULTS,
    default_zone: str = "UTC",
    noticed: datetime | None = None,
) -> dict[str, PlannedStep]:
    steps = plan_activity(
        activity,
        effort,
        profile or AthleteProfile(),
        protocols,
        now or activity.end + timedelta(minutes=5),
        default_zone,
        noticed_at=noticed or activity.end,
    )
    by_key = {step.step: step for step in steps}
    assert len(by_key) == len(steps), "one reminder per step key"
    return by_key


def one_step(when: str, **extra: Any) -> Protocols:
    step = {
        "key": "probe",
        "applies_to": {"efforts": ["race"]},
        "when": when,
        "useful_for": "2h",
        "title": "Probe — {activity}",
        "body": "Probe body.",
        **extra,
    }
    return parse_protocols({"version": 1, "steps": [step]}, "test")


# 10:30 EDT on a June Saturday in Toronto.
TORONTO_10K_END = datetime(2024, 6, 15, 14, 30, tzinfo=UTC)


def test_toronto_10k_race_gets_ice_now_massage_tonight_and_foam_roll_tomorrow() -> None:
    steps = plan(run(TORONTO_10K_END))

    assert steps["ice"].due_at.isoformat() == "2024-06-15T10:30:00-04:00"
    assert steps["ice"].expires_at.isoformat() == "2024-06-15T13:30:00-04:00"
    assert steps["ice"].tags == ("urgent",)
    assert steps["leg_massager"].due_at.isoformat() == "2024-06-15T20:00:00-04:00"
    assert steps["leg_massager"].tags == ("routine",)
    assert steps["foam_roll"].due_at.isoformat() == "2024-06-16T08:00:00-04:00"
    assert "refuel" not in steps  # a 10K does not call for a refuelling nudge
    assert all(step.status == ReminderStatus.PLANNED for step in steps.values())


def test_steps_come_soonest_first() -> None:
    steps = plan_activity(run(TORONTO_10K_END), RACE, AthleteProfile(), DEFAULTS, TORONTO_10K_END, "UTC")
    dues = [step.due_at for step in steps]
    assert dues == sorted(dues)
    assert steps[0].step == "ice"


def test_messages_are_rendered_from_templates_with_reasons_and_caution() -> None:
    ice = plan(run(TORONTO_10K_END))["ice"]

    assert ice.title == "Ice now — Harbourfront 10K"
    assert "10–15 min" in ice.body
    assert "Caution: Wrap the ice" in ice.body
    assert ice.body.endswith(
        "Why: Harbourfront 10K (10.0 km, 42:00) was classed as race — tagged Race on Strava; fast for you."
    )


def test_marathon_refuels_now_and_keeps_rolling_and_massage_gun_back_48_hours() -> None:
    end = datetime(2024, 10, 20, 16, 16, tzinfo=UTC)  # 12:16 EDT, Sunday
    steps = plan(run(end, km=42.3, minutes=211, name="Toronto Waterfront Marathon"))

    assert steps["refuel"].due_at == end
    foam_roll = steps["foam_roll"]
    assert foam_roll.due_at - end >= timedelta(hours=48)
    assert foam_roll.due_at.isoformat() == "2024-10-22T18:00:00-04:00"
    assert "light" in foam_roll.body
    assert steps["massage_gun"].due_at - end >= timedelta(hours=48)
    assert steps["leg_massager"].due_at.isoformat() == "2024-10-20T20:00:00-04:00"


def test_half_marathon_refuels_and_foam_rolls_next_morning() -> None:
    end = datetime(2024, 5, 5, 14, 0, tzinfo=UTC)
    steps = plan(run(end, km=21.2, minutes=95))

    assert "refuel" in steps
    assert steps["foam_roll"].due_at.isoformat() == "2024-05-06T08:00:00-04:00"


def test_long_run_of_two_hours_refuels_without_ice() -> None:
    end = datetime(2024, 5, 5, 14, 0, tzinfo=UTC)
    long_run = Classification(effort=Effort.LONG_RUN, reasons=("named Long run",), load=None)
    steps = plan(run(end, km=19.0, minutes=125), effort=long_run)

    assert {"refuel", "leg_massager", "foot_massager", "foam_roll"} <= steps.keys()
    assert "ice" not in steps


@pytest.mark.parametrize(
    ("effort", "expected"),
    [
        (Effort.EASY, {"foot_massager"}),
        (Effort.OTHER, set()),
        # The knee massager comes only with a reported knee ache (a check-in).
        (Effort.SPEEDWORK, {"ice", "leg_massager", "legs_check", "foam_roll", "massage_gun"}),
    ],
)
def test_steps_per_effort_class(effort: Effort, expected: set[str]) -> None:
    steps = plan(run(TORONTO_10K_END), effort=Classification(effort=effort, reasons=(), load=None))
    assert set(steps) == expected


def test_evening_race_ices_at_once_and_skips_tonight_instead_of_sending_it_next_morning() -> None:
    end = datetime(2024, 6, 19, 1, 30, tzinfo=UTC)  # 21:30 EDT on the 18th
    steps = plan(run(end))

    assert steps["ice"].due_at.isoformat() == "2024-06-18T21:30:00-04:00"
    # end + 1 h is 22:30, inside quiet hours (22:00–07:00): "tonight" cannot come true, so it is not sent.
    for key in ("leg_massager", "foot_massager"):
        assert steps[key].status == ReminderStatus.SKIPPED
        assert steps[key].body.startswith(f"skipped: {key.replace('_', ' ')} tonight ")
        assert steps[key].body.endswith("cannot come true: the evening of Tue 18 Jun was over")
    # 08:00 is 10.5 h after the end: the foam roll comes that morning, and only in the morning.
    assert steps["foam_roll"].due_at.isoformat() == "2024-06-19T08:00:00-04:00"
    assert steps["foam_roll"].expires_at.isoformat() == "2024-06-19T12:00:00-04:00"


def test_next_day_steps_come_at_the_first_morning_at_least_ten_hours_after_the_end() -> None:
    late_night = datetime(2024, 6, 19, 3, 0, tzinfo=UTC)  # 23:00 EDT: 08:00 would be only 9 h later
    assert plan(run(late_night))["foam_roll"].due_at.isoformat() == "2024-06-20T08:00:00-04:00"
    small_hours = datetime(2024, 6, 19, 6, 58, tzinfo=UTC)  # 02:58 EDT on the 19th
    assert plan(run(small_hours))["foam_roll"].due_at.isoformat() == "2024-06-20T08:00:00-04:00"


def test_a_now_step_noticed_late_is_due_when_noticed_and_says_what_is_left() -> None:
    noticed = TORONTO_10K_END + timedelta(hours=2, minutes=30)
    steps = plan(run(TORONTO_10K_END), noticed, noticed=noticed)

    assert steps["ice"].status == ReminderStatus.PLANNED
    assert steps["ice"].due_at.isoformat() == "2024-06-15T13:00:00-04:00"
    assert steps["ice"].expires_at.isoformat() == "2024-06-15T13:30:00-04:00"
    assert "Noticed 2 h 30 min after the end: about 30 min left to be useful." in steps["ice"].body


def test_now_steps_go_at_once_even_inside_quiet_hours() -> None:
    end = datetime(2024, 6, 19, 3, 10, tzinfo=UTC)  # 23:10 EDT
    steps = plan(run(end))

    assert steps["ice"].due_at.isoformat() == "2024-06-18T23:10:00-04:00"
    assert steps["ice"].expires_at.isoformat() == "2024-06-19T02:10:00-04:00"


def test_tonight_less_than_an_hour_after_the_end_moves_to_end_plus_one_hour() -> None:
    end = datetime(2024, 6, 15, 23, 30, tzinfo=UTC)  # 19:30 EDT
    steps = plan(run(end))

    assert steps["leg_massager"].due_at.isoformat() == "2024-06-15T20:30:00-04:00"
    # The window is cut where quiet hours begin, so a late send never lands in them.
    assert steps["leg_massager"].expires_at.isoformat() == "2024-06-15T22:00:00-04:00"


def test_activity_noticed_five_hours_late_skips_ice_but_keeps_the_evening() -> None:
    steps = plan(run(TORONTO_10K_END), TORONTO_10K_END + timedelta(hours=5))

    assert steps["ice"].status == ReminderStatus.SKIPPED
    assert steps["ice"].body == "skipped: ice is useful within 3 h of the end; noticed 5 h later"
    assert steps["ice"].due_at.isoformat() == "2024-06-15T10:30:00-04:00"
    assert steps["leg_massager"].status == ReminderStatus.PLANNED


def test_activity_noticed_next_morning_skips_the_evening_and_keeps_the_morning_due_time() -> None:
    now = datetime(2024, 6, 16, 13, 15, tzinfo=UTC)  # 09:15 EDT the next day
    steps = plan(run(TORONTO_10K_END), now)

    assert steps["leg_massager"].status == ReminderStatus.SKIPPED
    assert steps["leg_massager"].body == (
        "skipped: leg massager was due Sat 15 Jun 20:00 and useful until Sat 22:00; noticed Sun 16 Jun 09:15"
    )
    # Still useful: planned at its own time, which the dispatcher treats as overdue and sends at once.
    assert steps["foam_roll"].status == ReminderStatus.PLANNED
    assert steps["foam_roll"].due_at.isoformat() == "2024-06-16T08:00:00-04:00"


def test_planning_later_inside_the_window_keeps_the_same_due_times() -> None:
    early = plan(run(TORONTO_10K_END), TORONTO_10K_END)
    later = plan(run(TORONTO_10K_END), TORONTO_10K_END + timedelta(hours=2))
    assert early == later


@pytest.mark.parametrize(
    ("equipment", "present", "absent"),
    [
        (frozenset({"foam_roller"}), {"foam_roll", "refuel"}, {"ice", "leg_massager", "massage_gun"}),
        (frozenset(), {"refuel"}, {"ice", "foam_roll", "foot_massager"}),
        (None, {"ice", "refuel", "leg_massager", "foam_roll", "massage_gun"}, set()),
    ],
)
def test_steps_needing_tools_the_athlete_lacks_are_left_out(
    equipment: frozenset[str] | None, present: set[str], absent: set[str]
) -> None:
    end = datetime(2024, 10, 20, 16, 16, tzinfo=UTC)
    steps = plan(run(end, km=42.3, minutes=211), profile=AthleteProfile(equipment=equipment))
    assert present <= steps.keys()
    assert not absent & steps.keys()


def test_london_race_the_day_before_clocks_go_back() -> None:
    end = datetime(2024, 10, 26, 9, 30, tzinfo=UTC)  # 10:30 BST, Saturday; clocks go back overnight
    steps = plan(run(end, zone="Europe/London", name="Royal Parks 10K"))

    assert steps["ice"].due_at.isoformat() == "2024-10-26T10:30:00+01:00"
    assert steps["leg_massager"].due_at.isoformat() == "2024-10-26T20:00:00+01:00"
    assert steps["foam_roll"].due_at.isoformat() == "2024-10-27T08:00:00+00:00"
    assert steps["foam_roll"].due_at - end == timedelta(hours=22, minutes=30)


def test_ambiguous_local_time_takes_its_first_occurrence() -> None:
    end = datetime(2024, 10, 26, 9, 30, tzinfo=UTC)
    steps = plan(run(end, zone="Europe/London"), protocols=one_step("tomorrow 01:30"), profile=QUIET_NEVER)

    assert steps["probe"].due_at.isoformat() == "2024-10-27T01:30:00+01:00"
    assert steps["probe"].due_at.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_nonexistent_local_time_moves_to_the_end_of_the_gap() -> None:
    end = datetime(2024, 3, 9, 15, 0, tzinfo=UTC)  # Toronto springs forward 02:00 → 03:00 overnight
    steps = plan(run(end), protocols=one_step("tomorrow 02:30"), profile=QUIET_NEVER)

    assert steps["probe"].due_at.isoformat() == "2024-03-10T03:00:00-04:00"


@pytest.mark.parametrize(
    ("end", "rule", "expected_due"),
    [
        # 30-minute spring-forward: 02:00 (+10:30) → 02:30 (+11:00) on 6 Oct 2024.
        (datetime(2024, 10, 5, 1, 0, tzinfo=UTC), "tomorrow 02:15", "2024-10-06T02:30:00+11:00"),
        (datetime(2024, 10, 5, 1, 0, tzinfo=UTC), "tomorrow 08:00", "2024-10-06T08:00:00+11:00"),
        # 30-minute fall-back: 02:00 (+11:00) → 01:30 (+10:30) on 7 Apr 2024; 01:45 happens twice.
        (datetime(2024, 4, 6, 1, 0, tzinfo=UTC), "tomorrow 01:45", "2024-04-07T01:45:00+11:00"),
        (datetime(2024, 4, 6, 1, 0, tzinfo=UTC), "tomorrow 08:00", "2024-04-07T08:00:00+10:30"),
    ],
)
def test_lord_howe_half_hour_dst(end: datetime, rule: str, expected_due: str) -> None:
    steps = plan(run(end, zone="Australia/Lord_Howe"), protocols=one_step(rule), profile=QUIET_NEVER)
    assert steps["probe"].due_at.isoformat() == expected_due


def test_lord_howe_quiet_hours_ending_inside_the_gap_end_when_the_clock_jumps() -> None:
    end = datetime(2024, 10, 5, 11, 0, tzinfo=UTC)  # 21:30 +10:30 on the 5th
    profile = AthleteProfile(quiet_start=time(22, 0), quiet_end=time(2, 15))
    steps = plan(run(end, zone="Australia/Lord_Howe"), protocols=one_step("after 2 h"), profile=profile)

    assert steps["probe"].due_at.isoformat() == "2024-10-06T02:30:00+11:00"


def test_activity_without_time_zone_uses_the_default_zone() -> None:
    end = datetime(2024, 6, 15, 8, 30, tzinfo=UTC)  # 10:30 in Berlin
    steps = plan(run(end, zone=None), default_zone="Europe/Berlin")

    assert steps["ice"].due_at.isoformat() == "2024-06-15T10:30:00+02:00"
    assert steps["leg_massager"].due_at.isoformat() == "2024-06-15T20:00:00+02:00"


def test_custom_quiet_hours_defer_routine_steps() -> None:
    profile = AthleteProfile(quiet_start=time(19, 0), quiet_end=time(9, 30))
    steps = plan(run(TORONTO_10K_END), profile=profile)

    assert steps["leg_massager"].due_at.isoformat() == "2024-06-16T09:30:00-04:00"
    assert steps["foam_roll"].due_at.isoformat() == "2024-06-16T09:30:00-04:00"
    assert steps["ice"].due_at.isoformat() == "2024-06-15T10:30:00-04:00"


def test_daytime_quiet_hours_do_not_wrap_midnight() -> None:
    profile = AthleteProfile(quiet_start=time(13, 0), quiet_end=time(15, 0))
    steps = plan(run(TORONTO_10K_END), protocols=one_step("after 3 h"), profile=profile)

    # 10:30 + 3 h = 13:30, inside the 13:00–15:00 nap; the 2 h window then runs to 17:00.
    assert steps["probe"].due_at.isoformat() == "2024-06-15T15:00:00-04:00"
    assert steps["probe"].expires_at.isoformat() == "2024-06-15T17:00:00-04:00"


def test_a_run_that_ends_after_midnight_plans_tonight_on_its_end_date() -> None:
    end = datetime(2024, 6, 16, 4, 30, tzinfo=UTC)  # 00:30 EDT on the 16th: an ultra finishing overnight
    steps = plan(run(end, km=30.0, minutes=300))

    assert steps["ice"].due_at.isoformat() == "2024-06-16T00:30:00-04:00"
    assert steps["leg_massager"].due_at.isoformat() == "2024-06-16T20:00:00-04:00"
    assert steps["foam_roll"].due_at.isoformat() == "2024-06-17T08:00:00-04:00"


def test_untitled_activity_still_reads_well() -> None:
    steps = plan(run(TORONTO_10K_END, name="  "))
    assert steps["ice"].title == "Ice now — your activity"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_activity(run(TORONTO_10K_END), RACE, AthleteProfile(), DEFAULTS, datetime(2024, 6, 15), "UTC")
