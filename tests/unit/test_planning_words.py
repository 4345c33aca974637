"""The words of each planned step are true when it arrives, for end times of every hour in every IANA zone.

"tonight" arrives in the evening of the activity's day, "this morning" in a morning after it, "this evening"
in an evening, "now" when it is noticed and while cold still helps. Local times are re-derived here with plain
zoneinfo calls so a bug in scheduler.domain.timing cannot hide behind itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.domain.activity import Activity
from scheduler.domain.effort import Classification, Effort
from scheduler.domain.planning import plan_activity
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols
from scheduler.domain.status import ReminderStatus

PROTOCOLS = load_protocols(default_protocols_path())
ZONES = sorted(available_timezones())


def local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    day = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)))
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    # An end at this local hour (fold 0 in an overlap; a time in a gap lands just after it).
    end = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
    seconds = draw(st.integers(min_value=10 * 60, max_value=6 * 3600))
    late = timedelta(minutes=draw(st.sampled_from([0, 0, 5, 20, 90, 170, 200, 60 * 14])))
    quiet = draw(
        st.sampled_from([(time(22, 0), time(7, 0)), (time(0, 0), time(0, 0)), (time(23, 0), time(6, 30))])
    )
    return {
        "activity": Activity(
            id=1,
            name="Harbourfront 10K",
            sport_type="Run",
            start_date=end - timedelta(seconds=seconds),
            elapsed_time=seconds,
            moving_time=seconds,
            distance=draw(st.sampled_from([5000.0, 10000.0, 21100.0, 42195.0])),
            timezone=zone.key,
        ),
        "effort": draw(st.sampled_from(list(Effort))),
        "noticed": end + late,
        "profile": AthleteProfile(quiet_start=quiet[0], quiet_end=quiet[1]),
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_words_of_every_planned_step_match_its_local_delivery_time(scenario: dict[str, Any]) -> None:
    activity: Activity = scenario["activity"]
    noticed: datetime = scenario["noticed"]
    zone = ZoneInfo(activity.timezone or "UTC")
    end = activity.end
    end_day = local(end, zone).date()
    steps = plan_activity(
        activity,
        Classification(scenario["effort"], ("r",), None),
        scenario["profile"],
        PROTOCOLS,
        noticed,
        "UTC",
    )
    for step in steps:
        if step.status != ReminderStatus.PLANNED:
            continue
        due, expires = step.due_at.astimezone(UTC), step.expires_at.astimezone(UTC)
        # The dispatcher may send any time in [due, expires): the words must hold at both ends.
        first, last = local(due, zone), local(expires - timedelta(seconds=1), zone)
        title = step.title.lower()
        if " now" in title:
            assert due == max(end, noticed), "a late 'now' is due when it is noticed, not in the past"
            assert expires <= end + timedelta(hours=3)
            if noticed - end >= timedelta(minutes=15):
                assert "left to be useful" in step.body
        if "tonight" in title:
            assert first.date() == last.date() == end_day, f"{step.step} 'tonight' arrives {first} / {last}"
            assert first.hour >= 17 and last.hour >= 17
        if "this morning" in title:
            assert first.date() == last.date() > end_day
            assert 5 <= first.hour < 12 and 5 <= last.hour < 12, (
                f"{step.step} 'this morning' at {first}–{last}"
            )
            assert due - end >= timedelta(hours=10)
        if "this evening" in title:
            assert first.date() == last.date() > end_day
            assert first.hour >= 17 and last.hour >= 17
