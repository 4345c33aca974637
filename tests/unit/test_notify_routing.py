"""Which destinations a message goes to, from its tags and the destinations' tags (one table)."""

from __future__ import annotations

import pytest

from scheduler.notify.apprise_notifier import route

PUSH, EMAIL, ALWAYS = {"urgent"}, {"routine"}, {"always"}
PLAIN: set[str] = set()
FALLBACK_UNTAGGED = "no destination is tagged {}; sending to the untagged destinations"
FALLBACK_ALL = "no destination is tagged {} and none is untagged; sending to every destination"


@pytest.mark.parametrize(
    ("destinations", "message_tags", "chosen", "fallback"),
    [
        ([PUSH, EMAIL, PLAIN], ("urgent",), (0,), None),
        ([PUSH, EMAIL, PLAIN], ("routine",), (1,), None),
        ([PUSH, EMAIL, PLAIN], ("URGENT",), (0,), None),
        ([PUSH, EMAIL, PLAIN], ("urgent", "routine"), (0, 1), None),
        ([PUSH, EMAIL, PLAIN], (), (0, 1, 2), None),
        ([PUSH, PLAIN], ("routine",), (1,), FALLBACK_UNTAGGED.format("routine")),
        ([PUSH, PLAIN, ALWAYS], ("routine",), (1, 2), FALLBACK_UNTAGGED.format("routine")),
        ([PUSH, EMAIL], ("other",), (0, 1), FALLBACK_ALL.format("other")),
        ([PUSH, ALWAYS], ("urgent",), (0, 1), None),
        (
            [PLAIN, PLAIN],
            ("urgent",),
            (0, 1),
            None,
        ),  # nothing tagged: no routing set up, no fallback to report
        ([], ("urgent",), (), None),
    ],
)
def test_route(destinations, message_tags, chosen, fallback) -> None:  # type: ignore[no-untyped-def]
    decision = route(destinations, message_tags)
    assert decision.chosen == chosen
    assert decision.fallback == fallback
