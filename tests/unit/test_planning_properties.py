"""Properties of planning over every IANA zone, 2000–2035, any duration: the time arithmetic cannot drift.

The checks below re-derive local wall clocks independently of scheduler.domain.timing (plain zoneinfo calls)
so that a bug there cannot hide behind itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.domain.activity import Activity
from scheduler.domain.effort import Classification, Effort
from scheduler.domain.planning import plan_activity
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import (
    EQUIPMENT,
    Protocols,
    ProtocolStep,
    default_protocols_path,
    parse_protocols,
)
from scheduler.domain.status import ReminderStatus
from scheduler.domain.timing import MIN_LEAD, NEXT_DAY_REST

ZONES = sorted(available_timezones())

# The shipped steps plus probes at awkward local times: inside typical DST gaps/overlaps, and relative delays.
_EXTRA_STEPS: list[dict[str, Any]] = [
    {
        "key": key,
        "applies_to": {"efforts": [e.value for e in Effort]},
        "when": when,
        "useful_for": span,
        "title": "{activity}",
        "body": "probe",
    }
    for key, when, span in [
        ("probe_gap", "tomorrow 02:30", "2h"),
        ("probe_overlap", "tomorrow 01:30", "30min"),
        ("probe_midnight", "tonight 00:00", "1h"),
        ("probe_after", "after 5 h", "3h"),
    ]
]


def _protocols() -> Protocols:
    document = yaml.safe_load(Path(default_protocols_path()).read_text(encoding="utf-8"))
    document["steps"] += _EXTRA_STEPS
    return parse_protocols(document, "defaults + probes")


PROTOCOLS = _protocols()


def local_naive(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def in_quiet_hours(instant: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    clock = instant.astimezone(zone).time()
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def in_repeated_hour(instant: datetime, zone: ZoneInfo) -> bool:
    naive = local_naive(instant, zone)
    return naive.replace(tzinfo=zone, fold=0).utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset()


def right_after_a_jump(instant: datetime, zone: ZoneInfo) -> bool:
    """True when the local clock skipped forward just before `instant` (it sits at the end of a DST gap)."""
    second = timedelta(seconds=1)
    return local_naive(instant, zone) - local_naive(instant - second, zone) > second


def unique_wall_instant(naive: datetime, zone: ZoneInfo) -> datetime | None:
    """The one instant at which the clock reads `naive`, or None when it never or twice does."""
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first != second or local_naive(first, zone) != naive:
        return None
    return first


def rule_for(key: str, effort: Effort, km: float, hours: float) -> ProtocolStep:
    (step,) = [step for step in PROTOCOLS.steps_for(effort, km, hours) if step.key == key]
    return step


@cache
def offset_changes(zone_name: str, year: int) -> tuple[datetime, ...]:
    """Instants (to 6 h) around which `zone_name` changed its UTC offset in `year`."""
    zone = ZoneInfo(zone_name)
    instant = datetime(year, 1, 1, tzinfo=UTC)
    previous = instant.astimezone(zone).utcoffset()
    changes = []
    for _ in range(366 * 4):
        instant += timedelta(hours=6)
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous:
            changes.append(instant)
            previous = offset
    return tuple(changes)


quiet_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    zone = draw(st.sampled_from(ZONES))
    end = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))
    ).replace(microsecond=0)
    changes = offset_changes(zone, end.year)
    near_a_change = draw(st.booleans())
    if changes and near_a_change:
        # Half the time, end within two days before (or half a day after) a DST change: where bugs live.
        end = draw(st.sampled_from(changes)) + timedelta(minutes=draw(st.integers(-48 * 60, 12 * 60)))
    seconds = draw(st.integers(min_value=5 * 60, max_value=14 * 3600))
    km = draw(st.floats(min_value=0.5, max_value=100.0, allow_nan=False))
    quiet = draw(st.one_of(st.just((time(22, 0), time(7, 0))), st.tuples(quiet_times, quiet_times)))
    equipment = draw(st.one_of(st.none(), st.frozensets(st.sampled_from(sorted(EQUIPMENT)))))
    return {
        "activity": Activity(
            id=1,
            name="Run",
            sport_type="Run",
            start_date=end - timedelta(seconds=seconds),
            elapsed_time=seconds,
            moving_time=seconds,
            distance=km * 1000,
            timezone=zone,
        ),
        "effort": draw(st.sampled_from(list(Effort))),
        "profile": AthleteProfile(equipment=equipment, quiet_start=quiet[0], quiet_end=quiet[1]),
        "now": end + timedelta(minutes=draw(st.integers(min_value=-30, max_value=80 * 60))),
    }


def part_hours(at: time) -> tuple[int, int]:
    """The local hours [start, end) of the part of the day a rule's time names (re-derived here)."""
    for low, high in ((0, 5), (5, 12), (12, 17), (17, 24)):
        if low <= at.hour < high:
            return low, high
    raise AssertionError(at)  # pragma: no cover


