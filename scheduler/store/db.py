"""Engines and sessions: SQLite tuned for a daemon (WAL, foreign keys, busy timeout) and PostgreSQL."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.errors import InputError
from scheduler.store import sealed

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"
# Tokens and apprise URLs live in the database: only its owner may read it or the directory holding it.
DATA_DIR_MODE = 0o700
DATABASE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def normalize_url(url: str) -> URL:
    """The URL as the engine uses it: plain `postgresql://` (and the old `postgres://`) means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def url_problem(url: str) -> str | None:
    """What is wrong with a database URL (unparsable, unknown database, driver not installed), or None.
    Never quotes the URL: it may hold a password."""
    try:
        parsed = normalize_url(url)
    except ArgumentError:
        return "not a database URL (e.g. sqlite:////path/recovery.db or postgresql+psycopg://user@host/db)"
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f"unknown database kind {parsed.drivername!r} (use sqlite:// or postgresql+psycopg://)"
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        return f"the driver for {parsed.drivername}:// is not installed ({exc})"
    return None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):
        return None  # a URI filename: SQLite interprets it, we leave it alone
    return Path(parsed.database)


def check_sqlite_file(path: Path) -> None:
    """Say in one line why SQLite cannot use `path`, writing nothing: the data directory must be writable, or
    creatable when missing (WAL keeps its -wal and -shm beside the file); an existing file must be a SQLite
    database."""
    directory = path.parent
    if not directory.exists():
        ancestor = next(p for p in directory.parents if p.exists())
        if not _writable(ancestor):
            raise InputError(
                f"{directory}: cannot create the data directory: {ancestor} is {_why_not_writable(ancestor)}"
            )
        return
    if not _writable(directory):
        raise InputError(f"{directory}: the data directory is {_why_not_writable(directory)}")
    if path.exists():
        _check_header(path)


def prepare_sqlite_file(path: Path) -> None:
    """Check `path` (see `check_sqlite_file`) and make it ready: the data directory is created 0700, a new
    database file is created empty with mode 0600 (SQLite gives its -wal and -shm the same mode), an
    existing one and its companions are tightened to 0600."""
    directory = path.parent
    if directory.exists() and directory.stat().st_mode & 0o077:
        _warn_loose_directory(directory)
    check_sqlite_file(path)
    try:
        directory.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot create the data directory: {exc.strerror}") from None
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE)
    except FileExistsError:
        _check_header(path)  # another process may have made it meanwhile
    except OSError as exc:
        raise InputError(f"{path}: cannot create the database: {exc.strerror}") from None
    else:
        os.close(descriptor)
        _created_here.add(path)
    for file in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        _tighten(file)


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK)


def _why_not_writable(directory: Path) -> str:
    return "on a read-only file system" if _read_only_mount(directory) else "not writable for this user"


# Database files this process created (O_EXCL) and has not yet set up: only these may be removed again.
_created_here: set[Path] = set()


def claim_new_file(path: Path) -> bool:
    """True, once, if this process created `path` and has not set it up yet."""
    if path in _created_here:
        _created_here.discard(path)
        return True
    return False


def remove_sqlite_file(path: Path) -> None:
    """Remove a database this process created and could not set up, with its companions."""
    for file in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        file.unlink(missing_ok=True)


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a SQLite database") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the database: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise InputError(f"{path}: not a SQLite database (move it away or point RECOVERY_DATA_DIR elsewhere)")


def _tighten(file: Path) -> None:
    try:
        mode = file.stat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            file.chmod(DATABASE_FILE_MODE)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("%s: could not restrict it to its owner (mode 0600): %s", file, exc.strerror)


_warned_directories: set[Path] = set()


def _warn_loose_directory(directory: Path) -> None:
    # The user chose this directory and its mode (e.g. a shared volume): say it once, do not change it.
    if directory not in _warned_directories:
        _warned_directories.add(directory)
        mode = stat.S_IMODE(directory.stat().st_mode)
        log.warning(
            "data directory %s is readable by others (mode %04o): `chmod 700 %s` keeps the database private",
            directory,
            mode,
            directory,
        )


def _read_only_mount(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; a SQLite file is prepared first (see `prepare_sqlite_file`). Raises InputError
    with one line for a URL that cannot work."""
    problem = url_problem(url)
    if problem is not None:
        raise InputError(f"database URL: {problem}")
    parsed = normalize_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            prepare_sqlite_file(path)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _tune_sqlite(engine)
        if path is not None:
            sealed.use_key_file_beside(engine, path)  # until unlocked, still opens the default key's secrets
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is deferred and a deferred
        # transaction that later writes fails at once with "database is locked" under contention.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front and waits busy_timeout for it; WAL readers are unaffected.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session: Session, model: Any) -> Any:
    """The dialect's INSERT (with ON CONFLICT support) for the session's database: PostgreSQL or SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        # Imported here: a daemon on SQLite never loads the PostgreSQL dialect (about 2 MiB).
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    return sqlite.insert(model)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception."""
    with factory() as session, session.begin():
        yield session
