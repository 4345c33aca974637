"""When-rules ("now", "tonight 20:00", "tomorrow 08:00", "after 2 h"), quiet hours, DST-correct wall clocks.

Every instant leaves this module in UTC: arithmetic on aware datetimes that share a ZoneInfo is wall-clock
arithmetic (and equality ignores `fold`), so local times are used only to read or build a wall clock.

Wall-clock rules, as documented for users:
- "tonight HH:MM" is HH:MM on the local date the activity ended; "tomorrow HH:MM" is the next local date.
- A wall-clock step is never due less than `MIN_LEAD` after the end: an earlier (or already past) time
  moves to end + `MIN_LEAD`.
- `not_before` rolls a wall-clock step forward by whole local days until it is at least that long after the
  end ("tomorrow 08:00, not before 48 h" = the first 08:00 at least 48 h after the end).
- A local time that does not exist (spring-forward gap) is the instant the clock jumps over it: 02:30 on a
  night the clock goes from 02:00 to 03:00 becomes 03:00. An ambiguous local time (fall-back) is its first
  occurrence.
- Steps other than "now" never fall inside quiet hours: they move to the end of quiet hours, and their
  usefulness window is cut at the next start of quiet hours so a late delivery cannot wake anyone.

The words must be true when the message arrives ("tonight", "this morning", "now"), so (`schedule`):
- A wall-clock step arrives, and stays useful, only within the part of the day its time names (night 00–05,
  morning 05–12, afternoon 12–17, evening 17–24, local): "tonight 20:00" is the evening of the end date,
  "tomorrow 08:00" a morning.
- "tonight" that cannot come that evening (an end after ~21:00 with the hour's lead and quiet hours from
  22:00) is not moved to the next morning: it is missed, and the planner records it as skipped with why.
- "tomorrow" is the first day after the end date whose chosen time is at least `NEXT_DAY_REST` after the
  end (and `not_before`, and outside quiet hours within its part of the day): a run ending at 23:00 gets
  its 08:00 foam roll a day later, never 9 h after the finish.
- "now" is due at the end, or when the activity is first noticed if that is later; its usefulness is still
  counted from the end (ice is of little use 3 h after the effort, however late it was noticed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

MIN_LEAD = timedelta(hours=1)
NEXT_DAY_REST = timedelta(hours=10)
# How many days "tomorrow" may look ahead for a day whose chosen time fits (quiet hours may cover it daily).
_NEXT_DAY_SEARCH = 7

WhenKind = Literal["now", "tonight", "tomorrow", "after"]

_WALL_RE = re.compile(r"^(?P<day>tonight|tomorrow)\s+(?P<hh>\d{1,2}):(?P<mm>\d{2})$")
_AFTER_RE = re.compile(r"^after\s+(?P<span>.+)$")
_SPAN_RE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>h|min)$")


@dataclass(frozen=True, slots=True)
class When:
    """A parsed `when` rule of a protocol step."""

    kind: WhenKind
    at: time | None = None  # "tonight" / "tomorrow"
    delay: timedelta | None = None  # "after"
    not_before: timedelta | None = None  # wall-clock rules only

    @property
    def respects_quiet_hours(self) -> bool:
        # "now" steps (ice, refuel) are worth a late-evening ping; everything else can wait for the morning.
        return self.kind != "now"


def parse_span(text: str) -> timedelta:
    """Parse "3h", "1.5 h" or "90min" into a positive whole-second timedelta; raise ValueError otherwise."""
    match = _SPAN_RE.match(text.strip())
    if not match:
        raise ValueError(f"bad duration {text!r} (expected e.g. '3h', '1.5 h' or '90min')")
    amount = float(match.group("n"))
    seconds = round(amount * (3600 if match.group("unit") == "h" else 60))
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def parse_when(text: str, not_before: timedelta | None = None) -> When:
    """Parse a `when` rule; raise ValueError with a one-line reason."""
    text = " ".join(text.split())
    if text == "now":
        parsed = When("now")
    elif wall := _WALL_RE.match(text):
        hour, minute = int(wall.group("hh")), int(wall.group("mm"))
        if hour > 23 or minute > 59:
            raise ValueError(
                f"bad time {wall.group('hh')}:{wall.group('mm')} in {text!r} (expected 00:00–23:59)"
            )
        kind: WhenKind = "tonight" if wall.group("day") == "tonight" else "tomorrow"
        parsed = When(kind, at=time(hour, minute))
    elif after := _AFTER_RE.match(text):
        parsed = When("after", delay=parse_span(after.group("span")))
    else:
        raise ValueError(
            f"bad rule {text!r} (expected 'now', 'tonight HH:MM', 'tomorrow HH:MM' or 'after N h')"
        )
    if not_before is not None:
        if parsed.at is None:
            raise ValueError(f"not_before only applies to 'tonight'/'tomorrow' rules, not {text!r}")
        parsed = When(parsed.kind, at=parsed.at, not_before=not_before)
    return parsed


def _local_naive(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def occurrences(day: date, at: time, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the clock of `zone` reads `at` on `day`, earliest first.

    One instant normally, two in a fall-back overlap, and for a time inside a spring-forward gap the instant
    the clock jumps over it.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    found = [instant for instant in sorted({first, second}) if _local_naive(instant, zone) == naive]
    if found:
        return found
    # In a gap the two folds straddle the transition: bisect for the first second whose clock is past `naive`.
    low, high = min(first, second), max(first, second)
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low) // timedelta(seconds=1) // 2)
        if _local_naive(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return [high]


def wall_clock_on(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The (first) UTC instant at which the clock of `zone` reads `at` on `day`."""
    return occurrences(day, at, zone)[0]


