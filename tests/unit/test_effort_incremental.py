"""A backfill page classified with its stored year as history only: the same classes and reasons as
classifying the whole log in one pass, page after page, without re-classifying the year each time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from scheduler.domain.activity import Activity
from scheduler.domain.effort import classify_series
from scheduler.domain.history import HISTORY_SPAN
from scheduler.domain.profile import AthleteProfile
from tests.unit.test_effort_series import synthetic

PAGE = 200


def test_pages_with_history_only_match_one_pass_over_the_whole_log() -> None:
    acts = synthetic(1500, seed=7, days_apart=0.9)
    profile = AthleteProfile(max_hr=190)
    whole = dict(zip((a.id for a in acts), classify_series(acts, profile), strict=True))
    paged: dict[int, object] = {}
    for start in range(0, len(acts), PAGE):
        page = acts[start : start + PAGE]
        first = min(a.start_date for a in page)
        # What ingestion reads for a page: the stored activities of the year before its first one.
        earlier = [a for a in acts[:start] if first - HISTORY_SPAN <= a.start_date < first]
        paged.update(zip((a.id for a in page), classify_series(page, profile, history=earlier), strict=True))
    assert paged == whole
    assert {c.effort for c in whole.values()} >= {"race", "speedwork", "long_run", "easy", "other"}


def test_history_given_in_any_order_with_twins_of_the_first_start() -> None:
    acts = synthetic(300, seed=11)
    twin_start = acts[200].start_date
    twin = Activity(
        id=10_000,
        name="Morning Run",
        sport_type="Run",
        start_date=twin_start,
        elapsed_time=3000,
        moving_time=2900,
        distance=9000.0,
        average_heartrate=150.0,
        max_heartrate=170.0,
    )
    log = [*acts[:200], twin, *acts[200:]]
    whole = classify_series(log, AthleteProfile())
    history = acts[:200]
    random.Random(5).shuffle(history)
    later = [twin, *acts[200:]]
    got = classify_series(later, AthleteProfile(), history=history)
    assert got == whole[200:]


def test_history_is_not_classified_and_counts_only_as_baseline() -> None:
    start = datetime(2024, 3, 4, 7, 0, tzinfo=UTC)
    easy = [
        Activity(
            id=i,
            name="Morning Run",
            sport_type="Run",
            start_date=start + timedelta(days=i),
            elapsed_time=2000,
            moving_time=1950,
            distance=6000.0,
        )
        for i in range(10)
    ]
    long_one = Activity(
        id=99,
        name="Morning Run",
        sport_type="Run",
        start_date=start + timedelta(days=11),
        elapsed_time=5900,
        moving_time=5800,
        distance=17000.0,
    )
    [with_history] = classify_series([long_one], AthleteProfile(), history=easy)
    [without] = classify_series([long_one], AthleteProfile())
    assert with_history.effort == "long_run"  # 97 min is 3× the median of the ten runs before it
    assert "median run" in " ".join(with_history.reasons)
    assert without.effort == "long_run" and "too few recent runs" in " ".join(without.reasons)
