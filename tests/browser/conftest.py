"""Headless Chromium for the page's browser tests (Debian's chromium and chromium-driver, driven by
selenium), and the site each test's seed runs in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import IN_CI
from tests.integration.test_web_page import Site, start_site

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")


def _need_browser() -> None:
    if CHROMIUM and DRIVER:
        return
    reason = "chromium and chromium-driver are not installed (`./dev test` installs them when run as root)"
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the browser test must run")
    pytest.skip(reason)


def seeded_site(sqlite_url: str, seed: Callable[[sessionmaker[Session]], object]) -> Iterator[Site]:
    """A migrated SQLite file seeded by `seed`, served by the real listener until the test ends."""
    from scheduler.store import migrate
    from scheduler.store.db import make_engine, make_sessionmaker

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    sessions: sessionmaker[Session] = make_sessionmaker(engine)
    seed(sessions)
    running = start_site(sessions)
    yield running
    running.server.stop()
    engine.dispose()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=412,1600",  # a phone's width
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the chart test reads the console
    os.environ.setdefault("SE_AVOID_STATS", "true")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
