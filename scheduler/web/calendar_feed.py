"""The athlete's calendar feed: a secret `.ics` URL (RFC 5545) that Apple, Google and Thunderbird calendars
subscribe to.

The feed holds one event per reminder still to be sent, at the time it goes (a snooze moves it), and one
all-day event per recent activity for context. Calendars re-read the whole feed, so a step the plan cancels
simply is not in it any more; every event keeps its UID from one read to the next. Times are written in UTC
(`...Z`), which every client places right without a VTIMEZONE.

The URL's token is long and random and only its SHA-256 is stored, as for sign-in links; it opens no
session and reads only this feed. `recovery athletes calendar ID --rotate` revokes the earlier URLs.
icalendar is imported when a feed is built: an idle daemon never loads it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain.status import PENDING, AthleteState
from scheduler.store import models
from scheduler.strava.alerts import is_alert_step
from scheduler.web.signin import digest, issue_token
from scheduler.web.views import EFFORT_LABELS, zone_of

PATH = "/calendar"
SUFFIX = ".ics"
UID_DOMAIN = "recovery-scheduler"
PRODID = "-//recovery-scheduler//recovery plan//EN"
EVENT_LENGTH = timedelta(minutes=15)  # a reminder is a moment; a short block shows it without hiding the day
ACTIVITY_DAYS = 14
REFRESH = timedelta(hours=1)  # how often subscribed calendars are asked to re-read the feed
MEDIA_TYPE = "text/calendar"


def issue(session: Session, athlete_id: int, now: datetime, *, rotate: bool = False) -> str:
    """A new feed token for the athlete; `rotate` first revokes their earlier ones."""
    return issue_token(session, models.CalendarLink, athlete_id, now, rotate=rotate)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}{PATH}/{token}{SUFFIX}"


def athlete_of(session: Session, token: str) -> models.Athlete | None:
    """The athlete whose live token this is, or None (unknown, revoked, or the athlete deauthorized)."""
    if not token or len(token) > 200:
        return None
    athlete_id = session.scalar(
        select(models.CalendarLink.athlete_id).where(
            models.CalendarLink.token_hash == digest(token), models.CalendarLink.revoked_at.is_(None)
        )
    )
    if athlete_id is None:
        return None
    athlete = session.get(models.Athlete, athlete_id)
    if athlete is None or athlete.state == AthleteState.DEAUTHORIZED:
        return None
    return athlete


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def build(
    session: Session, athlete: models.Athlete, base_url: str, default_zone: str, now: datetime
) -> bytes:
    """The athlete's feed as iCalendar bytes."""
    from icalendar import Calendar, Event, vDuration

    name = athlete.name or f"Athlete {athlete.id}"
    page = f"{base_url}/athletes/{athlete.id}"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Recovery · {name}")
    calendar.add("x-wr-caldesc", "Recovery reminders planned from your Strava activities")
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))

    reminders = session.scalars(
        select(models.Reminder)
        .where(models.Reminder.athlete_id == athlete.id, models.Reminder.status.in_(PENDING))
        .order_by(models.Reminder.available_at, models.Reminder.id)
    )
    for reminder in reminders:
        if is_alert_step(reminder.step):
            continue  # a problem with the connection is told now, not an appointment to keep
        event = Event()
        event.add("uid", f"reminder-{reminder.id}@{UID_DOMAIN}")
        event.add("dtstamp", _utc(now))
        event.add("last-modified", _utc(reminder.updated_at))
        event.add("dtstart", _utc(reminder.available_at))
        event.add("dtend", _utc(reminder.available_at + EVENT_LENGTH))
        event.add("summary", reminder.title)
        event.add("description", reminder.body)
        event.add("url", f"{page}#reminder-{reminder.id}")
        event.add("transp", "TRANSPARENT")  # a reminder does not make the runner busy
        calendar.add_component(event)

    activities = session.scalars(
        select(models.Activity)
        .where(
            models.Activity.athlete_id == athlete.id,
            models.Activity.deleted_at.is_(None),
            models.Activity.start_date >= now - timedelta(days=ACTIVITY_DAYS),
        )
        .order_by(models.Activity.start_date)
    )
    for activity in activities:
        day = activity.start_date.astimezone(zone_of(activity.timezone, default_zone)).date()
        effort = EFFORT_LABELS.get(activity.effort or "other", activity.effort or "?")
        event = Event()
        event.add("uid", f"activity-{activity.id}@{UID_DOMAIN}")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", day)  # a DATE: all day, on the activity's local day
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"{activity.name or 'Activity'} ({effort})")
        event.add("description", "; ".join(activity.reasons or []))
        event.add("url", f"{page}#activity-{activity.id}")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    feed: bytes = calendar.to_ical()
    return feed
