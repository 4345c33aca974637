"""The whole mission as a runner lives it, against the Strava double and a real SMTP server.

Connect with `recovery auth --code`, start `recovery run` (polling, no webhooks), finish a race: the ice
email arrives; `recovery upcoming` shows the evening and next-morning steps at the right local times;
re-tagging the race as a workout changes the plan; deleting it cancels what was not sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.acceptance.conftest import (
    DaemonFactory,
    base_env,
    mailto,
    recovery,
    strava_settings,
    wait_until,
)
from tests.doubles.receivers import SmtpReceiver
from tests.doubles.strava_double import StravaDouble

pytestmark = pytest.mark.slow

ATHLETE = 2024
# Zones without DST, one per UTC offset: whatever the hour the test runs, one of them is mid-morning,
# so "tonight 20:00" and "tomorrow 08:00" keep their plain meaning (no quiet-hours or end + 1 h shifts).
FIXED_ZONES = [
    "Pacific/Pago_Pago",
    "Pacific/Honolulu",
    "Pacific/Gambier",
    "Pacific/Pitcairn",
    "America/Phoenix",
    "America/Regina",
    "America/Panama",
    "America/Santo_Domingo",
    "America/Sao_Paulo",
    "America/Noronha",
    "Atlantic/Cape_Verde",
    "UTC",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Pacific/Guadalcanal",
    "Pacific/Tarawa",
    "Pacific/Tongatapu",
    "Pacific/Kiritimati",
]


def mid_morning_zone(now: datetime) -> ZoneInfo:
    for name in FIXED_ZONES:
        zone = ZoneInfo(name)
        if 9 <= now.astimezone(zone).hour < 12:
            return zone
    raise AssertionError("no fixed-offset zone is mid-morning now")


def reminders(env: dict[str, str], cwd: Path, command: str) -> dict[str, dict[str, Any]]:
    result = recovery(env, cwd, command, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {row["step"]: row for row in rows}


def test_race_to_ice_email_then_retag_and_delete(
    daemon: DaemonFactory, double: StravaDouble, smtp: SmtpReceiver, tmp_path: Path
) -> None:
    settings = strava_settings(double, mailto(smtp.port), RECOVERY_STRAVA__POLL_INTERVAL="30")
    env = base_env(tmp_path / "data", tmp_path) | settings
    double.add_athlete(ATHLETE, "Ada", "Runner")
    connected = recovery(env, tmp_path, "auth", "--code", double.issue_code(ATHLETE))
    assert connected.returncode == 0, connected.stderr

    d = daemon(settings)
    now = datetime.now(UTC)
    zone = mid_morning_zone(now)
    offset = now.astimezone(zone).strftime("%z")
    race = double.add_activity(
        ATHLETE,
        name="Riverside 10K",
        workout_type=1,
        start_date=now - timedelta(minutes=47),
        distance=10_020.0,
        moving_time=44 * 60,
        elapsed_time=45 * 60,
        timezone=f"(GMT{offset[:3]}:{offset[3:]}) {zone.key}",
        average_heartrate=171.0,
        max_heartrate=184,
    )

    mail = smtp.wait_for(1, timeout=60)[0]
    assert mail.subject == "Ice now — Riverside 10K"
    assert "10–15 min" in mail.text() and "race" in mail.text()

    today = now.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    local = today.isoformat(), tomorrow.isoformat()
    pending = reminders(env, tmp_path, "upcoming")
    tz = f"{offset[:3]}:{offset[3:]}"
    assert pending["leg_massager"]["due_at"] == f"{local[0]}T20:00:00{tz}"
    assert pending["foot_massager"]["due_at"].startswith(f"{local[0]}T20:")
    assert pending["foam_roll"]["due_at"] == f"{local[1]}T08:00:00{tz}"
    assert "ice" not in pending

    # Re-tagged as a workout: speedwork has no foot massage; ice stays sent, never sent again.
    double.update_activity(int(race["id"]), workout_type=3, name="Riverside 6x800m")

    def foot_massage_cancelled() -> bool:
        return reminders(env, tmp_path, "history").get("foot_massager", {}).get("status") == "cancelled"

    wait_until(foot_massage_cancelled, 90, "the re-tag to cancel the foot massage", interval=2)
    pending = reminders(env, tmp_path, "upcoming")
    assert {"leg_massager", "foam_roll"} <= set(pending) and "foot_massager" not in pending

    # Deleted on Strava: nothing more is sent for it.
    double.delete_activity(int(race["id"]))
    wait_until(lambda: not reminders(env, tmp_path, "upcoming"), 90, "the deletion to cancel", interval=2)
    history = reminders(env, tmp_path, "history")
    assert history["ice"]["status"] == "sent"
    assert history["leg_massager"]["status"] == "cancelled"
    assert len(smtp.mails) == 1  # exactly one email: the ice, once
    assert d.stop() == 0
