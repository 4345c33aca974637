"""The reasons quote the thresholds the rules use: change a constant and the words follow."""

from __future__ import annotations

import pytest

from scheduler.domain import effort
from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import Effort, classify
from scheduler.domain.profile import AthleteProfile
from tests.unit.test_effort_cases import run


def long_reasons(km: float, pace: str) -> tuple[str, ...]:
    """A plain run with no heart rate and no history: only its length can make it a long run."""
    result = classify(parse_activity(run("Saturday", km, pace)), [], AthleteProfile())
    assert result.effort == Effort.LONG_RUN, result.reasons
    return result.reasons


def test_always_long_by_distance_quotes_the_distance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(effort, "ALWAYS_LONG_METRES", 25_000.0)
    assert any("from 25 km a run is always long" in reason for reason in long_reasons(26.0, "5:00"))


def test_always_long_by_time_quotes_the_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(effort, "ALWAYS_LONG_MINUTES", 120.0)
    assert any("from 2 h a run is always long" in reason for reason in long_reasons(20.0, "6:15"))


def test_long_without_history_quotes_the_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(effort, "LONG_MINUTES_NO_HISTORY", 80.0)
    reasons = long_reasons(13.0, "6:30")
    assert any("from 80 min a run counts as long" in reason for reason in reasons)
