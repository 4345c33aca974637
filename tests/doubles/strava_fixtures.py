"""Pytest fixture for the Strava double.

Use it from a conftest (top-level `tests/conftest.py`):
    pytest_plugins = ["tests.doubles.strava_fixtures"]
or import it into a test module or conftest:
    from tests.doubles.strava_fixtures import strava_double  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.doubles.strava_double import StravaDouble


@pytest.fixture
def strava_double() -> Iterator[StravaDouble]:
    """A started Strava double on 127.0.0.1 (ephemeral port), stopped after the test."""
    with StravaDouble() as double:
        yield double
