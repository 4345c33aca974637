"""Schema migrations: alembic upgrade/downgrade driven from code (`recovery db upgrade`, `recovery run`)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError

from alembic import command
from scheduler.errors import InputError
from scheduler.store.db import claim_new_file, remove_sqlite_file, sqlite_file

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(engine: Engine) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logging"] = False
    return config


# SQLite's words for a file that holds something other than a database.
NOT_A_DATABASE = ("file is not a database", "database disk image is malformed")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`. A SQLite file that turns out not to be a database is an InputError (one line);
    a database file this process created and could not set up (a full disk) is removed again, so the next
    start does not find an empty `recovery.db`."""
    config = alembic_config(engine)
    path = sqlite_file(engine.url.render_as_string())
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
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
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
