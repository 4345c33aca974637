"""`recovery classify`, `plan` and `db upgrade` as a user runs them, bad input included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

RACE = {
    "id": 11,
    "name": "Harbourfront 10K",
    "sport_type": "Run",
    "workout_type": 1,
    "start_date": "2026-05-16T14:10:00Z",
    "timezone": "(GMT-05:00) America/Toronto",
    "distance": 10000.0,
    "moving_time": 2580,
    "elapsed_time": 2600,
    "average_heartrate": 172.0,
    "max_heartrate": 186,
}


def recovery(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "RECOVERY_DATA_DIR": str(tmp_path / "data"),
        "RECOVERY_TIMEZONE": "UTC",
        **(env or {}),
    }
    environment.pop("RECOVERY_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_classify_prints_one_json_line_per_activity(tmp_path: Path) -> None:
    easy = {
        **RACE,
        "id": 10,
        "name": "Easy 8k",
        "workout_type": None,
        "start_date": "2026-05-12T22:00:00Z",
        "distance": 8000.0,
        "moving_time": 2900,
        "elapsed_time": 2950,
        "average_heartrate": 138.0,
        "max_heartrate": 150,
    }
    result = recovery(
        tmp_path, "classify", str(write(tmp_path, "acts.json", [RACE, easy])), "--max-hr", "190"
    )
    assert result.returncode == 0, result.stderr
    out = {row["id"]: row for row in lines(result.stdout)}
    assert out[11]["effort"] == "race" and any("Race" in r for r in out[11]["reasons"])
    assert out[10]["effort"] == "easy"
    assert isinstance(out[11]["load"], float) and out[11]["load"] > out[10]["load"]
    assert set(out[11]) == {"id", "effort", "reasons", "load"}


def test_plan_prints_local_times_and_skips_what_is_too_late(tmp_path: Path) -> None:
    path = write(tmp_path, "race.json", RACE)
    result = recovery(tmp_path, "plan", str(path), "--now", "2026-05-16T15:00:00Z")
    assert result.returncode == 0, result.stderr
    steps = {row["step"]: row for row in lines(result.stdout)}
    assert steps["ice"]["status"] == "planned"
    assert steps["ice"]["due_at"].endswith("-04:00")  # Toronto in May (EDT)
    assert steps["leg_massager"]["due_at"] == "2026-05-16T20:00:00-04:00"
    assert steps["foam_roll"]["due_at"] == "2026-05-17T08:00:00-04:00"
    assert "Harbourfront 10K" in steps["ice"]["title"]

    late = recovery(tmp_path, "plan", str(path), "--now", "2026-05-16T21:00:00Z")
    steps = {row["step"]: row for row in lines(late.stdout)}
    assert steps["ice"]["status"] == "skipped" and "skipped" in steps["ice"]["body"]


def test_plan_leaves_out_tools_the_athlete_does_not_own(tmp_path: Path) -> None:
    result = recovery(
        tmp_path,
        "plan",
        str(write(tmp_path, "race.json", RACE)),
        "--now",
        "2026-05-16T15:00:00Z",
        "--equipment",
        "ice,foam_roller",
    )
    assert result.returncode == 0, result.stderr
    # The morning question (legs_check) needs no tool.
    assert {row["step"] for row in lines(result.stdout)} <= {"ice", "foam_roll", "refuel", "legs_check"}


BAD_INPUTS = [
    ("malformed JSON", '{"id": 1,', "invalid JSON at line 1"),
    ("no start_date", {"id": 5, "name": "Run", "sport_type": "Run"}, "missing start_date"),
    ("unknown time zone", {**RACE, "timezone": "(GMT+01:00) Europe/Atlantis"}, "unknown time zone"),
    ("not an object", [1, 2], "expected a JSON object"),
]


@pytest.mark.parametrize("command", ["classify", "plan"])
@pytest.mark.parametrize(("case", "content", "message"), BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_activity_input_exits_2_with_one_line(
    tmp_path: Path, command: str, case: str, content: Any, message: str
) -> None:
    path = write(tmp_path, "input.json", content)
    result = recovery(tmp_path, command, str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr and "input.json" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing written anywhere


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = recovery(tmp_path, "classify", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and "nope.json: no such file" in result.stderr


STEP = (
    "version: 1\nsteps:\n  - key: {key}\n    applies_to: {{efforts: [race]}}\n    when: {when}\n"
    "    useful_for: 2h\n    title: t\n    body: b\n"
)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            STEP.format(key="ice", when="now") + "    colour: blue\n",
            "colour",
        ),
        (
            STEP.format(key="leg_massager", when="tonight 25:00"),
            "25:00",
        ),
        ("steps: [\n", "malformed YAML"),
    ],
    ids=["unknown key", "bad time", "malformed yaml"],
)
def test_a_broken_protocols_file_exits_2_naming_the_place(
    tmp_path: Path, yaml_text: str, message: str
) -> None:
    protocols = write(tmp_path, "protocols.yaml", yaml_text)
    result = recovery(
        tmp_path,
        "plan",
        str(write(tmp_path, "race.json", RACE)),
        env={"RECOVERY_PROTOCOLS_FILE": str(protocols)},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "protocols.yaml" in result.stderr
    assert result.stdout == ""


def test_a_bad_setting_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    result = recovery(tmp_path, "plan", "x.json", env={"RECOVERY_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert result.stderr.strip() == "recovery: error: RECOVERY_TIMEZONE: unknown time zone 'Mars/Olympus'"


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    result = recovery(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "recovery.db").is_file()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["auth"],
        ["athletes"],
        ["athletes", "set"],
        ["athletes", "notify"],
        ["sync"],
        ["activities"],
        ["classify"],
        ["plan"],
        ["upcoming"],
        ["history"],
        ["webhook", "subscribe"],
        ["webhook", "status"],
        ["webhook", "unsubscribe"],
        ["notify-test"],
        ["db", "upgrade"],
    ],
    ids=lambda c: " ".join(c) or "recovery",
)
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = recovery(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_classify_runs_with_heart_rate_but_no_max_heartrate_without_a_traceback(tmp_path: Path) -> None:
    # Five runs with an average heart rate, no max_heartrate and no --max-hr: was a ZeroDivisionError.
    runs = [
        {
            "id": index,
            "name": "Morning Run",
            "sport_type": "Run",
            "start_date": f"2026-05-0{index}T07:00:00Z",
            "elapsed_time": 3000,
            "moving_time": 2900,
            "distance": 8000,
            "average_heartrate": 140 + index,
            "has_heartrate": True,
        }
        for index in range(1, 7)
    ]
    result = recovery(tmp_path, "classify", str(write(tmp_path, "runs.json", runs)))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert [row["effort"] for row in lines(result.stdout)] == ["easy"] * 6


def test_plan_noticed_late_puts_ice_at_now_and_says_what_is_left(tmp_path: Path) -> None:
    # The race ended 14:53:20Z; noticed 2 h 30 min later, ice is due at --now, not in the past.
    path = write(tmp_path, "race.json", RACE)
    result = recovery(tmp_path, "plan", str(path), "--now", "2026-05-16T17:23:20Z")
    assert result.returncode == 0, result.stderr
    ice = {row["step"]: row for row in lines(result.stdout)}["ice"]
    assert ice["status"] == "planned"
    assert ice["due_at"] == "2026-05-16T13:23:20-04:00"
    assert "about 30 min left to be useful" in ice["body"]


def test_plan_of_a_race_day_prints_one_set_of_steps_for_the_day(tmp_path: Path) -> None:
    easy = {
        "sport_type": "Run",
        "distance": 3000.0,
        "moving_time": 1200,
        "elapsed_time": 1200,
        "workout_type": 0,
    }
    warm_up = {**RACE, **easy, "id": 10, "name": "Warm-up", "start_date": "2026-05-16T13:40:00Z"}
    cool_down = {**RACE, **easy, "id": 12, "name": "Cool-down", "start_date": "2026-05-16T14:55:00Z"}
    for item in (warm_up, cool_down):
        item.pop("average_heartrate")
        item.pop("max_heartrate")
    path = write(tmp_path, "day.json", [warm_up, RACE, cool_down])
    result = recovery(tmp_path, "plan", str(path), "--now", "2026-05-16T15:00:00Z")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    steps = [row["step"] for row in rows]
    assert len(steps) == len(set(steps)), "one leg massager, one foam roll, one foot massage"
    assert {"ice", "leg_massager", "foot_massager", "foam_roll"} <= set(steps)
    assert {row["day"] for row in rows} == {"2026-05-16"}
    assert {row["activity_id"] for row in rows} == {11}
    foot = next(row for row in rows if row["step"] == "foot_massager")
    assert foot["title"] == "Foot massage tonight — Harbourfront 10K and 2 more runs today"


def test_activities_shows_local_times_with_offset_and_refuses_an_unknown_athlete(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from scheduler.store.db import make_engine, make_sessionmaker
    from scheduler.store.models import Activity, Athlete

    assert recovery(tmp_path, "db", "upgrade").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'recovery.db'}")
    now = datetime.now(UTC).replace(microsecond=0)
    with make_sessionmaker(engine).begin() as session:
        session.add(
            Athlete(id=7, name="Ada Runner", state="active", created_at=now, updated_at=now, notify_urls=[])
        )
        session.flush()
        session.add(
            Activity(
                id=11,
                athlete_id=7,
                raw=RACE,
                name="Harbourfront 10K",
                sport_type="Run",
                start_date=now,
                timezone="America/Toronto",
                elapsed_time=2600,
                moving_time=2580,
                distance=10000.0,
                effort="race",
                reasons=["tagged Race on Strava"],
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()
    local = now.astimezone(ZoneInfo("America/Toronto"))

    result = recovery(tmp_path, "activities", "--json")
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout)[0]["start_date"] == local.isoformat()
    table = recovery(tmp_path, "activities")
    assert table.stdout.startswith(local.isoformat(timespec="minutes"))

    unknown = recovery(tmp_path, "activities", "--athlete", "9999")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "recovery: error: no athlete 9999: `recovery athletes` lists the connected ones"
    ]


def test_db_upgrade_keeps_the_database_private(tmp_path: Path) -> None:
    result = recovery(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "recovery.db").stat().st_mode & 0o777 == 0o600


def test_db_upgrade_with_a_url_that_cannot_work_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, ".env", "RECOVERY_DATABASE_URL=nonsense\n")  # `recovery` drops it from the environment
    result = recovery(tmp_path, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.startswith("recovery: error: RECOVERY_DATABASE_URL: not a database URL")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "data").exists()
