"""A database already at the newest schema starts without alembic: the daemon's idle memory stays small."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from scheduler.store import migrate
from scheduler.store.db import make_engine

# What `migrate.upgrade` loads when it runs a migration, and must not load when there is none to run.
MIGRATION_MODULES = ("alembic", "mako", "pygments")

UPGRADE_AND_LIST_MODULES = f"""
import json, sys
import scheduler.cli, scheduler.daemon.app  # everything `recovery run` imports before it migrates
from scheduler.store import migrate
from scheduler.store.db import make_engine
engine = make_engine(sys.argv[1])
migrate.upgrade(engine)
with engine.connect() as connection:
    revision = migrate.schema_revision(connection)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {MIGRATION_MODULES!r})
print(json.dumps({{"revision": revision, "loaded": loaded}}))
"""


def upgrade_in_a_fresh_process(url: str) -> tuple[str | None, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", UPGRADE_AND_LIST_MODULES, url], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result["revision"], result["loaded"]


def test_head_is_the_newest_migration() -> None:
    """A new migration without HEAD updated would be skipped at every start: this fails first."""
    assert ScriptDirectory.from_config(migrate.alembic_config()).get_heads() == [migrate.HEAD]


def test_an_upgrade_at_head_imports_no_alembic(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    engine.dispose()
    revision, loaded = upgrade_in_a_fresh_process(db_url)
    assert revision == migrate.HEAD
    assert loaded == []


def test_a_database_behind_head_is_still_migrated(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "-1")
    engine.dispose()
    revision, loaded = upgrade_in_a_fresh_process(db_url)
    assert revision == migrate.HEAD
    assert "alembic" in loaded


def test_a_new_database_is_migrated_to_head(db_url: str) -> None:
    revision, _ = upgrade_in_a_fresh_process(db_url)
    assert revision == migrate.HEAD


def test_a_database_from_a_newer_release_is_refused_not_skipped(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(CommandError, match="9999"):
        migrate.upgrade(engine)
    engine.dispose()
