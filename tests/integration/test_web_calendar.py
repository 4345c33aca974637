"""The calendar feed on the real listener: a secret .ics URL that icalendar parses back, with the plan's steps
at the right UTC times, following the plan as it changes, and one athlete's URL never showing another's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from icalendar import Calendar
from sqlalchemy import select

from scheduler.store import migrate, models
from scheduler.store.db import make_engine, make_sessionmaker, transaction
from scheduler.web import calendar_feed
from tests.integration.test_web_answers import recovery
from tests.integration.test_web_page import ADA, ADA_RACE, BO, Site, csrf_of, seed


def feed_path(site: Site, athlete_id: int, *, rotate: bool = False) -> str:
    with transaction(site.sessions) as session:
        token = calendar_feed.issue(session, athlete_id, site.clock(), rotate=rotate)
    return calendar_feed.feed_url(site.url, token).removeprefix(site.url)


def fetch(site: Site, path: str) -> httpx.Response:
    with site.client() as client:  # no cookie: a calendar app sends none
        return client.get(path)


def events(response: httpx.Response) -> dict[str, dict[str, object]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    return {
        str(event["UID"]): {
            "summary": str(event["SUMMARY"]),
            "description": str(event.get("DESCRIPTION", "")),
            "start": event.decoded("DTSTART"),
        }
        for event in calendar.walk("VEVENT")
    }


def test_the_feed_holds_the_race_steps_at_their_utc_times(site: Site) -> None:
    response = fetch(site, feed_path(site, ADA))
    assert "X-WR-CALNAME:Recovery · Ada Runner" in response.text
    feed = events(response)
    ice, leg = site.reminder(ADA, "ice"), site.reminder(ADA, "leg_massager")
    foam = site.reminder(ADA, "foam_roll")
    # The race ended 10:53 in Toronto (EDT, UTC-4): ice at once (11:00), the leg massager tonight at 20:00,
    # the foam roll tomorrow at 08:00; written in UTC.
    assert feed[f"reminder-{ice.id}@recovery-scheduler"]["start"] == datetime(2026, 5, 16, 15, 0, tzinfo=UTC)
    assert feed[f"reminder-{leg.id}@recovery-scheduler"]["start"] == datetime(2026, 5, 17, 0, 0, tzinfo=UTC)
    assert feed[f"reminder-{foam.id}@recovery-scheduler"]["start"] == datetime(2026, 5, 17, 12, 0, tzinfo=UTC)
    assert "DTSTART:20260517T000000Z" in response.text  # UTC, no floating time a client could misplace
    assert feed[f"reminder-{leg.id}@recovery-scheduler"]["summary"] == leg.title
    assert feed[f"reminder-{leg.id}@recovery-scheduler"]["description"] == leg.body
    # The race itself, as an all-day event on its local day.
    race = feed[f"activity-{ADA_RACE}@recovery-scheduler"]
    assert race["start"] == date(2026, 5, 16) and race["summary"] == "Harbourfront 10K (Race)"
    assert not any("Spreelauf" in str(event["summary"]) for event in feed.values())


def test_a_step_the_plan_cancels_leaves_the_feed_and_the_others_keep_their_uids(site: Site) -> None:
    path = feed_path(site, ADA)
    before = events(fetch(site, path))
    ice = site.reminder(ADA, "ice")
    assert f"reminder-{ice.id}@recovery-scheduler" in before

    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    retag = client.post(
        f"/athletes/{ADA}/activities/{ADA_RACE}/effort", data={"csrf": csrf, "effort": "easy"}
    )
    assert retag.status_code == 303
    assert site.steps(ADA)["ice"] == "cancelled"

    after = events(fetch(site, path))
    assert f"reminder-{ice.id}@recovery-scheduler" not in after
    assert after[f"activity-{ADA_RACE}@recovery-scheduler"]["summary"] == "Harbourfront 10K (Easy)"
    # The feed holds exactly the steps still planned, under the UIDs they had before the change.
    steps = site.steps(ADA)
    still = {
        f"reminder-{site.reminder(ADA, step).id}@recovery-scheduler"
        for step in steps
        if steps[step] == "planned"
    }
    assert {uid for uid in after if uid.startswith("reminder-")} == still
    assert still <= set(before)


def test_a_wrong_token_is_not_found_and_rotate_revokes(site: Site) -> None:
    path = feed_path(site, ADA)
    assert fetch(site, path).status_code == 200
    assert fetch(site, "/calendar/not-a-token.ics").status_code == 404
    assert fetch(site, path[:-6] + "x.ics").status_code == 404  # one character altered
    assert fetch(site, path.removesuffix(".ics")).status_code == 404
    fresh = feed_path(site, ADA, rotate=True)
    assert fetch(site, path).status_code == 404
    assert fetch(site, fresh).status_code == 200
    with site.sessions() as session:
        stored = session.scalars(select(models.CalendarLink.token_hash)).all()
    token = fresh.removeprefix("/calendar/").removesuffix(".ics")
    assert token not in stored and len(token) >= 43


def test_one_athletes_feed_shows_only_theirs(site: Site) -> None:
    ada, bo = events(fetch(site, feed_path(site, ADA))), events(fetch(site, feed_path(site, BO)))
    bo_ice = site.reminder(BO, "ice")
    assert (
        f"reminder-{bo_ice.id}@recovery-scheduler" in bo
        and f"reminder-{bo_ice.id}@recovery-scheduler" not in ada
    )
    assert {e["summary"] for e in bo.values()} & {e["summary"] for e in ada.values()} == set()
    assert any("Spreelauf" in str(e["summary"]) for e in bo.values())


def test_a_get_changes_nothing_and_the_feed_needs_no_session(site: Site) -> None:
    path = feed_path(site, ADA)
    steps = site.steps(ADA)
    for _ in range(2):
        assert fetch(site, path).status_code == 200
    assert site.steps(ADA) == steps
    with site.client() as client:
        assert client.post(path).status_code == 405


def test_the_calendar_command_prints_a_feed_url(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'recovery.db'}")  # the database the command opens
    migrate.upgrade(engine)
    seed(make_sessionmaker(engine))
    engine.dispose()
    printed = recovery(["athletes", "calendar", str(ADA)], tmp_path)
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.strip()
    assert url.startswith("https://recovery.example.org/calendar/") and url.endswith(".ics")
    rotated = recovery(["athletes", "calendar", str(ADA), "--rotate"], tmp_path)
    assert rotated.returncode == 0 and rotated.stdout.strip() != url
    unknown = recovery(["athletes", "calendar", "424242"], tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.strip().startswith("recovery: error:")
