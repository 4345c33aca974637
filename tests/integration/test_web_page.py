"""The runner's page on the real listener (uvicorn + Starlette) over a real database: sign-in by link,
reminders at local times with what happened, answers, class corrections and the profile form re-planning."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.protocols import load_protocols
from scheduler.http.server import Endpoints, HttpServer
from scheduler.ingest import IngestConfig, ingest_activity
from scheduler.resources import PROTOCOLS_FILE
from scheduler.settings import HttpSettings
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web import signin
from scheduler.web.routes import Web, WebConfig
from tests.integration.conftest import race as race  # re-exported: the page tests import it from here

NOW = datetime(2026, 5, 16, 15, 0, tzinfo=UTC)  # 11:00 in Toronto, the race ended at 10:53
ADA, BO = 7, 8
ADA_RACE, BO_RACE = 101, 201


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ingest_config() -> IngestConfig:
    return IngestConfig(protocols=load_protocols(PROTOCOLS_FILE), default_zone="UTC")


def seed(sessions: sessionmaker[Session]) -> None:
    """Ada (Toronto) ran a race this morning; Bo (Berlin) ran one too."""
    with transaction(sessions) as session:
        for athlete_id, name, zone, activity_id, raw_zone in (
            (ADA, "Ada Runner", "America/Toronto", ADA_RACE, "(GMT-05:00) America/Toronto"),
            (BO, "Bo Secret", "Europe/Berlin", BO_RACE, "(GMT+01:00) Europe/Berlin"),
        ):
            athlete = models.Athlete(
                id=athlete_id,
                name=name,
                timezone=zone,
                state="active",
                created_at=NOW,
                updated_at=NOW,
                notify_urls=[],
            )
            session.add(athlete)
            session.flush()
            name_of_race = "Harbourfront 10K" if athlete_id == ADA else "Bo's Spreelauf 10K"
            ingest_activity(
                session,
                athlete,
                race(activity_id, athlete_id, name=name_of_race, timezone=raw_zone),
                ingest_config(),
                NOW,
            )


@dataclass
class Site:
    server: HttpServer
    sessions: sessionmaker[Session]
    clock: Clock

    @property
    def url(self) -> str:
        return self.server.url

    def link(self, athlete_id: int, rotate: bool = False) -> str:
        with transaction(self.sessions) as session:
            token = signin.issue_link(session, athlete_id, self.clock(), rotate=rotate)
        return signin.link_url(self.url, token)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def signed_in(self, athlete_id: int) -> httpx.Client:
        client = self.client()
        response = client.get(self.link(athlete_id))
        assert response.status_code == 303, response.text
        return client

    def reminder(self, athlete_id: int, step: str) -> models.Reminder:
        with self.sessions() as session:
            row = session.scalars(
                select(models.Reminder).where(
                    models.Reminder.athlete_id == athlete_id, models.Reminder.step == step
                )
            ).one()
            session.expunge(row)
            return row

    def steps(self, athlete_id: int) -> dict[str, str]:
        with self.sessions() as session:
            rows = session.scalars(select(models.Reminder).where(models.Reminder.athlete_id == athlete_id))
            return {r.step: r.status for r in rows}


def start_site(
    sessions: sessionmaker[Session], *, token: str | None = None, public_url: str | None = None
) -> Site:
    clock = Clock(NOW)
    settings = HttpSettings(host="127.0.0.1", port=0, token=token, public_url=public_url)
    web = Web(WebConfig(sessions, ingest_config(), clock, public_url or "http://127.0.0.1", token))
    endpoints = Endpoints(health=lambda _: (True, {}), status=lambda: {"ok": True}, webhook=None, web=web)
    server = HttpServer(settings, endpoints)
    server.start()
    return Site(server, sessions, clock)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


class _Controls(HTMLParser):
    """Collects what an accessibility check needs: the lang attribute, controls and their labels."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "label" and values.get("for"):
            self.labels.add(str(values["for"]))
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append(values)


def unlabelled_controls(html: str) -> list[dict[str, str | None]]:
    parser = _Controls()
    parser.feed(html)
    assert parser.lang == "en"
    return [c for c in parser.controls if c.get("id") not in parser.labels and not c.get("aria-label")]


