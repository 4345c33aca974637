"""The page's defences: no data without a session, one athlete never reaches another's data, GET changes
nothing, action links are signed and expire, forms need the session's CSRF token, bodies are bounded."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web import signing
from tests.integration.test_web_page import ADA, ADA_RACE, BO, BO_RACE, Site, csrf_of, seed, start_site


def action_path(site: Site, reminder_id: int, action: str) -> str:
    with transaction(site.sessions) as session:
        key = signing.secret(session, site.clock())
        reminder = session.get(models.Reminder, reminder_id)
        assert reminder is not None
        return signing.action_path(key, reminder_id, action, reminder.expires_at)


def test_nothing_is_readable_without_a_session(site: Site) -> None:
    with site.client() as client:
        for path in ("/", f"/athletes/{ADA}", f"/athletes/{BO}", "/signin"):
            response = client.get(path)
            assert response.status_code in (200, 401)
            assert "Harbourfront" not in response.text and "Ada Runner" not in response.text
            assert "Bo Secret" not in response.text
        ice = site.reminder(ADA, "ice")
        assert client.post(f"/athletes/{ADA}/reminders/{ice.id}/done", data={"csrf": "x"}).status_code == 401
        assert client.get("/signin/not-a-real-token").status_code == 404
    assert site.steps(ADA)["ice"] == "planned"


def test_one_athlete_gets_404_on_the_others_pages_and_actions(site: Site) -> None:
    ada = site.signed_in(ADA)
    csrf = csrf_of(ada.get(f"/athletes/{ADA}").text)
    bo_ice = site.reminder(BO, "ice")
    assert ada.get(f"/athletes/{BO}").status_code == 404
    for path, form in (
        (f"/athletes/{BO}/reminders/{bo_ice.id}/done", {}),
        (f"/athletes/{BO}/reminders/{bo_ice.id}/snooze", {}),
        (f"/athletes/{ADA}/reminders/{bo_ice.id}/skip", {}),  # B's reminder under A's own path
        (f"/athletes/{BO}/activities/{BO_RACE}/effort", {"effort": "easy"}),
        (f"/athletes/{ADA}/activities/{BO_RACE}/effort", {"effort": "easy"}),
        (f"/athletes/{BO}/profile", {"tool": "ice"}),
    ):
        response = ada.post(path, data={"csrf": csrf, **form})
        assert response.status_code == 404, path
        assert "Spreelauf" not in response.text
    assert site.reminder(BO, "ice").status == "planned" and site.steps(BO)["leg_massager"] == "planned"


def test_a_get_on_an_action_link_changes_nothing_and_the_post_does(site: Site) -> None:
    ice = site.reminder(ADA, "ice")
    path = action_path(site, ice.id, "done")
    with site.client() as client:  # no session: the signature is the credential
        confirm = client.get(path)
        assert (
            confirm.status_code == 200
            and "Mark as done" in confirm.text
            and '<form method="post"' in confirm.text
        )
        assert site.reminder(ADA, "ice").status == "planned"
        done = client.post(path)
        assert done.status_code == 200 and "Marked as done." in done.text
    after = site.reminder(ADA, "ice")
    assert (after.status, after.response) == ("cancelled", "done")


def test_forged_altered_and_expired_links_are_refused(site: Site) -> None:
    ice = site.reminder(ADA, "ice")
    leg = site.reminder(ADA, "leg_massager")
    path = action_path(site, ice.id, "done")
    signature = path.rsplit("s=", 1)[1]
    forged = [
        path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB"),  # altered signature
        path.replace("/done?", "/skip?"),  # another action
        path.replace(f"/r/{ice.id}/", f"/r/{leg.id}/"),  # another reminder
        path.replace("e=", "e=9"),  # a later expiry
        f"/r/{ice.id}/done?e=99999999999&s={signature}",
        f"/r/{ice.id}/done",
    ]
    with site.client() as client:
        for attempt in forged:
            assert client.get(attempt).status_code == 403, attempt
            assert client.post(attempt).status_code == 403, attempt
        site.clock.now = ice.expires_at + timedelta(seconds=1)
        expired = client.post(path)
        assert expired.status_code == 403 and "expired" in expired.text
    assert (
        site.reminder(ADA, "ice").status == "planned"
        and site.reminder(ADA, "leg_massager").status == "planned"
    )


def test_forms_without_the_sessions_csrf_token_are_refused(site: Site) -> None:
    ada = site.signed_in(ADA)
    ice = site.reminder(ADA, "ice")
    for form in ({}, {"csrf": "forged"}):
        assert ada.post(f"/athletes/{ADA}/reminders/{ice.id}/done", data=form).status_code == 403
        effort = ada.post(f"/athletes/{ADA}/activities/{ADA_RACE}/effort", data={**form, "effort": "easy"})
        assert effort.status_code == 403
        assert ada.post(f"/athletes/{ADA}/profile", data={**form, "tool": "ice"}).status_code == 403
    # Another session's token is not this session's.
    other = site.signed_in(ADA)
    other_csrf = csrf_of(other.get(f"/athletes/{ADA}").text)
    assert ada.post(f"/athletes/{ADA}/reminders/{ice.id}/done", data={"csrf": other_csrf}).status_code == 403
    assert site.steps(ADA)["ice"] == "planned" and site.steps(ADA)["leg_massager"] == "planned"


def test_bodies_are_bounded(site: Site) -> None:
    ada = site.signed_in(ADA)
    csrf = csrf_of(ada.get(f"/athletes/{ADA}").text)
    big = ada.post(f"/athletes/{ADA}/profile", data={"csrf": csrf, "max_hr": "1" * 20_000})
    assert big.status_code == 413

    # A chunked body (no Content-Length) is bounded as it streams in.
    host, port = site.url.removeprefix("http://").split(":")
    cookie = "; ".join(f"{k}={v}" for k, v in ada.cookies.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            f"POST /athletes/{ADA}/profile HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        chunk = b"a" * 4096
        for _ in range(3):
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    with site.sessions() as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None and athlete.equipment is None  # nothing saved


def test_rotating_the_link_revokes_old_links_and_sessions(site: Site) -> None:
    old_link = site.link(ADA)
    with site.client() as client:
        assert client.get(old_link).status_code == 303
        assert client.get(f"/athletes/{ADA}").status_code == 200
        site.link(ADA, rotate=True)
        assert client.get(f"/athletes/{ADA}").status_code == 401
        assert client.get(old_link).status_code == 404


def test_cookies_are_secure_behind_an_https_public_url(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    running = start_site(sessions, public_url="https://recovery.example.org")
    try:
        with running.client() as client:
            cookie = client.get(running.link(ADA)).headers["set-cookie"]
        assert cookie.startswith("__Host-recovery=")
        assert all(flag in cookie.lower() for flag in ("secure", "httponly", "samesite=lax", "path=/"))
    finally:
        running.server.stop()
