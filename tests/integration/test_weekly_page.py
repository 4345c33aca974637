"""The training part of the runner's page over HTTP, without JavaScript: the daily values as a table, the
last weekly summary, each activity's load in TSS points, the chart's script and data shipped with it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.ingest import ingest_history
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.training import athlete_form
from tests.integration.test_web_page import ADA, ADA_RACE, BO, NOW, Site, seed, start_site

TORONTO = ZoneInfo("America/Toronto")
TODAY = NOW.astimezone(TORONTO).date()
SUMMARY_DAY = date(2026, 5, 10)  # the Sunday before NOW


def history_run(id_: int, day: date, km: float, minutes: int, hr: float | None) -> dict[str, Any]:
    start = datetime.combine(day, time(7), tzinfo=TORONTO).astimezone(UTC)
    raw: dict[str, Any] = {
        "id": id_,
        "athlete": {"id": ADA},
        "name": "Morning Run",
        "sport_type": "Run",
        "distance": km * 1000,
        "moving_time": minutes * 60,
        "elapsed_time": minutes * 60 + 30,
        "total_elevation_gain": 40.0,
        "start_date": start.isoformat().replace("+00:00", "Z"),
        "timezone": "(GMT-05:00) America/Toronto",
        "average_speed": km * 1000 / (minutes * 60),
    }
    if hr is not None:
        raw.update(has_heartrate=True, average_heartrate=hr, max_heartrate=hr + 15)
    return raw


def seed_training(sessions: sessionmaker[Session]) -> None:
    """The page's seed (Ada's race this morning), plus 120 days of Ada's runs, half without heart rate, and
    the weekly summary of the Sunday before."""
    seed(sessions)
    raws = []
    for back in range(1, 121):
        day = TODAY - timedelta(days=back)
        if day.weekday() in (0, 4):
            continue  # rest days
        long = day.weekday() == 6
        raws.append(
            history_run(
                5000 + back, day, 18.0 if long else 9.0, 100 if long else 50, 145.0 if back % 2 else None
            )
        )
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        ingest_history(session, athlete, raws, NOW)
        due = datetime.combine(SUMMARY_DAY, time(19), tzinfo=TORONTO).astimezone(UTC)
        session.add(
            models.Reminder(
                activity_id=None,
                athlete_id=ADA,
                step="weekly_summary",
                local_day=SUMMARY_DAY,
                due_at=due,
                expires_at=due + timedelta(hours=3),
                available_at=due,
                status="sent",
                sent_at=due,
                title="Your week: 5 runs, 63.0 km",
                body=(
                    "Runs: 5, 63.0 km in 5 h 20 min; longest 18.0 km, hardest on Sunday.\n"
                    "Load: 320 (the week before: 310)."
                ),
                tags=["routine"],
                created_at=due,
                updated_at=due,
            )
        )


def get_page(site: Site, visitor: int, athlete_id: int) -> httpx.Response:
    client = site.signed_in(visitor)
    try:
        return client.get(f"/athletes/{athlete_id}")
    finally:
        client.close()


@pytest.fixture
def training_site(sqlite_url: str) -> Iterator[Site]:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    sessions: sessionmaker[Session] = make_sessionmaker(engine)
    seed_training(sessions)
    running = start_site(sessions)
    yield running
    running.server.stop()
    engine.dispose()


def test_the_page_shows_form_as_a_table_the_last_summary_and_activity_loads(training_site: Site) -> None:
    page = get_page(training_site, ADA, ADA)
    assert page.status_code == 200
    html = page.text
    assert len(page.content) < 100_000, len(page.content)

    with training_site.sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        expected = athlete_form(session, athlete, "UTC", NOW)
    latest = expected.days[-1]
    assert latest.day == TODAY
    # The fallback table: 90 days, newest first, with today's values as computed from the activities.
    rows = re.findall(
        r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>",
        html,
    )
    assert len(rows) == 90
    assert rows[0] == (
        TODAY.isoformat(),
        f"{latest.load:.0f}",
        f"{latest.atl:.1f}",
        f"{latest.ctl:.1f}",
        f"{latest.tsb:+.1f}",
    )
    assert rows[-1][0] == (TODAY - timedelta(days=89)).isoformat()
    assert f"fitness <strong>{latest.ctl:.1f}</strong>" in html and "disputed" in html
    # The chart's data is the same series, in a JSON block that is never executed.
    block = re.search(r'<script type="application/json" id="load-chart-data">(.*?)</script>', html, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert (
        len(data["t"]) == 90
        and data["ctl"][-1] == round(latest.ctl, 1)
        and data["tsb"][-1] == round(latest.tsb, 1)
    )
    assert '<script src="/static/uplot.iife.min.js" defer></script>' in html
    # The last weekly summary.
    assert "Your week: 5 runs, 63.0 km" in html and "Weekly summary of Sunday 10 May 2026" in html
    # Each activity's load on the chart's scale, runs without heart rate included (the page lists two weeks).
    recent = {w.id for w in expected.workouts if w.day >= TODAY - timedelta(days=6)}
    shown = [item for item in expected.loads if item.id in recent and item.id != ADA_RACE]
    assert {item.kind for item in shown} == {"hrTSS", "rTSS"}
    for item in shown:
        card = re.search(rf'id="activity-{item.id}">(.*?)</article>', html, re.S)
        assert card is not None and f"load {item.load:.0f} {item.kind}" in card.group(1)


def test_the_chart_files_are_served_from_the_package_and_the_page_allows_only_own_scripts(
    training_site: Site,
) -> None:
    with training_site.client() as client:
        script = client.get("/static/uplot.iife.min.js")
        chart = client.get("/static/uplot-load-chart.js")
        css = client.get("/static/uplot.min.css")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "uPlot" in script.text and "load-chart-data" in chart.text and ".uplot" in css.text
    csp = get_page(training_site, ADA, ADA).headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_another_runner_never_sees_adas_training(training_site: Site) -> None:
    assert get_page(training_site, BO, ADA).status_code == 404
    own = get_page(training_site, BO, BO).text
    assert "Your week: 5 runs" not in own
    with training_site.client() as anonymous:
        assert "load-chart-data" not in anonymous.get(f"/athletes/{ADA}").text