def next_wall_clock(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first UTC instant strictly after `after` at which the clock of `zone` reads `at`."""
    start_day = after.astimezone(zone).date()
    # Three days cover a local day skipped outright (Pacific/Apia, 30 Dec 2011).
    for offset in range(4):
        for instant in occurrences(start_day + timedelta(days=offset), at, zone):
            if instant > after:
                return instant
    raise AssertionError(f"no {at} in {zone.key} within four days of {after}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours without routine reminders; start > end wraps midnight, start == end means none."""

    start: time
    end: time

    def contains(self, instant: datetime, zone: ZoneInfo) -> bool:
        clock = instant.astimezone(zone).time()
        if self.start < self.end:
            return self.start <= clock < self.end
        if self.start > self.end:
            return clock >= self.start or clock < self.end
        return False

    def leave(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """`instant` if it is outside quiet hours, else the UTC instant quiet hours end."""
        moved = instant.astimezone(UTC)
        # One hop normally; the bound only guards against a pathological zone history.
        for _ in range(4):
            if not self.contains(moved, zone):
                return moved
            moved = next_wall_clock(moved, self.end, zone)
        return moved

    def next_start(self, instant: datetime, zone: ZoneInfo) -> datetime | None:
        """The next UTC instant after `instant` at which quiet hours begin (None when there are none)."""
        if self.start == self.end:
            return None
        return next_wall_clock(instant, self.start, zone)


def scheduled_at(when: When, end: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """The UTC instant a step is due for an activity that ended at `end`, whenever it is planned."""
    end = end.astimezone(UTC)
    if when.kind == "now":
        return end
    if when.kind == "after":
        assert when.delay is not None
        return quiet.leave(end + when.delay, zone)
    assert when.at is not None
    day = end.astimezone(zone).date() + timedelta(days=1 if when.kind == "tomorrow" else 0)
    candidate = wall_clock_on(day, when.at, zone)
    if when.not_before is not None:
        while candidate < end + when.not_before:
            day += timedelta(days=1)
            candidate = wall_clock_on(day, when.at, zone)
    return quiet.leave(max(candidate, end + MIN_LEAD), zone)


def useful_until(
    when: When, scheduled: datetime, useful_for: timedelta, zone: ZoneInfo, quiet: QuietHours
) -> datetime:
    """When a step scheduled at `scheduled` stops being worth sending (UTC, always after `scheduled`)."""
    expiry = scheduled.astimezone(UTC) + useful_for
    if not when.respects_quiet_hours:
        return expiry
    quiet_begins = quiet.next_start(scheduled, zone)
    return expiry if quiet_begins is None else min(expiry, quiet_begins)


@dataclass(frozen=True, slots=True)
class DayPart:
    """A named part of the local day, [start, end) in wall-clock time; end None means midnight."""

    name: str
    start: time
    end: time | None

    def contains(self, clock: time) -> bool:
        return self.start <= clock and (self.end is None or clock < self.end)

    def window(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants this part of `day` begins and ends in `zone`."""
        start = wall_clock_on(day, self.start, zone)
        if self.end is None:
            return start, wall_clock_on(day + timedelta(days=1), time(0, 0), zone)
        return start, wall_clock_on(day, self.end, zone)


DAY_PARTS = (
    DayPart("night", time(0, 0), time(5, 0)),
    DayPart("morning", time(5, 0), time(12, 0)),
    DayPart("afternoon", time(12, 0), time(17, 0)),
    DayPart("evening", time(17, 0), None),
)


def day_part(clock: time) -> DayPart:
    """The part of the day a wall-clock time belongs to."""
    return next(part for part in DAY_PARTS if part.contains(clock))


@dataclass(frozen=True, slots=True)
class Slot:
    """When a step is due and until when it is worth sending (UTC); `missed`: why it cannot come at all."""

    due: datetime
    expires: datetime
    missed: str | None = None


def schedule(
    when: When,
    useful_for: timedelta,
    end: datetime,
    noticed: datetime,
    zone: ZoneInfo,
    quiet: QuietHours,
) -> Slot:
    """The slot of a step for an activity that ended at `end` and was first noticed at `noticed`."""
    end = end.astimezone(UTC)
    if when.kind == "now":
        return Slot(max(end, noticed.astimezone(UTC)), end + useful_for)
    if when.kind == "after":
        due = scheduled_at(when, end, zone, quiet)
        return Slot(due, useful_until(when, due, useful_for, zone, quiet))
    assert when.at is not None
    part = day_part(when.at)
    end_day = end.astimezone(zone).date()
    if when.kind == "tonight":
        due = scheduled_at(when, end, zone, quiet)
        window_start, window_end = part.window(end_day, zone)
        if not window_start <= due < window_end:
            return Slot(due, due + useful_for, missed=f"the {part.name} of {end_day:%a %d %b} was over")
        return Slot(due, min(useful_until(when, due, useful_for, zone, quiet), window_end))
    rest = max(NEXT_DAY_REST, when.not_before or NEXT_DAY_REST)
    for offset in range(1, _NEXT_DAY_SEARCH + 1):
        day = end_day + timedelta(days=offset)
        candidate = wall_clock_on(day, when.at, zone)
        if candidate < end + rest:
            continue
        due = quiet.leave(candidate, zone)
        window_start, window_end = part.window(day, zone)
        if window_start <= due < window_end:
            return Slot(due, min(useful_until(when, due, useful_for, zone, quiet), window_end))
    due = quiet.leave(wall_clock_on(end_day + timedelta(days=1), when.at, zone), zone)
    return Slot(due, due + useful_for, missed=f"quiet hours cover the {part.name} of every day")
