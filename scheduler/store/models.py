"""The schema: athletes, their activities, the reminders outbox and its delivery log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scheduler.domain.status import AthleteState, ReminderStatus
from scheduler.store.sealed import SealedJSON, SealedString


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC instants on every backend (SQLite has no time zone type and returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK holding `column` to the words of a vocabulary (named ck_<table>_<column>); migration 0010."""
    words = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({words})", name=column)


class Athlete(Base):
    __tablename__ = "athletes"
    __table_args__ = (one_of("state", AthleteState),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # Strava id
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Tokens live here because a rotated refresh token must survive a restart; never logged, sealed at rest.
    access_token: Mapped[str | None] = mapped_column(SealedString())
    refresh_token: Mapped[str | None] = mapped_column(SealedString())
    token_expires_at: Mapped[datetime | None]
    scope: Mapped[str] = mapped_column(String(200), default="")
    max_hr: Mapped[int | None] = mapped_column(Integer)
    rest_hr: Mapped[int | None] = mapped_column(Integer)
    threshold_hr: Mapped[int | None] = mapped_column(Integer)
    equipment: Mapped[list[Any] | None]  # None: not told, assumed to own every tool
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "HH:MM"
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    notify_urls: Mapped[list[Any]] = mapped_column(SealedJSON(), default=list)  # may hold passwords: sealed
    state: Mapped[str] = mapped_column(String(20), default=AthleteState.ACTIVE)
    last_sync_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Work for this athlete waits until then (rate-limit window, 403 inactive back-off).
    defer_until: Mapped[datetime | None]
    # When the user was last told about a problem, so they are told once, not every poll.
    alerted_at: Mapped[datetime | None]
    alerted_problem: Mapped[str | None] = mapped_column(String(40))
    # The current streak of failed polls: when its first failure was and how many in a row; a successful poll
    # ends it. Shown by `recovery athletes`, /status and /healthz.
    failing_since: Mapped[datetime | None]
    failed_polls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The runner's own run times (["tue 06:30", …]; NULL: learned from history), the months whose mornings
    # call for heat before a run, and how often rest-day foot massages come (scheduler.domain.ahead); skips
    # count towards turning them off only after `rest_days_since`, when the setting last changed (0013).
    run_times: Mapped[list[Any] | None]
    cold_months: Mapped[list[Any] | None]
    rest_days: Mapped[str] = mapped_column(
        String(20), default="every_other_day", server_default="every_other_day"
    )
    rest_days_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_athlete_start", "athlete_id", "start_date"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # Strava id
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"))
    raw: Mapped[dict[str, Any]]
    name: Mapped[str] = mapped_column(String(300), default="")
    sport_type: Mapped[str] = mapped_column(String(40))
    workout_type: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[datetime]
    timezone: Mapped[str | None] = mapped_column(String(64))
    elapsed_time: Mapped[int] = mapped_column(Integer)
    moving_time: Mapped[int] = mapped_column(Integer)
    distance: Mapped[float] = mapped_column(Float)
    average_heartrate: Mapped[float | None] = mapped_column(Float)
    max_heartrate: Mapped[float | None] = mapped_column(Float)
    average_speed: Mapped[float | None] = mapped_column(Float)
    detailed: Mapped[bool] = mapped_column(Boolean, default=False)  # raw holds laps
    effort: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    load: Mapped[float | None] = mapped_column(Float)
    # Imported by a backfill: classified for history, never notified.
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Reminder(Base):
    """The outbox: one row per (athlete, local day, step); dispatch claims due rows with a lease.

    `activity_id` is the activity that decides the day's plan (its hardest effort). `local_day` is NULL only
    on rows a day plan merged away when the key moved from (activity, step) (migration 0005).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("athlete_id", "local_day", "step"),
        Index("ix_reminders_status_available", "status", "available_at"),
        one_of("status", ReminderStatus),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # NULL on messages about a day rather than an activity (before a run, rest days, summaries, alerts).
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(40))
    local_day: Mapped[date | None]
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # When the row may next be claimed: due_at at first, later the retry time after a failure.
    available_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=ReminderStatus.PLANNED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    # Keys of the destinations an earlier attempt reached (NULL: none yet). A retry goes only to the others;
    # a row that ends with some still missing is `partial`. Keys are privacy URLs (scheduler.notify.port).
    delivered_to: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    sent_at: Mapped[datetime | None]
    # The runner's answer (done, skipped, snoozed; NULL: none) and when; re-planning leaves answered rows be.
    response: Mapped[str | None] = mapped_column(String(20))
    responded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Delivery(Base):
    """One row per send attempt of a reminder, with the per-destination results."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    instance: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    # [{"destination": privacy URL, "ok": bool, "error": str | None, "key"?: str}, ...] for the destinations
    # this attempt tried (a retry leaves out those already reached); "key" only where it is not "destination".
    results: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(Base):
    """Strava push events seen, for deduplication (Strava repeats them) and processing after the ack."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("dedupe_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # Strava reads made for it
    last_error: Mapped[str | None] = mapped_column(Text)
    # Its own failure accounting: unexpected errors counted, retried after `retry_at`, then parked (processed,
    # with the error kept) so one poison event never holds up the queue.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None]
    parked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AppState(Base):
    """Small app-wide facts shared by every instance: the Strava rate budget, last poll/dispatch times."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class SignInLink(Base):
    """An athlete's personal sign-in link for the page; only the token's SHA-256 is kept."""

    __tablename__ = "signin_links"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the cookie's SHA-256, whose data it may see (NULL: the admin, every athlete) and
    the token its forms must carry (CSRF)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    athlete_id: Mapped[int | None] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class CalendarLink(Base):
    """An athlete's secret calendar feed URL; only the token's SHA-256 is kept. It opens no session: it
    reads the plan only."""

    __tablename__ = "calendar_links"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SigningKey(Base):
    """Secrets that sign action links (HMAC), sealed at rest like the tokens."""

    __tablename__ = "signing_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[str] = mapped_column(SealedString())
    created_at: Mapped[datetime]


class EffortCorrection(Base):
    """The runner's own class for an activity: it outlives re-reads and re-classification."""

    __tablename__ = "effort_corrections"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    effort: Mapped[str] = mapped_column(String(20))
    classified_as: Mapped[str | None] = mapped_column(String(20))  # what the classifier said before
    set_at: Mapped[datetime]


class FileImport(Base):
    """Each activity file seen (by content), so a file is imported once however often it is renamed, touched
    or copied in again; a rejected one is remembered too, so it is reported once."""

    __tablename__ = "file_imports"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), index=True)
    # The activity it became, or the one it duplicates (a Strava activity, or an earlier file's); no foreign
    # key: a deleted activity must not make its file importable again.
    activity_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(20))  # imported, duplicate, rejected
    reason: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(300))
    seen_at: Mapped[datetime]


class CheckIn(Base):
    """What the runner told about the legs (pain, knee ache, …): in force from `since` until `until` (NULL:
    until cleared); `cleared_at` ends it early. Planning reads them (scheduler.domain.checkins)."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_athlete_since", "athlete_id", "since"),
        # An activity's words raise each kind once: a re-poll never raises it again (migration 0014).
        UniqueConstraint("activity_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    area: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime]
    until: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    # The Strava activity whose name, description or private note raised it (NULL: the runner told us).
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"))
