"""The page in headless Chromium (Debian's chromium and chromium-driver, driven by selenium): sign in by
the link, see a race's steps at their local times, answer one done and one snooze, record a sharp pain and
see the massage steps leave the plan (cold stays), clear it, correct the class and see the plan change.
Screenshots of each step are saved in the test's tmp dir; 1-signed-in.png is deploy/screenshots/page.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import seeded_site
from tests.integration.test_web_page import ADA, ADA_RACE, Site, seed


@pytest.fixture
def site(sqlite_url: str) -> Iterator[Site]:
    yield from seeded_site(sqlite_url, seed)


def test_a_runner_answers_and_corrects_on_the_page(site: Site, browser: object, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser
    assert isinstance(driver, WebDriver)
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def after_click(text: str) -> str:
        """The main text once the page the click led to says `text` (the old page goes stale meanwhile)."""
        wait = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])
        wait.until(lambda d: text in d.find_element(By.CSS_SELECTOR, "main").text)
        return str(driver.find_element(By.CSS_SELECTOR, "main").text)

    def coming_steps() -> set[str]:
        found = driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=coming] article")
        return {str(e.get_attribute("data-step")) for e in found}

    driver.get(site.link(ADA))
    assert driver.current_url.endswith(f"/athletes/{ADA}")
    driver.set_window_size(412, 915)  # one phone screen, as a runner opening it from a notification sees it
    driver.save_screenshot(str(shots / "1-signed-in.png"))
    driver.set_window_size(412, 1600)
    coming = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=coming]").text
    assert "Today 11:00" in coming and "Ice now" in coming  # the race ended 10:53 in Toronto
    assert "Today 20:00" in coming and "Tomorrow 08:00" in coming

    ice = site.reminder(ADA, "ice")
    driver.find_element(By.CSS_SELECTOR, f"#reminder-{ice.id} button.primary").click()
    after_click("Marked as done.")
    assert site.reminder(ADA, "ice").response == "done"

    leg = site.reminder(ADA, "leg_massager")
    driver.find_element(By.CSS_SELECTOR, f'#reminder-{leg.id} form[action$="/snooze"] button').click()
    after_click("Snoozed: it comes again later.")
    card_text = driver.find_element(By.ID, f"reminder-{leg.id}").text
    assert "Today 20:30" in card_text and "Snoozed" in card_text
    driver.save_screenshot(str(shots / "2-answered.png"))

    massage = {"leg_massager", "foam_roll", "massage_gun", "foot_massager"}
    assert massage & coming_steps(), "the race plans massage steps before the pain check-in"
    Select(driver.find_element(By.ID, "checkin-kind")).select_by_value("pain")
    driver.find_element(By.ID, "checkin-area").send_keys("calf")
    driver.find_element(By.XPATH, "//button[normalize-space()='Tell the plan']").click()
    after_click("Check-in recorded.")
    assert not massage & coming_steps(), "no massage, rolling or massage gun while the pain is in force"
    changed = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=changed]").text
    assert "Cancelled: Gentle leg massager tonight" in changed and "pain reported" in changed
    assert "see a physiotherapist or doctor" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    in_force = driver.find_element(By.CSS_SELECTOR, 'article.checkin[data-kind="pain"]').text
    assert "Sharp pain (calf)" in in_force
    assert {status for step, status in site.steps(ADA).items() if step in massage} == {"cancelled"}
    assert site.reminder(ADA, "ice").response == "done"  # cold stays: the answered ice is untouched
    driver.save_screenshot(str(shots / "3-pain.png"))

    driver.find_element(By.CSS_SELECTOR, 'article.checkin[data-kind="pain"] button').click()
    after_click("Check-in cleared.")
    assert massage & coming_steps(), "clearing the pain brings the massage steps back"

    Select(driver.find_element(By.ID, f"effort-{ADA_RACE}")).select_by_value("easy")
    driver.find_element(By.CSS_SELECTOR, f"#activity-{ADA_RACE} button").click()
    after_click("Class corrected")
    coming = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=coming]").text
    steps = {e.get_attribute("data-step") for e in driver.find_elements(By.CSS_SELECTOR, "#coming ~ article")}
    assert "leg_massager" not in steps and "ice" not in steps  # an easy run needs neither
    assert "Nothing hard after an easy run" in coming  # the easy day's optional foot massage
    assert "set by the runner" in driver.find_element(By.ID, f"activity-{ADA_RACE}").text
    driver.save_screenshot(str(shots / "4-corrected.png"))
    print(f"screenshots in {shots}")
