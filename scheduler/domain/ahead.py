"""Messages that look ahead: a nudge before each expected run, a foot massage on rest-day evenings.

The rules (users rely on them; the README states them):
- Before each expected run (scheduler.domain.habits), `lead` before its start (25 min by default), at most
  one message, merging the parts that apply:
  - `knee_brace` while a `knee_unstable` check-in is in force (until cleared), with a knee brace owned;
  - `heat` while a `tight` check-in is in force, or on a run in one of the athlete's cold months, with a heat
    pack or a massager owned (a heated massager does the same job);
  - `pre_run_foot_massage` with a foot massager owned.
  No nudge while a `pain` check-in is in force, and none on the day after a race or a marathon-length effort
  (41 km or more): those are rest or recovery days. Quiet hours give way to the runner's habit: a 06:30 run
  gets its nudge at 06:05 whatever the quiet hours say. The nudge is worth sending until the run starts.
- The row's step key is the first part that applies, in the order above (`knee_brace`, `heat`,
  `pre_run_foot_massage`); a later expected run of the same local day adds `@HH:MM` (its local start), so
  the outbox key (athlete, local day, step) stays unique with two runs in a day.
- A rest-day foot massage (`rest_day_foot_massage`) comes at the evening time of the protocol (20:30) on a
  local day with no run so far, no run expected later that day and a foot massager owned; not inside quiet
  hours, not while `pain` is in force; at most every other day unless the athlete asked for daily. Three
  such messages skipped in a row turn them off, and the runner is told once (`rest_day_foot_massage_off`).
  A rest day is a day off between runs: an athlete with no run habit and no run in the last
  `RECENT_RUNS` is not training, and gets none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.domain.checkins import CheckIn, CheckInKind
from scheduler.domain.habits import TOLERANCE, ExpectedRun
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.timing import QuietHours, parse_span, wall_clock_on
from scheduler.errors import ConfigError

KNEE_BRACE = "knee_brace"
HEAT = "heat"
PRE_RUN_FOOT = "pre_run_foot_massage"
REST_DAY_FOOT = "rest_day_foot_massage"
REST_DAY_OFF = "rest_day_foot_massage_off"
# Without a habit, a run this recent makes the athlete someone whose days off are rest days.
RECENT_RUNS = timedelta(days=14)
# Parts of a pre-run nudge, in the order they lead a merged message.
PART_KEYS = (KNEE_BRACE, HEAT, PRE_RUN_FOOT)
MARATHON_KM = 41.0
SKIPS_TO_STOP = 3
# How far ahead the look-ahead plans.
HORIZON = timedelta(hours=36)

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TOOLS = frozenset(
    {
        "ice",
        "foam_roller",
        "leg_massager",
        "knee_massager",
        "foot_massager",
        "massage_gun",
        "heat_pack",
        "knee_brace",
    }
)


class RestDays(StrEnum):
    """How often a rest-day foot massage may come."""

    EVERY_OTHER_DAY = "every_other_day"
    DAILY = "daily"
    OFF = "off"


def parse_rest_days(text: str) -> RestDays:
    try:
        return RestDays(text.strip().lower().replace("-", "_"))
    except ValueError:
        known = ", ".join(mode.value for mode in RestDays)
        raise ValueError(f"bad rest-day setting {text!r}: use one of {known}") from None


def parse_cold_months(text: str) -> tuple[int, ...]:
    """Parse "nov,dec,jan,feb" (or "none") into month numbers; raise ValueError with a one-line reason."""
    words = [word.strip().lower() for word in text.split(",") if word.strip()]
    if words == ["none"]:
        return ()
    if not words:
        raise ValueError("expected months like 'nov,dec,jan,feb' or 'none'")
    months: set[int] = set()
    for word in words:
        if len(word) < 3 or word[:3] not in MONTHS:
            raise ValueError(f"bad month {word!r} (expected jan, feb, … dec)")
        months.add(MONTHS.index(word[:3]) + 1)
    return tuple(sorted(months))


def format_cold_months(months: Sequence[int]) -> str:
    return ",".join(MONTHS[month - 1] for month in sorted(months)) if months else "none"


# --- the texts, from the `ahead` section of the protocols file ------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    key: str
    label: str
    equipment: frozenset[str]  # any one of these tools will do
    body: str


@dataclass(frozen=True, slots=True)
class RestDayText:
    at: time
    useful_for: timedelta
    equipment: frozenset[str]
    title: str
    body: str
    stopped_title: str
    stopped_body: str


@dataclass(frozen=True, slots=True)
class AheadProtocol:
    lead: timedelta
    title: str  # placeholders {time} and {parts}
    tags: tuple[str, ...]
    parts: Mapping[str, Part]
    rest_day: RestDayText


_AHEAD_FIELDS = frozenset({"lead", "title", "tags", "parts", "rest_day_foot_massage"})
_PART_FIELDS = frozenset({"label", "equipment", "body"})
_REST_FIELDS = frozenset({"at", "useful_for", "equipment", "title", "body", "stopped_title", "stopped_body"})


def parse_ahead(raw: object, where: str) -> AheadProtocol:
    """Validate the `ahead` section; raise ConfigError with one line naming the field."""
    where = f"{where}: ahead"
    section = _mapping(raw, where, _AHEAD_FIELDS)
    lead = _span(section, "lead", where)
    if not timedelta(minutes=5) <= lead <= timedelta(hours=2):
        raise ConfigError(f"{where}.lead: expected between 5min and 2h, got {section['lead']!r}")
    title = _text(section, "title", where)
    for placeholder in ("{time}", "{parts}"):
        if placeholder not in title:
            raise ConfigError(f"{where}.title: must contain {placeholder}")
    try:
        title.format(time="06:30", parts="heat")
    except (KeyError, IndexError, ValueError):
        raise ConfigError(f"{where}.title: only {{time}} and {{parts}} may be used") from None
    tags = section.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag for tag in tags):
        raise ConfigError(f"{where}.tags: expected a list of tags")
    raw_parts = _mapping(section.get("parts"), f"{where}.parts", frozenset(PART_KEYS))
    parts: dict[str, Part] = {}
    for key in PART_KEYS:
        part = _mapping(raw_parts.get(key), f"{where}.parts.{key}", _PART_FIELDS)
        parts[key] = Part(
            key=key,
            label=_text(part, "label", f"{where}.parts.{key}"),
            equipment=_tools(part.get("equipment"), f"{where}.parts.{key}.equipment"),
            body=_text(part, "body", f"{where}.parts.{key}"),
        )
    rest_where = f"{where}.{REST_DAY_FOOT}"
    rest = _mapping(section.get(REST_DAY_FOOT), rest_where, _REST_FIELDS)
    at_text = _text(rest, "at", rest_where)
    try:
        at = time.fromisoformat(at_text)
    except ValueError:
        raise ConfigError(f"{rest_where}.at: expected HH:MM, got {at_text!r}") from None
    if not time(17, 0) <= at:
        raise ConfigError(f"{rest_where}.at: an evening time (17:00–23:59) is needed, got {at_text!r}")
    return AheadProtocol(
        lead=lead,
        title=title,
        tags=tuple(tags),
        parts=parts,
        rest_day=RestDayText(
            at=at,
            useful_for=_span(rest, "useful_for", rest_where),
            equipment=_tools(rest.get("equipment"), f"{rest_where}.equipment"),
            title=_text(rest, "title", rest_where),
            body=_text(rest, "body", rest_where),
            stopped_title=_text(rest, "stopped_title", rest_where),
            stopped_body=_text(rest, "stopped_body", rest_where),
        ),
    )


def _mapping(raw: object, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping with {', '.join(sorted(allowed))}")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    return raw


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{name}: expected non-empty text, got {value!r}")
    return " ".join(value.split())


def _span(raw: Mapping[str, Any], name: str, where: str) -> timedelta:
    try:
        return parse_span(_text(raw, name, where))
    except ValueError as exc:
        raise ConfigError(f"{where}.{name}: {exc}") from None


def _tools(raw: object, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: expected a non-empty list of tool names")
    for tool in raw:
        if tool not in _TOOLS:
            raise ConfigError(f"{where}: unknown tool {tool!r} (known: {', '.join(sorted(_TOOLS))})")
    return frozenset(raw)


# --- planning -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PastEffort:
    """An activity as the look-ahead needs it: the local day it ended on, whether a run, how hard."""

    day: date
    is_run: bool
    race: bool
    distance_km: float


@dataclass(frozen=True, slots=True)
class RestDayHistory:
    """Earlier rest-day messages: the local days one went out (sent or in flight; planned ones are planned
    again), and the answers of those that went out since the setting last changed, oldest first (None: its
    time passed with no answer; one that can still be answered is not judged yet)."""

    days: frozenset[date] = frozenset()
    answers: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class AheadStep:
    """One outbox row with no activity: a message about a day."""

    local_day: date
    step: str
    due_at: datetime  # UTC
    expires_at: datetime
    title: str
    body: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AheadInput:
    zone: ZoneInfo
    profile: AthleteProfile
    expected: Sequence[ExpectedRun]  # every expected run from a day before `now` to the horizon
    efforts: Sequence[PastEffort]
    checkins: Sequence[CheckIn] = ()
    cold_months: frozenset[int] = frozenset()
    rest_days: RestDays = RestDays.EVERY_OTHER_DAY
    rest_history: RestDayHistory = RestDayHistory()
    runs_regularly: bool = True  # a run habit known, or a run within RECENT_RUNS


def _in_force(checkins: Sequence[CheckIn], kind: CheckInKind, instant: datetime) -> CheckIn | None:
    return next((c for c in checkins if c.kind == kind and c.in_force_at(instant)), None)


def _owns_any(profile: AthleteProfile, tools: frozenset[str]) -> bool:
    return profile.equipment is None or bool(tools & profile.equipment)


def recovery_day(day: date, efforts: Sequence[PastEffort]) -> bool:
    """The day after a race or a marathon-length effort: no pre-run nudge."""
    before = day - timedelta(days=1)
    return any(e.day == before and (e.race or e.distance_km >= MARATHON_KM) for e in efforts)


def pre_run_parts(
    run: ExpectedRun, due: datetime, given: AheadInput, protocol: AheadProtocol
) -> list[tuple[Part, str]]:
    """The parts of the nudge before `run` (each with its label), leader first; empty: no nudge."""
    checkins = given.checkins
    if _in_force(checkins, CheckInKind.PAIN, due) or recovery_day(run.day, given.efforts):
        return []
    chosen: list[tuple[Part, str]] = []
    brace = protocol.parts[KNEE_BRACE]
    if _in_force(checkins, CheckInKind.KNEE_UNSTABLE, due) and _owns_any(given.profile, brace.equipment):
        chosen.append((brace, brace.label))
    heat = protocol.parts[HEAT]
    tight = _in_force(checkins, CheckInKind.TIGHT, due)
    cold = run.start.astimezone(run.zone).month in given.cold_months
    if (tight or cold) and _owns_any(given.profile, heat.equipment):
        label = f"{heat.label} ({tight.area})" if tight and tight.area else heat.label
        chosen.append((heat, label))
    foot = protocol.parts[PRE_RUN_FOOT]
    if _owns_any(given.profile, foot.equipment):
        chosen.append((foot, foot.label))
    return chosen


def plan_ahead(given: AheadInput, protocol: AheadProtocol, now: datetime) -> list[AheadStep]:
    """The look-ahead rows wanted from `now` to `now + HORIZON`, soonest first."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    steps = _pre_run_steps(given, protocol, now)
    steps += _rest_day_steps(given, protocol, now)
    return sorted(steps, key=lambda step: (step.due_at, step.step))


