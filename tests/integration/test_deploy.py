"""The deployment files agree with the program: same entry command, real setting names, a working health
check, a sandboxed systemd unit that systemd accepts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from scheduler.settings import ENV_PREFIX, Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
UNIT = DEPLOY / "recovery-scheduler.service"
ENTRY = ["recovery", "run"]
SETTING_NAME = re.compile(r"\bRECOVERY_[A-Z0-9_]*[A-Z0-9]\b")


def settings_env_names() -> set[str]:
    names = {f"{ENV_PREFIX}CONFIG_FILE"}
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f"{ENV_PREFIX}{name.upper()}__{sub.upper()}" for sub in annotation.model_fields}
        else:
            names.add(f"{ENV_PREFIX}{name.upper()}")
    return names


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile(keyword: str) -> list[str]:
    return [rest for kw, rest in dockerfile_instructions() if kw == keyword]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def unit_directives() -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


# -- one program, one command, real settings -----------------------------------------------------------------


def test_every_setting_named_in_the_deploy_files_exists() -> None:
    known = settings_env_names()
    for path in (DOCKERFILE, COMPOSE, UNIT, DEPLOY / "README.md"):
        for name in set(SETTING_NAME.findall(path.read_text())):
            assert name in known, f"{path.name} names {name}, which scheduler/settings.py does not define"


def test_the_console_script_is_the_entry_everywhere() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["recovery"] == "scheduler.cli:main"

    assert [json.loads(cmd) for cmd in dockerfile("CMD")] == [ENTRY]
    assert not dockerfile("ENTRYPOINT")
    services = compose()["services"]
    daemons = {name: s for name, s in services.items() if name.startswith("recovery")}
    assert set(daemons) == {"recovery", "recovery-pg"}
    for name, service in daemons.items():
        assert service["command"] == ENTRY, name
    (exec_start,) = unit_directives()["ExecStart"]
    program, *args = exec_start.split()
    assert Path(program).name == "recovery" and args == ["run"]


def test_state_lives_in_the_data_volume_and_the_state_directory() -> None:
    env = " ".join(dockerfile("ENV"))
    assert "RECOVERY_DATA_DIR=/data" in env
    assert dockerfile("VOLUME") == ['["/data"]']
    for service in compose()["services"].values():
        if "command" in service:
            assert service["environment"]["RECOVERY_DATA_DIR"] == "/data"
            assert any(volume.endswith(":/data") for volume in service["volumes"])
    unit = unit_directives()
    assert "RECOVERY_DATA_DIR=%S/recovery-scheduler" in unit["Environment"]
    assert unit["StateDirectory"] == ["recovery-scheduler"]
    assert unit["EnvironmentFile"] == ["-/etc/recovery-scheduler/env"]


def test_the_image_runs_as_a_non_root_user_and_installs_the_wheel() -> None:
    users = dockerfile("USER")
    assert users and users[-1] not in ("root", "0")
    runs = dockerfile("RUN")
    assert any("pip wheel --wheel-dir /wheels /src" in run for run in runs)
    assert any("pip install --no-index --find-links /wheels recovery-scheduler" in run for run in runs)
    assert not any("pip install -e" in run for run in runs)  # the package needs no source tree beside it
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_exposed_listeners_require_a_token_in_compose() -> None:
    for name, service in compose()["services"].items():
        environment = service.get("environment", {})
        if environment.get("RECOVERY_HTTP__HOST") == "0.0.0.0":
            assert environment.get("RECOVERY_HTTP__TOKEN", "").startswith("${RECOVERY_HTTP__TOKEN:?"), name


def test_compose_runs_sqlite_by_default_and_postgres_with_two_replicas_in_its_profile() -> None:
    services = compose()["services"]
    default = [name for name, service in services.items() if not service.get("profiles")]
    assert default == ["recovery"]
    assert "RECOVERY_DATABASE_URL" not in services["recovery"]["environment"]
    assert services["postgres"]["profiles"] == ["postgres"]
    replicas = services["recovery-pg"]
    assert replicas["profiles"] == ["postgres"]
    assert replicas["deploy"]["replicas"] == 2
    assert replicas["environment"]["RECOVERY_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert replicas["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("recovery", "recovery-pg"):
        grace = services[name]["stop_grace_period"]
        assert int(grace.rstrip("s")) > 10, name  # the daemon's own stop deadline


# -- the health check ----------------------------------------------------------------------------------------


@pytest.fixture
def health_server() -> Iterator[tuple[int, list[int]]]:
    """A stand-in /healthz whose status the test sets."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status[0] if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield int(server.server_address[1]), status
    server.shutdown()
    server.server_close()


def test_the_image_health_check_is_python_and_follows_healthz(health_server: tuple[int, list[int]]) -> None:
    (healthcheck,) = dockerfile("HEALTHCHECK")
    assert "curl" not in healthcheck and "wget" not in healthcheck
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"]
    port, status = health_server

    def probe() -> int:
        env = {"RECOVERY_HTTP__PORT": str(port), "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [sys.executable, "-c", command[2]], env=env, capture_output=True, timeout=20
        ).returncode

    assert probe() == 0
    status[0] = 503
    assert probe() != 0


# -- the systemd unit ----------------------------------------------------------------------------------------

SANDBOXING = {
    "DynamicUser": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
}


def test_the_unit_is_sandboxed_and_stops_in_time() -> None:
    unit = unit_directives()
    for key, value in SANDBOXING.items():
        assert unit.get(key) == [value], key
    assert "@system-service" in unit["SystemCallFilter"]
    assert unit["KillSignal"] == ["SIGTERM"]
    assert int(unit["TimeoutStopSec"][0]) > 10
    assert unit["RestartPreventExitStatus"] == ["2"]  # a configuration error: restarting will not help


def unit_for_this_machine(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's console script (verify checks it exists)."""
    recovery = Path(sys.executable).with_name("recovery")
    if not recovery.exists():
        pytest.skip(f"no console script at {recovery}")
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={recovery}", UNIT.read_text(), flags=re.MULTILINE)
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    return copy


def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd) — the unit was not verified")
    return path


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    result = subprocess.run(
        [analyze, "verify", str(unit_for_this_machine(tmp_path))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr and "Unknown lvalue" not in result.stderr, result.stderr


def test_systemd_rates_the_unit_well_sandboxed(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    result = subprocess.run(
        [analyze, "security", "--offline=yes", str(unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout + result.stderr)
    if result.returncode != 0 and match is None:
        pytest.skip(
            f"systemd-analyze security --offline is not supported here: {result.stderr.strip()[:200]}"
        )
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= 2.0  # systemd calls up to 2.0 "OK"
