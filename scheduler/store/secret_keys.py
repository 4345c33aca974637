"""Where the sealing keys come from, what is checked when a database is opened, and key rotation.

The keys are `RECOVERY_SECRET_KEY` (comma-separated, newest first) or a key file, `RECOVERY_SECRET_KEY_FILE`
(default `<data dir>/secret.key`, one key a line, newest first), created on first use. The database records
the fingerprints of the keys its secrets may be sealed with (app_state "secret_keys"), so an instance holding
another key refuses to start before it writes anything the other instances could not read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, column, select, table, update
from sqlalchemy.orm import Session

from scheduler.clock import utc_now
from scheduler.settings import Settings
from scheduler.store import app_state, models
from scheduler.store.db import make_sessionmaker, transaction
from scheduler.store.sealed import KeyRing, SecretKeyError, install, is_sealed, new_key

RECORD = "secret_keys"
KEY_FILE_NAME = "secret.key"
# The sealed columns, read and written as stored (no column type: the raw text in the database).
SEALED_COLUMNS = ("access_token", "refresh_token", "notify_urls")
_RAW_ATHLETES = table("athletes", column("id"), *(column(name) for name in SEALED_COLUMNS))


@dataclass(frozen=True)
class KeySource:
    ring: KeyRing
    file: Path | None  # the key file the ring was read from; None when it came from RECOVERY_SECRET_KEY


@dataclass(frozen=True)
class Rotation:
    fingerprint: str  # of the key everything is now sealed with
    values: int
    file: Path | None


def key_source(settings: Settings) -> KeySource:
    if settings.secret_key is not None and settings.secret_key_file is not None:
        raise SecretKeyError("RECOVERY_SECRET_KEY and RECOVERY_SECRET_KEY_FILE: give one of them, not both")
    if settings.secret_key is not None:
        return KeySource(KeyRing.parse(settings.secret_key.get_secret_value(), "RECOVERY_SECRET_KEY"), None)
    path = settings.secret_key_file or settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        _write_key_file(path, [new_key()], replace=False)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"RECOVERY_SECRET_KEY_FILE ({path}): cannot read: {_reason(exc)}") from None
    return KeySource(KeyRing.parse(text, f"RECOVERY_SECRET_KEY_FILE ({path})"), path)


def unlock(engine: Engine, settings: Settings) -> KeyRing:
    """Install the configured keys on `engine`, refuse a key the database's secrets were not sealed with,
    and seal whatever is still stored in plaintext (values written before secrets were sealed)."""
    ring = key_source(settings).ring
    install(engine, ring)
    with transaction(make_sessionmaker(engine)) as session:
        record = _checked_record(session, ring)
        rows = session.execute(select(_RAW_ATHLETES)).all()
        for row in rows:
            for name in SEALED_COLUMNS:
                stored = getattr(row, name)
                if stored is not None and is_sealed(stored):
                    ring.open(stored)  # a wrong key fails here, before anything is written
        plain = [row.id for row in rows if any(_is_plain(getattr(row, name)) for name in SEALED_COLUMNS)]
        if plain:
            locked = select(_RAW_ATHLETES).where(_RAW_ATHLETES.c.id.in_(plain)).with_for_update()
            for row in session.execute(locked).all():
                values = {name: getattr(row, name) for name in SEALED_COLUMNS}
                _write_row(
                    session, row.id, {name: ring.seal(v) for name, v in values.items() if _is_plain(v)}
                )
        # From now on this instance may seal with its primary key: every instance must be able to open it.
        _set_fingerprints(record, set(record.value.get("fingerprints", [])) | {ring.primary_fingerprint})
    return ring


def rotate(engine: Engine, settings: Settings) -> Rotation:
    """Seal every secret with a new primary key, then forget the old keys.

    With a key file: a new key is added first to the file, everything is re-sealed with it in one
    transaction, then the file keeps only the new key (a file already holding several keys is an unfinished
    rotation: it is finished with its first key). With RECOVERY_SECRET_KEY: its first key is the new one; the
    user removes the others from the setting afterwards.
    """
    source = key_source(settings)
    ring = source.ring
    if source.file is None and len(ring.keys) == 1:
        raise SecretKeyError(
            "RECOVERY_SECRET_KEY holds one key: to rotate, put a new key first and the old one after it "
            "(NEW,OLD)"
        )
    if source.file is not None and len(ring.keys) == 1:
        ring = KeyRing((new_key(), *ring.keys), ring.source)
        _write_key_file(source.file, ring.keys, replace=True)
    install(engine, ring)
    count = 0
    with transaction(make_sessionmaker(engine)) as session:
        record = _checked_record(session, ring)
        # Locked: a token refresh committing between our read and our write would be overwritten.
        for row in session.execute(select(_RAW_ATHLETES).with_for_update()).all():
            values = {name: getattr(row, name) for name in SEALED_COLUMNS}
            resealed = {name: ring.reseal(v) for name, v in values.items() if v is not None}
            _write_row(session, row.id, resealed)
            count += len(resealed)
        _set_fingerprints(record, {ring.primary_fingerprint})
    primary = KeyRing(ring.keys[:1], ring.source)
    if source.file is not None:
        _write_key_file(source.file, primary.keys, replace=True)
    install(engine, primary)
    return Rotation(primary.primary_fingerprint, count, source.file)


def _write_row(session: Session, athlete_id: int, values: dict[str, str]) -> None:
    if values:
        session.execute(update(_RAW_ATHLETES).where(_RAW_ATHLETES.c.id == athlete_id).values(**values))


def _is_plain(stored: str | None) -> bool:
    return stored is not None and not is_sealed(stored)


def _checked_record(session: Session, ring: KeyRing) -> models.AppState:
    """The locked record of the database's key fingerprints, after checking this ring holds all of them."""
    record = app_state.locked(session, RECORD, {"fingerprints": []}, utc_now())
    if set(record.value.get("fingerprints", [])) - ring.fingerprints:
        raise SecretKeyError(
            f"{ring.source}: the database's secrets are sealed with a key this instance does not have; give "
            "every instance the same key in RECOVERY_SECRET_KEY (comma-separated, newest first) or "
            "RECOVERY_SECRET_KEY_FILE"
        )
    return record


def _set_fingerprints(record: models.AppState, fingerprints: set[str]) -> None:
    wanted = {"fingerprints": sorted(fingerprints)}
    if record.value != wanted:
        record.value = wanted
        record.updated_at = utc_now()


def _write_key_file(path: Path, keys: Sequence[str], *, replace: bool) -> None:
    """Write the keys through a private temporary file: readers see the old file or the whole new one.

    A new file is linked into place, which fails if it exists: two instances starting at once agree on the
    key of whichever linked first.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write("".join(f"{key}\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # Fails if another instance created it first: then its key is the one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        _sync_directory(path.parent)
    except OSError as exc:
        raise SecretKeyError(f"RECOVERY_SECRET_KEY_FILE ({path}): cannot write: {_reason(exc)}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