def test_the_link_signs_in_and_the_page_shows_todays_steps_at_local_times(site: Site) -> None:
    client = site.client()
    response = client.get(site.link(ADA))
    assert response.status_code == 303 and response.headers["location"] == f"/athletes/{ADA}"
    cookie = response.headers["set-cookie"]
    assert (
        "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()
    )

    page = client.get(f"/athletes/{ADA}")
    assert page.status_code == 200
    html = page.text
    # The ice step is due at once (10:53 local end, noticed 11:00), the leg massager tonight at 20:00 Toronto.
    assert re.search(r'<time datetime="2026-05-16T11:00-04:00">Today 11:00</time>', html)
    assert re.search(r'<time datetime="2026-05-16T20:00-04:00">Today 20:00</time>', html)
    assert "Tomorrow 08:00" in html  # the foam roll
    assert "Harbourfront 10K" in html and "Race" in html
    assert "Bo Secret" not in html and "Spreelauf" not in html
    assert unlabelled_controls(html) == []
    assert len(page.content) < 100_000


def test_done_cancels_before_sending_and_the_page_shows_what_happened(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    ice = site.reminder(ADA, "ice")
    answer = client.post(f"/athletes/{ADA}/reminders/{ice.id}/done", data={"csrf": csrf})
    assert answer.status_code == 303
    after = site.reminder(ADA, "ice")
    assert (after.status, after.response) == ("cancelled", "done")
    page = client.get(answer.headers["location"]).text
    assert "Marked as done." in page
    past = page.split('id="past"')[1]
    assert "You: Done" in past and "done by the runner before it was sent" in past


def test_snooze_moves_the_step_half_an_hour_and_never_past_its_usefulness(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    leg = site.reminder(ADA, "leg_massager")
    assert client.post(f"/athletes/{ADA}/reminders/{leg.id}/snooze", data={"csrf": csrf}).status_code == 303
    snoozed = site.reminder(ADA, "leg_massager")
    assert snoozed.status == "planned" and snoozed.available_at == leg.available_at + timedelta(minutes=30)
    assert "Today 20:30" in client.get(f"/athletes/{ADA}").text

    # The leg massager helps for 2 h: three more snoozes would pass 22:00.
    for _ in range(2):
        assert (
            client.post(f"/athletes/{ADA}/reminders/{leg.id}/snooze", data={"csrf": csrf}).status_code == 303
        )
    refused = client.post(f"/athletes/{ADA}/reminders/{leg.id}/snooze", data={"csrf": csrf})
    assert refused.status_code == 409 and "would pass its usefulness" in refused.text
    assert site.reminder(ADA, "leg_massager").available_at == leg.available_at + timedelta(minutes=90)


def test_correcting_the_class_replans_the_day(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    assert site.steps(ADA)["ice"] == "planned"
    response = client.post(
        f"/athletes/{ADA}/activities/{ADA_RACE}/effort", data={"csrf": csrf, "effort": "easy"}
    )
    assert response.status_code == 303
    steps = site.steps(ADA)
    assert steps["ice"] == "cancelled" and steps["leg_massager"] == "cancelled"
    page = client.get(f"/athletes/{ADA}").text
    assert "set by the runner (classified as race)" in page
    assert "Ice now" not in page.split('id="past"')[0]


def test_saving_the_profile_replans(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    tools = ["ice", "foam_roller", "foot_massager"]  # no leg massager any more
    form = {
        "csrf": csrf,
        "tool": tools,
        "quiet_start": "21:30",
        "quiet_end": "06:30",
        "max_hr": "190",
        "rest_hr": "",
    }
    assert client.post(f"/athletes/{ADA}/profile", data=form).status_code == 303
    assert site.steps(ADA)["leg_massager"] == "cancelled"
    with site.sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        assert (athlete.equipment, athlete.quiet_start, athlete.max_hr) == (sorted(tools), "21:30", 190)

    bad = client.post(f"/athletes/{ADA}/profile", data={**form, "max_hr": "999"})
    assert bad.status_code == 400 and "Maximum heart rate" in bad.text
    with site.sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None and athlete.max_hr == 190


def test_the_admin_with_the_token_sees_every_athlete(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    running = start_site(sessions, token="s3cret-admin-token")
    try:
        with running.client() as client:
            bearer = {"Authorization": "Bearer s3cret-admin-token"}
            assert "Bo Secret" in client.get("/", headers=bearer).text
            assert "Spreelauf" in client.get(f"/athletes/{BO}", headers=bearer).text
            assert client.post("/signin", data={"token": "wrong"}).status_code == 403
            signed = client.post("/signin", data={"token": "s3cret-admin-token"})
            assert signed.status_code == 303
            assert (
                "Ada Runner" in client.get("/").text and "Harbourfront" in client.get(f"/athletes/{ADA}").text
            )
            # The rest of the listener keeps its bearer guard.
            assert client.get("/status").status_code == 401
    finally:
        running.server.stop()
