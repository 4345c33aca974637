"""The training part of the runner's page: load, fitness, fatigue and form over the last 90 days (a chart
drawn by uPlot, shipped in static/, over a plain table that needs no JavaScript), the latest weekly summary
and each activity's load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from scheduler.domain import form
from scheduler.store import models
from scheduler.training import athlete_form
from scheduler.weekly import last_summary

CHART_DAYS = 90


@dataclass(frozen=True, slots=True)
class FormRow:
    day: str
    load: str
    atl: str
    ctl: str
    tsb: str
    acwr: str


@dataclass(frozen=True, slots=True)
class SummaryView:
    title: str
    day: str
    lines: list[str]
    status: str


@dataclass(frozen=True, slots=True)
class TrainingView:
    rows: list[FormRow]  # newest first, for the table
    chart: dict[str, list[Any]]  # uPlot's columns: t (unix seconds), load, ctl, atl, tsb
    latest: FormRow | None
    note: str | None
    disputed: str
    summary: SummaryView | None
    loads: dict[int, str]  # activity id → "46 hrTSS"


def _row(day: form.FormDay) -> FormRow:
    return FormRow(
        day=day.day.isoformat(),
        load=f"{day.load:.0f}",
        atl=f"{day.atl:.1f}",
        ctl=f"{day.ctl:.1f}",
        tsb=f"{day.tsb:+.1f}",
        acwr="–" if day.acwr is None else f"{day.acwr:.2f}",
    )


def training_view(
    session: Session, athlete: models.Athlete, default_zone: str, now: datetime
) -> TrainingView:
    picture = athlete_form(session, athlete, default_zone, now)
    shown = picture.last(CHART_DAYS)
    note = form.note_for(picture.days)
    summary_row = last_summary(session, athlete.id)
    summary = None
    if summary_row is not None and summary_row.local_day is not None:
        summary = SummaryView(
            title=summary_row.title,
            day=f"{summary_row.local_day:%A %d %B %Y}",
            lines=summary_row.body.splitlines(),
            status=summary_row.status,
        )
    return TrainingView(
        rows=[_row(day) for day in reversed(shown)],
        chart={
            # Midday UTC of each local day: the x axis shows days, never shifted to the day before.
            "t": [int(datetime.combine(d.day, time(12), tzinfo=UTC).timestamp()) for d in shown],
            "load": [round(d.load, 1) for d in shown],
            "ctl": [round(d.ctl, 1) for d in shown],
            "atl": [round(d.atl, 1) for d in shown],
            "tsb": [round(d.tsb, 1) for d in shown],
        },
        latest=_row(shown[-1]) if shown else None,
        note=note.text if note is not None else None,
        disputed=form.DISPUTED,
        summary=summary,
        loads={item.id: f"{item.load:.0f} {item.kind}" for item in picture.loads if item.kind is not None},
    )
