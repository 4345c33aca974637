"""Shared fixtures: a real SQLite file and a fresh PostgreSQL database per test, real receivers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import migrate
from scheduler.store.db import make_engine, make_sessionmaker
from tests.doubles.databases import temporary_postgres
from tests.doubles.receivers import HttpReceiver, SmtpReceiver

pytest_plugins = ["tests.doubles.strava_fixtures"]

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_admin_url() -> str:
    return os.environ.get("RECOVERY_TEST_DATABASE_URL", DEFAULT_PG)


def _postgres_problem(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> str:
    url = postgres_admin_url()
    problem = _postgres_problem(url)
    if problem:
        message = f"PostgreSQL unreachable at {make_url(url).render_as_string()} ({problem})"
        if IN_CI:
            pytest.fail(f"{message}; under CI=true the PostgreSQL tests must run")
        pytest.skip(f"{message}; set RECOVERY_TEST_DATABASE_URL to run these tests")
    return url


@pytest.fixture
def pg_url(postgres_available: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with temporary_postgres(postgres_available) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/recovery.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs twice: on a real SQLite file and on a real PostgreSQL database."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database migrated to head."""
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    """A real HTTP server on loopback recording what apprise's json:// and ntfy:// destinations post."""
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A real SMTP server on loopback recording the mails it is given."""
    with SmtpReceiver() as receiver:
        yield receiver
