"""The in-memory notifier double: records deliveries, fails when told to."""

from __future__ import annotations

import pytest

from scheduler.notify.memory import MemoryNotifier
from scheduler.notify.port import Message

HELLO = Message("Ice now", "10 min", ("urgent",))


def test_records_what_it_delivered_and_where() -> None:
    notifier = MemoryNotifier(["memory://a", "memory://b"])
    result = notifier.send(HELLO)
    own = notifier.send(HELLO, athlete_urls=["memory://ada"])
    assert result.ok and own.ok
    assert [s.destinations for s in notifier.sent] == [("memory://a", "memory://b"), ("memory://ada",)]
    assert notifier.messages == [HELLO, HELLO]


def test_fails_the_given_number_of_times_then_delivers() -> None:
    notifier = MemoryNotifier()
    notifier.fail(times=2, error="HTTP 500")
    outcomes = [notifier.send(HELLO) for _ in range(3)]
    assert [o.ok for o in outcomes] == [False, False, True]
    assert outcomes[0].error == "memory://default: HTTP 500"
    assert notifier.attempts == 3
    assert len(notifier.sent) == 1


def test_fails_until_recovered_and_can_raise() -> None:
    notifier = MemoryNotifier()
    notifier.fail()
    assert not any(notifier.send(HELLO).ok for _ in range(5))
    notifier.recover()
    assert notifier.send(HELLO).ok
    notifier.raise_next(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        notifier.send(HELLO)
    assert notifier.send(HELLO).ok


def test_can_fail_only_some_destinations_and_leaves_out_those_already_reached() -> None:
    notifier = MemoryNotifier(["memory://phone", "memory://mail"])
    notifier.fail(times=1, error="mail server down", only=["memory://mail"])

    first = notifier.send(HELLO)
    retry = notifier.send(
        Message(HELLO.title, HELLO.body, HELLO.tags, delivered=frozenset({"memory://phone"}))
    )

    assert [(r.destination, r.ok) for r in first.results] == [
        ("memory://phone", True),
        ("memory://mail", False),
    ]
    assert [(r.destination, r.ok) for r in retry.results] == [("memory://mail", True)]
    assert [s.destinations for s in notifier.sent] == [("memory://phone",), ("memory://mail",)]
