"""Secrets at rest: column types that seal values with Fernet (authenticated encryption) on the way in.

The keys live outside the database (a key file or a setting, see `secret_keys`) and are installed on an
engine by the wiring (`secret_keys.unlock`). The first key of the ring seals; every key of the ring opens
(MultiFernet), which is what lets a key be rotated. `cryptography` is imported only when a value is sealed or
opened, so an idle daemon with no athletes never loads it.

An engine the application did not unlock (tests, scripts, `alembic` by hand) writes plaintext, which the next
start of the daemon or of any command seals; it opens sealed values of a SQLite database with the key file
beside the database (the default layout) when there is one. Plaintext written before secrets were sealed is
read as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Text, TypeDecorator
from sqlalchemy.engine import Dialect

from scheduler.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

KEY_SETTINGS = "RECOVERY_SECRET_KEY or RECOVERY_SECRET_KEY_FILE"
# Every Fernet token starts with the version byte 0x80 and a 64-bit timestamp whose first bytes are zero.
SEALED_PREFIX = "gAAAAA"
_ENGINE_ATTRIBUTE = "recovery_sealing"


class SecretKeyError(ConfigError):
    """The key is missing, malformed, or not the one the database's secrets were sealed with."""


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, url-safe base64), made without importing cryptography."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def _key_bytes(key: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SecretKeyError(f"{where}: not a Fernet key (44 characters of url-safe base64)")
    return raw


def fingerprint(key: str) -> str:
    """A short name for a key that reveals nothing about it: recorded in the database to tell keys apart."""
    return hashlib.sha256(b"recovery-scheduler key id\0" + _key_bytes(key, "key")).hexdigest()[:16]


@dataclass
class KeyRing:
    """Fernet keys, primary (newest) first: the primary seals, every key opens."""

    keys: tuple[str, ...]
    source: str  # where the keys came from, for error messages: a setting name or a file
    _fernet: MultiFernet | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretKeyError(f"{self.source}: no key")
        for number, key in enumerate(self.keys, start=1):
            _key_bytes(key, f"{self.source}: key {number}" if len(self.keys) > 1 else self.source)

    @classmethod
    def parse(cls, text: str, source: str) -> KeyRing:
        """Keys separated by commas or line breaks (blank entries ignored), newest first."""
        parts = text.replace(",", "\n").split("\n")
        return cls(tuple(part.strip() for part in parts if part.strip()), source)

    @property
    def primary_fingerprint(self) -> str:
        return fingerprint(self.keys[0])

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(fingerprint(key) for key in self.keys)

    def _multi(self) -> MultiFernet:
        if self._fernet is None:
            from cryptography.fernet import Fernet, MultiFernet

            self._fernet = MultiFernet([Fernet(key) for key in self.keys])
        return self._fernet

    def seal(self, plain: str) -> str:
        return self._multi().encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._multi().decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError(
                f"a secret in the database does not open with the key from {self.source}: give this "
                f"instance the key it was sealed with ({KEY_SETTINGS})"
            ) from None

    def reseal(self, stored: str) -> str:
        """The value sealed with the primary key, whether it was plaintext or sealed with any key."""
        return self.seal(self.open(stored) if is_sealed(stored) else stored)

    def sealed_with_primary(self, stored: str) -> bool:
        from cryptography.fernet import Fernet, InvalidToken

        try:
            Fernet(self.keys[0]).decrypt(stored.encode("ascii"))
        except InvalidToken:
            return False
        return True


@dataclass
class Sealing:
    """What one engine seals with (None: writes plaintext) and opens with."""

    ring: KeyRing | None = None
    # For an engine nobody unlocked: the key file beside its SQLite database, read when first needed.
    fallback_key_file: Path | None = None
    _fallback_ring: KeyRing | None = field(default=None, init=False, repr=False)

    def for_writing(self) -> KeyRing | None:
        return self.ring

    def for_reading(self) -> KeyRing:
        if self.ring is not None:
            return self.ring
        if (
            self._fallback_ring is None
            and self.fallback_key_file is not None
            and self.fallback_key_file.is_file()
        ):
            text = self.fallback_key_file.read_text(encoding="ascii")
            self._fallback_ring = KeyRing.parse(text, str(self.fallback_key_file))
        if self._fallback_ring is not None:
            return self._fallback_ring
        raise SecretKeyError(f"the database holds sealed secrets and no key was given ({KEY_SETTINGS})")


def install(engine: Engine, ring: KeyRing) -> None:
    """From now on the engine seals every secret it writes with `ring` and opens them with it."""
    _sealing_of(engine.dialect).ring = ring


def use_key_file_beside(engine: Engine, database_file: Path) -> None:
    """Let an engine nobody unlocks still open values sealed with the default key file of its database."""
    _sealing_of(engine.dialect).fallback_key_file = database_file.parent / "secret.key"


def _sealing_of(dialect: Dialect) -> Sealing:
    # Kept on the engine's dialect: the one object a column type sees, so each engine has its own keys.
    sealing = getattr(dialect, _ENGINE_ATTRIBUTE, None)
    if sealing is None:
        sealing = Sealing()
        setattr(dialect, _ENGINE_ATTRIBUTE, sealing)
    return sealing


def _seal(text: str, dialect: Dialect) -> str:
    ring = _sealing_of(dialect).for_writing()
    return text if ring is None else ring.seal(text)


def _open(stored: str, dialect: Dialect) -> str:
    return _sealing_of(dialect).for_reading().open(stored) if is_sealed(stored) else stored


class SealedString(TypeDecorator[str]):
    """A string stored sealed (a Strava token); plaintext stored before sealing existed reads as it is."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _seal(value, dialect)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _open(value, dialect)


class SealedJSON(TypeDecorator[list[Any]]):
    """A JSON list stored sealed as text (an athlete's apprise URLs, which may carry passwords)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Sequence[Any] | None, dialect: Dialect) -> str | None:
        return None if value is None else _seal(json.dumps(list(value), ensure_ascii=False), dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, str):  # a driver that already parsed JSON (never after revision 0004)
            return list(value)
        return list(json.loads(_open(value, dialect)))
