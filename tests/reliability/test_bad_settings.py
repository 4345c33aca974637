"""Bad settings and an unusable data directory, as a user meets them: the real `recovery` command as a
subprocess. Each stops at start with exit 2 (1 for a runtime failure such as a full disk) and ONE line on
stderr naming the setting or the path, and writes nothing: no database file, no data directory."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from scheduler.settings import load_settings
from scheduler.store import db, migrate

STRAVA_APP = {"RECOVERY_STRAVA__CLIENT_ID": "12345", "RECOVERY_STRAVA__CLIENT_SECRET": "app-secret"}
# Every command that opens the store, and the daemon.
STORE_COMMANDS = [["run"], ["db", "upgrade"], ["athletes"], ["upcoming"], ["history"]]


def recovery(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
    environment.update(
        {
            "RECOVERY_DATA_DIR": str(tmp_path / "data"),
            "RECOVERY_TIMEZONE": "UTC",
            "RECOVERY_HTTP__PORT": "0",
            **(env or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
        preexec_fn=preexec_fn,
    )


def one_error_line(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("recovery: "), lines[0]
    return lines[0]


# -- notification destinations --------------------------------------------------------------------------


def test_an_unknown_url_scheme_stops_the_daemon_at_start(tmp_path: Path) -> None:
    result = recovery(
        tmp_path, "run", env={"RECOVERY_NOTIFY__URLS": "json://127.0.0.1:9/ok notaurl://s3cret@host"}
    )
    line = one_error_line(result)
    assert "RECOVERY_NOTIFY__URLS" in line and "notaurl://" in line
    assert "s3cret" not in line
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("version: 1\nurls:\n  - json://localhost/x:\n    tag: [urgent\n", "Invalid Apprise YAML"),
        ("version: 1\nurls:\n  - notaurl://s3cret@host\n", "notaurl://"),
        ("version: 1\nurls:\n  - notaurl://s3cret@host\n  - json://localhost/x\n", "notaurl://"),
        ("version: 1\nurls: []\n", "holds no apprise URL"),
    ],
    ids=["bad-yaml", "no-valid-url", "one-bad-url", "empty"],
)
def test_a_malformed_apprise_config_stops_the_daemon_at_start(
    tmp_path: Path, content: str, reason: str
) -> None:
    config = tmp_path / "apprise.yaml"
    config.write_text(content)
    line = one_error_line(recovery(tmp_path, "run", env={"RECOVERY_NOTIFY__CONFIG": str(config)}))
    assert "RECOVERY_NOTIFY__CONFIG" in line and "apprise.yaml" in line and reason in line
    assert "s3cret" not in line
    assert not (tmp_path / "data").exists()


def test_a_bad_destination_stops_sync_before_the_database(tmp_path: Path) -> None:
    env = {**STRAVA_APP, "RECOVERY_NOTIFY__URLS": "notaurl://x"}
    line = one_error_line(recovery(tmp_path, "sync", env=env))
    assert "RECOVERY_NOTIFY__URLS" in line
    assert not (tmp_path / "data").exists()


def test_an_athletes_own_bad_url_is_refused_when_set(tmp_path: Path) -> None:
    line = one_error_line(recovery(tmp_path, "athletes", "notify", "1001", "notaurl://s3cret@host"))
    assert "notaurl://" in line and "s3cret" not in line
    assert not (tmp_path / "data").exists()


def test_good_destinations_pass_the_check(tmp_path: Path) -> None:
    config = tmp_path / "apprise.yaml"
    config.write_text("version: 1\nurls:\n  - json://localhost/x:\n      tag: urgent\n")
    from scheduler.notify.check import destinations_problem  # loads apprise: only this test

    assert destinations_problem(["ntfy://ntfy.sh/topic", "json://localhost/y"], config) is None


# -- bounds ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("RECOVERY_STRAVA__POLL_INTERVAL", "1000000000000"),
        ("RECOVERY_STRAVA__WEBHOOK_POLL_INTERVAL", "1000000000000"),
        ("RECOVERY_STRAVA__OVERLAP_HOURS", "1e12"),
        ("RECOVERY_DISPATCH__LEASE_SECONDS", "100000"),
        ("RECOVERY_DISPATCH__SWEEP_INTERVAL", "1000000000000"),
        ("RECOVERY_DISPATCH__MAX_ATTEMPTS", "1000000"),
        ("RECOVERY_DISPATCH__BATCH_SIZE", "100000000"),
        ("RECOVERY_DISPATCH__RETRY_FIRST", "1000000000000"),
        ("RECOVERY_DISPATCH__RETRY_MAX", "1000000000000"),
    ],
)
def test_an_absurd_duration_or_count_is_refused(tmp_path: Path, setting: str, value: str) -> None:
    line = one_error_line(recovery(tmp_path, "run", env={setting: value}))
    assert line.startswith(f"recovery: error: {setting}: ")
    assert not (tmp_path / "data").exists()


def test_a_send_timeout_over_half_the_lease_is_refused_naming_both(tmp_path: Path) -> None:
    env = {"RECOVERY_NOTIFY__TIMEOUT": "31", "RECOVERY_DISPATCH__LEASE_SECONDS": "60"}
    line = one_error_line(recovery(tmp_path, "run", env=env))
    assert "RECOVERY_NOTIFY__TIMEOUT" in line and "RECOVERY_DISPATCH__LEASE_SECONDS" in line
    assert not (tmp_path / "data").exists()


def test_the_bounds_accept_their_limits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "RECOVERY_STRAVA__POLL_INTERVAL": "86400",
        "RECOVERY_STRAVA__OVERLAP_HOURS": "720",
        "RECOVERY_DISPATCH__LEASE_SECONDS": "60",
        "RECOVERY_NOTIFY__TIMEOUT": "30",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.strava.poll_interval == 86400 and settings.notify.timeout == 30


# -- the TOML file --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[strava]\npoll_interval = 1000000000000\n", "config.toml: [strava] poll_interval: "),
        ("log_format = 'xml'\n", "config.toml: log_format: "),
        ("[strava]\npol_interval = 600\n", "config.toml: [strava] pol_interval: unknown setting"),
        ("[strava\npoll_interval = 600\n", "config.toml: not valid TOML: "),
        ("[dispatch]\nlease_seconds = 30\n", "more than half of config.toml: [dispatch] lease_seconds"),
    ],
    ids=["bound", "bad-top-level", "unknown-key", "syntax", "conflict"],
)
def test_a_bad_value_in_the_toml_file_is_named_by_its_key(
    tmp_path: Path, content: str, expected: str
) -> None:
    (tmp_path / "config.toml").write_text(content)
    line = one_error_line(recovery(tmp_path, "run", env={"RECOVERY_CONFIG_FILE": "config.toml"}))
    assert expected in line
    assert "RECOVERY_STRAVA__POLL_INTERVAL" not in line
    assert not (tmp_path / "data").exists()


def test_the_environment_wins_over_the_toml_file_and_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[strava]\npoll_interval = 600\n")
    env = {"RECOVERY_CONFIG_FILE": "config.toml", "RECOVERY_STRAVA__POLL_INTERVAL": "1000000000000"}
    line = one_error_line(recovery(tmp_path, "athletes", env=env))
    assert line.startswith("recovery: error: RECOVERY_STRAVA__POLL_INTERVAL: ")


# -- the database ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nonsense", "not a database URL"),
        ("mysql://user:s3cret@db.example.org/recovery", "driver for mysql:// is not installed"),
    ],
    ids=["nonsense", "mysql-without-driver"],
)
def test_a_database_url_that_cannot_work_is_one_line(
    tmp_path: Path, command: list[str], url: str, expected: str
) -> None:
    line = one_error_line(recovery(tmp_path, *command, env={"RECOVERY_DATABASE_URL": url}))
    assert line.startswith("recovery: error: RECOVERY_DATABASE_URL: ") and expected in line
    assert "s3cret" not in line
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_file_that_is_not_a_database_is_one_line_and_left_alone(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    junk = os.urandom(8192)
    (data / "recovery.db").write_bytes(junk)
    line = one_error_line(recovery(tmp_path, *command))
    assert str(data / "recovery.db") in line and "not a SQLite database" in line
    assert (data / "recovery.db").read_bytes() == junk
    assert sorted(p.name for p in data.iterdir()) == ["recovery.db"]


def test_a_corrupt_database_behind_a_valid_header_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "recovery.db").write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    line = one_error_line(recovery(tmp_path, "db", "upgrade"))
    assert str(data / "recovery.db") in line and "not a SQLite database" in line


def _mount_tmpfs(directory: Path, options: str) -> bool:
    directory.mkdir(mode=0o700)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)], capture_output=True, check=False
    )
    return mounted.returncode == 0


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory this process cannot write: a read-only tmpfs as root, mode 0500 otherwise."""
    directory = tmp_path / "ro"
    if os.geteuid() != 0:
        directory.mkdir(mode=0o500)
        yield directory
        directory.chmod(0o700)
        return
    if not _mount_tmpfs(directory, "ro,size=64k,mode=0700"):
        pytest.skip("running as root but cannot mount a read-only tmpfs (root ignores permission bits)")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=False)


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]], ids=" ".join)
def test_a_read_only_data_dir_is_named(read_only_dir: Path, tmp_path: Path, command: list[str]) -> None:
    line = one_error_line(recovery(tmp_path, *command, env={"RECOVERY_DATA_DIR": str(read_only_dir)}))
    reason = "on a read-only file system" if os.geteuid() == 0 else "not writable for this user"
    assert line.endswith(f"{read_only_dir}: the data directory is {reason}")
    assert not list(read_only_dir.iterdir())


