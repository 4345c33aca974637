"""The package installs like any other: a wheel built from the repository, installed into a fresh virtual
environment outside it, migrates, plans and runs without the source tree."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.resources import PROTOCOLS_FILE

REPO = Path(__file__).resolve().parents[2]
RACE = REPO / "tests" / "data" / "race.json"
LISTENING = re.compile(r"listening on (http://[^\s\"]+?)(?=[\s\"(]|$)")
LOCAL_STATE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")
OWN_DISTRIBUTION = re.compile(r"^(recovery_scheduler[-.]|__editable__)", re.IGNORECASE)


def test_the_users_copy_of_the_protocols_is_the_packaged_default() -> None:
    assert (REPO / "config" / "protocols.yaml").read_bytes() == PROTOCOLS_FILE.read_bytes()
    assert PROTOCOLS_FILE.is_relative_to(REPO / "scheduler")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding the wheel, and the dependencies this venv already has (no network)."""
    work = tmp_path_factory.mktemp("wheel-install")
    # Built from a copy: the build leaves build/ and *.egg-info behind, and must not see stale ones.
    source = work / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*LOCAL_STATE))
    dist = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), source])
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    fresh_site = Path(run([str(python), "-c", purelib]).strip())
    # The dependencies, seen through links: this project's own (editable) install stays out of sight.
    dependencies = work / "dependencies"
    dependencies.mkdir()
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not OWN_DISTRIBUTION.match(entry.name) and entry.suffix != ".pth":
            (dependencies / entry.name).symlink_to(entry)
    (fresh_site / "dependencies.pth").write_text(f"{dependencies}\n")
    wheels = list(dist.glob("recovery_scheduler-*.whl"))
    assert len(wheels) == 1, wheels
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    # Without --no-deps: every declared dependency must be found among the installed ones.
    run([*pip, "install", "--no-index", "--find-links", str(dist), "recovery-scheduler"])
    yield venv


def run(command: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def user_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECOVERY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"HOME": str(home), "RECOVERY_DATA_DIR": str(home / "data"), "RECOVERY_TIMEZONE": "UTC"})
    return env


@pytest.mark.slow
def test_the_wheel_holds_the_code_and_its_resources(installed: Path) -> None:
    script = (
        "import scheduler, scheduler.resources as r, scheduler.store.migrate as m\n"
        "print(scheduler.__file__)\n"
        "print(r.PROTOCOLS_FILE.is_file(), (m.SCRIPTS / 'env.py').is_file())"
    )
    lines = run([str(installed / "bin" / "python"), "-c", script], cwd=installed).splitlines()
    assert Path(lines[0]).is_relative_to(installed), "the wheel's copy is imported, not the repository's"
    assert lines[1] == "True True"


@pytest.mark.slow
def test_the_installed_command_migrates_plans_and_runs_healthy(installed: Path, tmp_path: Path) -> None:
    recovery = str(installed / "bin" / "recovery")
    env = user_env(tmp_path)
    run([recovery, "db", "upgrade"], cwd=tmp_path, env=env)
    assert (tmp_path / "data" / "recovery.db").is_file()

    plan = run([recovery, "plan", str(RACE), "--now", "2026-05-16T12:00:00+00:00"], cwd=tmp_path, env=env)
    assert '"step": "ice"' in plan and "Harbourfront 10K" in plan

    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [recovery, "run"], cwd=tmp_path, env={**env, "RECOVERY_HTTP__PORT": "0"}, stdout=out, stderr=out
        )
    try:
        assert wait_healthy(daemon, log), log.read_text()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def wait_healthy(daemon: subprocess.Popen[bytes], log: Path, within: float = 60.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and daemon.poll() is None:
        match = LISTENING.search(log.read_text())
        if match is not None:
            try:
                with urllib.request.urlopen(match.group(1) + "/healthz", timeout=2) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.05)
    return False
