"""Look-ahead planning, pure: which nudge comes before each expected run (merged, keyed uniquely), when rest
days get a foot massage, and the `ahead` section of the protocols file."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from scheduler.domain.ahead import (
    HEAT,
    KNEE_BRACE,
    PRE_RUN_FOOT,
    REST_DAY_FOOT,
    AheadInput,
    AheadProtocol,
    AheadStep,
    PastEffort,
    RestDayHistory,
    RestDays,
    format_cold_months,
    parse_ahead,
    parse_cold_months,
    parse_rest_days,
    plan_ahead,
    rest_days_stopped,
)
from scheduler.domain.checkins import CheckIn, CheckInKind
from scheduler.domain.habits import RunTime, expected_runs
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols, parse_protocols
from scheduler.domain.timing import wall_clock_on
from scheduler.errors import ConfigError

ZONE = ZoneInfo("America/Toronto")
DAY = date(2026, 12, 1)  # a Tuesday
NOW = wall_clock_on(DAY - timedelta(days=1), time(21, 0), ZONE)  # Monday 21:00
TUE_0630 = RunTime(1, time(6, 30))
ALL_TOOLS = AthleteProfile()
NO_HISTORY = RestDayHistory()


def protocol() -> AheadProtocol:
    ahead = load_protocols(default_protocols_path()).ahead
    assert ahead is not None
    return ahead


def given(
    habits: list[RunTime] | None = None,
    *,
    profile: AthleteProfile = ALL_TOOLS,
    checkins: tuple[CheckIn, ...] = (),
    efforts: tuple[PastEffort, ...] = (),
    cold_months: frozenset[int] = frozenset(),
    rest_days: RestDays = RestDays.OFF,
    history: RestDayHistory = NO_HISTORY,
    now: datetime = NOW,
    runs_regularly: bool = True,
) -> AheadInput:
    return AheadInput(
        zone=ZONE,
        profile=profile,
        expected=expected_runs(
            habits or [TUE_0630], ZONE, now - timedelta(days=1), now + timedelta(hours=36)
        ),
        efforts=efforts,
        checkins=checkins,
        cold_months=cold_months,
        rest_days=rest_days,
        rest_history=history,
        runs_regularly=runs_regularly,
    )


def pre_run(steps: list[AheadStep]) -> list[AheadStep]:
    return [step for step in steps if step.step != REST_DAY_FOOT]


def local(instant: datetime) -> str:
    return instant.astimezone(ZONE).strftime("%a %H:%M")


SINCE = NOW - timedelta(days=2)
TIGHT = CheckIn(CheckInKind.TIGHT, SINCE, area="hamstrings")
UNSTABLE = CheckIn(CheckInKind.KNEE_UNSTABLE, SINCE)
PAIN = CheckIn(CheckInKind.PAIN, SINCE, SINCE + timedelta(hours=72))


@pytest.mark.parametrize(
    ("profile", "checkins", "cold", "key", "parts"),
    [
        pytest.param(ALL_TOOLS, (), frozenset(), PRE_RUN_FOOT, "foot massage", id="foot massager only"),
        pytest.param(
            ALL_TOOLS, (TIGHT,), frozenset(), HEAT, "heat (hamstrings), foot massage", id="tight: heat first"
        ),
        pytest.param(ALL_TOOLS, (), frozenset({12}), HEAT, "heat, foot massage", id="a cold month: heat"),
        pytest.param(
            ALL_TOOLS,
            (UNSTABLE, TIGHT),
            frozenset(),
            KNEE_BRACE,
            "knee brace, heat (hamstrings), foot massage",
            id="all three merged, brace leads",
        ),
        pytest.param(
            AthleteProfile(equipment=frozenset({"knee_brace"})),
            (UNSTABLE, TIGHT),
            frozenset(),
            KNEE_BRACE,
            "knee brace",
            id="only the tools owned",
        ),
        pytest.param(
            AthleteProfile(equipment=frozenset({"heat_pack"})),
            (),
            frozenset(),
            None,
            None,
            id="nothing applies",
        ),
        pytest.param(ALL_TOOLS, (PAIN, UNSTABLE, TIGHT), frozenset(), None, None, id="pain: no nudge at all"),
    ],
)
def test_one_merged_nudge_before_the_run(
    profile: AthleteProfile,
    checkins: tuple[CheckIn, ...],
    cold: frozenset[int],
    key: str | None,
    parts: str | None,
) -> None:
    steps = pre_run(plan_ahead(given(profile=profile, checkins=checkins, cold_months=cold), protocol(), NOW))
    if key is None:
        assert steps == []
        return
    [step] = steps
    assert (step.step, step.local_day) == (key, DAY)
    assert step.title == f"Before your 06:30 run — {parts}"
    assert local(step.due_at) == "Tue 06:05"  # 25 min before, although quiet hours last until 07:00
    assert step.expires_at == wall_clock_on(DAY, time(6, 30), ZONE)
    if "knee brace" in (parts or ""):
        assert "a massager can't fix an unstable joint" in step.body
    if "foot massage" in (parts or ""):
        assert "5–10 min with the foot massager on low to wake the feet up" in step.body


def test_a_cleared_or_expired_check_in_no_longer_counts() -> None:
    ended = CheckIn(CheckInKind.TIGHT, SINCE, until=NOW)
    [step] = pre_run(plan_ahead(given(checkins=(ended,)), protocol(), NOW))
    assert step.step == PRE_RUN_FOOT


@pytest.mark.parametrize(
    ("effort", "nudged"),
    [
        pytest.param(PastEffort(DAY - timedelta(days=1), True, True, 10.0), False, id="day after a 10K race"),
        pytest.param(
            PastEffort(DAY - timedelta(days=1), True, False, 42.2), False, id="after a 42 km long run"
        ),
        pytest.param(
            PastEffort(DAY - timedelta(days=1), True, False, 30.0), True, id="after a 30 km long run"
        ),
        pytest.param(PastEffort(DAY - timedelta(days=2), True, True, 42.2), True, id="two days after a race"),
    ],
)
def test_no_nudge_the_day_after_a_race_or_a_marathon(effort: PastEffort, nudged: bool) -> None:
    steps = pre_run(plan_ahead(given(efforts=(effort,)), protocol(), NOW))
    assert bool(steps) is nudged


def test_two_runs_in_a_day_get_two_messages_with_distinct_keys() -> None:
    habits = [TUE_0630, RunTime(1, time(18, 0))]
    steps = pre_run(plan_ahead(given(habits, checkins=(UNSTABLE,)), protocol(), NOW))
    assert [(s.step, s.local_day, local(s.due_at)) for s in steps] == [
        (KNEE_BRACE, DAY, "Tue 06:05"),
        (f"{KNEE_BRACE}@18:00", DAY, "Tue 17:35"),
    ]
    # Later that day, with the morning run behind, the evening one keeps its key.
    later = wall_clock_on(DAY, time(12, 0), ZONE)
    [evening] = pre_run(plan_ahead(given(habits, checkins=(UNSTABLE,), now=later), protocol(), later))
    assert evening.step == f"{KNEE_BRACE}@18:00"


def test_planning_is_the_same_when_repeated_and_only_looks_36_hours_ahead() -> None:
    habits = [RunTime(day, time(6, 30)) for day in range(7)]
    first = plan_ahead(given(habits), protocol(), NOW)
    assert first == plan_ahead(given(habits), protocol(), NOW)
    assert [local(s.due_at) for s in first] == ["Tue 06:05", "Wed 06:05"]
    assert all(NOW < s.expires_at <= NOW + timedelta(hours=36) for s in first)


def rest(
    now: datetime,
    history: RestDayHistory = NO_HISTORY,
    mode: RestDays = RestDays.EVERY_OTHER_DAY,
    **kwargs: Any,
) -> list[str]:
    steps = plan_ahead(
        given([RunTime(5, time(8, 0))], rest_days=mode, history=history, now=now, **kwargs), protocol(), now
    )
    return [f"{step.local_day:%a} {local(step.due_at)}" for step in steps if step.step == REST_DAY_FOOT]


MON_NOON = wall_clock_on(DAY - timedelta(days=1), time(12, 0), ZONE)


def test_rest_day_massage_every_other_evening_by_default_and_daily_when_asked() -> None:
    assert rest(MON_NOON) == ["Mon Mon 20:30"]  # Tuesday evening is inside the 36 h but would be two in a row
    assert rest(MON_NOON, mode=RestDays.DAILY) == ["Mon Mon 20:30", "Tue Tue 20:30"]
    yesterday = RestDayHistory(days=frozenset({DAY - timedelta(days=2)}))
    assert rest(MON_NOON, yesterday) == ["Tue Tue 20:30"]  # Sunday's went out: Monday rests from it
    assert rest(MON_NOON, mode=RestDays.OFF) == []


def test_no_rest_day_massage_on_a_run_day_an_expected_run_day_in_pain_or_without_the_tool() -> None:
    ran = (PastEffort(DAY - timedelta(days=1), True, False, 8.0),)
    assert rest(MON_NOON, mode=RestDays.DAILY, efforts=ran) == ["Tue Tue 20:30"]
    ride = (PastEffort(DAY - timedelta(days=1), False, False, 40.0),)
    assert rest(MON_NOON, mode=RestDays.DAILY, efforts=ride) == ["Mon Mon 20:30", "Tue Tue 20:30"]
    assert rest(MON_NOON, mode=RestDays.DAILY, checkins=(PAIN,)) == []
    no_tool = AthleteProfile(equipment=frozenset({"ice"}))
    assert rest(MON_NOON, mode=RestDays.DAILY, profile=no_tool) == []
    early_quiet = AthleteProfile(quiet_start=time(20, 0), quiet_end=time(7, 0))
    assert rest(MON_NOON, mode=RestDays.DAILY, profile=early_quiet) == []


def test_an_athlete_who_is_not_training_has_no_rest_days() -> None:
    # No run habit and no run for two weeks: days off are not rest days between runs.
    assert rest(MON_NOON, mode=RestDays.DAILY, runs_regularly=False) == []


def test_a_run_expected_that_day_waits_until_its_time_has_passed() -> None:
    habits = [RunTime(0, time(7, 0))]  # Monday 07:00
    mon_0700 = wall_clock_on(DAY - timedelta(days=1), time(7, 0), ZONE)
    before = plan_ahead(
        given(habits, rest_days=RestDays.DAILY, now=mon_0700 - timedelta(hours=1)),
        protocol(),
        mon_0700 - timedelta(hours=1),
    )
    assert [s.local_day for s in before if s.step == REST_DAY_FOOT] == []  # Monday's run may still come
    after = mon_0700 + timedelta(hours=1)  # 45 min past its time and no run: Monday is a rest day
    no_show = plan_ahead(given(habits, rest_days=RestDays.DAILY, now=after), protocol(), after)
    assert [s.local_day for s in no_show if s.step == REST_DAY_FOOT] == [DAY - timedelta(days=1)]


@pytest.mark.parametrize(
    ("answers", "stopped"),
    [
        ((), False),
        (("skipped", "skipped"), False),
        (("skipped", "skipped", "skipped"), True),
        (("done", "skipped", "skipped", "skipped"), True),
        (("skipped", "skipped", None), True),  # the last went by unanswered
        ((None, None, None), True),  # never answered
        (("done", None, None), False),
        (("skipped", "done", "skipped", "skipped"), False),
    ],
)
def test_three_skips_in_a_row_stop_rest_day_massages(answers: tuple[str | None, ...], stopped: bool) -> None:
    history = RestDayHistory(answers=answers)
    assert rest_days_stopped(history) is stopped
    assert (rest(MON_NOON, history, RestDays.DAILY) == []) is stopped


def test_settings_parse_and_say_why() -> None:
    assert parse_cold_months("Nov, december,jan") == (1, 11, 12)
    assert format_cold_months((1, 11, 12)) == "jan,nov,dec"
    assert parse_cold_months("none") == ()
    assert parse_rest_days("every-other-day") == RestDays.EVERY_OTHER_DAY
    with pytest.raises(ValueError, match="bad month 'brumaire'"):
        parse_cold_months("nov,brumaire")
    with pytest.raises(ValueError, match="bad rest-day setting 'weekly'"):
        parse_rest_days("weekly")


def shipped() -> dict[str, Any]:
    data = yaml.safe_load(Path(default_protocols_path()).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.update(lead="3h"), r"ahead.lead: expected between 5min and 2h"),
        (lambda a: a.update(title="Before the run"), r"ahead.title: must contain \{time\}"),
        (lambda a: a["parts"].pop("heat"), r"ahead.parts.heat: expected a mapping"),
        (lambda a: a["parts"].update(ice={}), r"ahead.parts: unknown key 'ice'"),
        (
            lambda a: a["parts"]["heat"].update(equipment=["sauna"]),
            r"ahead.parts.heat.equipment: unknown tool",
        ),
        (
            lambda a: a["rest_day_foot_massage"].update(at="08:00"),
            r"rest_day_foot_massage.at: an evening time",
        ),
    ],
)
def test_a_bad_ahead_section_is_one_line_naming_the_field(edit: Any, message: str) -> None:
    data = copy.deepcopy(shipped())
    edit(data["ahead"])
    with pytest.raises(ConfigError, match=message) as caught:
        parse_protocols(data, "my.yaml")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("my.yaml: ahead")


def test_a_file_without_an_ahead_section_still_parses() -> None:
    data = shipped()
    del data["ahead"]
    assert parse_protocols(data, "old.yaml").ahead is None
    assert parse_ahead(shipped()["ahead"], "x").parts[HEAT].label == "heat"


def test_the_parts_texts_say_what_to_do_for_how_long() -> None:
    texts = protocol()
    assert "5–10 min" in texts.parts[HEAT].body and "5–10 min" in texts.parts[PRE_RUN_FOOT].body
    assert "10–15 min with the foot massager on low" in texts.rest_day.body
    assert texts.rest_day.at == time(20, 30) and texts.lead == timedelta(minutes=25)