def in_part(instant: datetime, zone: ZoneInfo, hours: tuple[int, int]) -> bool:
    return hours[0] <= local_naive(instant, zone).hour < hours[1]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_planned_step_respects_time_rules(scenario: dict[str, Any]) -> None:
    activity: Activity = scenario["activity"]
    effort: Effort = scenario["effort"]
    profile: AthleteProfile = scenario["profile"]
    now: datetime = scenario["now"]
    zone = ZoneInfo(activity.timezone or "UTC")
    end = activity.end
    end_date = local_naive(end, zone).date()
    km, hours = activity.distance / 1000, activity.moving_time / 3600

    steps = plan_activity(
        activity,
        Classification(effort=effort, reasons=("r",), load=None),
        profile,
        PROTOCOLS,
        now,
        "UTC",
        noticed_at=max(now, end),
    )

    # Aware datetimes sharing a ZoneInfo compare by wall clock (a fall-back hour fools them): compare in UTC.
    dues = [step.due_at.astimezone(UTC) for step in steps]
    assert dues == sorted(dues)
    for planned in steps:
        rule = rule_for(planned.step, effort, km, hours)
        assert planned.due_at.tzinfo == zone and planned.expires_at.tzinfo == zone, (
            "printed with local offset"
        )
        assert profile.owns(rule.equipment)
        due, expires = planned.due_at.astimezone(UTC), planned.expires_at.astimezone(UTC)
        if planned.status == ReminderStatus.SKIPPED:
            assert now >= expires or "cannot come true" in planned.body or "already comes" in planned.body
            if "cannot come true" in planned.body and rule.when.kind == "tonight":
                assert rule.when.at is not None
                assert_no_evening_left(end, end_date, rule.when.at, zone, profile)
            continue
        assert now < expires
        assert end <= due < expires

        if not rule.when.respects_quiet_hours:
            assert due == max(end, now)
            assert expires == end + rule.useful_for
            continue
        assert not in_quiet_hours(due, zone, profile.quiet_start, profile.quiet_end)
        probe = due
        while probe < expires:  # a late send inside the window must not land in quiet hours either
            if not in_repeated_hour(probe, zone):
                assert not in_quiet_hours(probe, zone, profile.quiet_start, profile.quiet_end)
            probe += timedelta(minutes=10)

        if rule.when.kind == "after":
            assert rule.when.delay is not None
            assert due >= end + rule.when.delay
            continue
        assert rule.when.at is not None
        # The words are true when it arrives and while it may still be sent: its own part of its own day.
        part = part_hours(rule.when.at)
        last_moment = expires - timedelta(seconds=1)
        assert in_part(due, zone, part) and in_part(last_moment, zone, part), (
            f"{planned.step} at {due.astimezone(zone).isoformat()}–{expires.astimezone(zone).isoformat()} "
            f"is outside {part}"
        )
        assert local_naive(last_moment, zone).date() == local_naive(due, zone).date()
        if rule.when.kind == "tonight":
            assert local_naive(due, zone).date() == end_date
            assert due >= end + MIN_LEAD
        else:
            assert local_naive(due, zone).date() > end_date
            assert due >= end + NEXT_DAY_REST
            if rule.when.not_before is not None:
                assert due >= end + rule.when.not_before
        # Either the rule's own wall clock, or one of the documented moves: to end + 1 h, to the end of quiet
        # hours, or to the end of a DST gap that swallowed the time.
        clock = local_naive(due, zone).time()
        assert (
            clock == rule.when.at
            or due == end + MIN_LEAD
            or clock == profile.quiet_end
            or right_after_a_jump(due, zone)
        ), f"{planned.step} at {due.isoformat()} is not explained by its rule"


def assert_no_evening_left(
    end: datetime, end_date: Any, at: time, zone: ZoneInfo, profile: AthleteProfile
) -> None:
    """A missed "tonight": no moment from its time (and an hour after the end) to the end of its part fits."""
    part = part_hours(at)
    probe = end + MIN_LEAD
    while local_naive(probe, zone).date() == end_date and local_naive(probe, zone).hour < part[1]:
        clock = local_naive(probe, zone).time()
        if clock >= at and not in_repeated_hour(probe, zone):
            assert in_quiet_hours(probe, zone, profile.quiet_start, profile.quiet_end), (
                f"tonight could still come at {probe.astimezone(zone).isoformat()}"
            )
        probe += timedelta(minutes=5)
