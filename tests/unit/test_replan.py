"""Re-planning an activity: only unsent reminders change, nothing sent is sent again, no churn."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.activity import Activity
from scheduler.domain.effort import Classification, Effort
from scheduler.domain.planning import PlannedStep, plan_activity
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols
from scheduler.domain.replan import ExistingReminder, ReminderStatus, reconcile

PROTOCOLS = load_protocols(default_protocols_path())
END = datetime(2024, 6, 15, 14, 30, tzinfo=UTC)
RACE = Classification(effort=Effort.RACE, reasons=("tagged Race on Strava",), load=None)
EASY = Classification(effort=Effort.EASY, reasons=("named Easy",), load=None)


def activity(name: str = "Harbourfront 10K") -> Activity:
    return Activity(
        id=7,
        name=name,
        sport_type="Run",
        start_date=END - timedelta(minutes=42),
        elapsed_time=42 * 60,
        moving_time=42 * 60,
        distance=10_000.0,
        timezone="America/Toronto",
    )


def plan(
    classification: Classification = RACE, now: datetime = END, name: str = "Harbourfront 10K"
) -> list[PlannedStep]:
    # Noticed at the end: a re-plan later must not move it (ingest passes the first-seen time likewise).
    return plan_activity(
        activity(name), classification, AthleteProfile(), PROTOCOLS, now, "UTC", noticed_at=END
    )


def stored(steps: list[PlannedStep], **statuses: str) -> list[ExistingReminder]:
    """The rows a store holds for `steps` (UTC, as databases return them), statuses overridden by key."""
    return [
        ExistingReminder(
            step=step.step,
            status=ReminderStatus(statuses.get(step.step, step.status)),
            due_at=step.due_at.astimezone(UTC),
            expires_at=step.expires_at.astimezone(UTC),
            title=step.title,
            body=step.body,
        )
        for step in steps
    ]


def keys(steps: tuple[PlannedStep, ...]) -> set[str]:
    return {step.step for step in steps}


def test_planning_the_same_activity_twice_changes_nothing() -> None:
    actions = reconcile(stored(plan()), plan(now=END + timedelta(hours=1)))
    assert actions.empty


def test_first_plan_inserts_everything_including_skipped_steps() -> None:
    late = plan(now=END + timedelta(hours=5))
    actions = reconcile([], late)

    assert keys(actions.insert) == {step.step for step in late}
    assert next(step for step in actions.insert if step.step == "ice").status == ReminderStatus.SKIPPED
    assert not actions.update and not actions.cancel


def test_reclassified_race_to_easy_cancels_unsent_steps_and_keeps_sent_ones() -> None:
    existing = stored(plan(), ice="sent", leg_massager="sending", massage_gun="failed")
    actions = reconcile(existing, plan(EASY))

    assert set(actions.cancel) == {"foam_roll", "legs_check"}
    # foot_massager exists for both classes: its text changes, so it is updated in place.
    assert keys(actions.update) == {"foot_massager"}
    assert "Optional" in actions.update[0].title
    assert not actions.insert


def test_reclassified_easy_to_race_inserts_the_new_steps() -> None:
    actions = reconcile(stored(plan(EASY)), plan(RACE))

    assert keys(actions.insert) == {"ice", "leg_massager", "legs_check", "foam_roll", "massage_gun"}
    assert keys(actions.update) == {"foot_massager"}


def test_sent_and_in_flight_steps_are_never_touched_even_when_their_text_changes() -> None:
    existing = stored(plan(), ice="sent", leg_massager="sending", foam_roll="expired", knee_massager="failed")
    actions = reconcile(existing, plan(name="Harbourfront 10K (PB!)"))

    assert keys(actions.update) == {"foot_massager", "legs_check", "massage_gun"}
    assert not actions.insert and not actions.cancel


def test_rename_updates_unsent_titles() -> None:
    actions = reconcile(stored(plan()), plan(name="Harbourfront 10K (PB!)"))

    assert keys(actions.update) == {step.step for step in plan()}
    assert all("(PB!)" in step.title for step in actions.update)


def test_a_cancelled_step_that_applies_again_is_planned_again() -> None:
    existing = stored(plan(), foam_roll="cancelled")
    actions = reconcile(existing, plan())

    assert keys(actions.update) == {"foam_roll"}
    assert actions.update[0].status == ReminderStatus.PLANNED


def test_a_planned_step_whose_window_has_closed_is_left_to_expire() -> None:
    existing = stored(plan())
    actions = reconcile(existing, plan(now=END + timedelta(hours=5)))  # ice is now "skipped" in the plan
    assert actions.empty


def test_a_skipped_step_keeps_its_first_explanation() -> None:
    first = plan(now=END + timedelta(hours=5))
    actions = reconcile(stored(first), plan(now=END + timedelta(hours=8)))
    assert actions.empty


def test_a_skipped_step_made_sendable_again_is_updated_to_planned() -> None:
    skipped = [replace(step, status=ReminderStatus.SKIPPED, body="skipped: old reason") for step in plan()]
    actions = reconcile(stored(skipped), plan())

    assert keys(actions.update) == {step.step for step in plan()}
    assert {step.status for step in actions.update} == {"planned"}


def test_a_moved_due_time_updates_the_row() -> None:
    existing = stored(plan())
    moved = [
        replace(step, due_at=step.due_at + timedelta(minutes=30)) if step.step == "leg_massager" else step
        for step in plan()
    ]
    assert keys(reconcile(existing, moved).update) == {"leg_massager"}


def test_deleted_skipped_rows_are_cancelled_and_cancelled_rows_stay_cancelled() -> None:
    existing = stored(plan(now=END + timedelta(hours=5)), foam_roll="cancelled")
    actions = reconcile(existing, [])

    assert "ice" in actions.cancel  # was skipped: no longer applies at all
    assert "foam_roll" not in actions.cancel
    assert not actions.insert and not actions.update


def test_comparison_is_by_instant_not_by_printed_zone() -> None:
    steps = plan()
    in_tokyo = [
        replace(reminder, due_at=reminder.due_at.astimezone(ZoneInfo("Asia/Tokyo")))
        for reminder in stored(steps)
    ]
    assert reconcile(in_tokyo, steps).empty


def test_naive_stored_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ExistingReminder("ice", "planned", datetime(2024, 6, 15, 14, 30), END, "t", "b")


def test_unknown_stored_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown status 'delivered'"):
        ExistingReminder("ice", "delivered", END, END + timedelta(hours=3), "t", "b")
