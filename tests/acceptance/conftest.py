"""The daemon as a user runs it: `recovery run` in a subprocess with a temporary data directory.

    def test_something(daemon: DaemonFactory) -> None:
        d = daemon({"RECOVERY_NOTIFY__URLS": "json://127.0.0.1:9999/"})   # started, healthy
        status, body = d.get("/status")
        assert d.stop() == 0                                              # SIGTERM, exits within 10 s

Each test gets its own data directory; calling the factory again in the same test reuses it, so a test can
stop or kill the daemon and start it again on the same database. The HTTP port is chosen by the daemon
(RECOVERY_HTTP__PORT=0) and read from its "listening on" log line. Every process still running at the end of
a test is killed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.doubles.strava_double import StravaDouble

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (http://[^\s\"]+?)(?=[\s\"(]|$)")
STOP_DEADLINE = 10.0


def recovery_command() -> list[str]:
    script = Path(sys.executable).with_name("recovery")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scheduler"]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class DaemonProcess:
    def __init__(self, data_dir: Path, env: Mapping[str, str], work_dir: Path, run_number: int) -> None:
        self.data_dir = data_dir
        self.env = dict(env)
        self.log_path = work_dir / f"daemon-{run_number}.log"
        self._log_file = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*recovery_command(), "run"],
            cwd=work_dir,  # no stray .env from the repository
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self._url: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def db_url(self) -> str:
        return self.env.get("RECOVERY_DATABASE_URL") or f"sqlite:///{self.data_dir / 'recovery.db'}"

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def returncode(self) -> int | None:
        return self.proc.poll()

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            match = regex.search(self.logs())
            if match is None and self.proc.poll() is not None:
                raise AssertionError(
                    f"daemon exited ({self.proc.returncode}) before logging {pattern!r}:\n{self.logs()}"
                )
            return match

        result: re.Match[str] = wait_until(found, timeout, f"log line {pattern!r}")
        return result

    @property
    def url(self) -> str:
        """Where to reach the listener; a wildcard bind (0.0.0.0, ::) is reached through loopback."""
        if self._url is None:
            logged = self.wait_for_log(LISTENING.pattern).group(1)
            self._url = logged.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")
        return self._url

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(req, timeout=5) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")}
        return status, parsed

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        return self.request("GET", path, headers=headers)

    def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        return self.request("POST", path, body=body, headers=headers)

    def wait_healthy(self, timeout: float = 15.0) -> dict[str, Any]:
        url = self.url  # waits for the listener first

        def healthy() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}):\n{self.logs()}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    body: dict[str, Any] = json.loads(response.read())
                    return body
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return None

        result: dict[str, Any] = wait_until(healthy, timeout, "a healthy /healthz")
        return result

    def wait_exit(self, timeout: float = STOP_DEADLINE) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"daemon still running after {timeout:.0f} s:\n{self.logs()}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_DEADLINE) -> int:
        """Send SIGTERM (or `sig`) and wait for the exit; fails if it takes longer than `timeout` seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.wait_exit(timeout)
        self._log_file.close()
        return code

    def kill(self) -> None:
        """SIGKILL: a crash or a power cut, no chance to clean up."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(STOP_DEADLINE)
        self._log_file.close()


class DaemonFactory(Protocol):
    def __call__(
        self, env: Mapping[str, str] | None = None, *, wait: bool = True, data_dir: Path | None = None
    ) -> DaemonProcess: ...


def base_env(data_dir: Path, home: Path) -> dict[str, str]:
    """A clean environment: nothing RECOVERY_* from the caller, a private home, loopback on a free port."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RECOVERY_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
            "RECOVERY_DATA_DIR": str(data_dir),
            "RECOVERY_HTTP__HOST": "127.0.0.1",
            "RECOVERY_HTTP__PORT": "0",
            "RECOVERY_TIMEZONE": "Europe/London",
            # Nothing in a test may reach the real Strava.
            "RECOVERY_STRAVA__API_URL": "http://127.0.0.1:9/api/v3",
            "RECOVERY_STRAVA__OAUTH_URL": "http://127.0.0.1:9/oauth",
        }
    )
    return env


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonFactory]:
    started: list[DaemonProcess] = []
    home = tmp_path / "home"
    home.mkdir()

    def start(
        env: Mapping[str, str] | None = None, *, wait: bool = True, data_dir: Path | None = None
    ) -> DaemonProcess:
        directory = data_dir or tmp_path / "data"
        full_env = base_env(directory, home)
        full_env.update(env or {})
        process = DaemonProcess(directory, full_env, tmp_path, len(started) + 1)
        started.append(process)
        if wait:
            process.wait_healthy()
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.kill()


def strava_settings(double: Any, notify_url: str, **extra: str) -> dict[str, str]:
    """Settings that point the daemon at a Strava double and send reminders to `notify_url`."""
    return {
        "RECOVERY_STRAVA__API_URL": double.api_url,
        "RECOVERY_STRAVA__OAUTH_URL": double.oauth_url,
        "RECOVERY_STRAVA__CLIENT_ID": str(double.client_id),
        "RECOVERY_STRAVA__CLIENT_SECRET": double.client_secret,
        "RECOVERY_NOTIFY__URLS": notify_url,
        **extra,
    }


def mailto(port: int) -> str:
    """The apprise URL of a plain (no TLS, no auth) SMTP server on loopback."""
    return f"mailto://127.0.0.1:{port}?from=recovery@example.org&to=ada@example.org&mode=insecure"


def recovery(env: Mapping[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One `recovery …` command as a user types it, beside (or instead of) the daemon."""
    return subprocess.run(
        [*recovery_command(), *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def double() -> Iterator[StravaDouble]:
    """A started Strava double; a loaded machine may take a moment to answer the webhook handshake."""
    with StravaDouble() as strava:
        strava.callback_timeout = 5.0
        yield strava
