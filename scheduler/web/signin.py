"""Sign-in links and browser sessions. Only SHA-256 digests of the tokens are stored: a copy of the
database opens no session.

A link is a long random token printed once by `recovery athletes link ID`; opening it starts a session
(a second random token, in an HttpOnly cookie) for that athlete alone. `--rotate` revokes the athlete's
earlier links and ends their sessions. A session with no athlete is the admin's (signed in with
RECOVERY_HTTP__TOKEN), who sees every athlete.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.store import athletes as athlete_store
from scheduler.store import models

TOKEN_BYTES = 32  # 256 bits, 43 URL-safe characters
SESSION_LIFETIME = timedelta(days=30)
SIGNIN_PATH = "/signin"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who a request comes from: an athlete (their data only) or the admin (athlete_id None)."""

    athlete_id: int | None
    csrf_token: str | None  # None: a bearer-token caller, whose requests no other site can forge

    def may_see(self, athlete_id: int) -> bool:
        return self.athlete_id is None or self.athlete_id == athlete_id


TokenTable = type[models.SignInLink] | type[models.CalendarLink]


def issue_token(
    session: Session, table: TokenTable, athlete_id: int, now: datetime, *, rotate: bool = False
) -> str:
    """A new secret token for the athlete in `table` (sign-in links, calendar feeds), of which only the
    digest is stored; `rotate` first revokes the athlete's earlier ones there."""
    athlete = athlete_store.get(session, athlete_id)
    if athlete.state == AthleteState.DEAUTHORIZED:
        raise InputError(f"athlete {athlete_id} has deauthorized the app: run `recovery auth` for them first")
    if rotate:
        session.execute(
            update(table)
            .where(table.athlete_id == athlete_id, table.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(table(athlete_id=athlete_id, token_hash=digest(token), created_at=now))
    session.flush()
    return token


def issue_link(session: Session, athlete_id: int, now: datetime, *, rotate: bool = False) -> str:
    """A new sign-in token for the athlete; `rotate` first revokes their links and ends their sessions."""
    token = issue_token(session, models.SignInLink, athlete_id, now, rotate=rotate)
    if rotate:
        session.execute(delete(models.WebSession).where(models.WebSession.athlete_id == athlete_id))
    return token


def link_url(base_url: str, token: str) -> str:
    return f"{base_url}{SIGNIN_PATH}/{token}"


def _start(session: Session, athlete_id: int | None, now: datetime) -> str:
    session.execute(delete(models.WebSession).where(models.WebSession.expires_at <= now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        models.WebSession(
            token_hash=digest(token),
            athlete_id=athlete_id,
            csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def open_link(session: Session, token: str, now: datetime) -> tuple[str, int] | None:
    """A session token for the link's athlete and their id, or None for an unknown, revoked or
    deauthorized link."""
    if not token or len(token) > 200:
        return None
    link = session.scalars(
        select(models.SignInLink).where(
            models.SignInLink.token_hash == digest(token), models.SignInLink.revoked_at.is_(None)
        )
    ).one_or_none()
    if link is None:
        return None
    athlete = session.get(models.Athlete, link.athlete_id)
    if athlete is None or athlete.state == AthleteState.DEAUTHORIZED:
        return None
    return _start(session, link.athlete_id, now), link.athlete_id


def open_admin(session: Session, now: datetime) -> str:
    """A session for the admin (the caller has checked RECOVERY_HTTP__TOKEN)."""
    return _start(session, None, now)


def visitor(session: Session, cookie: str | None, now: datetime) -> Visitor | None:
    if not cookie or len(cookie) > 200:
        return None
    row = session.scalars(
        select(models.WebSession).where(
            models.WebSession.token_hash == digest(cookie), models.WebSession.expires_at > now
        )
    ).one_or_none()
    if row is None:
        return None
    if row.athlete_id is not None:
        athlete = session.get(models.Athlete, row.athlete_id)
        if athlete is None or athlete.state == AthleteState.DEAUTHORIZED:
            return None
    return Visitor(row.athlete_id, row.csrf_token)


def end(session: Session, cookie: str | None) -> None:
    if cookie:
        session.execute(delete(models.WebSession).where(models.WebSession.token_hash == digest(cookie)))
