"""Stored zone names read back: the one rule for a name this machine's tz database may not know.

Names are validated when they come in (settings, Strava's `timezone`, files), but a stored one can still be
unknown here (an older tz database on another machine, a hand-edited row). Showing or planning then falls
back rather than failing: to the next name given, and last to UTC, which still tells the instant.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

UTC_ZONE = ZoneInfo("UTC")


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA name; None when there is no name or this machine does not know it."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # KeyError: ZoneInfoNotFoundError
        return None


def zone_or(*names: str | None) -> ZoneInfo:
    """The first of `names` this machine knows, else UTC."""
    for name in names:
        zone = zone_named(name)
        if zone is not None:
            return zone
    return UTC_ZONE