def _pre_run_steps(given: AheadInput, protocol: AheadProtocol, now: datetime) -> list[AheadStep]:
    steps: list[AheadStep] = []
    seen_per_day: dict[date, int] = {}
    for run in sorted(given.expected, key=lambda run: run.start):
        index = seen_per_day.get(run.day, 0)
        seen_per_day[run.day] = index + 1
        if not now < run.start <= now + HORIZON:
            continue
        due = run.start - protocol.lead
        parts = pre_run_parts(run, due, given, protocol)
        if not parts:
            continue
        local_start = run.start.astimezone(run.zone)
        key = parts[0][0].key if index == 0 else f"{parts[0][0].key}@{local_start:%H:%M}"
        steps.append(
            AheadStep(
                local_day=run.day,
                step=key,
                due_at=due,
                expires_at=run.start,
                title=protocol.title.format(
                    time=f"{local_start:%H:%M}", parts=", ".join(label for _, label in parts)
                ),
                body=" ".join(part.body for part, _ in parts),
                tags=protocol.tags,
            )
        )
    return steps


def rest_days_stopped(history: RestDayHistory) -> bool:
    """Three rest-day messages in a row skipped, or gone by unanswered: the runner does not want them."""
    last = history.answers[-SKIPS_TO_STOP:]
    return len(last) == SKIPS_TO_STOP and all(answer in (None, "skipped") for answer in last)


