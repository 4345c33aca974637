"""Schema migrations: alembic upgrade/downgrade driven from code (`recovery db upgrade`, `recovery run`).

The scripts ship inside the package (`scheduler/store/migrations`), so any install can migrate. The daemon
starts far more often than the schema changes: a database already at HEAD is recognised by reading
`alembic_version` directly, and alembic (with mako and pygments, about 11 MiB resident) is imported only when
a migration has to run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DatabaseError

from scheduler.errors import InputError
from scheduler.store.db import claim_new_file, remove_sqlite_file, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions. A new migration updates it; a test holds it to alembic's head.
HEAD = "0014"
SCRIPTS = Path(str(files("scheduler.store") / "migrations"))
VERSION_TABLE = "alembic_version"  # alembic's default, which env.py keeps

# SQLite's words for a file that holds something other than a database.
NOT_A_DATABASE = ("file is not a database", "database disk image is malformed")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()  # no alembic.ini: an installed package has none, and logging is the daemon's
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.attributes["configure_logging"] = False
    return config


def schema_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for a database alembic never touched (or left ambiguous)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revisions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608
    return revisions[0] if len(revisions) == 1 else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`. A SQLite file that turns out not to be a database is an InputError (one line);
    a database file this process created and could not set up (a full disk) is removed again, so the next
    start does not find an empty `recovery.db`."""
    path = sqlite_file(engine.url.render_as_string())
    try:
        with _migrating(engine) as connection:
            if revision != "head" or schema_revision(connection) != HEAD:
                from alembic import command

                command.upgrade(_config_for(connection), revision)
    except BaseException as exc:
        if path is not None and claim_new_file(path):
            engine.dispose()
            remove_sqlite_file(path)
        reason = str(exc.orig).splitlines()[0] if isinstance(exc, DatabaseError) and exc.orig else ""
        if path is not None and reason in NOT_A_DATABASE:
            raise InputError(f"{path}: not a SQLite database ({reason})") from None
        raise
    if path is not None:
        claim_new_file(path)  # set up: from now on it is a database like any other


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with _migrating(engine) as connection:
        command.downgrade(_config_for(connection), revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for migrating; on SQLite with foreign keys off until it ends.

    SQLite changes a constraint by rebuilding the table (alembic's batch mode), and with foreign keys on,
    dropping the old table deletes every row that references it (ON DELETE CASCADE). The pragma takes effect
    only outside a transaction, so it is set before BEGIN; the references are checked before COMMIT."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"migration left a broken reference in table {broken[0]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def _config_for(connection: Connection) -> Config:
    config = alembic_config()
    config.attributes["connection"] = connection  # env.py migrates on it, inside the caller's transaction
    return config
