"""Signed action links: `/r/ID/ACTION?e=EXPIRY&s=SIGNATURE`, one per reminder and answer.

The signature is an HMAC-SHA256 over the reminder id, the action and the expiry (the reminder's own
`expires_at`), with a random secret kept (sealed) in the database, so every instance signs alike. A link
opens a confirmation page (GET changes nothing: mail scanners and link previews fetch every link); the
POST it shows performs the answer. A forged or altered link, or one past its expiry, changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store import models
from scheduler.store.db import insert_for

KEY_NAME = "action-links"
ACTION_PREFIX = "/r"


def secret(session: Session, now: datetime) -> bytes:
    """The signing secret, created by whichever instance needs it first."""
    session.execute(
        insert_for(session, models.SigningKey)
        .values(name=KEY_NAME, secret=secrets.token_hex(32), created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    value = session.scalar(select(models.SigningKey.secret).where(models.SigningKey.name == KEY_NAME))
    assert value is not None  # inserted just above if it was missing
    return value.encode()


def _expiry(moment: datetime) -> int:
    return int(moment.timestamp())


def signature(key: bytes, reminder_id: int, action: str, expires: int) -> str:
    mac = hmac.new(key, f"{reminder_id}.{action}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def action_path(key: bytes, reminder_id: int, action: str, expires_at: datetime) -> str:
    expires = _expiry(expires_at)
    return (
        f"{ACTION_PREFIX}/{reminder_id}/{action}?e={expires}&s={signature(key, reminder_id, action, expires)}"
    )


def verify(key: bytes, reminder_id: int, action: str, expires: str, given: str, now: datetime) -> str | None:
    """None when the link is genuine and not expired; else why it is refused (one line)."""
    if not expires.isdigit() or len(expires) > 12 or len(given) > 100:
        return "this link is not valid"
    expected = signature(key, reminder_id, action, int(expires))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return "this link is not valid"
    if datetime.fromtimestamp(int(expires), UTC) <= now:
        return "this link has expired: the reminder is no longer useful"
    return None
