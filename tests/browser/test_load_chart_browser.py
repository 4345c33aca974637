"""The training chart in headless Chromium (Debian's chromium and chromium-driver, driven by selenium): the
runner's page draws load, fitness, fatigue and form of the last 90 days with the shipped uPlot into a canvas
that holds the data, under the page's own Content-Security-Policy. The screenshot is saved in the test's tmp
dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import seeded_site
from tests.integration.test_web_page import ADA, Site
from tests.integration.test_weekly_page import seed_training


@pytest.fixture
def site(sqlite_url: str) -> Iterator[Site]:
    yield from seeded_site(sqlite_url, seed_training)


# Counts the canvas's painted pixels and how many columns hold any: a drawn series spans the width.
PAINTED = """
const canvas = document.querySelector('#load-chart canvas');
if (!canvas) { return null; }
const ctx = canvas.getContext('2d');
const {width, height} = canvas;
const pixels = ctx.getImageData(0, 0, width, height).data;
let painted = 0;
const columns = new Set();
for (let i = 3; i < pixels.length; i += 4) {
  if (pixels[i] > 0) { painted++; columns.add(((i - 3) / 4) % width); }
}
return {width, height, painted, columns: columns.size};
"""


def test_the_page_draws_load_fitness_fatigue_and_form(site: Site, browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    assert isinstance(driver, WebDriver)
    driver.get(site.link(ADA))
    assert driver.current_url.endswith(f"/athletes/{ADA}")

    holder = WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#load-chart[data-drawn]")
    )
    assert holder.get_attribute("data-drawn") == "90"
    driver.execute_script("arguments[0].scrollIntoView()", holder)
    driver.save_screenshot(str(tmp_path / "load-chart.png"))

    canvas = driver.execute_script(PAINTED)
    assert canvas is not None, "no canvas in the chart"
    assert canvas["width"] >= 280 and canvas["height"] > 100
    assert canvas["painted"] > 2000, canvas  # lines and bars, not an empty frame
    assert canvas["columns"] > canvas["width"] * 0.6, canvas  # the series run across the 90 days
    legend = holder.text
    for label in ("Load", "Fitness (CTL)", "Fatigue (ATL)", "Form (TSB)"):
        assert label in legend
    # The page's Content-Security-Policy allowed everything the chart needed.
    logs: list[dict[str, str]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    problems = [e["message"] for e in logs if e["level"] in ("SEVERE", "WARNING")]
    assert not [p for p in problems if "Content Security Policy" in p or "uplot" in p.lower()], problems
    # The table stays for reading the exact values.
    assert driver.find_element(
        By.CSS_SELECTOR, "section[aria-labelledby=training] details summary"
    ).text.startswith("Daily values, last 90 days")
