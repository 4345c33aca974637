"""Check-ins on the page, on the real listener: the form records one and shows what it changed in the plan,
the check-ins in force are listed with a control to clear them, and the form is as guarded as the others."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web.checkins import PAIN_ADVICE, PAIN_AHEAD_REASON, PAIN_REASON
from tests.integration.test_web_page import (
    ADA,
    BO,
    NOW,
    Site,
    csrf_of,
    unlabelled_controls,
)

MASSAGE_STEPS = ("leg_massager", "foot_massager", "foam_roll", "massage_gun")


def coming(html: str) -> str:
    return html.split('id="coming"')[1].split('id="checkins"')[0]


def in_force(html: str) -> str:
    return html.split('id="checkins"')[1].split('id="past"')[0]


def stored_checkins(site: Site, athlete_id: int) -> list[tuple[str, str | None]]:
    with site.sessions() as session:
        rows = session.scalars(select(models.CheckIn).where(models.CheckIn.athlete_id == athlete_id))
        return [(row.kind, row.area) for row in rows]


def test_a_pain_checkin_on_the_page_cancels_the_massage_steps_it_shows(site: Site) -> None:
    client = site.signed_in(ADA)
    page = client.get(f"/athletes/{ADA}").text
    titles = {step: site.reminder(ADA, step).title for step in ("ice", *MASSAGE_STEPS)}
    assert all(f'data-step="{step}"' in coming(page) for step in titles)
    assert "No check-in in force." in in_force(page)

    answer = client.post(
        f"/athletes/{ADA}/checkins", data={"csrf": csrf_of(page), "kind": "pain", "area": "Calves"}
    )
    assert answer.status_code == 200
    assert "Check-in recorded." in answer.text and PAIN_ADVICE in answer.text
    changed = answer.text.split('id="changed"')[1].split("</section>")[0]
    for step in MASSAGE_STEPS:
        assert re.search(rf"<strong>Cancelled:</strong> {re.escape(titles[step])} \(", changed), step
    assert PAIN_REASON in changed and titles["ice"] not in changed  # cold stays

    after = client.get(f"/athletes/{ADA}").text
    assert 'data-step="ice"' in coming(after)
    assert not any(f'data-step="{step}"' in coming(after) for step in MASSAGE_STEPS)
    assert "Sharp pain (calves)" in in_force(after) and "until Tue 19 May 11:00" in in_force(after)
    assert stored_checkins(site, ADA) == [("pain", "calves")]
    assert unlabelled_controls(after) == []
    assert {site.steps(ADA)[step] for step in MASSAGE_STEPS} == {"cancelled"}


def test_clearing_a_checkin_on_the_page_brings_the_steps_back(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    assert client.post(f"/athletes/{ADA}/checkins", data={"csrf": csrf, "kind": "pain"}).status_code == 200
    cleared = client.post(f"/athletes/{ADA}/checkins/clear", data={"csrf": csrf, "kind": "pain"})
    assert cleared.status_code == 200 and "Check-in cleared." in cleared.text
    assert "<strong>Added:</strong>" in cleared.text.split('id="changed"')[1].split("</section>")[0]
    assert "No check-in in force." in in_force(cleared.text)
    assert 'data-step="leg_massager"' in coming(client.get(f"/athletes/{ADA}").text)

    again = client.post(f"/athletes/{ADA}/checkins/clear", data={"csrf": csrf, "kind": "pain"})
    assert again.status_code == 400 and "no pain check-in in force" in again.text


def test_a_checkin_without_the_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    client = site.signed_in(ADA)
    refused = client.post(f"/athletes/{ADA}/checkins", data={"kind": "pain"})
    assert refused.status_code == 403
    forged = client.post(f"/athletes/{ADA}/checkins", data={"kind": "pain", "csrf": "x" * 43})
    assert forged.status_code == 403
    assert stored_checkins(site, ADA) == []
    assert site.steps(ADA)["massage_gun"] == "planned"
    with site.client() as stranger:  # no session at all
        assert stranger.post(f"/athletes/{ADA}/checkins", data={"kind": "pain"}).status_code == 401


def test_one_athlete_cannot_post_a_checkin_for_another(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    for path in (f"/athletes/{BO}/checkins", f"/athletes/{BO}/checkins/clear"):
        response = client.post(path, data={"csrf": csrf, "kind": "pain"})
        assert response.status_code == 404 and "Bo Secret" not in response.text
    assert stored_checkins(site, BO) == []
    assert site.steps(BO)["massage_gun"] == "planned"


def test_a_bad_checkin_gets_a_clear_error_and_changes_nothing(site: Site) -> None:
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)
    unknown = client.post(f"/athletes/{ADA}/checkins", data={"csrf": csrf, "kind": "broken"})
    assert unknown.status_code == 400 and "unknown check-in &#39;broken&#39;" in unknown.text
    area = client.post(f"/athletes/{ADA}/checkins", data={"csrf": csrf, "kind": "sore", "area": "<b>1</b>"})
    assert area.status_code == 400 and "area: a body part in words" in area.text
    assert stored_checkins(site, ADA) == []


def changed_of(html: str) -> str:
    return html.split('id="changed"')[1].split("</section>")[0]


def test_the_nudge_before_the_next_run_follows_a_checkin_at_once(site: Site) -> None:
    # Monday 18 May, 11:00 in Toronto, two days after the race; Ada runs on Tuesdays at 06:30.
    site.clock.now = NOW + timedelta(days=2)
    with transaction(site.sessions) as session:
        ada = session.get(models.Athlete, ADA)
        assert ada is not None
        ada.run_times = ["tue 06:30"]
    client = site.signed_in(ADA)
    csrf = csrf_of(client.get(f"/athletes/{ADA}").text)

    unstable = client.post(f"/athletes/{ADA}/checkins", data={"csrf": csrf, "kind": "knee_unstable"})
    assert unstable.status_code == 200
    brace = site.reminder(ADA, "knee_brace")
    assert brace.status == "planned" and brace.activity_id is None
    assert brace.title == "Before your 06:30 run — knee brace, foot massage"
    assert f"<strong>Added:</strong> {brace.title}" in changed_of(unstable.text)
    assert 'data-step="knee_brace"' in coming(client.get(f"/athletes/{ADA}").text)

    pain = client.post(f"/athletes/{ADA}/checkins", data={"csrf": csrf, "kind": "pain"})
    assert pain.status_code == 200
    assert f"<strong>Cancelled:</strong> {brace.title}" in changed_of(pain.text)
    assert PAIN_AHEAD_REASON in changed_of(pain.text)
    assert site.reminder(ADA, "knee_brace").status == "cancelled"
    assert 'data-step="knee_brace"' not in coming(client.get(f"/athletes/{ADA}").text)
