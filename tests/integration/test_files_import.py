"""`recovery import` and `recovery athletes add` through the real command, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import pty
import select as io_select
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from scheduler.daemon.app import connected_athletes
from scheduler.logs import Redactor
from scheduler.settings import Settings
from scheduler.store import models, secret_keys
from scheduler.store.db import make_sessionmaker
from tests.data.files.samples import easy_run, race_10k, truncate, write_fit, write_gpx, write_tcx


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/recovery.db"
    url: str = request.getfixturevalue("pg_url")
    return url


def recovery(tmp_path: Path, database: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")},
        "RECOVERY_DATA_DIR": str(tmp_path / "data"),
        "RECOVERY_DATABASE_URL": database,
        "RECOVERY_TIMEZONE": "UTC",
    }
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def add_athlete(tmp_path: Path, database: str, zone: str = "America/Toronto") -> int:
    added = recovery(tmp_path, database, "athletes", "add", "Ada Files", "--zone", zone)
    assert added.returncode == 0, added.stderr
    return int(added.stdout.splitlines()[-1])


def counts(database: str) -> dict[str, int]:
    engine = create_engine(database)
    try:
        with Session(engine) as session:
            return {
                "activities": session.scalar(select(func.count()).select_from(models.Activity)) or 0,
                "reminders": session.scalar(select(func.count()).select_from(models.Reminder)) or 0,
                "files": session.scalar(select(func.count()).select_from(models.FileImport)) or 0,
            }
    finally:
        engine.dispose()


def recent_start() -> datetime:
    """A race that ended a quarter of an hour ago: "ice now" is still useful."""
    now = datetime.now(UTC).replace(microsecond=0)
    return now - timedelta(seconds=race_10k(now).elapsed_seconds) - timedelta(minutes=15)


def test_a_race_file_plans_ice_and_a_reimport_changes_nothing(tmp_path: Path, database: str) -> None:
    athlete = add_athlete(tmp_path, database)
    assert athlete > 9_000_000_000  # never a Strava athlete id
    race = write_fit(race_10k(recent_start(), utc_offset=timedelta(hours=-4)), tmp_path / "race.fit")

    first = recovery(tmp_path, database, "import", str(race), "--athlete", str(athlete))
    assert first.returncode == 0, first.stderr
    [result] = lines(first.stdout)
    assert result["outcome"] == "imported"
    assert result["effort"] == "race"
    assert "ice" in result["planned"]
    upcoming = lines(recovery(tmp_path, database, "upcoming", "--json").stdout)
    assert [r["step"] for r in upcoming if r["step"] == "ice"] == ["ice"]
    before = counts(database)

    # The same file again, a renamed and touched copy, and the same run exported as GPX and TCX.
    copy = tmp_path / "again" / "Race copy.fit"
    copy.parent.mkdir()
    copy.write_bytes(race.read_bytes())
    gpx = write_gpx(
        race_10k(datetime.fromisoformat(result_start(database, result["activity_id"]))), tmp_path / "r.gpx"
    )
    tcx = write_tcx(
        race_10k(datetime.fromisoformat(result_start(database, result["activity_id"]))), tmp_path / "r.tcx"
    )
    again = recovery(tmp_path, database, "import", str(race), str(copy.parent), str(gpx), str(tcx))
    assert again.returncode == 0, again.stderr
    assert [r["outcome"] for r in lines(again.stdout)] == [
        "already imported",
        "already imported",
        "duplicate",
        "duplicate",
    ]
    after = counts(database)
    assert after["activities"] == before["activities"] == 1
    assert after["reminders"] == before["reminders"]


def result_start(database: str, activity_id: int) -> str:
    engine = create_engine(database)
    try:
        with Session(engine) as session:
            start = session.scalar(
                select(models.Activity.start_date).where(models.Activity.id == activity_id)
            )
            assert start is not None
            return start.astimezone(UTC).isoformat()
    finally:
        engine.dispose()


def test_a_corrupt_file_in_a_folder_is_named_and_the_rest_imported(tmp_path: Path, database: str) -> None:
    athlete = add_athlete(tmp_path, database)
    folder = tmp_path / "archive" / "2026"
    folder.mkdir(parents=True)
    old = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    write_fit(easy_run(old), folder / "a.fit")
    write_tcx(easy_run(old + timedelta(days=2)), folder / "b.tcx")
    broken = truncate(write_gpx(easy_run(old + timedelta(days=4)), folder / "c.gpx"))
    (folder / "notes.txt").write_text("not an activity")

    done = recovery(tmp_path, database, "import", str(tmp_path / "archive"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"recovery: {broken}: " + lines(done.stdout)[2]["reason"]]
    assert lines(done.stdout)[2]["reason"].startswith("corrupt GPX file")
    assert [r["outcome"] for r in lines(done.stdout)] == ["imported", "imported", "rejected"]
    # Old activities are history: classified, never notified.
    assert all(r["history"] and r["planned"] == [] for r in lines(done.stdout)[:2])
    assert counts(database)["activities"] == 2
    assert counts(database)["reminders"] == 0
    assert athlete  # the only athlete: --athlete could be left out


def test_bad_usage_gets_one_line(tmp_path: Path, database: str) -> None:
    missing = recovery(tmp_path, database, "import", str(tmp_path / "nowhere.fit"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"recovery: error: {tmp_path / 'nowhere.fit'}: no such file or folder"
    write_fit(easy_run(datetime(2026, 1, 10, tzinfo=UTC)), tmp_path / "a.fit")
    nobody = recovery(tmp_path, database, "import", str(tmp_path / "a.fit"))
    assert nobody.returncode == 2
    assert "athletes add" in nobody.stderr.strip()
    zone = recovery(tmp_path, database, "athletes", "add", "Bo", "--zone", "Mars/Olympus")
    assert zone.returncode == 2
    assert (
        zone.stderr.strip()
        == "recovery: error: --zone: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin)"
    )
    assert counts(database) == {"activities": 0, "reminders": 0, "files": 0}


def test_a_files_only_athlete_is_never_polled(tmp_path: Path, database: str) -> None:
    athlete = add_athlete(tmp_path, database)
    listed = lines(recovery(tmp_path, database, "athletes", "--json").stdout)
    assert [(a["id"], a["state"]) for a in listed] == [(athlete, "files")]
    engine = create_engine(database)
    try:
        secret_keys.unlock(engine, Settings(data_dir=tmp_path / "data", database_url=database))
        assert list(connected_athletes(make_sessionmaker(engine), Redactor())) == []
    finally:
        engine.dispose()


def test_a_progress_bar_shows_on_a_terminal_and_the_json_stays_alone_on_stdout(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/recovery.db"
    add_athlete(tmp_path, database)
    folder = tmp_path / "archive"
    folder.mkdir()
    old = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    for day in range(3):
        write_tcx(easy_run(old + timedelta(days=day)), folder / f"{day}.tcx")
    controller, terminal = pty.openpty()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")},
        "RECOVERY_DATA_DIR": str(tmp_path / "data"),
        "RECOVERY_DATABASE_URL": database,
        "RECOVERY_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
        "COLUMNS": "100",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scheduler", "import", str(folder)],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=environment,
            cwd=tmp_path,
            timeout=120,
        )
        os.close(terminal)
        shown = _drain(controller)
    finally:
        os.close(controller)
    assert done.returncode == 0
    assert [r["outcome"] for r in lines(done.stdout)] == ["imported"] * 3
    assert "importing" in shown  # rich's bar, on the terminal only …
    assert '"outcome"' not in shown  # … and the JSON lines only on stdout, where a pipe or file gets them


def _drain(fd: int) -> str:
    chunks: list[bytes] = []
    while io_select.select([fd], [], [], 5)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
