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
