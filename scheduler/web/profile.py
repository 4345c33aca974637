"""The profile form: tools owned, quiet hours, heart rates, when the runner runs. Saving re-plans the
athlete's unsent steps (`save_profile`, which `recovery athletes set` calls too)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from scheduler import lookahead
from scheduler.domain.protocols import EQUIPMENT
from scheduler.errors import InputError
from scheduler.ingest import IngestConfig, ReminderChange, replan_profile
from scheduler.profile_options import parse_hhmm
from scheduler.store import athletes as athlete_store

# The same bounds as `recovery athletes set` (scheduler.cli.core).
HEART_RATES = {"max_hr": (100, 240), "rest_hr": (25, 120), "threshold_hr": (80, 230)}
LABELS = {
    "max_hr": "Maximum heart rate",
    "rest_hr": "Resting heart rate",
    "threshold_hr": "Threshold heart rate",
}


def _heart_rate(form: Mapping[str, str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None  # left empty: unchanged
    low, high = HEART_RATES[name]
    if not text.isdigit() or not low <= int(text) <= high:
        raise InputError(f"{LABELS[name]}: a whole number from {low} to {high}")
    return int(text)


def change_from_form(form: Mapping[str, str], tools: list[str]) -> athlete_store.ProfileChange:
    unknown = sorted(set(tools) - EQUIPMENT)
    if unknown:
        raise InputError(f"unknown tool {unknown[0]!r}")
    start, end = form.get("quiet_start", "").strip(), form.get("quiet_end", "").strip()
    quiet = None
    if start or end:
        quiet = (parse_hhmm(start, "Quiet hours start"), parse_hhmm(end, "Quiet hours end"))
    return athlete_store.ProfileChange(
        max_hr=_heart_rate(form, "max_hr"),
        rest_hr=_heart_rate(form, "rest_hr"),
        threshold_hr=_heart_rate(form, "threshold_hr"),
        equipment=frozenset(tools),
        quiet_hours=quiet,
    )


def habit_change_from_form(form: Mapping[str, str]) -> lookahead.HabitChange:
    """The "When you run" part of the form (sent with `habits=1`): empty run times mean "learn them", empty
    cold months mean none."""
    if not form.get("habits"):
        return lookahead.HabitChange()
    return lookahead.parse_habit_change(
        form.get("runs", "").strip() or "learned",
        form.get("cold_months", "").strip() or "none",
        form.get("rest_days", "").strip() or None,
        names=("Run times", "Cold months", "Rest-day foot massage"),
    )


def save_profile(
    session: Session,
    athlete_id: int,
    change: athlete_store.ProfileChange,
    config: IngestConfig,
    now: datetime,
    habits: lookahead.HabitChange | None = None,
) -> list[ReminderChange]:
    """Store the change and re-plan: the one sequence the page's form and `recovery athletes set` share.

    New heart rates classify the athlete's activities again first; every open day is re-planned; then the
    messages ahead (before runs, rest days) follow at once, whatever changed (planning them again with
    nothing changed writes nothing). Returns what changed in the plan; bad input raised before this point."""
    athlete = athlete_store.set_profile(session, athlete_id, change, now)
    if habits is not None:
        lookahead.apply_habit_change(athlete, habits, now)
    session.flush()
    heart_rates = (change.max_hr, change.rest_hr, change.threshold_hr)
    changes = replan_profile(
        session, athlete, config, now, reclassify=any(hr is not None for hr in heart_rates)
    )
    return changes + lookahead.plan_athlete(session, athlete, config.protocols, now, config.default_zone)
