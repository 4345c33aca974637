# ruff: noqa: E501  (the athletes' logs below are a diary: one activity per line)
"""Writes bench/data/classify_eval.json: hand-labelled training logs of synthetic athletes.

The labels come from the scenario (what the athlete actually did that day), written as a runner would label
them, never from the classifier. Each athlete has a weekly routine (which day is the workout, the long run,
rest …), a naming habit (Strava's automatic names, Runna, miles, German, French …), a physiology (easy,
threshold and 5K paces, max and resting heart rate, or no heart-rate monitor at all), and a list of
hand-written days (races with their warm-ups and cool-downs, hot days, runs with friends, treadmill days,
forgotten lap buttons …). The generator turns that into Strava SummaryActivity dicts plus the `laps` and
`description` a DetailedActivity would add, seeded so the file is reproducible:

    .venv/bin/python bench/make_classify_eval.py

Every activity in a log is labelled; activities in an athlete's first `EVAL_FROM_WEEK` weeks only serve as
history (a user connects with some weeks of backfill) and are not scored.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

FIRST_MONDAY = date(2024, 1, 8)
WEEKS = 13
EVAL_FROM_WEEK = 5  # weeks 0..4 are history only
MILE = 1609.344
OUT = Path(__file__).parent / "data" / "classify_eval.json"

# A segment: (metres, pace in s/km, kind) where kind is "steady", "rep" (hard, short) or "rec" (jog/rest).
Segment = tuple[float, float, str]


@dataclass
class Runner:
    key: str
    athlete_id: int
    tz: str
    unit: str  # "km" or "mi": how the athlete writes distances
    easy: float  # s/km
    threshold: float
    vo2: float
    hr_max: int | None  # None: no heart-rate monitor
    hr_rest: int = 55
    profile: dict[str, int] = field(default_factory=dict)
    auto: dict[str, str] = field(default_factory=dict)  # time of day -> Strava's automatic name
    step_laps: bool = True  # presses the lap button / follows structured workouts
    seed: int = 0


@dataclass
class Day:
    """One hand-written or routine activity."""

    name: str | None  # None: Strava's automatic name
    segments: list[Segment]
    label: str
    at: str = "07:00"
    sport: str = "Run"
    elev: float = 0.0
    trainer: bool = False
    commute: bool = False
    hr_shift: float = 0.0  # heat, illness, a glitching strap
    laps: str = "auto"  # "auto" (1 km or 1 mi laps), "step" (a lap per segment), "none"
    description: str | None = None
    stops: int = 0  # seconds standing still (elapsed - moving)
    duration: int | None = None  # non-runs: seconds
    distance: float | None = None  # non-runs: metres


AUTO_EN = {
    "morning": "Morning Run",
    "lunch": "Lunch Run",
    "afternoon": "Afternoon Run",
    "evening": "Evening Run",
    "night": "Night Run",
}


def time_of_day(at: str) -> str:
    hour = int(at.split(":")[0])
    if 4 <= hour < 11:
        return "morning"
    if 11 <= hour < 14:
        return "lunch"
    if 14 <= hour < 18:
        return "afternoon"
    if 18 <= hour < 21:
        return "evening"
    return "night"


# ---------------------------------------------------------------- session shapes (metres, pace, kind)


def steady(km: float, pace: float) -> list[Segment]:
    return [(km * 1000, pace, "steady")]


def intervals(
    r: Runner,
    wu_km: float,
    reps: int,
    rep_m: float,
    rep_pace: float,
    rec_m: float,
    cd_km: float,
    rec_pace: float | None = None,
) -> list[Segment]:
    segs: list[Segment] = [(wu_km * 1000, r.easy * 1.02, "steady")]
    for i in range(reps):
        segs.append((rep_m, rep_pace, "rep"))
        if i < reps - 1 and rec_m > 0:
            segs.append((rec_m, rec_pace or r.easy * 1.25, "rec"))
    segs.append((cd_km * 1000, r.easy * 1.04, "steady"))
    return segs


def tempo(r: Runner, wu_km: float, tempo_km: float, cd_km: float, pace: float | None = None) -> list[Segment]:
    return [
        (wu_km * 1000, r.easy, "steady"),
        (tempo_km * 1000, pace or r.threshold, "steady"),
        (cd_km * 1000, r.easy * 1.03, "steady"),
    ]


def progression(r: Runner, km: float) -> list[Segment]:
    third = km / 3
    return [
        (third * 1000, r.easy, "steady"),
        (third * 1000, (r.easy + r.threshold) / 2, "steady"),
        (third * 1000, r.threshold * 1.01, "steady"),
    ]


def fartlek(r: Runner, wu_km: float, reps: int, on_s: int, off_s: int, cd_km: float) -> list[Segment]:
    on_pace, off_pace = r.vo2 * 1.02, r.easy * 1.1
    segs: list[Segment] = [(wu_km * 1000, r.easy, "steady")]
    for _ in range(reps):
        segs.append((on_s / on_pace * 1000, on_pace, "rep"))
        segs.append((off_s / off_pace * 1000, off_pace, "rec"))
    segs.append((cd_km * 1000, r.easy * 1.03, "steady"))
    return segs


def hills(r: Runner, wu_km: float, reps: int, rep_m: float, cd_km: float) -> list[Segment]:
    # Uphill reps: slow pace on the flat scale, hard effort; jog down.
    segs: list[Segment] = [(wu_km * 1000, r.easy, "steady")]
    for _ in range(reps):
        segs.append((rep_m, r.threshold * 1.05, "rep"))
        segs.append((rep_m, r.easy * 1.3, "rec"))
    segs.append((cd_km * 1000, r.easy * 1.03, "steady"))
    return segs


def race_pace(r: Runner, km: float) -> float:
    if km <= 5.5:
        return r.vo2
    if km <= 10.5:
        return r.vo2 * 1.04
    if km <= 16.5:
        return r.threshold * 0.99
    if km <= 22:
        return r.threshold * 1.03
    if km <= 43:
        return r.threshold * 1.10
    return r.easy * 1.05  # ultras: slower than easy on the flat scale once hills and hours bite


def race(r: Runner, km: float, fade: float = 0.0) -> list[Segment]:
    """Even race with an optional slight fade over the second half."""
    pace = race_pace(r, km)
    return [(km * 500, pace * (1 - fade / 2), "race"), (km * 500, pace * (1 + fade / 2), "race")]


# ---------------------------------------------------------------- physiology


def hr_fraction(r: Runner, pace: float, kind: str, minutes_in: float) -> float:
    """Fraction of heart-rate reserve at a pace, with lag on short reps and drift over time."""
    speed = 1000 / pace
    points = [
        (1000 / (r.easy * 1.25), 0.58),
        (1000 / r.easy, 0.66),
        (1000 / r.threshold, 0.86),
        (1000 / r.vo2, 0.93),
        (1000 / (r.vo2 * 0.9), 0.97),
    ]
    if speed <= points[0][0]:
        frac = points[0][1]
    elif speed >= points[-1][0]:
        frac = points[-1][1]
    else:
        frac = points[0][1]
        for (s0, f0), (s1, f1) in pairwise(points):
            if s0 <= speed <= s1:
                frac = f0 + (f1 - f0) * (speed - s0) / (s1 - s0)
                break
    if kind == "rep":
        frac -= 0.02
    if kind == "rec":
        frac = max(frac, 0.76)
    if kind == "race":
        frac += 0.02
    frac += min(0.06, max(0.0, minutes_in - 50) / 60 * 0.025)  # cardiac drift on long efforts
    return min(frac, 0.99)


# ---------------------------------------------------------------- activity building


@dataclass
class Piece:
    metres: float
    seconds: float
    hr: float | None
    max_hr: float | None
    kind: str


def make_pieces(r: Runner, d: Day, rng: random.Random, hr_day: float, pace_day: float) -> list[Piece]:
    pieces: list[Piece] = []
    minutes = 0.0
    for metres, pace, kind in d.segments:
        pace *= pace_day
        # Elevation slows the flat pace; effort (and HR) follows the flat-equivalent pace.
        slow = 1 + (d.elev / max(1.0, sum(m for m, _, _ in d.segments))) * 8
        seconds = metres / 1000 * pace * slow
        hr = mx = None
        if r.hr_max is not None:
            frac = hr_fraction(r, pace, kind, minutes + seconds / 120)
            hr = r.hr_rest + frac * (r.hr_max - r.hr_rest) + hr_day + d.hr_shift
            mx = hr + rng.uniform(4, 10) if kind != "race" else hr + rng.uniform(5, 9)
            hr, mx = min(hr, r.hr_max - 1), min(mx, r.hr_max + 1)
        pieces.append(Piece(metres, seconds, hr, mx, kind))
        minutes += seconds / 60
    return pieces


def lap_dicts(r: Runner, d: Day, pieces: list[Piece], rng: random.Random) -> list[dict[str, Any]]:
    if d.laps == "none":
        return []
    laps: list[dict[str, Any]] = []

    def emit(metres: float, seconds: float, hr: float | None, mx: float | None) -> None:
        lap: dict[str, Any] = {
            "lap_index": len(laps) + 1,
            "split": len(laps) + 1,
            "distance": round(metres, 1),
            "moving_time": round(seconds),
            "elapsed_time": round(seconds),
            "average_speed": round(metres / seconds, 3) if seconds else 0.0,
            "max_speed": round(metres / seconds * rng.uniform(1.05, 1.18), 3) if seconds else 0.0,
        }
        if hr is not None:
            lap["average_heartrate"] = round(hr, 1)
            lap["max_heartrate"] = round(mx or hr)
        laps.append(lap)

    if d.laps == "step":
        for p in pieces:
            unit = 1000.0 if r.unit == "km" else MILE
            if p.kind == "steady" and p.metres > unit * 1.5:
                # long steady pieces still get auto laps inside a structured workout
                done = 0.0
                while p.metres - done > 1:
                    m = min(unit, p.metres - done)
                    emit(m, p.seconds * m / p.metres * rng.uniform(0.985, 1.015), p.hr, p.max_hr)
                    done += m
            else:
                emit(p.metres, p.seconds, p.hr, p.max_hr)
        return laps
    unit = 1000.0 if r.unit == "km" else MILE
    total = sum(p.metres for p in pieces)
    cut = 0.0
    while total - cut > 1:
        end = min(cut + unit, total)
        seconds = hr_sum = 0.0
        mx: float | None = None
        pos = 0.0
        for p in pieces:
            lo, hi = max(cut, pos), min(end, pos + p.metres)
            if hi > lo:
                share = (hi - lo) / p.metres
                seconds += p.seconds * share
                if p.hr is not None:
                    hr_sum += p.hr * p.seconds * share
                    mx = max(mx or 0.0, p.max_hr or 0.0)
            pos += p.metres
        seconds *= rng.uniform(0.985, 1.015)
        emit(end - cut, seconds, hr_sum / seconds if mx is not None else None, mx)
        cut = end
    return laps


def strava_tz(tz: str, when: datetime) -> str:
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"(GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}) {tz}"


def build(r: Runner, d: Day, day: date, ident: int, rng: random.Random) -> dict[str, Any]:
    hh, mm = (int(x) for x in d.at.split(":"))
    local = datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZoneInfo(r.tz))
    start = local.astimezone(UTC)
    name = d.name if d.name is not None else r.auto[time_of_day(d.at)]
    raw: dict[str, Any] = {
        "id": ident,
        "resource_state": 2,
        "athlete": {"id": r.athlete_id, "resource_state": 1},
        "name": name,
        "type": d.sport,
        "sport_type": d.sport,
        "workout_type": None,
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": strava_tz(r.tz, local),
        "utc_offset": (local.utcoffset() or timedelta(0)).total_seconds(),
        "trainer": d.trainer,
        "commute": d.commute,
        "manual": False,
        "private": False,
        "total_elevation_gain": round(d.elev, 1),
        "suffer_score": None,
    }
    if d.duration is not None:  # not a run
        distance = d.distance or 0.0
        raw.update(
            {
                "distance": round(distance, 1),
                "moving_time": d.duration,
                "elapsed_time": d.duration + d.stops,
                "average_speed": round(distance / d.duration, 3),
                "max_speed": 0.0,
                "has_heartrate": False,
            }
        )
        return raw
    hr_day = rng.gauss(0, 2.5)
    pace_day = rng.gauss(1.0, 0.02)
    pieces = make_pieces(r, d, rng, hr_day, pace_day)
    metres = sum(p.metres for p in pieces)
    seconds = sum(p.seconds for p in pieces)
    raw.update(
        {
            "distance": round(metres, 1),
            "moving_time": round(seconds),
            "elapsed_time": round(seconds) + d.stops,
            "average_speed": round(metres / seconds, 3),
            "max_speed": round(max(p.metres / p.seconds for p in pieces) * rng.uniform(1.08, 1.2), 3),
        }
    )
    if r.hr_max is not None:
        raw["has_heartrate"] = True
        raw["average_heartrate"] = round(sum((p.hr or 0) * p.seconds for p in pieces) / seconds, 1)
        raw["max_heartrate"] = round(max(p.max_hr or 0 for p in pieces))
    else:
        raw["has_heartrate"] = False
    detail: dict[str, Any] = {"laps": lap_dicts(r, d, pieces, rng)}
    if d.description:
        detail["description"] = d.description
    raw["detail"] = detail
    return raw


# ---------------------------------------------------------------- athletes


def km_or_mi(r: Runner, km: float) -> str:
    return f"{km:.0f}k" if r.unit == "km" else f"{km * 1000 / MILE:.0f}"


Routine = Callable[[Runner, int, random.Random], Day | None]


@dataclass
class Log:
    runner: Runner
    week: dict[int, Routine]  # weekday (0 = Monday) -> what the athlete usually does
    days: dict[tuple[int, int], list[Day]]  # (week, weekday) -> hand-written activities replacing the routine


def easy_day(
    name: Callable[[Runner, float, random.Random], str | None],
    lo: float,
    hi: float,
    at: str = "07:00",
    **kw: Any,
) -> Routine:
    def make(r: Runner, week: int, rng: random.Random) -> Day:
        km = round(rng.uniform(lo, hi), 1)
        return Day(name(r, km, rng), steady(km, r.easy * rng.uniform(0.98, 1.04)), "easy", at=at, **kw)

    return make


def long_day(
    name: Callable[[Runner, float, random.Random], str | None],
    lo: float,
    hi: float,
    at: str = "08:30",
    **kw: Any,
) -> Routine:
    def make(r: Runner, week: int, rng: random.Random) -> Day:
        km = round(lo + (hi - lo) * (week % 4) / 3 + rng.uniform(-0.5, 0.5), 1)
        return Day(name(r, km, rng), steady(km, r.easy * rng.uniform(1.0, 1.05)), "long_run", at=at, **kw)

    return make


def rotate(days: list[Callable[[Runner], Day]]) -> Routine:
    def make(r: Runner, week: int, rng: random.Random) -> Day:
        return days[week % len(days)](r)

    return make


def auto(r: Runner, km: float, rng: random.Random) -> None:
    return None


def fixed(text: str) -> Callable[[Runner, float, random.Random], str]:
    return lambda r, km, rng: text


def miles(fmt: str) -> Callable[[Runner, float, random.Random], str]:
    return lambda r, km, rng: fmt.format(mi=round(km * 1000 / MILE), km=round(km))


def pick(*names: str) -> Callable[[Runner, float, random.Random], str]:
    return lambda r, km, rng: rng.choice(names).format(mi=round(km * 1000 / MILE), km=round(km))


# fmt: off
# The athletes' logs are hand-written data: kept one activity per line so they read as a training diary.
def athletes() -> list[Log]:
    logs: list[Log] = []

    # Maya: keeps Strava's automatic names for everything, chest strap, no profile; uses the lap button.
    maya = Runner("maya", 101, "America/Toronto", "km", easy=340, threshold=275, vo2=255, hr_max=189,
                  hr_rest=50, auto=AUTO_EN, seed=1)
    logs.append(Log(maya, {
        1: rotate([
            lambda r: Day(None, intervals(r, 2.5, 6, 800, r.vo2 * 0.98, 400, 2.0), "speedwork", at="18:30", laps="step"),
            lambda r: Day(None, intervals(r, 2.5, 5, 1000, r.vo2, 400, 2.0), "speedwork", at="18:30", laps="step"),
            lambda r: Day(None, intervals(r, 2.5, 8, 400, r.vo2 * 0.95, 200, 2.0), "speedwork", at="18:30", laps="step"),
            lambda r: Day(None, intervals(r, 2.5, 4, 1600, r.vo2 * 1.03, 400, 2.0), "speedwork", at="18:30", laps="step"),
        ]),
        2: easy_day(auto, 8, 10),
        3: rotate([
            lambda r: Day(None, tempo(r, 3, 5, 2), "speedwork", at="06:45"),
            lambda r: Day(None, progression(r, 12), "speedwork", at="06:45"),
            lambda r: Day(None, tempo(r, 2.5, 6, 2.5), "speedwork", at="06:45"),
        ]),
        4: easy_day(auto, 5, 7, at="12:15"),
        5: easy_day(auto, 6, 8, at="08:00"),
        6: long_day(auto, 18, 24),
    }, {
        (5, 3): [Day(None, intervals(maya, 2.5, 5, 1000, maya.vo2, 400, 2.0), "speedwork", at="06:45", laps="auto")],
        (6, 2): [Day(None, steady(9, maya.easy), "easy", hr_shift=14)],  # heat wave: HR up, still easy
        (7, 5): [Day(None, steady(3, maya.easy * 1.05), "easy", at="07:35"),  # warm-up jog before a 10K
                 Day(None, race(maya, 10.02, 0.02), "race", at="08:00"),
                 Day(None, steady(2.5, maya.easy * 1.08), "easy", at="08:50")],
        (7, 6): [Day(None, steady(12, maya.easy * 1.05), "easy", at="09:00")],
        (8, 5): [Day(None, steady(7, maya.easy * 1.18), "easy", at="09:00")],  # with a slower friend
        (9, 3): [Day(None, steady(13.5, maya.easy), "easy", at="06:30")],  # medium-long, not her long run
        (10, 1): [Day(None, fartlek(maya, 2.0, 10, 60, 60, 2.0), "speedwork", at="18:30", laps="auto")],
        (11, 6): [Day(None, steady(5, maya.easy * 1.1), "easy", at="08:00")],  # taper
        (12, 6): [Day("Mississauga Half 1:36:40", race(maya, 21.1, 0.01), "race", at="07:30")],
        (12, 5): [Day(None, steady(4, maya.easy * 1.05), "easy", at="08:00")],  # shakeout, auto name
        (10, 5): [Day(None, race(maya, 5.0, 0.01), "race", at="08:00")],  # a 5K race, auto name
    }))

    # Tom: marathoner, writes miles, no HR, descriptive names.
    tom = Runner("tom", 102, "America/Chicago", "mi", easy=317, threshold=250, vo2=235, hr_max=None, seed=2)
    logs.append(Log(tom, {
        0: easy_day(miles("Easy {mi}"), 8, 11, at="06:00"),
        1: rotate([
            lambda r: Day("wu, 4 x 1 mile, cd", intervals(r, 3.2, 4, MILE, r.vo2 * 1.03, 400, 3.2), "speedwork",
                          at="05:45", laps="step"),
            lambda r: Day("Track: 12x400", intervals(r, 3.2, 12, 400, r.vo2 * 0.94, 400, 3.2), "speedwork",
                          at="05:45", laps="step"),
            lambda r: Day("Yasso 800s", intervals(r, 3.2, 8, 800, r.vo2 * 0.99, 400, 3.2), "speedwork", at="05:45",
                          laps="step"),
            lambda r: Day("Hill repeats x8", hills(r, 3.2, 8, 300, 3.2), "speedwork", at="05:45", elev=160),
            lambda r: Day("Tempo 3mi @ T", tempo(r, 3.2, 4.8, 3.2), "speedwork", at="05:45"),
            lambda r: Day("MP miles: 2x3mi @ MP", intervals(r, 3.2, 2, 3 * MILE, r.threshold * 1.09, 1 * MILE, 3.2,
                                                          rec_pace=r.easy), "speedwork", at="05:45", laps="step"),
        ]),
        2: easy_day(pick("Easy 8", "{mi} mi", "Easy {mi}"), 11, 13, at="06:00"),
        3: easy_day(miles("Easy {mi} + strides"), 9, 10, at="06:00"),
        5: easy_day(pick("Recovery {mi}", "Shakeout"), 6, 7, at="07:00"),
        6: long_day(pick("LR {mi}mi", "Sunday long {mi}", "Long run"), 24, 32, at="06:30"),
    }, {
        (6, 5): [Day("Shamrock Shuffle 8K 31:40", race(tom, 8.0, 0.01), "race", at="08:00")],
        (7, 6): [Day("Long run w/ 6 @ MP", steady(16, tom.easy) + steady(9.7, tom.threshold * 1.09), "long_run",
                     at="06:30")],
        (8, 2): [Day("Run with Dave", steady(9.6, tom.easy * 1.06), "easy", at="18:00")],
        (8, 3): [Day("7.1 mi", steady(11.4, tom.easy), "easy", at="06:00")],
        (9, 0): [Day("Treadmill 5", steady(8, tom.easy * 1.02), "easy", sport="VirtualRun", trainer=True,
                     laps="none", at="05:30")],
        (9, 1): [Day("Treadmill tempo", tempo(tom, 2.4, 6.4, 1.6), "speedwork", trainer=True, at="05:30", laps="none")],
        (10, 5): [Day("WU", steady(3.2, tom.easy * 1.03), "easy", at="07:10"),
                  Day("Tune-up half 1:27:30", race(tom, 21.1, 0.0), "race", at="07:30"),
                  Day("CD", steady(2.4, tom.easy * 1.08), "easy", at="09:05")],
        (10, 6): [Day("Easy 5", steady(8, tom.easy * 1.06), "easy", at="08:00")],
        (11, 6): [Day("LR 20mi", steady(32.2, tom.easy * 1.02), "long_run", at="06:00")],
        (12, 4): [Day("Shakeout", steady(4.8, tom.easy * 1.04), "easy", at="07:00")],
        (12, 5): [Day("Grandma's Marathon 3:11:52", race(tom, 42.2, 0.03), "race", at="07:45")],
        (12, 6): [Day("Recovery 3", steady(4.8, tom.easy * 1.15), "easy", at="10:00")],
        (8, 5): [Day("Turkey Trot 5K", race(tom, 5.0, 0.01), "race", at="08:00")],
        (11, 5): [Day("Paced Sarah at the Chicago Half", steady(21.1, tom.easy * 0.97),
                      "long_run", at="07:00")],
    }))

    # Lena: German names, profile max/rest HR set.
    lena = Runner("lena", 103, "Europe/Berlin", "km", easy=360, threshold=290, vo2=270, hr_max=192, hr_rest=50,
                  profile={"max_hr": 192, "rest_hr": 50}, auto={"morning": "Morgenlauf", "lunch": "Mittagslauf",
                  "afternoon": "Nachmittagslauf", "evening": "Abendlauf", "night": "Nachtlauf"}, seed=3)
    logs.append(Log(lena, {
        0: easy_day(pick("Regenerationslauf", "Lockerer Lauf"), 6, 7, at="18:00"),
        1: rotate([
            lambda r: Day("Intervalle 6x1000m", intervals(r, 2.5, 6, 1000, r.vo2, 400, 2.0), "speedwork", at="18:30",
                          laps="step"),
            lambda r: Day("Intervalle 10x400", intervals(r, 2.5, 10, 400, r.vo2 * 0.95, 200, 2.0), "speedwork",
                          at="18:30", laps="step"),
            lambda r: Day("Bergsprints 8x", hills(r, 3, 8, 200, 2.5), "speedwork", at="18:30", elev=120),
            lambda r: Day("Fahrtspiel 45min", fartlek(r, 2.5, 8, 90, 90, 2.0), "speedwork", at="18:30"),
        ]),
        2: easy_day(auto, 7, 9, at="06:30"),
        3: rotate([
            lambda r: Day("Tempolauf 3x10min", intervals(r, 2.5, 3, 10 * 60 / r.threshold * 1000, r.threshold,
                                                         600, 2.0), "speedwork", at="18:30", laps="step"),
            lambda r: Day("Tempodauerlauf 8km", tempo(r, 2, 8, 2), "speedwork", at="18:30"),
        ]),
        5: easy_day(pick("Dauerlauf {km}km", "Dauerlauf"), 9, 11, at="09:00"),
        6: long_day(pick("Langer Lauf {km}km", "LaLa {km}km", "Langer Lauf"), 18, 25, at="09:00"),
    }, {
        (5, 4): [Day("Radfahrt", [], "other", sport="Ride", duration=5400, distance=42000, at="16:00")],
        (6, 4): [Day("Schwimmen", [], "other", sport="Swim", duration=2400, distance=1800, at="07:00")],
        (7, 4): [Day("Krafttraining", [], "other", sport="WeightTraining", duration=2700, at="19:00")],
        (8, 6): [Day("Einlaufen", steady(2.5, lena.easy * 1.04), "easy", at="09:25"),
                 Day("Wettkampf: Stadtlauf 10 km", race(lena, 10.0, 0.02), "race", at="10:00"),
                 Day("Auslaufen", steady(2.0, lena.easy * 1.1), "easy", at="10:55")],
        (9, 2): [Day(None, steady(8, lena.easy * 1.06), "easy", at="06:30", hr_shift=6)],  # a cold coming
        (10, 5): [Day("Dauerlauf mit Steigerungen", steady(9, lena.easy) + [(100, lena.vo2 * 0.9, "rep")] * 4,
                      "easy", at="09:00", laps="auto")],
        (12, 6): [Day("Halbmarathon Berlin 1:38:12", race(lena, 21.1, 0.02), "race", at="10:00")],
        (12, 5): [Day(None, steady(4, lena.easy), "easy", at="09:00")],
        (10, 6): [Day("Silvesterlauf 5 km 21:48", race(lena, 5.0, 0.02), "race", at="11:00")],
        (11, 5): [Day("Parkrun Hasenheide", race(lena, 5.0, 0.01), "race", at="09:00")],
    }))

    # Julien: French, trails, HR, no profile; an ultra.
    julien = Runner("julien", 104, "Europe/Paris", "km", easy=370, threshold=295, vo2=275, hr_max=184, hr_rest=48,
                    auto={"morning": "Course à pied le matin", "lunch": "Course à pied le midi",
                          "afternoon": "Course à pied dans l'après-midi", "evening": "Course à pied le soir",
                          "night": "Course à pied la nuit"}, step_laps=False, seed=4)
    logs.append(Log(julien, {
        0: easy_day(pick("Footing récup", "Footing"), 6, 8, at="12:15"),
        1: rotate([
            lambda r: Day("Fractionné 10x400", intervals(r, 3, 10, 400, r.vo2 * 0.95, 200, 2), "speedwork",
                          at="18:45", laps="step"),
            lambda r: Day("Fractionné court 30/30", fartlek(r, 3, 15, 30, 30, 2), "speedwork", at="18:45"),
            lambda r: Day("Séance VMA 8x1'", fartlek(r, 3, 8, 60, 60, 2), "speedwork", at="18:45"),
            lambda r: Day("Côtes x10", hills(r, 3, 10, 200, 2), "speedwork", at="18:45", elev=180),
            lambda r: Day("Seuil 3x8'", intervals(r, 3, 3, 8 * 60 / r.threshold * 1000, r.threshold, 500, 2),
                          "speedwork", at="18:45", laps="step"),
        ]),
        2: easy_day(auto, 8, 10, at="07:00"),
        3: easy_day(auto, 9, 11, at="18:30", sport="TrailRun", elev=180),
        5: easy_day(pick("Footing", "Footing en forêt"), 8, 11, at="09:00", sport="TrailRun", elev=120),
        6: long_day(pick("Sortie longue {km} km", "SL {km}k"), 20, 30, at="08:00", sport="TrailRun", elev=800),
    }, {
        (5, 4): [Day("Sortie vélo", [], "other", sport="Ride", duration=7200, distance=55000, at="10:00")],
        (6, 6): [Day("Semi-marathon de Paris 1:34:10", race(julien, 21.1, 0.02), "race", at="10:00")],
        (7, 0): [Day("Footing récup", steady(5, julien.easy * 1.1), "easy", at="12:15")],
        (8, 6): [Day(None, steady(32, julien.easy * 1.05), "long_run", at="07:00", sport="TrailRun", elev=1400)],
        (9, 5): [Day("Cross de Vincennes", race(julien, 8.2, 0.03), "race", at="14:00", sport="Run", elev=60)],
        (10, 3): [Day(None, tempo(julien, 3, 6, 2), "speedwork", at="18:30")],  # auto name, tempo
        (11, 6): [Day("Trail des Crêtes 50k", race(julien, 50, 0.05), "race", at="06:00", sport="TrailRun",
                      elev=2600, stops=900)],
        (12, 1): [Day("Rando", [], "other", sport="Hike", duration=9000, distance=12000, at="10:00", elev=600)],
        (12, 3): [Day(None, steady(6, julien.easy * 1.1), "easy", at="12:15")],
        (12, 6): [Day("10 km de Boulogne 39:50", race(julien, 10.0, 0.01), "race", at="09:30")],
    }))

    # Sofia: Spanish, treadmill days, profile max HR only.
    sofia = Runner("sofia", 105, "Europe/Madrid", "km", easy=350, threshold=285, vo2=265, hr_max=186, hr_rest=58,
                   profile={"max_hr": 186}, auto={"morning": "Carrera matutina", "lunch": "Carrera a la hora del almuerzo",
                   "afternoon": "Carrera por la tarde", "evening": "Carrera vespertina", "night": "Carrera nocturna"},
                   seed=5)
    logs.append(Log(sofia, {
        0: easy_day(pick("Rodaje suave {km} km", "Rodaje"), 7, 9, at="19:00"),
        1: rotate([
            lambda r: Day("Series 6x1000", intervals(r, 2.5, 6, 1000, r.vo2, 400, 2), "speedwork", at="19:00",
                          laps="step"),
            lambda r: Day("Series en cinta 10x400", intervals(r, 2, 10, 400, r.vo2 * 0.96, 200, 1.5), "speedwork",
                          at="19:00", sport="VirtualRun", trainer=True, laps="step"),
            lambda r: Day("Cambios de ritmo", fartlek(r, 2.5, 10, 60, 90, 2), "speedwork", at="19:00"),
            lambda r: Day("Umbral 2x15'", intervals(r, 2.5, 2, 15 * 60 / r.threshold * 1000, r.threshold, 800, 2),
                          "speedwork", at="19:00", laps="step"),
        ]),
        2: easy_day(pick("Cinta 30 min", "Cinta"), 5, 5.5, at="07:00", sport="VirtualRun", trainer=True, laps="none"),
        3: easy_day(auto, 8, 10, at="07:00"),
        5: easy_day(auto, 6, 8, at="10:00"),
        6: long_day(pick("Tirada larga {km} km", "Tirada larga"), 16, 22, at="09:00"),
    }, {
        (6, 5): [Day("Calentamiento", steady(2, sofia.easy * 1.05), "easy", at="09:30"),
                 Day("10K Carrera de la Mujer 46:20", race(sofia, 10.0, 0.01), "race", at="10:00")],
        (7, 2): [Day("Caminata", [], "other", sport="Walk", duration=3600, distance=5200, at="18:00")],
        (8, 4): [Day("Yoga", [], "other", sport="Yoga", duration=3600, at="19:00")],
        (9, 6): [Day(None, steady(21, sofia.easy * 1.03), "long_run", at="09:00")],  # long run, auto name
        (10, 2): [Day("Cinta progresivo", progression(sofia, 9), "speedwork", at="07:00", sport="VirtualRun",
                      trainer=True, laps="none")],
        (11, 6): [Day("Calentamiento", steady(2.5, sofia.easy * 1.05), "easy", at="08:00"),
                  Day("Media Maratón de Valencia 1:41:05", race(sofia, 21.1, 0.02), "race", at="08:30"),
                  Day("Vuelta a la calma", steady(1.5, sofia.easy * 1.15), "easy", at="10:15")],
        (12, 6): [Day("Rodaje regenerativo", steady(6, sofia.easy * 1.1), "easy", at="10:00")],
        (9, 5): [Day("San Silvestre Vallecana", race(sofia, 10.0, 0.02), "race", at="17:00", elev=70)],
    }))

    # Priya: beginner, Runna names, parkrun, commutes, other sports; watch HR, no profile.
    priya = Runner("priya", 106, "Europe/London", "mi", easy=420, threshold=360, vo2=340, hr_max=195, hr_rest=62,
                   auto=AUTO_EN, seed=6)
    logs.append(Log(priya, {
        0: lambda r, w, rng: Day("Leg day", [], "other", sport="WeightTraining", duration=2700, at="19:00"),
        1: rotate([
            lambda r: Day("0.10mi Repeats with Runna ✅", intervals(r, 1.6, 10, 160, r.vo2 * 0.9, 160, 1.6), "speedwork",
                          at="19:00", laps="step"),
            lambda r: Day("Intervals with Runna ✅", intervals(r, 1.6, 5, 800, r.vo2, 400, 1.6), "speedwork",
                          at="19:00", laps="step"),
            lambda r: Day("Tempo Run with Runna ✅", tempo(r, 1.6, 3.2, 1.6), "speedwork", at="19:00", laps="step"),
            lambda r: Day("Progression Run with Runna ✅", progression(r, 6.4), "speedwork", at="19:00", laps="step"),
        ]),
        2: easy_day(fixed("Run commute"), 4.5, 5.5, at="08:10", commute=True),
        3: easy_day(miles("{mi}.75mi Easy Run with Runna ✅"), 5, 6.5, at="19:00"),
        5: lambda r, w, rng: Day(f"parkrun #{300 + w}", race(r, 5.0, 0.02), "race", at="09:00"),
        6: long_day(pick("{mi}mi Long Run with Runna ✅", "{mi}mi Race Practice Long Run with Runna ✅"), 9, 14,
                    at="09:30"),
    }, {
        (6, 4): [Day("Afternoon Walk", [], "other", sport="Walk", duration=2700, distance=3500, at="15:00")],
        (8, 5): [Day("Bushy parkrun with my daughter", steady(5.0, priya.easy * 1.2), "easy", at="09:00")],
        (9, 5): [Day("Morning Run", race(priya, 5.0, 0.01), "race", at="09:00")],  # parkrun, forgot to rename
        (10, 2): [Day("Run commute", steady(5, priya.easy), "easy", at="08:10", commute=True),
                  Day("Run commute home", steady(5.2, priya.easy * 1.03), "easy", at="17:40", commute=True)],
        (12, 5): [Day("Shakeout with Runna ✅", steady(3, priya.easy * 1.05), "easy", at="09:00")],
        (12, 6): [Day("Hackney Half 2:05:13", race(priya, 21.1, 0.04), "race", at="09:00")],
    }))

    # Marco: Italian, no HR, auto Italian names for easy runs.
    marco = Runner("marco", 107, "Europe/Rome", "km", easy=320, threshold=260, vo2=240, hr_max=None,
                   auto={"morning": "Corsa mattutina", "lunch": "Corsa all'ora di pranzo",
                         "afternoon": "Corsa pomeridiana", "evening": "Corsa serale", "night": "Corsa notturna"},
                   seed=7)
    logs.append(Log(marco, {
        0: easy_day(auto, 8, 10, at="07:00"),
        1: rotate([
            lambda r: Day("Ripetute 8x400", intervals(r, 3, 8, 400, r.vo2 * 0.95, 200, 2), "speedwork", at="19:00",
                          laps="step"),
            lambda r: Day("Ripetute 5x1000", intervals(r, 3, 5, 1000, r.vo2, 400, 2), "speedwork", at="19:00",
                          laps="step"),
            lambda r: Day("Progressivo 12 km", progression(r, 12), "speedwork", at="19:00"),
        ]),
        2: easy_day(pick("Corsa lenta", "Lento {km}"), 9, 11, at="07:00"),
        4: easy_day(auto, 8, 10, at="13:00"),
        6: long_day(pick("Lungo {km} km", "Lungo"), 20, 28, at="08:00"),
    }, {
        (5, 5): [Day("Giro in bici", [], "other", sport="Ride", duration=6000, distance=48000, at="09:00")],
        (7, 6): [Day("Gara: Stramilano 21k", race(marco, 21.1, 0.02), "race", at="09:30")],
        (8, 3): [Day("Fartlek", fartlek(marco, 2.5, 10, 60, 60, 2), "speedwork", at="19:00")],
        (9, 6): [Day("Lunghissimo 32 km", steady(32, marco.easy * 1.03), "long_run", at="07:30")],
        (10, 1): [Day(None, intervals(marco, 3, 6, 1000, marco.vo2, 400, 2), "speedwork", at="19:00", laps="step")],
        (12, 5): [Day(None, steady(5, marco.easy), "easy", at="08:00")],
        (12, 6): [Day("Maratona di Roma 3:05:22", race(marco, 42.2, 0.04), "race", at="08:00")],
        (10, 6): [Day("Trofeo Città di Roma 10 km", race(marco, 10.0, 0.01), "race", at="09:00")],
    }))

    # Anouk: Dutch.
    anouk = Runner("anouk", 108, "Europe/Amsterdam", "km", easy=375, threshold=305, vo2=285, hr_max=190, hr_rest=55,
                   auto={"morning": "Ochtendloop", "lunch": "Middagloop", "afternoon": "Middagloop",
                         "evening": "Avondloop", "night": "Nachtloop"}, seed=8)
    logs.append(Log(anouk, {
        0: easy_day(pick("Herstelloop", "Rustige duurloop"), 5, 7, at="18:30"),
        1: rotate([
            lambda r: Day("Intervallen 5x1000", intervals(r, 2.5, 5, 1000, r.vo2, 400, 2), "speedwork", at="19:00",
                          laps="step"),
            lambda r: Day("Tempoduurloop 8 km", tempo(r, 2, 8, 2), "speedwork", at="19:00"),
        ]),
        3: easy_day(pick("Duurloop {km} km", "Duurloop"), 9, 11, at="19:00"),
        4: easy_day(auto, 6, 8, at="07:30"),
        6: long_day(pick("Lange duurloop {km} km", "Lange duurloop"), 18, 24, at="09:30"),
    }, {
        (6, 2): [Day("Zwemmen", [], "other", sport="Swim", duration=2700, distance=2000, at="07:00")],
        (7, 3): [Day(None, steady(8, anouk.easy * 1.02), "easy", at="19:00")],
        (9, 6): [Day("Wedstrijd: Dam tot Damloop", race(anouk, 16.1, 0.02), "race", at="11:00")],
        (10, 1): [Day("Baantraining 12x400", intervals(anouk, 2.5, 12, 400, anouk.vo2 * 0.95, 200, 2), "speedwork",
                      at="19:00", laps="step")],
        (11, 3): [Day(None, tempo(anouk, 2, 7, 2), "speedwork", at="19:00")],
        (12, 6): [Day("Zevenheuvelenloop 15 km", race(anouk, 15.0, 0.03), "race", at="12:00", elev=110)],
        (7, 6): [Day("Egmond halve marathon", race(anouk, 21.1, 0.03), "race", at="12:00", elev=80)],
    }))

    # Rafael: Portuguese (Brazil), profile max/rest.
    rafael = Runner("rafael", 109, "America/Sao_Paulo", "km", easy=330, threshold=270, vo2=250, hr_max=190,
                    hr_rest=48, profile={"max_hr": 190, "rest_hr": 48},
                    auto={"morning": "Corrida matinal", "lunch": "Corrida na hora do almoço",
                          "afternoon": "Corrida vespertina", "evening": "Corrida noturna", "night": "Corrida noturna"},
                    seed=9)
    logs.append(Log(rafael, {
        0: easy_day(pick("Rodagem leve {km}k", "Regenerativo"), 6, 8, at="06:00"),
        1: rotate([
            lambda r: Day("Treino intervalado 10x400", intervals(r, 2.5, 10, 400, r.vo2 * 0.95, 200, 2), "speedwork",
                          at="06:00", laps="step"),
            lambda r: Day("Tiros 6x1km", intervals(r, 2.5, 6, 1000, r.vo2, 400, 2), "speedwork", at="06:00",
                          laps="step"),
            lambda r: Day("Fartlek 40'", fartlek(r, 2.5, 8, 120, 60, 2), "speedwork", at="06:00"),
        ]),
        2: easy_day(auto, 8, 10, at="06:00"),
        3: easy_day(pick("Rodagem {km}k", "Rodagem"), 10, 12, at="06:00"),
        5: easy_day(auto, 6, 8, at="07:00"),
        6: long_day(pick("Longão {km}k", "Longão"), 20, 28, at="06:00"),
    }, {
        (6, 5): [Day("Pedal", [], "other", sport="Ride", duration=5400, distance=40000, at="07:00")],
        (8, 6): [Day("Corrida de São Silvestre 15k", race(rafael, 15.0, 0.02), "race", at="08:00", elev=90)],
        (9, 2): [Day(None, steady(15, rafael.easy), "easy", at="06:00")],  # medium-long
        (10, 3): [Day(None, progression(rafael, 12), "speedwork", at="06:00")],
        (12, 6): [Day("Meia Maratona do Rio 1:32:00", race(rafael, 21.1, 0.01), "race", at="07:00")],
        (6, 6): [Day("Corrida 10k 40:12", race(rafael, 10.0, 0.01), "race", at="07:00")],
    }))

    # Sam: high-school XC, miles, HR, teen max HR; warm-ups and cool-downs as separate activities.
    sam = Runner("sam", 110, "America/New_York", "mi", easy=300, threshold=230, vo2=210, hr_max=206, hr_rest=52,
                 auto=AUTO_EN, seed=10)
    logs.append(Log(sam, {
        0: easy_day(pick("Recovery", "Easy {mi}"), 8, 10, at="15:30"),
        1: rotate([
            lambda r: Day("Workout: 5 x 1k @ 5k pace", intervals(r, 3.2, 5, 1000, r.vo2, 400, 3.2), "speedwork",
                          at="15:30", laps="step"),
            lambda r: Day("Fartlek", fartlek(r, 3.2, 8, 120, 60, 3.2), "speedwork", at="15:30"),
            lambda r: Day("Hill repeats", hills(r, 3.2, 8, 250, 3.2), "speedwork", at="15:30", elev=140),
            lambda r: Day("Tempo", tempo(r, 3.2, 6.4, 3.2), "speedwork", at="15:30"),
        ]),
        2: easy_day(pick("Easy {mi}", "Easy"), 10, 12, at="15:30"),
        3: easy_day(pick("Easy {mi} + strides", "PM easy"), 8, 10, at="15:30"),
        4: easy_day(pick("Pre-meet shakeout", "Shakeout"), 5, 6, at="15:30"),
        6: long_day(pick("Long run {mi}mi", "Sunday long run"), 14, 18, at="08:00"),
    }, {
        (5, 5): [Day("warm up", steady(3.2, sam.easy * 1.05), "easy", at="09:20"),
                 Day("Dual meet", race(sam, 5.0, 0.03), "race", at="10:00", elev=50),
                 Day("cool down", steady(3.2, sam.easy * 1.1), "easy", at="10:35")],
        (7, 5): [Day("warm up", steady(3.2, sam.easy * 1.05), "easy", at="10:20"),
                 Day("Invitational - 16:58", race(sam, 5.0, 0.02), "race", at="11:00", elev=60),
                 Day("cool down", steady(3.2, sam.easy * 1.1), "easy", at="11:35")],
        (10, 5): [Day("warm up", steady(3.2, sam.easy * 1.05), "easy", at="09:20"),
                  Day("County XC Championships 16:45 5th place", race(sam, 5.0, 0.02), "race", at="10:00", elev=70),
                  Day("cool down", steady(3.2, sam.easy * 1.1), "easy", at="10:35")],
        (8, 2): [Day(None, steady(6, sam.easy * 1.05), "easy", at="06:30"),  # a morning double
                 Day("Easy 6", steady(9.6, sam.easy), "easy", at="15:30")],
        (9, 3): [Day("Easy 7", steady(11.2, sam.easy * 0.97), "easy", at="15:30", hr_shift=-3)],
        (12, 1): [Day("5K time trial", race(sam, 5.0, 0.02), "race", at="15:30")],
    }))

    # Beth: trail ultrarunner, 45, miles, keeps auto names for easy runs.
    beth = Runner("beth", 111, "America/Denver", "mi", easy=400, threshold=320, vo2=300, hr_max=178, hr_rest=50,
                  auto=AUTO_EN, step_laps=False, seed=11)
    logs.append(Log(beth, {
        0: easy_day(auto, 8, 10, at="06:00", sport="TrailRun", elev=150),
        1: rotate([
            lambda r: Day("Hill repeats", hills(r, 3, 8, 400, 3), "speedwork", at="06:00", elev=260),
            lambda r: Day("Tempo 4mi", tempo(r, 3, 6.4, 3), "speedwork", at="06:00"),
        ]),
        2: easy_day(auto, 10, 12, at="06:00"),
        3: easy_day(pick("Easy trail", "Easy trail {mi}"), 10, 13, at="06:00", sport="TrailRun", elev=300),
        5: long_day(pick("Long trail run", "Long trail run {mi}mi"), 25, 35, at="07:00", sport="TrailRun", elev=1000),
        6: lambda r, w, rng: (
            Day("Back-to-back long 2/2", steady(rng.uniform(14, 17), r.easy * 1.03), "long_run", at="07:00",
                sport="TrailRun", elev=450)
            if w % 2 == 0
            else Day("Recovery trail", steady(rng.uniform(9, 11), r.easy * 1.06), "easy", at="08:00",
                     sport="TrailRun", elev=250)
        ),
    }, {
        (6, 4): [Day("Afternoon Hike", [], "other", sport="Hike", duration=7200, distance=9000, at="14:00", elev=700)],
        (8, 5): [Day(None, steady(38, beth.easy * 1.05), "long_run", at="06:00", sport="TrailRun", elev=1500)],
        (10, 5): [Day("Mt. Hood 50k", race(beth, 50.0, 0.05), "race", at="06:00", sport="TrailRun", elev=1800,
                      stops=1200)],
        (10, 6): [Day(None, steady(5, beth.easy * 1.15), "easy", at="09:00")],
        (11, 1): [Day(None, steady(8, beth.easy * 1.08), "easy", at="06:00")],
        (12, 5): [Day("Bolder Boulder 10K 52:30", race(beth, 10.0, 0.02), "race", at="07:00", elev=90)],
    }))

    # Noah: automatic names for everything, no HR at all: only pace, duration, distance and laps can tell.
    noah = Runner("noah", 112, "Australia/Sydney", "km", easy=310, threshold=245, vo2=230, hr_max=None, auto=AUTO_EN,
                  seed=12)
    logs.append(Log(noah, {
        1: rotate([
            lambda r: Day(None, intervals(r, 2.5, 6, 800, r.vo2 * 0.98, 400, 2), "speedwork", at="18:00", laps="step"),
            lambda r: Day(None, intervals(r, 2.5, 5, 1000, r.vo2, 400, 2), "speedwork", at="18:00", laps="step"),
            lambda r: Day(None, intervals(r, 2.5, 10, 400, r.vo2 * 0.95, 200, 2), "speedwork", at="18:00", laps="step"),
        ]),
        2: easy_day(auto, 8, 10, at="06:00"),
        3: rotate([
            lambda r: Day(None, tempo(r, 2.5, 6, 2), "speedwork", at="06:00"),
            lambda r: Day(None, progression(r, 12), "speedwork", at="06:00"),
        ]),
        4: easy_day(auto, 6, 8, at="12:30"),
        5: easy_day(auto, 8, 10, at="07:00"),
        6: long_day(auto, 20, 26, at="06:30"),
    }, {
        (7, 5): [Day(None, race(noah, 5.0, 0.01), "race", at="07:00")],  # parkrun, auto name
        (9, 4): [Day(None, steady(12, noah.easy), "easy", at="12:30")],
        (10, 6): [Day(None, steady(14, noah.easy * 1.02), "easy", at="07:00")],  # cut-back week, not long
        (11, 6): [Day(None, race(noah, 21.1, 0.02), "race", at="06:30")],  # half marathon, auto name
        (12, 3): [Day(None, steady(7, noah.easy * 0.96), "easy", at="06:00")],
        (5, 5): [Day(None, race(noah, 10.0, 0.02), "race", at="07:00")],  # a 10K, auto name
    }))
    return logs
# fmt: on


def main() -> None:
    out: list[dict[str, Any]] = []
    for log in athletes():
        r = log.runner
        rng = random.Random(r.seed)
        acts: list[dict[str, Any]] = []
        ident = r.athlete_id * 100_000
        for week in range(WEEKS):
            for weekday in range(7):
                day = FIRST_MONDAY + timedelta(weeks=week, days=weekday)
                planned = log.days.get((week, weekday))
                if planned is None:
                    routine = log.week.get(weekday)
                    one = routine(r, week, rng) if routine else None
                    planned = [one] if one else []
                for d in planned:
                    if (
                        d.sport in ("Run", "TrailRun", "VirtualRun")
                        and d.laps == "auto"
                        and r.step_laps
                        and any(kind in ("rep", "rec") for _, _, kind in d.segments)
                        and (week, weekday) not in log.days
                    ):
                        d.laps = "step"
                    ident += 1
                    raw = build(r, d, day, ident, rng)
                    raw["label"] = d.label
                    raw["scored"] = week >= EVAL_FROM_WEEK
                    if not raw["scored"]:
                        raw.pop("detail", None)  # history only needs the summary
                    acts.append(raw)
        out.append({"athlete": r.key, "profile": r.profile, "activities": acts})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        fh.write('{"about": "Hand-labelled training logs; see bench/make_classify_eval.py", "athletes": [\n')
        for i, athlete in enumerate(out):
            fh.write(
                json.dumps(
                    {"athlete": athlete["athlete"], "profile": athlete["profile"]}, ensure_ascii=False
                )[:-1]
            )
            fh.write(', "activities": [\n')
            fh.write(
                ",\n".join(
                    json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in athlete["activities"]
                )
            )
            fh.write("\n]}" + (",\n" if i < len(out) - 1 else "\n"))
        fh.write("]}\n")
    scored = [a for athlete in out for a in athlete["activities"] if a["scored"]]
    counts: dict[str, int] = {}
    for a in scored:
        counts[a["label"]] = counts.get(a["label"], 0) + 1
    print(f"wrote {OUT}: {sum(len(a['activities']) for a in out)} activities, {len(scored)} scored: {counts}")


if __name__ == "__main__":
    main()
