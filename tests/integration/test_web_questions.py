"""The questions the messages ask, end to end on the real listener and dispatcher: a pain check-in sends the
advice to see a professional and, when its 72 h end, asks "is it gone?"; the morning after a hard day asks
how the legs are. Answers come as ntfy buttons (real HTTP receiver) and email links (real SMTP receiver),
signed like the other answer links: GET confirms, POST records the check-in and shows what it changed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.domain.checkins import (
    LEGS_STEP,
    PAIN_ADVICE_STEP,
    PAIN_QUESTION_STEP,
    pain_advice,
    pain_question,
)
from scheduler.domain.timing import QuietHours
from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.settings import DispatchSettings
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web import checkins
from tests.doubles.receivers import HttpReceiver, Request, SmtpReceiver
from tests.integration.test_web_page import ADA, NOW, Site, csrf_of, ingest_config

TORONTO = ZoneInfo("America/Toronto")
DAYS_3 = timedelta(hours=72)
# The morning after Ada's race (it ended 10:53 on Sat 16 May in Toronto): the question is due at 07:45.
NEXT_MORNING = datetime(2026, 5, 17, 11, 45, tzinfo=UTC)


def rows(site: Site, step: str) -> list[models.Reminder]:
    with site.sessions() as session:
        found = session.scalars(
            select(models.Reminder)
            .where(models.Reminder.athlete_id == ADA, models.Reminder.step == step)
            .order_by(models.Reminder.id)
        ).all()
        for row in found:
            session.expunge(row)
        return list(found)


def pains(site: Site) -> list[models.CheckIn]:
    with site.sessions() as session:
        found = session.scalars(
            select(models.CheckIn)
            .where(models.CheckIn.athlete_id == ADA, models.CheckIn.kind == "pain")
            .order_by(models.CheckIn.since)
        ).all()
        for row in found:
            session.expunge(row)
        return list(found)


def report_pain(site: Site, at: datetime, area: str | None = "calf") -> None:
    with transaction(site.sessions) as session:
        checkins.record(session, ADA, "pain", ingest_config(), at, area=area)


def dispatch(site: Site, url: str) -> int:
    dispatcher = Dispatcher(
        site.sessions, AppriseNotifier([url]), DispatchSettings(), "test", site.clock, public_url=site.url
    )
    return dispatcher.run_once().sent


def ntfy_actions(request: Request) -> list[dict[str, str]]:
    header = next(v for k, v in request.headers.items() if k.lower() == "x-actions")
    return [dict(part.strip().split("=", 1) for part in action.split(",")) for action in header.split(";")]


def sent_to_ntfy(site: Site, title: str) -> Request:
    with HttpReceiver() as ntfy:
        sent = dispatch(site, f"ntfy://{ntfy.host_port}/recovery-ada")
        return next(r for r in ntfy.wait_for(sent) if r.json()["title"] == title)


def email_links(site: Site, title: str) -> dict[str, str]:
    with SmtpReceiver() as smtp:
        url = f"mailto://127.0.0.1:{smtp.port}?from=coach@example.com&to=ada@example.com&mode=insecure"
        sent = dispatch(site, url)
        mail = next(m for m in smtp.wait_for(sent) if m.subject == title)
    html = mail.text("html")
    return {
        text: href.replace("&amp;", "&") for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)
    }


def changed(html: str) -> str:
    return html.split('id="changed"')[1].split("</section>")[0]


# -- pure: the two pain messages ---------------------------------------------------------------------------


def test_the_pain_messages_say_what_to_do_and_ask_outside_quiet_hours() -> None:
    since = datetime(2026, 5, 16, 3, 30, tzinfo=UTC)  # 23:30 on Fri 15 May in Toronto
    advice = pain_advice(since, "calf", TORONTO)
    assert (advice.step, advice.due_at, advice.local_day.isoformat()) == (
        PAIN_ADVICE_STEP,
        since,
        "2026-05-15",
    )
    assert "see a professional" in advice.title and "(calf)" in advice.title and advice.tags == ("urgent",)
    assert "cold is fine" in advice.body and advice.expires_at > advice.due_at

    question = pain_question(since + DAYS_3, "calf", TORONTO, QuietHours(time(22), time(7)))
    local = question.due_at.astimezone(TORONTO)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-05-19", 7, 0)  # not at 23:30
    assert question.local_day == local.date() and question.title == "Is the sharp pain (calf) gone?"
    daytime = pain_question(NOW + DAYS_3, None, TORONTO, QuietHours(time(22), time(7)))
    assert daytime.due_at == NOW + DAYS_3 and daytime.title == "Is the sharp pain gone?"


# -- pain: the advice at once, the question when the 72 h end ---------------------------------------------


def test_a_pain_sends_the_advice_once_and_plans_the_question_for_when_it_ends(site: Site) -> None:
    report_pain(site, NOW)
    [advice] = rows(site, PAIN_ADVICE_STEP)
    assert (advice.activity_id, advice.status, advice.due_at) == (None, "planned", NOW)
    assert advice.local_day is not None and advice.local_day.isoformat() == "2026-05-16"
    [question] = rows(site, PAIN_QUESTION_STEP)
    assert (question.activity_id, question.status, question.due_at) == (None, "planned", NOW + DAYS_3)

    # Told again an hour later: no second advice; the question moves to when the later pain ends.
    report_pain(site, NOW + timedelta(hours=1))
    assert len(rows(site, PAIN_ADVICE_STEP)) == 1
    planned = [q for q in rows(site, PAIN_QUESTION_STEP) if q.status == "planned"]
    assert [q.due_at for q in planned] == [NOW + timedelta(hours=73)]

    # The advice goes out now, urgent, with the page to open; the re-planned day did not cancel it.
    request = sent_to_ntfy(site, advice.title)
    assert "see a physiotherapist or a doctor" in request.json()["message"]
    assert rows(site, PAIN_ADVICE_STEP)[0].status == "sent"


def test_clearing_the_pain_withdraws_the_question(site: Site) -> None:
    report_pain(site, NOW)
    with transaction(site.sessions) as session:
        checkins.clear(session, ADA, "pain", ingest_config(), NOW + timedelta(hours=5))
    [question] = rows(site, PAIN_QUESTION_STEP)
    assert (question.status, question.last_error) == ("cancelled", "the pain was cleared")


def test_still_there_from_the_ntfy_button_extends_the_pain_and_repeats_the_advice(site: Site) -> None:
    report_pain(site, NOW)
    site.clock.now = NOW + DAYS_3
    [question] = rows(site, PAIN_QUESTION_STEP)
    request = sent_to_ntfy(site, question.title)
    actions = ntfy_actions(request)
    assert [(a["action"], a["label"]) for a in actions] == [("http", "Gone"), ("http", "Still there")]
    still = actions[1]["url"]
    assert still.startswith(f"{site.url}/r/{question.id}/still?e=")

    confirm = httpx.get(still, timeout=10)  # a link preview: nothing happens
    assert confirm.status_code == 200 and "Still there" in confirm.text and question.title in confirm.text
    assert len(pains(site)) == 1

    pressed = httpx.post(still, timeout=10)
    assert pressed.status_code == 200, pressed.text
    assert f"Recorded: Still there ({question.title})." in pressed.text
    _, second = pains(site)
    assert (second.since, second.until, second.area) == (NOW + DAYS_3, NOW + 2 * DAYS_3, "calf")
    assert rows(site, PAIN_QUESTION_STEP)[0].response == "still"
    advices = rows(site, PAIN_ADVICE_STEP)
    assert [a.due_at for a in advices] == [NOW, NOW + DAYS_3]  # the advice again
    assert [q.due_at for q in rows(site, PAIN_QUESTION_STEP) if q.status == "planned"] == [NOW + 2 * DAYS_3]

    again = httpx.post(still, timeout=10)
    assert again.status_code == 409 and "already answered: Still there" in again.text
    assert len(pains(site)) == 2


def test_gone_on_the_page_ends_the_pain(site: Site) -> None:
    report_pain(site, NOW)
    site.clock.now = NOW + timedelta(hours=71)  # the question is coming: it shows with its answers
    client = site.signed_in(ADA)
    page = client.get(f"/athletes/{ADA}").text
    [question] = rows(site, PAIN_QUESTION_STEP)
    card = page.split(f'id="reminder-{question.id}"')[1].split("</article>")[0]
    assert ">Gone</button>" in card and ">Still there</button>" in card and ">Done</button>" not in card
    assert "Today 11:00" in card  # 72 h after 11:00 in Toronto, in the athlete's zone (no activity to ask)

    with transaction(site.sessions) as session:  # Ada runs every morning from now on
        ada = session.get(models.Athlete, ADA)
        assert ada is not None
        ada.run_times = [f"{day} 06:30" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    assert "pre_run_foot_massage" not in site.steps(ADA)

    answered = client.post(f"/athletes/{ADA}/reminders/{question.id}/gone", data={"csrf": csrf_of(page)})
    assert answered.status_code == 200 and "Recorded: Gone." in answered.text
    assert "No check-in in force." in answered.text
    # The pain is over: the look-ahead plans the nudge before tomorrow's run at once, and says so.
    nudge = site.reminder(ADA, "pre_run_foot_massage")
    assert (nudge.status, nudge.due_at) == ("planned", datetime(2026, 5, 20, 10, 5, tzinfo=UTC))  # 06:05
    assert f"<strong>Added:</strong> {nudge.title}" in changed(answered.text)
    [pain] = pains(site)
    assert pain.cleared_at is not None
    after = rows(site, PAIN_QUESTION_STEP)[0]
    assert (after.status, after.response) == ("cancelled", "gone")  # answered: it need not be sent
    without_csrf = client.post(f"/athletes/{ADA}/reminders/{question.id}/still", data={})
    assert without_csrf.status_code == 403 and len(pains(site)) == 1


# -- the morning after a hard day: how are the legs? --------------------------------------------------------


def test_the_morning_question_comes_before_the_foam_roll_with_four_answers(site: Site) -> None:
    [legs] = rows(site, LEGS_STEP)
    local = legs.due_at.astimezone(TORONTO)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-05-17", 7, 45)
    assert legs.due_at < site.reminder(ADA, "foam_roll").due_at
    assert legs.title == "How are the legs this morning? — Harbourfront 10K"

    site.clock.now = NEXT_MORNING
    request = sent_to_ntfy(site, legs.title)
    actions = ntfy_actions(request)
    # ntfy shows three buttons: two answers, and one opening the page where all four are.
    assert [(a["action"], a["label"]) for a in actions] == [
        ("http", "Fine"),
        ("http", "Sore"),
        ("view", "Other answers"),
    ]
    assert actions[2]["url"] == f"{site.url}/athletes/{ADA}#reminder-{legs.id}"

    with transaction(site.sessions) as session:  # sent again, to email this time
        row = session.get(models.Reminder, legs.id)
        assert row is not None
        row.status, row.available_at, row.delivered_to = "planned", NEXT_MORNING, None
    links = email_links(site, legs.title)
    assert list(links) == ["Fine", "Sore", "Back of the knee aches", "Sharp pain", "Open the page"]
    assert links["Sharp pain"].startswith(f"{site.url}/r/{legs.id}/pain?e=")


def test_a_knee_ache_answer_adds_the_knee_massager_and_shows_it(site: Site) -> None:
    site.clock.now = NEXT_MORNING
    [legs] = rows(site, LEGS_STEP)
    links = email_links(site, legs.title)
    assert "knee_massager" not in site.steps(ADA)

    confirm = httpx.get(links["Back of the knee aches"], timeout=10)
    assert confirm.status_code == 200 and "Back of the knee aches?" in confirm.text
    assert "knee_massager" not in site.steps(ADA)

    done = httpx.post(links["Back of the knee aches"], timeout=10)
    assert done.status_code == 200, done.text
    knee = site.reminder(ADA, "knee_massager")
    assert (knee.status, knee.due_at) == ("planned", NEXT_MORNING)  # reported: the massage comes now
    assert re.search(rf"<strong>Added:</strong> {re.escape(knee.title)} \(Today 07:45\)", changed(done.text))
    with site.sessions() as session:
        kinds = session.scalars(select(models.CheckIn.kind).where(models.CheckIn.athlete_id == ADA)).all()
    assert kinds == ["knee_ache"]
    assert rows(site, LEGS_STEP)[0].response == "knee_ache"


def test_a_sharp_pain_answer_cancels_the_foam_roll_and_sends_the_advice(site: Site) -> None:
    site.clock.now = NEXT_MORNING
    [legs] = rows(site, LEGS_STEP)
    links = email_links(site, legs.title)
    foam = site.reminder(ADA, "foam_roll")

    done = httpx.post(links["Sharp pain"], timeout=10)
    assert done.status_code == 200, done.text
    assert re.search(rf"<strong>Cancelled:</strong> {re.escape(foam.title)} ", changed(done.text))
    assert site.reminder(ADA, "foam_roll").status == "cancelled"
    [pain] = pains(site)
    assert pain.since == NEXT_MORNING
    [advice] = rows(site, PAIN_ADVICE_STEP)
    assert (advice.status, advice.due_at) == ("planned", NEXT_MORNING)


def test_a_forged_answer_link_changes_nothing(site: Site) -> None:
    site.clock.now = NEXT_MORNING
    [legs] = rows(site, LEGS_STEP)
    links = email_links(site, legs.title)
    forged = links["Fine"].replace("/fine?", "/pain?")
    assert httpx.post(forged, timeout=10).status_code == 403
    done_on_a_question = links["Fine"].replace("/fine?", "/done?")
    assert httpx.post(done_on_a_question, timeout=10).status_code == 403
    assert pains(site) == [] and rows(site, LEGS_STEP)[0].response is None
