"""Destination identity across attempts: stable keys, and what each destination got over every attempt."""

from __future__ import annotations

import pytest

from scheduler.dispatch.deliveries import by_destination
from scheduler.notify.port import destination_keys


@pytest.mark.parametrize(
    ("public_urls", "keys"),
    [
        ([], []),
        (["ntfy://ntfy.sh/a", "mailto://m****@x.org"], ["ntfy://ntfy.sh/a", "mailto://m****@x.org"]),
        (["pover://u...y@a...n", "pover://u...y@a...n"], ["pover://u...y@a...n", "pover://u...y@a...n #2"]),
        (["j://x", "k://y", "j://x", "j://x"], ["j://x", "k://y", "j://x #2", "j://x #3"]),
    ],
)
def test_keys_are_the_privacy_urls_numbered_where_they_repeat(
    public_urls: list[str], keys: list[str]
) -> None:
    assert destination_keys(public_urls) == keys


def ok(destination: str, **extra: str) -> dict[str, object]:
    return {"destination": destination, "ok": True, "error": None, **extra}


def failed(destination: str, error: str, **extra: str) -> dict[str, object]:
    return {"destination": destination, "ok": False, "error": error, **extra}


def test_each_destination_once_with_whether_any_attempt_reached_it() -> None:
    attempts = [
        [ok("json://push/hook"), failed("mailto://m****@x.org", "connection refused")],
        [failed("mailto://m****@x.org", "timed out")],
        [failed("mailto://m****@x.org", "no answer")],
    ]
    assert by_destination(attempts) == [
        {"destination": "json://push/hook", "ok": True, "error": None, "attempts": 1},
        {"destination": "mailto://m****@x.org", "ok": False, "error": "no answer", "attempts": 3},
    ]


def test_a_destination_reached_stays_reached_and_keys_tell_equal_privacy_forms_apart() -> None:
    attempts = [
        [failed("json://a", "500"), ok("json://a", key="json://a #2")],
        [ok("json://a"), failed("json://a", "late duplicate", key="json://a #2")],
    ]
    assert by_destination(attempts) == [
        {"destination": "json://a", "ok": True, "error": None, "attempts": 2},
        {"destination": "json://a", "ok": True, "error": None, "attempts": 2},
    ]
