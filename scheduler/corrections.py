"""The runner's correction of an activity's class: kept apart from the classifier's verdict, so it survives
re-reads from Strava and re-classification, and the reasons say who decided.

`set_effort` is what `recovery activities set-effort` and the page's class control both call; `corrected`
is what ingestion applies after classifying. It sits beside ingest, not in web/ (the core must not
import the page) nor in store/ (`set_effort` re-plans through ingest).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain.activity import parse_activity
from scheduler.domain.effort import LABELS, Classification, Effort
from scheduler.domain.planning import local_day
from scheduler.errors import InputError
from scheduler.store import models

if TYPE_CHECKING:  # a runtime import would be circular: ingestion imports `corrected`
    from scheduler.ingest import IngestConfig

EFFORTS = tuple(effort.value for effort in Effort)


class ActivityNotFound(InputError):
    """No such activity for this athlete (another athlete's are not found either)."""


@dataclass(frozen=True, slots=True)
class EffortChange:
    activity_id: int
    effort: str
    classified_as: str | None
    planned: list[str]
    cancelled: list[str]


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often the classifier's class matched the runner's corrections (the runner's class is the truth)."""

    agreed: int
    total: int
    per_class: dict[str, tuple[int, int]]  # the runner's class → (agreed, total)

    def describe(self) -> str:
        """One short sentence: "the classifier agreed with 7 of 9 corrections (78 %): race 2 of 3, …"."""
        if not self.total:
            return "none yet (`recovery activities set-effort ID EFFORT`, or the page's Class control)"
        share = f"{self.agreed / self.total:.0%}".replace("%", " %")
        each = ", ".join(f"{LABELS[Effort(c)]} {a} of {n}" for c, (a, n) in self.per_class.items())
        return f"the classifier agreed with {self.agreed} of {self.total} corrections ({share}): {each}"


def agreement(session: Session, athlete_id: int | None = None) -> Agreement:
    """The classifier's agreement with every correction (of one athlete, or all), as it classifies now.

    `classified_as` is refreshed on each re-classification (`corrected`), so this is the current classifier's
    score, not the one the runner first saw. A correction that confirms the class counts as agreement.
    """
    query = (
        select(models.EffortCorrection.effort, models.EffortCorrection.classified_as)
        .join(models.Activity, models.Activity.id == models.EffortCorrection.activity_id)
        .where(models.Activity.deleted_at.is_(None), models.EffortCorrection.classified_as.is_not(None))
    )
    if athlete_id is not None:
        query = query.where(models.Activity.athlete_id == athlete_id)
    counts: dict[str, tuple[int, int]] = {}
    for effort, classified_as in session.execute(query):
        agreed, total = counts.get(effort, (0, 0))
        counts[effort] = (agreed + (effort == classified_as), total + 1)
    per_class = {e: counts[e] for e in EFFORTS if e in counts}  # always in the classes' own order
    return Agreement(sum(a for a, _ in per_class.values()), sum(n for _, n in per_class.values()), per_class)


def runner_reason(classified_as: str | None) -> str:
    return f"set by the runner (classified as {classified_as or 'unknown'})"


def corrections_of(session: Session, activity_ids: Collection[int]) -> dict[int, models.EffortCorrection]:
    """The runner's corrections among `activity_ids`, in one read (a backfill page holds up to 200)."""
    if not activity_ids:
        return {}
    rows = session.scalars(
        select(models.EffortCorrection).where(models.EffortCorrection.activity_id.in_(list(activity_ids)))
    )
    return {row.activity_id: row for row in rows}


def labels_of(session: Session, athlete_id: int, since: datetime, until: datetime) -> dict[int, str]:
    """The runner's classes of their activities starting in [since, until): the classifier's labelled
    examples (see `domain/calibration.py`), in one read."""
    rows = session.execute(
        select(models.EffortCorrection.activity_id, models.EffortCorrection.effort)
        .join(models.Activity, models.Activity.id == models.EffortCorrection.activity_id)
        .where(
            models.Activity.athlete_id == athlete_id,
            models.Activity.start_date >= since,
            models.Activity.start_date < until,
        )
    )
    return {activity_id: effort for activity_id, effort in rows}


def corrected(
    session: Session,
    activity_id: int,
    result: Classification,
    known: Mapping[int, models.EffortCorrection] | None = None,
) -> Classification:
    """The classifier's `result`, or the runner's class when they set one (their word wins). `known`: the
    corrections already read for a batch (`corrections_of`)."""
    correction = (
        known.get(activity_id) if known is not None else session.get(models.EffortCorrection, activity_id)
    )
    if correction is None:
        return result
    correction.classified_as = result.effort.value
    return Classification(Effort(correction.effort), (runner_reason(result.effort.value),), result.load)


def set_effort(
    session: Session,
    activity_id: int,
    effort: str,
    config: IngestConfig,
    now: datetime,
    *,
    athlete_id: int | None = None,
) -> EffortChange:
    """Record the runner's class for the activity and re-plan its day; `athlete_id` limits it to theirs."""
    from scheduler.ingest import replan_days  # ingestion imports this module: import it when used

    if effort not in EFFORTS:
        raise InputError(f"unknown effort {effort!r}: use one of {', '.join(EFFORTS)}")
    row = session.get(models.Activity, activity_id)
    if row is None or row.deleted_at is not None or (athlete_id is not None and row.athlete_id != athlete_id):
        raise ActivityNotFound(f"no activity {activity_id}")
    athlete = session.get(models.Athlete, row.athlete_id)
    if athlete is None:
        raise ActivityNotFound(f"no activity {activity_id}")
    correction = session.get(models.EffortCorrection, activity_id)
    if correction is None:
        correction = models.EffortCorrection(activity_id=activity_id, classified_as=row.effort, set_at=now)
        session.add(correction)
    correction.effort = effort
    correction.set_at = now
    row.effort = effort
    row.reasons = [runner_reason(correction.classified_as)]
    row.updated_at = now  # a "now" step the new class calls for (ice after a race) is due from now
    session.flush()
    planned: list[str] = []
    cancelled: list[str] = []
    if not row.backfilled:
        day = local_day(parse_activity(row.raw, f"activity {row.id}"), config.default_zone)
        planned, cancelled = replan_days(session, athlete, {day}, config, now)
    return EffortChange(activity_id, effort, correction.classified_as, planned, cancelled)
