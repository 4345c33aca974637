"""The daemon watching a folder: a race file written into it becomes a planned "ice now" within seconds."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from scheduler.store import models
from tests.acceptance.conftest import DaemonFactory, base_env, recovery_command, wait_until
from tests.data.files.samples import easy_run, race_10k, write_fit

# Seconds from the file's close to its planned reminders: generous for a loaded test machine; the figure
# itself (under 5 s) is measured by bench/files_import.py.
PICK_UP_DEADLINE = 15.0


def add_athlete(tmp_path: Path) -> int:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    done = subprocess.run(
        [*recovery_command(), "athletes", "add", "Ada Files", "--zone", "America/Toronto"],
        env=base_env(tmp_path / "data", home),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.splitlines()[-1])


def reminders(db_url: str, step: str | None = None) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            query = select(models.Reminder.step, models.Reminder.status)
            if step is not None:
                query = query.where(models.Reminder.step == step)
            return [(s, st) for s, st in session.execute(query).all()]
    finally:
        engine.dispose()


def activity_count(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(models.Activity)) or 0
    finally:
        engine.dispose()


def recent_race_start() -> datetime:
    now = datetime.now(UTC).replace(microsecond=0)
    return now - timedelta(seconds=race_10k(now).elapsed_seconds) - timedelta(minutes=10)


@pytest.mark.parametrize("poll", ["false", "true"], ids=["inotify", "polling"])
def test_a_race_file_written_into_the_folder_plans_ice(
    tmp_path: Path, daemon: DaemonFactory, poll: str
) -> None:
    athlete = add_athlete(tmp_path)
    inbox = tmp_path / "inbox"
    (inbox / str(athlete)).mkdir(parents=True)
    d = daemon({"RECOVERY_IMPORT__DIR": str(inbox), "RECOVERY_IMPORT__POLL": poll})
    d.wait_for_log("watching .*inbox")

    # A file still being written is not read: half of it, held open, while another file arrives whole.
    race = write_fit(race_10k(recent_race_start()), tmp_path / "race.fit").read_bytes()
    target = inbox / str(athlete) / "race.fit"
    with target.open("wb") as partial:
        partial.write(race[: len(race) // 2])
        partial.flush()
        os.fsync(partial.fileno())
        write_fit(easy_run(datetime(2026, 1, 5, 7, 0, tzinfo=UTC)), inbox / str(athlete) / "easy.fit")
        d.wait_for_log(r"file easy\.fit imported", timeout=15)
        # inotify waits for the close-write; polling for the file to stop changing, and even then does not
        # reject an unusable file until it has stayed the same for half a minute.
        assert "race.fit" not in d.logs()
        assert not (inbox / str(athlete) / "rejected").exists()
        partial.write(race[len(race) // 2 :])

    wait_until(lambda: reminders(d.db_url, "ice"), PICK_UP_DEADLINE, "the ice reminder of the race file")
    assert reminders(d.db_url, "ice") == [("ice", "planned")]
    assert activity_count(d.db_url) == 2

    # The same file again (copied in under another name) and a truncated one: nothing doubles, the bad one
    # is named once and moved aside with its reason.
    (inbox / str(athlete) / "race copy.fit").write_bytes(race)
    (inbox / str(athlete) / "cut.fit").write_bytes(race[:1000])
    rejected = inbox / str(athlete) / "rejected"
    wait_until(lambda: (rejected / "cut.fit.reason.txt").exists(), 60, "the truncated file moved aside")
    assert (rejected / "cut.fit.reason.txt").read_text().strip() == "truncated FIT file"
    assert d.logs().count("cut.fit rejected") == 1
    assert activity_count(d.db_url) == 2
    assert len(reminders(d.db_url, "ice")) == 1
    assert d.stop() == 0
