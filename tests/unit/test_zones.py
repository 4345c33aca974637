"""A stored zone name this machine does not know falls back to the next one given, and last to UTC."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from scheduler.domain.zones import UTC_ZONE, zone_named, zone_or


def test_a_known_name_is_its_zone_and_an_unknown_or_empty_one_is_none() -> None:
    assert zone_named("America/Toronto") == ZoneInfo("America/Toronto")
    assert zone_named("Mars/Olympus_Mons") is None
    assert zone_named("../etc/passwd") is None
    assert zone_named("") is None and zone_named(None) is None


def test_the_first_known_name_wins_and_utc_is_the_last_resort() -> None:
    assert zone_or(None, "Mars/Olympus_Mons", "Europe/Paris") == ZoneInfo("Europe/Paris")
    assert zone_or("Asia/Tokyo", "Europe/Paris") == ZoneInfo("Asia/Tokyo")
    assert zone_or(None, "nowhere") == UTC_ZONE
