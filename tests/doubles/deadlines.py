"""Deadlines for tests: wait for an outcome, never assert how long something took.

A loaded machine (two cores shared by several suites) makes any "took less than a second" assertion flaky.
What a test wants to know is that something does not hang, sleep for minutes or wait for a sweep; a
deadline far above the normal time and far below the failure it guards against says exactly that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

GENEROUS = 30.0  # seconds: far above a loaded machine's worst, far below the minutes a hang would take


def finishes_within(seconds: float, work: Callable[[], T], what: str) -> T:
    """Run `work` in a thread and return its result (or raise its error); fail if it is still running
    `seconds` later — saying `what` did not finish."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the test's thread, which re-raises it
            failure.append(error)

    worker = threading.Thread(target=run, name=f"deadline: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise AssertionError(f"{what} did not finish within {seconds:g} s")
    if failure:
        raise failure[0]
    return outcome[0]


def wait_until(condition: Callable[[], bool], seconds: float, what: str, interval: float = 0.01) -> None:
    """Poll `condition` until it holds; fail naming `what` once `seconds` have passed without it."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds:g} s")
        time.sleep(interval)
