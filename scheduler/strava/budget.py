"""The app's one Strava rate budget, shared by every athlete and every instance.

Strava counts requests per application: 15-minute windows resetting at :00/:15/:30/:45 and a daily window
resetting at UTC midnight, for all requests ("overall") and for reads. Every response reports the counters;
we keep the latest ones in `AppState` so all instances see them. Work stops while a window is spent down to
its reserve (the reserve is left for interactive commands) or after a 429, and resumes at the window reset:
callers defer the work (`Athlete.defer_until`), nothing ever sleeps here.

Webhook-driven reads have their own share: anyone can POST an event, so at most `WEBHOOK_SHARE` of each
window's usable budget goes to them, counted here per window before each such read, and polling keeps the
rest whatever arrives at the webhook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scheduler.store import app_state, models
from scheduler.strava.port import RateMeter, RateUsage

STATE_KEY = "strava.rate_budget"
QUARTER = timedelta(minutes=15)
# The most of each window's usable budget that webhook-driven reads may take.
WEBHOOK_SHARE = 0.25


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


@dataclass(frozen=True, slots=True)
class WebhookReads:
    """Webhook-driven reads counted in the 15-minute window starting at `quarter` and on UTC day `day`."""

    quarter: datetime
    short: int
    day: date
    daily: int

    def at(self, now: datetime) -> WebhookReads:
        """The counts as they stand at `now`: a window that reset since counts from zero."""
        quarter, day = quarter_start(now), now.astimezone(UTC).date()
        return WebhookReads(
            quarter,
            self.short if quarter == self.quarter else 0,
            day,
            self.daily if day == self.day else 0,
        )


def one_more_read(reads: WebhookReads | None, now: datetime) -> WebhookReads:
    """`reads` with one more webhook-driven read made at `now`."""
    current = reads.at(now) if reads else WebhookReads(quarter_start(now), 0, now.astimezone(UTC).date(), 0)
    return replace(current, short=current.short + 1, daily=current.daily + 1)


def webhook_allowance(limit: int, reserve: float, share: float = WEBHOOK_SHARE) -> int:
    """How many webhook-driven reads one window allows: `share` of its usable budget (at least 1)."""
    return max(1, math.floor(usable(limit, reserve) * share))


def webhook_share_until(
    usage: RateUsage | None, reads: WebhookReads | None, now: datetime, reserve: float, share: float
) -> datetime | None:
    """None while a webhook-driven read may go out; else when its share of a window resets."""
    if usage is None or reads is None:
        return None  # no limits known yet, or nothing counted: the first response tells the limits
    current = reads.at(now)
    until: datetime | None = None
    for meter in (usage.overall, usage.read):
        if meter is None:
            continue
        if current.daily >= webhook_allowance(meter.daily_limit, reserve, share):
            until = max(until or now, next_midnight(now))
        elif current.short >= webhook_allowance(meter.short_limit, reserve, share):
            until = max(until or now, next_quarter(now))
    return until


# -- the shared state (AppState) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetState:
    usage: RateUsage | None = None
    blocked_until: datetime | None = None  # set by a 429
    webhook: WebhookReads | None = None

    def wait_until(self, now: datetime, reserve: float) -> datetime | None:
        """None when a request may go out now; else when to try again."""
        candidates = [t for t in (self.blocked_until, spent_until(self.usage, now, reserve)) if t and t > now]
        return max(candidates) if candidates else None

    def webhook_wait_until(
        self, now: datetime, reserve: float, share: float = WEBHOOK_SHARE
    ) -> datetime | None:
        """None when a webhook-driven read may go out now: the whole budget and the webhook share allow it."""
        candidates = [
            t
            for t in (
                self.wait_until(now, reserve),
                webhook_share_until(self.usage, self.webhook, now, reserve, share),
            )
            if t and t > now
        ]
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


def _webhook_json(reads: WebhookReads | None) -> dict[str, Any] | None:
    if reads is None:
        return None
    return {
        "quarter": reads.quarter.isoformat(),
        "short": reads.short,
        "day": reads.day.isoformat(),
        "daily": reads.daily,
    }


def _webhook_from(value: Any) -> WebhookReads | None:
    if not isinstance(value, dict):
        return None
    return WebhookReads(
        datetime.fromisoformat(value["quarter"]),
        int(value["short"]),
        date.fromisoformat(value["day"]),
        int(value["daily"]),
    )


def to_json(state: BudgetState) -> dict[str, Any]:
    usage = state.usage
    return {
        "observed_at": usage.observed_at.isoformat() if usage else None,
        "overall": _meter_json(usage.overall) if usage else None,
        "read": _meter_json(usage.read) if usage else None,
        "blocked_until": state.blocked_until.isoformat() if state.blocked_until else None,
        "webhook": _webhook_json(state.webhook),
    }


def from_json(value: Mapping[str, Any]) -> BudgetState:
    observed_at = _instant(value.get("observed_at"))
    usage = (
        RateUsage(observed_at, _meter_from(value.get("overall")), _meter_from(value.get("read")))
        if observed_at
        else None
    )
    return BudgetState(
        usage=usage,
        blocked_until=_instant(value.get("blocked_until")),
        webhook=_webhook_from(value.get("webhook")),
    )


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
    new = replace(state, usage=merge_usage(state.usage, usage))
    row.value = to_json(new)
    row.updated_at = now
    return new


def block(session: Session, until: datetime, usage: RateUsage | None, now: datetime) -> BudgetState:
    """After a 429: nobody calls Strava before `until`."""
    row = _locked_row(session, now)
    state = from_json(row.value)
    merged = merge_usage(state.usage, usage) if usage else state.usage
    blocked = max(until, state.blocked_until) if state.blocked_until and state.blocked_until > now else until
    new = replace(state, usage=merged, blocked_until=blocked)
    row.value = to_json(new)
    row.updated_at = now
    return new


def take_webhook_read(
    session: Session, now: datetime, reserve: float, share: float = WEBHOOK_SHARE
) -> tuple[datetime, bool] | None:
    """Count one webhook-driven read about to go out, under the budget row's lock so instances cannot both
    take the last one. None when it may go out; else (when to try again, whether the whole budget is spent
    rather than only the webhook share) and nothing is counted."""
    row = _locked_row(session, now)
    state = from_json(row.value)
    spent = state.wait_until(now, reserve)
    if spent is not None:
        return spent, True
    share_spent = webhook_share_until(state.usage, state.webhook, now, reserve, share)
    if share_spent is not None:
        return share_spent, False
    row.value = to_json(replace(state, webhook=one_more_read(state.webhook, now)))
    row.updated_at = now
    return None