def test_a_data_dir_that_cannot_be_created_is_named(read_only_dir: Path, tmp_path: Path) -> None:
    wanted = read_only_dir / "recovery-scheduler"
    line = one_error_line(recovery(tmp_path, "db", "upgrade", env={"RECOVERY_DATA_DIR": str(wanted)}))
    assert f"{wanted}: cannot create the data directory" in line


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None] | None]]:
    """A data directory on a 64 KiB tmpfs (as root); otherwise a file size limit of 64 KiB on the command
    (RLIMIT_FSIZE: writes beyond it fail with EFBIG, as on a full disk)."""
    directory = tmp_path / "small"
    if os.geteuid() == 0 and _mount_tmpfs(directory, "size=64k,mode=0700"):
        try:
            yield directory, None
        finally:
            subprocess.run(["umount", str(directory)], check=False)
        return
    directory.mkdir(mode=0o700, exist_ok=True)

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    yield directory, limit_file_size


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]], ids=" ".join)
def test_a_full_disk_leaves_no_empty_database(
    full_disk: tuple[Path, Callable[[], None] | None], tmp_path: Path, command: list[str]
) -> None:
    directory, preexec = full_disk
    result = recovery(tmp_path, *command, env={"RECOVERY_DATA_DIR": str(directory)}, preexec_fn=preexec)
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("recovery: database error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not [p.name for p in directory.iterdir() if p.name.startswith("recovery.db")]


# -- file modes -----------------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_is_0700_and_the_database_0600(tmp_path: Path) -> None:
    result = recovery(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "recovery.db") == 0o600


def test_wal_and_shm_files_are_0600_while_in_use(tmp_path: Path) -> None:
    path = tmp_path / "data" / "recovery.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            connection.execute(text("select count(*) from athletes"))
            companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(p.exists() for p in companions)
            assert [mode(p) for p in companions] == [0o600, 0o600]
    finally:
        engine.dispose()


def test_an_existing_database_is_tightened_and_a_loose_dir_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "shared"
    data.mkdir()
    data.chmod(0o755)
    path = data / "recovery.db"
    first = db.make_engine(f"sqlite:///{path}")
    migrate.upgrade(first)
    first.dispose()
    path.chmod(0o644)
    Path(f"{path}-wal").write_bytes(b"")
    Path(f"{path}-wal").chmod(0o644)
    with caplog.at_level("WARNING", logger="scheduler.store.db"):
        engine = db.make_engine(f"sqlite:///{path}")
        assert mode(path) == 0o600 and mode(Path(f"{path}-wal")) == 0o600
        migrate.upgrade(engine)
        engine.dispose()
        db.make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600
    assert mode(data) == 0o755  # the user's directory: said, not changed
    warnings = [r.getMessage() for r in caplog.records if str(data) in r.getMessage()]
    assert len(warnings) == 1 and "chmod 700" in warnings[0]
