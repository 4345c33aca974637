"""The links a notification carries: the runner's answers (signed action URLs) and the page it opens.

Built where the dispatcher prepares a message, from the public URL and the signing secret; the signature
covers the reminder's expiry, so a snooze (which moves only when it is sent) leaves its links valid. A
reminder that asks a question (how are the legs; is the pain gone) carries the question's answers instead
of done / skip / snooze: each records the check-in it stands for.
"""

from __future__ import annotations

from datetime import datetime

from scheduler.domain.ahead import REST_DAY_OFF
from scheduler.domain.checkins import PAIN_ADVICE_STEP, QUESTIONS, answers_of
from scheduler.domain.evening import FORM_STEP, WEEKLY_STEP
from scheduler.notify.port import Link
from scheduler.strava.alerts import is_alert_step
from scheduler.web import signing

# The buttons' words; the page's answer buttons say the same.
LABELS = {"done": "Done", "skip": "Skip", "snooze": "Snooze 30 min"}
# Every action a signed link may carry, with its words: the answers above and those of every question.
ALL_LABELS = {
    **LABELS,
    **{action: label for answers in QUESTIONS.values() for action, label in answers.items()},
}


# Messages that tell rather than ask for something to be done: nothing to answer, so no buttons or links
# beyond the page (an alert, the weekly summary, a form note, pain advice, rest-day massages turned off).
INFORMATION_STEPS = frozenset({WEEKLY_STEP, FORM_STEP, PAIN_ADVICE_STEP, REST_DAY_OFF})


def carries_answers(step: str) -> bool:
    return not (is_alert_step(step) or step in INFORMATION_STEPS)


def answers_for(step: str) -> dict[str, str]:
    """The answers a reminder of this step offers, action → words (none for a message that only tells)."""
    if not carries_answers(step):
        return {}
    return answers_of(step) or LABELS


def answer_links(
    base_url: str, key: bytes, reminder_id: int, expires_at: datetime, step: str = ""
) -> tuple[Link, ...]:
    return tuple(
        Link(label, base_url + signing.action_path(key, reminder_id, action, expires_at))
        for action, label in answers_for(step).items()
    )


def page_url(base_url: str, athlete_id: int, reminder_id: int) -> str:
    return f"{base_url}/athletes/{athlete_id}#reminder-{reminder_id}"
