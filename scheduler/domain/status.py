"""The status vocabulary: what a reminder and an athlete can be, spelled once.

The values are the strings stored in `reminders.status` and `athletes.state`; CHECK constraints there (see
`scheduler.store.models`) hold the columns to these lists. Both are `StrEnum`s, so a member equals its string
and database rows (plain `str`) compare and pass straight in. The named sets beside them are the groups the
rest of the code asks about; a new status goes here and into one of them, and a migration widens the CHECK.
"""

from __future__ import annotations

from enum import StrEnum


class ReminderStatus(StrEnum):
    PLANNED = "planned"  # waiting for its due time (or snoozed to a later one)
    SENDING = "sending"  # claimed under a lease by one instance, in flight
    SENT = "sent"
    PARTIAL = "partial"  # finished with some destinations reached and others never
    FAILED = "failed"  # attempts ran out with no destination reached
    EXPIRED = "expired"  # its window closed before it could be sent: never sent late
    CANCELLED = "cancelled"  # re-planning or a deletion retired it
    SKIPPED = "skipped"  # planned already out of its window or excluded by a rule; the body says why


# Planning may still rewrite or cancel these: nothing has gone out.
UNSENT: tuple[ReminderStatus, ...] = (ReminderStatus.PLANNED, ReminderStatus.SKIPPED)
# Dispatch still has work with these.
PENDING: tuple[ReminderStatus, ...] = (ReminderStatus.PLANNED, ReminderStatus.SENDING)
# Dispatch is done with these: the delivery outcomes.
FINISHED: tuple[ReminderStatus, ...] = (
    ReminderStatus.SENT,
    ReminderStatus.PARTIAL,
    ReminderStatus.FAILED,
    ReminderStatus.EXPIRED,
)
# Past reminders, as history shows them: delivered or not, and the ones never meant to go out.
PAST: tuple[ReminderStatus, ...] = (*FINISHED, ReminderStatus.CANCELLED, ReminderStatus.SKIPPED)
# Re-planning never touches these: in flight or finished, so nothing is sent twice.
SETTLED: tuple[ReminderStatus, ...] = (ReminderStatus.SENDING, *FINISHED)


class AthleteState(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"  # Strava refused our tokens: `recovery auth` again
    DEAUTHORIZED = "deauthorized"  # confirmed revoked: their data is gone
    # A deauthorization announced by a webhook, not yet confirmed by Strava: nothing sent, nothing deleted.
    SUSPENDED = "suspended"
    FILES_ONLY = "files"  # an athlete known only from activity files, never connected to Strava


# Athletes the daemon plans messages about their days for (before runs, rest days, evening notes).
DAY_PLANNED: tuple[AthleteState, ...] = (AthleteState.ACTIVE, AthleteState.FILES_ONLY)