def _rest_day_steps(given: AheadInput, protocol: AheadProtocol, now: datetime) -> list[AheadStep]:
    text = protocol.rest_day
    if (
        given.rest_days == RestDays.OFF
        or not given.runs_regularly
        or not _owns_any(given.profile, text.equipment)
    ):
        return []
    if rest_days_stopped(given.rest_history):
        return []
    quiet = QuietHours(given.profile.quiet_start, given.profile.quiet_end)
    run_days = {effort.day for effort in given.efforts if effort.is_run}
    # A day whose expected run may still happen is not a rest day yet; once its time has passed without a
    # run, it is.
    undecided = {run.day for run in given.expected if run.start > now - TOLERANCE}
    had = set(given.rest_history.days)
    steps: list[AheadStep] = []
    today = now.astimezone(given.zone).date()
    for offset in range(-1, math.ceil(HORIZON / timedelta(days=1)) + 1):
        day = today + timedelta(days=offset)
        due = wall_clock_on(day, text.at, given.zone)
        if not now < due <= now + HORIZON or day in had:
            continue
        if day in run_days or day in undecided or quiet.contains(due, given.zone):
            continue
        if given.rest_days == RestDays.EVERY_OTHER_DAY and day - timedelta(days=1) in had:
            continue
        if _in_force(given.checkins, CheckInKind.PAIN, due):
            continue
        midnight = wall_clock_on(day + timedelta(days=1), time(0, 0), given.zone)
        quiet_begins = quiet.next_start(due, given.zone)
        expires = min(due + text.useful_for, midnight, quiet_begins or midnight)
        steps.append(AheadStep(day, REST_DAY_FOOT, due, expires, text.title, text.body, protocol.tags))
        had.add(day)
    return steps
