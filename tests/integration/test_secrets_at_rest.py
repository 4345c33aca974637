"""Strava tokens and apprise URLs are sealed in the database with a key kept outside it (issue 8).

The raw column values are read with plain SQL, never through the ORM, so what they show is what an attacker
holding only the database (a stolen backup, a shared PostgreSQL) would see.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import MetaData, Table, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli import main
from scheduler.cli.common import Store, open_store
from scheduler.daemon.app import connected_athletes
from scheduler.logs import Redactor
from scheduler.settings import Settings, StravaSettings
from scheduler.store import athletes as athlete_store
from scheduler.store import migrate, models, secret_keys
from scheduler.store.db import make_engine, transaction
from scheduler.store.sealed import SecretKeyError, new_key
from scheduler.strava import oauth, tokens
from scheduler.strava.client import client_factory
from scheduler.strava.port import TokenGrant
from tests.doubles import strava_fixtures
from tests.doubles.strava_double import StravaDouble

strava_double = strava_fixtures.strava_double

REPO = Path(__file__).resolve().parents[2]
ATHLETE = 101
NOW = datetime(2026, 5, 16, 14, 0, tzinfo=UTC)
# Not hex, so the redactor's generic Strava-token pattern cannot be what masks them.
ACCESS = "access-Ada-7Jq2LmZpXw9Rt4Vb"
REFRESH = "refresh-Ada-Kd83NsQe1YuH6Go0"
PASSWORD = "hunter2secret"
SECRET_URL = f"mailtos://ada:{PASSWORD}@mail.example.org"


@pytest.fixture
def stores(db_url: str, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """Open the test database as the application does (migrated, unlocked) with the given settings."""
    opened: list[Store] = []

    def open_with(**settings: Any) -> Store:
        config = Settings(data_dir=tmp_path / "data", database_url=db_url, timezone="UTC", **settings)
        store = open_store(config)
        opened.append(store)
        return store

    yield open_with
    for store in opened:
        store.engine.dispose()


def connect(sessions: sessionmaker[Session], access: str = ACCESS, refresh: str = REFRESH) -> None:
    grant = TokenGrant(access, refresh, NOW + timedelta(hours=6))
    with transaction(sessions) as session:
        athlete_store.upsert_connected(
            session, ATHLETE, name="Ada Runner", timezone="UTC", grant=grant, scope="read", now=NOW
        )
        athlete_store.set_notify_urls(session, ATHLETE, [SECRET_URL, "json://localhost/hook"], NOW)


def raw_secrets(store: Store) -> list[str]:
    """The stored text of every sealed column, read with plain SQL."""
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT access_token, refresh_token, notify_urls FROM athletes")).all()
    return [str(value) for row in rows for value in row if value is not None]


def read_back(store: Store) -> tuple[str | None, str | None, list[str]]:
    with store.sessions() as session:
        athlete = athlete_store.get(session, ATHLETE)
        return athlete.access_token, athlete.refresh_token, list(athlete.notify_urls)


def key_file_keys(path: Path) -> list[str]:
    return path.read_text().split()


def test_tokens_and_urls_are_sealed_in_the_database_and_read_back(
    stores: Callable[..., Store], tmp_path: Path
) -> None:
    store = stores()
    connect(store.sessions)

    stored = raw_secrets(store)
    assert len(stored) == 3
    for value in stored:
        assert (
            ACCESS not in value and REFRESH not in value and PASSWORD not in value and "mailtos" not in value
        )
    # Everything opens with the key in the data directory's key file, which only its owner may read.
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    [key] = key_file_keys(key_file)
    assert Fernet(key).decrypt(stored[0].encode()).decode() == ACCESS

    restarted = stores()
    assert read_back(restarted) == (ACCESS, REFRESH, [SECRET_URL, "json://localhost/hook"])


def test_a_wrong_key_is_refused_in_one_line_and_changes_nothing(stores: Callable[..., Store]) -> None:
    first = new_key()
    store = stores(secret_key=first)
    connect(store.sessions)
    before = raw_secrets(store)

    with pytest.raises(SecretKeyError) as refused:
        stores(secret_key=new_key())
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("RECOVERY_SECRET_KEY: the database's secrets are sealed with a key")
    assert raw_secrets(store) == before
    with pytest.raises(SecretKeyError, match="not a Fernet key"):
        stores(secret_key="not-a-key")


@pytest.mark.postgres
def test_instances_with_their_own_key_files_on_one_postgresql_are_refused(
    pg_url: str, tmp_path: Path
) -> None:
    """Several machines on one database must share the key: the second one's new key file is refused even
    before any secret exists, so it never seals something the first cannot open."""
    first = open_store(Settings(data_dir=tmp_path / "one", database_url=pg_url, timezone="UTC"))
    with pytest.raises(SecretKeyError, match=r"RECOVERY_SECRET_KEY_FILE \(.*/two/secret.key\): .* same key"):
        open_store(Settings(data_dir=tmp_path / "two", database_url=pg_url, timezone="UTC"))
    shared = tmp_path / "one" / "secret.key"
    second = open_store(
        Settings(data_dir=tmp_path / "two", database_url=pg_url, timezone="UTC", secret_key_file=shared)
    )
    connect(first.sessions)
    assert read_back(second)[0] == ACCESS
    first.engine.dispose()
    second.engine.dispose()


def test_the_cli_and_the_daemon_refuse_a_wrong_key_with_exit_2(
    stores: Callable[..., Store],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect(stores().sessions)
    env = {
        "RECOVERY_DATA_DIR": str(tmp_path / "data"),
        "RECOVERY_DATABASE_URL": db_url,
        "RECOVERY_TIMEZONE": "UTC",
        "RECOVERY_SECRET_KEY": new_key(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["recovery", "athletes"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("recovery: error: RECOVERY_SECRET_KEY: the database's secrets are sealed with")

    daemon = subprocess.run(
        [sys.executable, "-m", "scheduler", "run"],
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")},
            **env,
            "RECOVERY_HTTP__PORT": "0",
            "PYTHONPATH": str(REPO),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert daemon.returncode == 2, daemon.stderr
    assert "Traceback" not in daemon.stderr
    assert daemon.stderr.splitlines()[-1].startswith("recovery: error: RECOVERY_SECRET_KEY: the database's")


def test_upgrading_a_0003_database_seals_its_plaintext_secrets(
    stores: Callable[..., Store], db_url: str
) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        tables = MetaData()
        athletes = Table("athletes", tables, autoload_with=connection)
        activities = Table("activities", tables, autoload_with=connection)
        connection.execute(
            insert(athletes).values(
                id=ATHLETE, name="Ada Runner", access_token=ACCESS, refresh_token=REFRESH, scope="read",
                notify_urls=[SECRET_URL], state="active", created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        connection.execute(
            insert(activities).values(
                id=9001, athlete_id=ATHLETE, raw={"id": 9001}, name="Parkrun", sport_type="Run",
                start_date=NOW, elapsed_time=1200, moving_time=1180, distance=5000.0, detailed=False,
                reasons=[], backfilled=False, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    engine.dispose()

    store = stores()  # `recovery db upgrade`, any command and the daemon open the database so

    for value in raw_secrets(store):
        assert ACCESS not in value and REFRESH not in value and PASSWORD not in value
    assert read_back(store) == (ACCESS, REFRESH, [SECRET_URL])
    with store.sessions() as session:  # widening the columns kept the athlete's activities
        assert session.scalars(select(models.Activity.id)).all() == [9001]


def test_rotating_the_key_file_keeps_everything_readable_and_nothing_under_the_old_key(
    stores: Callable[..., Store], db_url: str, tmp_path: Path
) -> None:
    store = stores()
    connect(store.sessions)
    key_file = tmp_path / "data" / "secret.key"
    [old] = key_file_keys(key_file)
    config = Settings(data_dir=tmp_path / "data", database_url=db_url, timezone="UTC")

    rotation = secret_keys.rotate(store.engine, config)

    assert rotation.values == 3 and rotation.file == key_file
    [new] = key_file_keys(key_file)
    assert new != old
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for value in raw_secrets(store):
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(value.encode())
        Fernet(new).decrypt(value.encode())
    assert read_back(store) == (ACCESS, REFRESH, [SECRET_URL, "json://localhost/hook"])
    assert read_back(stores()) == (ACCESS, REFRESH, [SECRET_URL, "json://localhost/hook"])
    with pytest.raises(SecretKeyError):
        stores(secret_key=old)  # the old key opens nothing any more


def test_rotation_with_the_setting_new_key_first(stores: Callable[..., Store], db_url: str) -> None:
    old, new = new_key(), new_key()
    connect(stores(secret_key=old).sessions)
    with pytest.raises(SecretKeyError, match="holds one key"):
        secret_keys.rotate(stores(secret_key=old).engine, Settings(database_url=db_url, secret_key=old))

    both = stores(secret_key=f"{new},{old}")  # instances restarted with the new key first can read both
    assert read_back(both)[0] == ACCESS
    rotation = secret_keys.rotate(both.engine, Settings(database_url=db_url, secret_key=f"{new},{old}"))

    assert rotation.values == 3 and rotation.file is None
    for value in raw_secrets(both):
        Fernet(new).decrypt(value.encode())
    assert read_back(stores(secret_key=new)) == (ACCESS, REFRESH, [SECRET_URL, "json://localhost/hook"])
    with pytest.raises(SecretKeyError):
        stores(secret_key=old)


def test_rotate_key_command(
    stores: Callable[..., Store],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect(stores().sessions)
    [old] = key_file_keys(tmp_path / "data" / "secret.key")
    monkeypatch.setenv("RECOVERY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RECOVERY_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["recovery", "db", "rotate-key"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("3 secrets sealed with the new key ") and "the old key is gone from" in line
    assert key_file_keys(tmp_path / "data" / "secret.key") != [old]
    assert read_back(stores())[0] == ACCESS


def test_instances_starting_at_once_agree_on_one_new_key_file(tmp_path: Path) -> None:
    config = Settings(data_dir=tmp_path / "data", timezone="UTC")
    start = threading.Barrier(8)
    rings: list[tuple[str, ...]] = []

    def start_instance() -> None:
        start.wait(timeout=10)
        rings.append(secret_keys.key_source(config).ring.keys)

    threads = [threading.Thread(target=start_instance) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(rings) == 8 and len(set(rings)) == 1
    assert sorted(os.listdir(tmp_path / "data")) == ["secret.key"]  # no temporary file left behind


@pytest.fixture
def strava_settings(strava_double: StravaDouble) -> StravaSettings:
    return StravaSettings(
        client_id=strava_double.client_id,
        client_secret=strava_double.client_secret,
        api_url=strava_double.api_url,
        oauth_url=strava_double.oauth_url,
    )


def test_a_token_refresh_stores_the_rotated_tokens_sealed(
    stores: Callable[..., Store], strava_double: StravaDouble, strava_settings: StravaSettings
) -> None:
    now = [NOW]
    strava_double.use_clock(lambda: now[0])
    strava_double.add_athlete(ATHLETE, "Ada", "Runner")
    store = stores(strava=strava_settings)
    factory = client_factory(strava_settings, lambda: now[0])
    oauth.connect(
        store.sessions, factory, oauth.Callback(strava_double.issue_code(ATHLETE), "read"), lambda: now[0]
    )
    strava_double.rotate_refresh_tokens()
    _, first_refresh = strava_double.current_tokens(ATHLETE)
    now[0] += timedelta(hours=7)  # the access token has expired

    fresh = tokens.access_token(store.sessions, ATHLETE, factory, lambda: now[0])

    access, refresh = strava_double.current_tokens(ATHLETE)
    assert fresh == access and refresh is not None and refresh != first_refresh
    for value in raw_secrets(store):
        assert access not in value and refresh not in value
    assert read_back(stores(strava=strava_settings))[:2] == (access, refresh)


def test_the_log_redactor_learns_the_opened_tokens_and_urls(stores: Callable[..., Store]) -> None:
    store = stores()
    connect(store.sessions)
    redactor = Redactor()

    assert connected_athletes(store.sessions, redactor) == [ATHLETE]

    line = redactor.redact(f"refresh {REFRESH} with {ACCESS} then send to {SECRET_URL}")
    assert ACCESS not in line and REFRESH not in line and PASSWORD not in line
