"""The links a notification carries: the runner's answers (signed action URLs) and the page it opens.

Built where the dispatcher prepares a message, from the public URL and the signing secret; the signature
covers the reminder's expiry, so a snooze (which moves only when it is sent) leaves its links valid.
"""

from __future__ import annotations

from datetime import datetime

from scheduler.notify.port import Link
from scheduler.web import signing

# The buttons' words; the page's answer buttons say the same.
LABELS = {"done": "Done", "skip": "Skip", "snooze": "Snooze 30 min"}


def answer_links(base_url: str, key: bytes, reminder_id: int, expires_at: datetime) -> tuple[Link, ...]:
    return tuple(
        Link(label, base_url + signing.action_path(key, reminder_id, action, expires_at))
        for action, label in LABELS.items()
    )


def page_url(base_url: str, athlete_id: int, reminder_id: int) -> str:
    return f"{base_url}/athletes/{athlete_id}#reminder-{reminder_id}"
