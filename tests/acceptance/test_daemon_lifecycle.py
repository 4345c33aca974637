"""`recovery run` from the outside: starting, guiding a new user, refusing bad configuration, stopping."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.acceptance.conftest import DaemonFactory, base_env, recovery_command

pytestmark = pytest.mark.slow

HTTP_TOKEN = "acceptance-status-token-123"


def test_starts_with_nothing_configured_and_says_what_to_do(daemon: DaemonFactory) -> None:
    d = daemon()
    health = d.wait_healthy()
    assert health["status"] == "ok"
    assert health["database"]["ok"] is True

    d.wait_for_log(r"no notification destination")
    logs = d.logs()
    for instruction in (
        "RECOVERY_STRAVA__CLIENT_ID",
        "RECOVERY_STRAVA__CLIENT_SECRET",
        "recovery auth",
        "RECOVERY_NOTIFY__URLS",
    ):
        assert instruction in logs
    # It keeps running, serving its status.
    status, body = d.get("/status")
    assert status == 200
    assert body["athletes"] == [] and body["upcoming"] == []
    assert d.returncode() is None
    assert (d.data_dir / "recovery.db").is_file()
    assert d.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_exits_0_within_seconds(daemon: DaemonFactory, sig: int) -> None:
    d = daemon()
    assert d.stop(sig) == 0  # stop() fails when the daemon is still running after STOP_DEADLINE
    assert "stopped" in d.logs()


def test_it_restarts_on_the_same_database(daemon: DaemonFactory) -> None:
    first = daemon()
    assert first.stop() == 0
    second = daemon()
    assert second.wait_healthy()["status"] == "ok"
    assert second.stop() == 0


def run_to_exit(env: dict[str, str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*recovery_command(), "run"], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_corrupted_protocols_file_exits_2_with_one_line_and_touches_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = base_env(data_dir, tmp_path)
    bad = tmp_path / "protocols.yaml"
    bad.write_text("version: 1\nsteps:\n  - key: ice_now\n    when: [unclosed\n")
    env["RECOVERY_PROTOCOLS_FILE"] = str(bad)

    result = run_to_exit(env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("recovery: error:") and str(bad) in lines[0]
    assert not data_dir.exists()  # no database created, not even the directory


def test_a_corrupted_protocols_file_leaves_an_existing_database_as_it_was(
    daemon: DaemonFactory, tmp_path: Path
) -> None:
    d = daemon()
    assert d.stop() == 0
    database = d.data_dir / "recovery.db"
    before = digest(database)

    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nsteps: not-a-list\n")
    env = dict(d.env, RECOVERY_PROTOCOLS_FILE=str(bad))
    result = run_to_exit(env, tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert digest(database) == before


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("RECOVERY_HTTP__PORT", "not-a-port", "RECOVERY_HTTP__PORT"),
        ("RECOVERY_TIMEZONE", "Mars/Olympus_Mons", "RECOVERY_TIMEZONE"),
        ("RECOVERY_HTTP__HOST", "0.0.0.0", "RECOVERY_HTTP__TOKEN"),  # exposed without a token
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_it(
    tmp_path: Path, setting: str, value: str, named: str
) -> None:
    data_dir = tmp_path / "data"
    env = base_env(data_dir, tmp_path)
    env[setting] = value
    result = run_to_exit(env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert not data_dir.exists()


def test_a_busy_port_is_a_clear_failure(daemon: DaemonFactory, tmp_path: Path) -> None:
    first = daemon()
    port = first.url.rsplit(":", 1)[1]
    env = base_env(tmp_path / "other", tmp_path)
    env["RECOVERY_HTTP__PORT"] = port
    result = run_to_exit(env, tmp_path)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert first.stop() == 0


def test_status_needs_the_token_when_listening_beyond_loopback(daemon: DaemonFactory) -> None:
    d = daemon({"RECOVERY_HTTP__HOST": "0.0.0.0", "RECOVERY_HTTP__TOKEN": HTTP_TOKEN})
    assert "listening on http://0.0.0.0:" in d.logs()
    assert d.get("/status")[0] == 401
    assert d.get("/status", {"Authorization": "Bearer nope"})[0] == 401
    status, body = d.get("/status", {"Authorization": f"Bearer {HTTP_TOKEN}"})
    assert status == 200 and "athletes" in body
    assert d.get("/healthz")[0] == 200
    assert HTTP_TOKEN not in d.logs()
    assert d.stop() == 0


def webhook_env() -> dict[str, str]:
    return {
        "RECOVERY_STRAVA__CLIENT_ID": "4242",
        "RECOVERY_STRAVA__CLIENT_SECRET": "client-secret-for-acceptance",
        "RECOVERY_STRAVA__WEBHOOK_VERIFY_TOKEN": "verify-me-please",
    }


def test_malformed_webhook_bodies_get_400_and_the_daemon_keeps_running(daemon: DaemonFactory) -> None:
    d = daemon(webhook_env())
    for body in (
        b"",
        b"{not json",
        b"[1, 2, 3]",
        b'"just a string"',
        b"\xff\xfe\x00",
        json.dumps({"a": 1}).encode(),
    ):
        status, _ = d.post("/webhooks/strava", body, {"Content-Type": "application/json"})
        assert status == 400, body
    assert d.wait_healthy()["status"] == "ok"
    assert d.returncode() is None
    assert d.stop() == 0


def test_the_webhook_handshake_checks_the_verify_token(daemon: DaemonFactory) -> None:
    d = daemon(webhook_env())

    def handshake(token: str) -> tuple[int, dict[str, object]]:
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": "ch4ll3nge", "hub.verify_token": token})
        return d.get(f"/webhooks/strava?{query}")

    assert handshake("verify-me-please") == (200, {"hub.challenge": "ch4ll3nge"})
    status, body = handshake("guess")
    assert status == 403 and "ch4ll3nge" not in json.dumps(body)
    assert d.stop() == 0


def test_without_a_verify_token_the_webhook_path_does_not_exist(daemon: DaemonFactory) -> None:
    d = daemon()
    assert d.get("/webhooks/strava?hub.challenge=x")[0] == 404
    assert d.stop() == 0


def test_json_logs_are_one_object_per_line_without_secrets(daemon: DaemonFactory) -> None:
    env = webhook_env() | {
        "RECOVERY_LOG_FORMAT": "json",
        "RECOVERY_NOTIFY__URLS": "ntfys://ntfy.example/secret-topic",
    }
    d = daemon(env)
    assert d.stop() == 0
    lines = [line for line in d.logs().splitlines() if line.strip()]
    assert lines
    records = [json.loads(line) for line in lines]
    assert {"ts", "level", "logger", "msg"} <= set(records[0])
    text = d.logs()
    for secret in ("client-secret-for-acceptance", "verify-me-please", "secret-topic"):
        assert secret not in text


def test_python_dash_m_runs_the_same_daemon(tmp_path: Path) -> None:
    # The Dockerfile and the unit call the console script; `python -m scheduler run` must behave alike.
    env = base_env(tmp_path / "data", tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "run", "--help"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Run the daemon" in out
