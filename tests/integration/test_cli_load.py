"""`recovery load` on a real SQLite file, with activities stored by the real backfill path."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli import main
from scheduler.ingest import ingest_history
from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction

ATHLETE = 4242
ZONE = ZoneInfo("Pacific/Auckland")  # far from UTC: local days differ from UTC days most of the time
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def db(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def cli(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECOVERY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECOVERY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RECOVERY_TIMEZONE", "UTC")

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["recovery", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def today() -> date:
    return datetime.now(UTC).astimezone(ZONE).date()


def run(id_: int, days_ago: int, minutes: float, km: float, **extra: Any) -> dict[str, Any]:
    start = datetime.combine(today() - timedelta(days=days_ago), datetime.min.time(), ZONE) + timedelta(
        hours=7
    )
    return {
        "id": id_,
        "athlete": {"id": ATHLETE},
        "name": "Morning Run",
        "sport_type": "Run",
        "type": "Run",
        "distance": km * 1000,
        "moving_time": int(minutes * 60),
        "elapsed_time": int(minutes * 60) + 30,
        "total_elevation_gain": 0.0,
        "start_date": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": "(GMT+12:00) Pacific/Auckland",
        "average_speed": km * 1000 / (minutes * 60),
        **extra,
    }


def store(db: sessionmaker[Session], raws: list[dict[str, Any]], **profile: Any) -> None:
    now = datetime.now(UTC)
    with transaction(db) as session:
        athlete = models.Athlete(
            id=ATHLETE,
            name="Kiri",
            timezone="Pacific/Auckland",
            state="files",
            created_at=now,
            updated_at=now,
        )
        for key, value in profile.items():
            setattr(athlete, key, value)
        session.add(athlete)
        session.flush()
        ingest_history(session, athlete, raws, now)


def banister(minutes: float, reserve: float) -> float:
    return minutes * reserve * 0.64 * math.exp(1.92 * reserve)


def test_daily_lines_follow_the_formulas_for_runs_with_and_without_heart_rate(
    db: sessionmaker[Session], cli: Cli
) -> None:
    # Day −9: a 10K race in 40:00 without heart rate sets the threshold speed; day −2: an hour at the
    # threshold heart rate (100 by definition); day 0: 50 min easy without heart rate (rTSS from that race).
    race = run(1, 9, 40, 10.0, name="Harbour 10K race", workout_type=1)
    at_threshold = run(2, 2, 60, 12.0, has_heartrate=True, average_heartrate=170.0, max_heartrate=178.0)
    easy = run(3, 0, 50, 9.0)
    store(db, [race, at_threshold, easy], max_hr=190, rest_hr=60, threshold_hr=170)

    code, out, err = cli("load", "--athlete", str(ATHLETE), "--days", "10", "--json")

    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["date"] for line in lines] == [
        (today() - timedelta(days=9 - i)).isoformat() for i in range(10)
    ]
    assert all(set(line) == {"date", "load", "atl", "ctl", "tsb", "acwr"} for line in lines)
    v_race = 10_000 / 2400
    v_threshold = v_race * (40 / 60) ** (1 - 1 / 1.06)  # Riegel to one hour
    expected = [0.0] * 10
    expected[0] = 100 * (40 / 60) * (v_race / v_threshold) ** 2
    expected[7] = 100 * banister(60, 110 / 130) / banister(60, 110 / 130)
    expected[9] = 100 * (50 / 60) * ((9000 / 3000) / v_threshold) ** 2
    assert [line["load"] for line in lines] == [pytest.approx(x, abs=0.051) for x in expected]
    atl = ctl = 0.0
    for line, load in zip(lines, expected, strict=True):
        atl += (load - atl) * (1 - math.exp(-1 / 7))
        ctl += (load - ctl) * (1 - math.exp(-1 / 42))
        assert line["atl"] == pytest.approx(atl, abs=0.06)
        assert line["ctl"] == pytest.approx(ctl, abs=0.06)
        assert line["tsb"] == pytest.approx(ctl - atl, abs=0.11)
        assert line["acwr"] is None  # fewer than 35 days known


def test_the_table_names_the_columns_and_says_the_ratio_is_disputed(
    db: sessionmaker[Session], cli: Cli
) -> None:
    store(db, [run(i, 40 - i, 45, 8.0) for i in range(1, 41)])

    code, out, err = cli("load", "--days", "3")

    assert code == 0, err
    rows = out.splitlines()
    assert rows[0].split() == ["date", "load", "fatigue", "fitness", "form", "ratio"]
    assert [row.split()[0] for row in rows[1:4]] == [
        (today() - timedelta(days=d)).isoformat() for d in (2, 1, 0)
    ]
    assert "disputed" in rows[4]


def test_bad_input_gets_one_line_and_no_output(db: sessionmaker[Session], cli: Cli) -> None:
    store(db, [run(1, 0, 45, 8.0)])
    with transaction(db) as session:
        now = datetime.now(UTC)
        session.add(models.Athlete(id=7, name="Other", state="files", created_at=now, updated_at=now))

    code, out, err = cli("load", "--athlete", "999")
    assert (code, out) == (
        2,
        "",
    ) and err.strip() == "recovery: error: no athlete 999: `recovery athletes` lists the connected ones"

    code, out, err = cli("load")
    assert (
        (code, out) == (2, "") and "several athletes: give --athlete ID" in err and len(err.splitlines()) == 1
    )

    code, out, err = cli("load", "--athlete", "7", "--json")
    assert (code, out) == (0, "")

    code, _, err = cli("load", "--athlete", str(ATHLETE), "--days", "0")
    assert code == 2 and "--days" in err


def test_reading_the_load_changes_nothing(db: sessionmaker[Session], cli: Cli) -> None:
    store(db, [run(1, 1, 45, 8.0), run(2, 0, 30, 6.0)])
    with db() as session:
        before = [(a.id, a.load, a.effort, a.updated_at) for a in session.scalars(select(models.Activity))]

    assert cli("load", "--athlete", str(ATHLETE), "--json")[0] == 0

    with db() as session:
        after = [(a.id, a.load, a.effort, a.updated_at) for a in session.scalars(select(models.Activity))]
    assert after == before
