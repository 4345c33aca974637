"""One-tap answers from the notification: ntfy action buttons POSTing signed URLs, a click URL to the page,
links in emails; and `history --json` / `upcoming --json` carrying the runner's answer."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.settings import DispatchSettings
from scheduler.store.day_messages import insert_day_message
from scheduler.store.db import transaction
from scheduler.web import answers
from tests.doubles.receivers import HttpReceiver, Request, SmtpReceiver
from tests.integration.test_web_answers import cli_db, recovery, row
from tests.integration.test_web_page import ADA, Site, seed

__all__ = ["cli_db"]  # the fixture, used by name below


def dispatch(site: Site, url: str, public_url: str | None) -> None:
    Dispatcher(
        site.sessions, AppriseNotifier([url]), DispatchSettings(), "test", site.clock, public_url=public_url
    ).run_once()


def header(request: Request, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def buttons(request: Request) -> dict[str, str]:
    """ntfy's `X-Actions` header: label -> URL of each `http` action that POSTs."""
    actions = header(request, "X-Actions") or ""
    found = {}
    for action in actions.split(";"):
        fields = dict(part.strip().split("=", 1) for part in action.split(","))
        assert (fields["action"], fields["method"]) == ("http", "POST")
        found[fields["label"]] = fields["url"]
    return found


def test_ntfy_gets_answer_buttons_and_pressing_done_marks_the_reminder_done(site: Site) -> None:
    ice = site.reminder(ADA, "ice")  # due now: the dispatcher sends it
    with HttpReceiver() as ntfy:
        dispatch(site, f"ntfy://{ntfy.host_port}/recovery-ada", site.url)
        [request] = [r for r in ntfy.wait_for(2) if r.json()["title"] == ice.title]  # Bo's ice goes too
    assert header(request, "X-Click") == f"{site.url}/athletes/{ADA}#reminder-{ice.id}"
    pressed = buttons(request)
    assert list(pressed) == ["Done", "Skip", "Snooze 30 min"]
    assert pressed["Done"].startswith(f"{site.url}/r/{ice.id}/done?e=")
    assert "http" not in request.json()["message"]  # the answers are buttons here, not links in the text

    # A forged signature (the skip link pointed at "done") changes nothing.
    forged = pressed["Skip"].replace("/skip?", "/done?")
    assert httpx.post(forged, timeout=10).status_code == 403
    assert site.reminder(ADA, "ice").response is None

    # ntfy's http action: a POST with no body and no cookie.
    pressed_done = httpx.post(pressed["Done"], timeout=10)
    assert pressed_done.status_code == 200, pressed_done.text
    after = site.reminder(ADA, "ice")
    assert (after.status, after.response) == ("sent", "done")


def test_without_a_public_url_no_button_is_sent(site: Site) -> None:
    with HttpReceiver() as ntfy:
        dispatch(site, f"ntfy://{ntfy.host_port}/recovery-ada", None)
        sent = ntfy.wait_for(2)
    assert all(header(r, "X-Actions") is None and header(r, "X-Click") is None for r in sent)


def test_an_email_carries_the_answers_as_links_to_a_confirmation(site: Site) -> None:
    ice = site.reminder(ADA, "ice")
    with SmtpReceiver() as smtp:
        url = f"mailto://127.0.0.1:{smtp.port}?from=coach@example.com&to=ada@example.com&mode=insecure"
        dispatch(site, url, site.url)
        [mail] = [m for m in smtp.wait_for(2) if m.subject == ice.title]
    html = mail.text("html")
    links = {
        text: href.replace("&amp;", "&") for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)
    }
    assert set(links) == {"Done", "Skip", "Snooze 30 min", "Open the page"}
    assert links["Snooze 30 min"].startswith(f"{site.url}/r/{ice.id}/snooze?e=")
    # The link opens a confirmation (a mail scanner fetching it changes nothing); its button does it.
    confirm = httpx.get(links["Skip"], timeout=10)
    assert confirm.status_code == 200 and "Skip it" in confirm.text
    assert site.reminder(ADA, "ice").response is None
    assert httpx.post(links["Skip"], timeout=10).status_code == 200
    assert site.reminder(ADA, "ice").response == "skipped"


def test_history_and_upcoming_json_carry_the_runners_answer(
    tmp_path: Path, cli_db: sessionmaker[Session]
) -> None:
    seed(cli_db)
    ice, roll = row(cli_db, ADA, "ice"), row(cli_db, ADA, "foam_roll")
    with transaction(cli_db) as session:
        answers.answer_reminder(session, ice.id, "skip", ice.due_at)
        answers.answer_reminder(session, roll.id, "snooze", roll.due_at)
    history = recovery(["history", "--json"], tmp_path)
    upcoming = recovery(["upcoming", "--json"], tmp_path)
    assert history.returncode == 0 and upcoming.returncode == 0, history.stderr + upcoming.stderr
    past = {line["id"]: line for line in map(json.loads, history.stdout.splitlines())}
    pending = {line["id"]: line for line in map(json.loads, upcoming.stdout.splitlines())}
    assert past[ice.id]["response"] == "skipped"
    assert pending[roll.id]["response"] == "snoozed"
    assert all(line["response"] is None for key, line in pending.items() if key != roll.id)


def test_messages_that_only_tell_carry_no_answers(site: Site) -> None:
    # A weekly summary and a connection alert: nothing to do, skip or snooze; the click still opens the page.
    now = site.clock()
    with transaction(site.sessions) as session:
        for step, title in (
            ("weekly_summary", "Your week"),
            ("alert:polls_failing:09:00:00", "Strava fails"),
        ):
            insert_day_message(
                session,
                ADA,
                local_day=now.date(),
                step=step,
                due_at=now,
                expires_at=now + timedelta(hours=3),
                title=title,
                body="…",
                tags=("routine",),
                now=now,
            )
    with HttpReceiver() as ntfy:
        dispatch(site, f"ntfy://{ntfy.host_port}/recovery-ada", site.url)
        told = [r for r in ntfy.wait_for(4) if r.json()["title"] in {"Your week", "Strava fails"}]
    assert len(told) == 2
    assert all(header(r, "X-Actions") is None for r in told)
    assert all((header(r, "X-Click") or "").startswith(f"{site.url}/athletes/{ADA}#reminder-") for r in told)
    assert site.reminder(ADA, "weekly_summary").status == "sent"
