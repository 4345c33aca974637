"""The app's one Strava rate budget, shared by every athlete and every instance.

Strava counts requests per application: 15-minute windows resetting at :00/:15/:30/:45 and a daily window
resetting at UTC midnight, for all requests ("overall") and for reads. Every response reports the counters;
we keep the latest ones in `AppState` so all instances see them. Work stops while a window is spent down to
its reserve (the reserve is left for interactive commands) or after a 429, and resumes at the window reset:
callers defer the work (`Athlete.defer_until`), nothing ever sleeps here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scheduler.store import app_state, models
from scheduler.strava.port import RateMeter, RateUsage

STATE_KEY = "strava.rate_budget"
QUARTER = timedelta(minutes=15)


# -- window arithmetic (pure) -----------------------------------------------------------------------------


def quarter_start(at: datetime) -> datetime:
    """Start of the 15-minute window holding `at` (UTC)."""
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def next_quarter(at: datetime) -> datetime:
    """When the 15-minute window holding `at` resets: the next :00/:15/:30/:45, strictly after `at`."""
    return quarter_start(at) + QUARTER


def next_midnight(at: datetime) -> datetime:
    """When the daily window holding `at` resets: the next UTC midnight, strictly after `at`."""
    day = at.astimezone(UTC).date()
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def meter_now(meter: RateMeter, observed_at: datetime, now: datetime) -> RateMeter:
    """The meter as it stands at `now`: windows that reset since `observed_at` count from zero again."""
    short = meter.short_used if quarter_start(now) <= quarter_start(observed_at) else 0
    daily = meter.daily_used if now.astimezone(UTC).date() <= observed_at.astimezone(UTC).date() else 0
    return RateMeter(short, meter.short_limit, daily, meter.daily_limit)


def _merge_meter(
    old: RateMeter | None, old_at: datetime, new: RateMeter | None, new_at: datetime
) -> RateMeter | None:
    if old is None or new is None:
        return new or old
    # Responses from other instances arrive in any order: within one window the counters only grow.
    at = max(old_at, new_at)
    old_now, new_now = meter_now(old, old_at, at), meter_now(new, new_at, at)
    return RateMeter(
        max(old_now.short_used, new_now.short_used),
        new.short_limit,
        max(old_now.daily_used, new_now.daily_used),
        new.daily_limit,
    )


def merge_usage(old: RateUsage | None, new: RateUsage) -> RateUsage:
    """Combine two observations into the one that best describes the latest windows."""
    if old is None:
        return new
    return RateUsage(
        observed_at=max(old.observed_at, new.observed_at),
        overall=_merge_meter(old.overall, old.observed_at, new.overall, new.observed_at),
        read=_merge_meter(old.read, old.observed_at, new.read, new.observed_at),
    )


def usable(limit: int, reserve: float) -> int:
    """How much of a window background work may use: the limit minus the reserve (at least 1)."""
    return max(1, limit - math.ceil(limit * reserve))


def spent_until(usage: RateUsage | None, now: datetime, reserve: float) -> datetime | None:
    """None while requests may be made; else when the spent window(s) reset."""
    if usage is None:
        return None
    until: datetime | None = None
    for meter in (usage.overall, usage.read):
        if meter is None:
            continue
        current = meter_now(meter, usage.observed_at, now)
        if current.daily_used >= usable(current.daily_limit, reserve):
            until = max(until or now, next_midnight(now))
        elif current.short_used >= usable(current.short_limit, reserve):
            until = max(until or now, next_quarter(now))
    return until


def reset_after_429(usage: RateUsage | None, now: datetime) -> datetime:
    """When a 429 stops being answered: midnight when a daily limit is exceeded, else the next quarter."""
    for meter in (usage.overall, usage.read) if usage else ():
        if meter is not None and meter.daily_used >= meter.daily_limit:
            return next_midnight(now)
    return next_quarter(now)


def parse_rate_headers(headers: Mapping[str, str], observed_at: datetime) -> RateUsage | None:
    """The counters of a response (`X-RateLimit-*`, `X-ReadRateLimit-*`); None when it carried none."""
    folded = {key.lower(): value for key, value in headers.items()}

    def meter(prefix: str) -> RateMeter | None:
        try:
            short_limit, daily_limit = (int(v) for v in folded[f"{prefix}-limit"].split(","))
            short_used, daily_used = (int(v) for v in folded[f"{prefix}-usage"].split(","))
        except (KeyError, ValueError):
            return None
        return RateMeter(short_used, short_limit, daily_used, daily_limit)

    overall, read = meter("x-ratelimit"), meter("x-readratelimit")
    if overall is None and read is None:
        return None
    return RateUsage(observed_at=observed_at, overall=overall, read=read)


# -- the shared state (AppState) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetState:
    usage: RateUsage | None = None
    blocked_until: datetime | None = None  # set by a 429

    def wait_until(self, now: datetime, reserve: float) -> datetime | None:
        """None when a request may go out now; else when to try again."""
        candidates = [t for t in (self.blocked_until, spent_until(self.usage, now, reserve)) if t and t > now]
        return max(candidates) if candidates else None


def _meter_json(meter: RateMeter | None) -> dict[str, int] | None:
    if meter is None:
        return None
    return {
        "short_used": meter.short_used,
        "short_limit": meter.short_limit,
        "daily_used": meter.daily_used,
        "daily_limit": meter.daily_limit,
    }


def _meter_from(value: Any) -> RateMeter | None:
    if not isinstance(value, dict):
        return None
    return RateMeter(
        int(value["short_used"]),
        int(value["short_limit"]),
        int(value["daily_used"]),
        int(value["daily_limit"]),
    )


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def to_json(state: BudgetState) -> dict[str, Any]:
    usage = state.usage
    return {
        "observed_at": usage.observed_at.isoformat() if usage else None,
        "overall": _meter_json(usage.overall) if usage else None,
        "read": _meter_json(usage.read) if usage else None,
        "blocked_until": state.blocked_until.isoformat() if state.blocked_until else None,
    }


def from_json(value: Mapping[str, Any]) -> BudgetState:
    observed_at = _instant(value.get("observed_at"))
    usage = (
        RateUsage(observed_at, _meter_from(value.get("overall")), _meter_from(value.get("read")))
        if observed_at
        else None
    )
    return BudgetState(usage=usage, blocked_until=_instant(value.get("blocked_until")))


def load(session: Session) -> BudgetState:
    row = session.get(models.AppState, STATE_KEY)
    return from_json(row.value) if row is not None else BudgetState()


def _locked_row(session: Session, now: datetime) -> models.AppState:
    """The budget row, created if missing, locked for this transaction (PostgreSQL; SQLite locks the file)."""
    return app_state.locked(session, STATE_KEY, to_json(BudgetState()), now)


def record(session: Session, usage: RateUsage | None, now: datetime) -> BudgetState:
    """Fold the counters of a response into the shared budget."""
    if usage is None:
        return load(session)
    row = _locked_row(session, now)
    state = from_json(row.value)
    new = BudgetState(merge_usage(state.usage, usage), state.blocked_until)
    row.value = to_json(new)
    row.updated_at = now
    return new


def block(session: Session, until: datetime, usage: RateUsage | None, now: datetime) -> BudgetState:
    """After a 429: nobody calls Strava before `until`."""
    row = _locked_row(session, now)
    state = from_json(row.value)
    merged = merge_usage(state.usage, usage) if usage else state.usage
    blocked = max(until, state.blocked_until) if state.blocked_until and state.blocked_until > now else until
    new = BudgetState(merged, blocked)
    row.value = to_json(new)
    row.updated_at = now
    return new
