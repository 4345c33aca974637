"""Effort classification, one table of realistic cases: (id, activity as Strava JSON, history, profile,
expected effort, a phrase that must appear among the reasons)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.domain.activity import Activity, parse_activity
from scheduler.domain.effort import Effort, classify
from scheduler.domain.profile import AthleteProfile

SUNDAY = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
_ids = itertools.count(1000)

History = Callable[[datetime], list[Activity]]


def seconds_per_km(pace: str) -> float:
    minutes, seconds = pace.split(":")
    return int(minutes) * 60 + int(seconds)


def run(
    name: str = "Morning Run",
    km: float = 10.0,
    pace: str = "5:40",
    hr: float | None = None,
    peak: int | None = None,
    sport: str = "Run",
    when: datetime = SUNDAY,
    minutes: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Strava SummaryActivity dict (fields as strava.md lists them)."""
    moving = round(minutes * 60) if minutes is not None else round(km * seconds_per_km(pace))
    raw: dict[str, Any] = {
        "id": next(_ids),
        "resource_state": 2,
        "athlete": {"id": 7, "resource_state": 1},
        "name": name,
        "type": sport,
        "sport_type": sport,
        "workout_type": None,
        "start_date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": "(GMT+00:00) Europe/London",
        "utc_offset": 0.0,
        "distance": round(km * 1000, 1),
        "moving_time": moving,
        "elapsed_time": moving + 40,
        "total_elevation_gain": 0.0,
        "average_speed": round(km * 1000 / moving, 3) if moving else 0.0,
        "max_speed": round(km * 1000 / moving * 1.2, 3) if moving else 0.0,
        "has_heartrate": hr is not None,
        "trainer": False,
        "commute": False,
        "manual": False,
        "private": False,
        "suffer_score": None,
    }
    if hr is not None:
        raw["average_heartrate"] = hr
        raw["max_heartrate"] = peak if peak is not None else round(hr + 12)
    raw.update(extra)
    return raw


def other(sport: str, name: str, minutes: float, km: float = 0.0, hr: float | None = None) -> dict[str, Any]:
    return run(name=name, km=km, sport=sport, minutes=minutes, hr=hr)


def laps(*segments: tuple[float, str] | tuple[float, str, float]) -> list[dict[str, Any]]:
    """DetailedActivity laps from (metres, pace[, average HR]) segments."""
    out = []
    for i, segment in enumerate(segments, start=1):
        metres, pace = segment[0], segment[1]
        seconds = round(metres / 1000 * seconds_per_km(pace))
        lap: dict[str, Any] = {
            "lap_index": i,
            "split": i,
            "distance": metres,
            "moving_time": seconds,
            "elapsed_time": seconds,
            "average_speed": round(metres / seconds, 3),
        }
        if len(segment) == 3:
            lap["average_heartrate"] = segment[2]
        out.append(lap)
    return out


def km_laps(km: int, pace: str) -> list[dict[str, Any]]:
    return laps(*[(1000.0, pace)] * km)


def interval_laps(reps: int, rep_m: float, rep_pace: str, rec_m: float = 400.0) -> list[dict[str, Any]]:
    segments: list[tuple[float, str]] = [(1000.0, "5:45"), (1000.0, "5:40"), (1000.0, "5:38")]
    for i in range(reps):
        segments.append((rep_m, rep_pace))
        if i < reps - 1:
            segments.append((rec_m, "7:10"))
    segments += [(1000.0, "5:50"), (1000.0, "5:55")]
    return laps(*segments)


# --------------------------------------------------------------------------- histories


def no_history(before: datetime) -> list[Activity]:
    return []


def routine(
    easy: str = "5:40", heart: bool = True, easy_hr: float = 140.0, hard_peak: int = 188, weeks: int = 5
) -> History:
    """Five weeks of a club runner: Tue intervals, Wed/Thu/Sat easy, Sun long (~100 min), a Friday ride."""

    def build(before: datetime) -> list[Activity]:
        acts: list[Activity] = []
        start = before - timedelta(weeks=weeks)
        for day in range(weeks * 7):
            when = start + timedelta(days=day)
            weekday = when.weekday()
            wobble = (day % 3 - 1) * 2  # a little day-to-day variation
            raw: dict[str, Any] | None = None
            if weekday == 1:
                raw = run("Evening Run", 11.0, "5:05", easy_hr + 15 if heart else None, hard_peak, when=when)
            elif weekday in (2, 3, 5):
                raw = run("Morning Run", 8.5 + day % 2, easy, easy_hr + wobble if heart else None, when=when)
            elif weekday == 6:
                raw = run("Morning Run", 17.5, "5:50", easy_hr - 2 if heart else None, when=when)
            elif weekday == 4:
                raw = other("Ride", "Evening Ride", 60, km=28)
                raw["start_date"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            if raw is not None:
                acts.append(parse_activity(raw))
        return acts

    return build


def easy_only(before: datetime) -> list[Activity]:
    """Five weeks of nothing but easy runs: the highest HR ever seen is far below the true max."""
    return [
        parse_activity(run("Morning Run", 8.0, "5:40", 140.0, 158, when=before - timedelta(days=d)))
        for d in range(1, 36, 2)
    ]


def trail_routine(before: datetime) -> list[Activity]:
    acts = routine()(before)
    hilly = [
        parse_activity(
            run(
                "Morning Run",
                12.0,
                "7:10",
                139.0,
                sport="TrailRun",
                total_elevation_gain=500.0,
                when=before - timedelta(days=d, hours=3),
            )
        )
        for d in (3, 10, 17)
    ]
    return acts + hilly


ROUTINE = routine()
NO_HR_ROUTINE = routine(heart=False)
ANY = AthleteProfile()
LENA = AthleteProfile(max_hr=192, rest_hr=50)


@dataclass(frozen=True)
class Case:
    id: str
    raw: dict[str, Any]
    history: History
    effort: Effort
    reason: str
    profile: AthleteProfile = field(default=ANY)


def tagged(raw: dict[str, Any], workout_type: int) -> dict[str, Any]:
    return {**raw, "workout_type": workout_type}


def detailed(
    raw: dict[str, Any], lap_list: list[dict[str, Any]], description: str | None = None
) -> dict[str, Any]:
    out = {**raw, "resource_state": 3, "laps": lap_list}
    if description is not None:
        out["description"] = description
    return out


CASES: list[Case] = [
    # --- Strava's own tag decides first
    Case(
        "tagged race, automatic name",
        tagged(run(km=10.0, pace="4:10"), 1),
        ROUTINE,
        Effort.RACE,
        "tagged Race",
    ),
    Case(
        "tagged long run", tagged(run("Sunday", 24.0, "5:50"), 2), ROUTINE, Effort.LONG_RUN, "tagged Long Run"
    ),
    Case(
        "tagged workout",
        tagged(run("Evening Run", 11.0, "5:05", 150.0), 3),
        ROUTINE,
        Effort.SPEEDWORK,
        "tagged Workout",
    ),
    Case(
        "tagged race beats an easy name",
        tagged(run("easy parkrun", 5.0, "6:30", 130.0), 1),
        ROUTINE,
        Effort.RACE,
        "tagged Race",
    ),
    Case(
        "workout_type 0 says nothing",
        tagged(run("Publix Half Marathon", 21.3, "4:58", 168.0), 0),
        ROUTINE,
        Effort.RACE,
        "name mentions Half Marathon",
    ),
    # --- races by name
    Case(
        "Grandma's Marathon without HR",
        run("Grandma's Marathon", 42.5, "4:40"),
        NO_HR_ROUTINE,
        Effort.RACE,
        "name mentions Marathon",
    ),
    Case(
        "County XC Championships",
        run("County XC Championships", 8.0, "4:05", 178.0, sport="Run", total_elevation_gain=60.0),
        ROUTINE,
        Effort.RACE,
        "name mentions XC",
    ),
    Case(
        "Mt. Hood 50k trail ultra at modest HR",
        run("Mt. Hood 50k", 50.6, "8:10", 141.0, 171, sport="TrailRun", total_elevation_gain=1800.0),
        ROUTINE,
        Effort.RACE,
        "name mentions 50k",
    ),
    Case(
        "10K race with finish time",
        run("10K race 42:13", 10.1, "4:11", 176.0),
        ROUTINE,
        Effort.RACE,
        "name mentions race",
    ),
    Case("PR", run("New 5k PR!", 5.0, "4:00", 180.0), ROUTINE, Effort.RACE, "name mentions PR"),
    Case(
        "age-group place",
        run("Turkey Trot - 3rd AG", 5.0, "4:05", 178.0),
        ROUTINE,
        Effort.RACE,
        "name mentions 3rd AG",
    ),
    Case(
        "parkrun number",
        run("parkrun #123", 5.0, "4:20", 176.0),
        ROUTINE,
        Effort.RACE,
        "name mentions parkrun",
    ),
    Case(
        "event name with a distance",
        run("Toronto Yonge 10K", 10.05, "4:12", 175.0),
        ROUTINE,
        Effort.RACE,
        "Toronto 10K",
    ),
    Case(
        "German Wettkampf",
        run("Wettkampf Stadtlauf", 10.0, "4:15", 178.0),
        ROUTINE,
        Effort.RACE,
        "name mentions Wettkampf",
    ),
    Case(
        "French semi-marathon",
        run("Semi-marathon de Lyon", 21.2, "4:50", 169.0),
        ROUTINE,
        Effort.RACE,
        "name mentions Semi-marathon",
    ),
    Case(
        "Spanish media maratón",
        run("Media Maratón de Sevilla", 21.2, "4:55", 168.0),
        ROUTINE,
        Effort.RACE,
        "name mentions Media Maratón",
    ),
    Case("Italian gara", run("Gara 10 km", 10.0, "4:14", 177.0), ROUTINE, Effort.RACE, "name mentions Gara"),
    Case(
        "Dutch wedstrijd",
        run("Wedstrijd Singelloop", 10.0, "4:14", 177.0),
        ROUTINE,
        Effort.RACE,
        "name mentions Wedstrijd",
    ),
    Case(
        "Portuguese corrida with a place",
        run("Corrida de São Silvestre 15k", 15.1, "4:35", 172.0),
        ROUTINE,
        Effort.RACE,
        "Corrida",
    ),
    Case(
        "German Halbmarathon on HR alone profile",
        run("Halbmarathon Berlin", 21.2, "4:45", 172.0),
        ROUTINE,
        Effort.RACE,
        "Halbmarathon",
        LENA,
    ),
    Case(
        "track meet: race beats the track word",
        run("Track meet 1500m", 1.6, "3:30", 182.0, minutes=5.6),
        ROUTINE,
        Effort.RACE,
        "name mentions meet",
    ),
    Case(
        "pacing a friend at the 10K, HR 70%",
        run("Pacing a friend at the 10K", 10.0, "5:45", 131.0),
        ROUTINE,
        Effort.EASY,
        "name mentions Pacing",
    ),
    Case(
        "jogged parkrun",
        run("parkrun #250", 5.0, "6:30", 128.0),
        ROUTINE,
        Effort.EASY,
        "run at an easy effort",
    ),
    Case(
        "parkrun with my daughter, no HR",
        run("Bushy parkrun with my daughter", 5.0, "7:00"),
        NO_HR_ROUTINE,
        Effort.EASY,
        "with my daughter",
    ),
    Case(
        "paced at a half, long",
        run("Paced Sarah at the Chicago Half", 21.1, "5:35"),
        NO_HR_ROUTINE,
        Effort.LONG_RUN,
        "median run",
    ),
    Case(
        "race warm-up as its own activity",
        run("Race warm-up", 3.0, "5:50", 138.0),
        ROUTINE,
        Effort.EASY,
        "name mentions warm-up",
    ),
    Case(
        "cooldown alone after the race",
        run("cooldown", 2.5, "6:05", 150.0),
        ROUTINE,
        Effort.EASY,
        "name mentions cooldown",
    ),
    Case("WU on race morning", run("WU", 3.2, "5:45"), NO_HR_ROUTINE, Effort.EASY, "name mentions WU"),
    # --- speedwork by name
    Case(
        "club night",
        run("Club Night - 6x800, 5x300", 11.0, "5:00", 152.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "name mentions 6x800",
    ),
    Case(
        "wu, 4 x 1 mile, cd",
        run("wu, 4 x 1 mile, cd", 13.0, "4:55"),
        NO_HR_ROUTINE,
        Effort.SPEEDWORK,
        "4 x 1 mile",
    ),
    Case("nested sets", run("5 x (3x300m)", 9.0, "5:10", 150.0), ROUTINE, Effort.SPEEDWORK, "5 x (3x300m)"),
    Case("FFBQ 2x2@MP", run("FFBQ 2x2@MP", 14.0, "4:55"), NO_HR_ROUTINE, Effort.SPEEDWORK, "@MP"),
    Case("tempo at T pace", run("Tempo 3mi @ T", 11.0, "4:45", 158.0), ROUTINE, Effort.SPEEDWORK, "Tempo"),
    Case("Yasso 800s", run("Yasso 800s", 12.0, "5:00", 154.0), ROUTINE, Effort.SPEEDWORK, "800s"),
    Case(
        "fartlek minutes", run("Fartlek 10x1'/1'", 9.0, "5:05", 153.0), ROUTINE, Effort.SPEEDWORK, "10x1'/1'"
    ),
    Case(
        "hill repeats",
        run("Hill repeats x8", 9.0, "5:50", 150.0, total_elevation_gain=180.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "repeats",
    ),
    Case(
        "progression run",
        run("Progression run", 12.0, "5:05", 152.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "Progression",
    ),
    Case("MP miles", run("MP miles", 16.0, "5:00"), NO_HR_ROUTINE, Effort.SPEEDWORK, "MP"),
    Case(
        "Runna repeats",
        run("0.10mi Repeats with Runna ✅", 6.0, "6:10", 150.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "Repeats",
    ),
    Case("400s", run("400s at the track", 9.0, "5:05", 150.0), ROUTINE, Effort.SPEEDWORK, "400s"),
    Case(
        "German Intervalle",
        run("Intervalle 5x1000", 11.0, "5:10", 155.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "Intervalle",
        LENA,
    ),
    Case("German Tempolauf", run("Tempolauf", 12.0, "5:00", 160.0), ROUTINE, Effort.SPEEDWORK, "Tempolauf"),
    Case(
        "French fractionné",
        run("Fractionné court", 9.0, "5:10", 150.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "Fractionné",
    ),
    Case("Spanish series", run("Series", 10.0, "5:10", 151.0), ROUTINE, Effort.SPEEDWORK, "Series"),
    Case(
        "Italian ripetute", run("Ripetute 8x400", 9.0, "5:10", 151.0), ROUTINE, Effort.SPEEDWORK, "Ripetute"
    ),
    Case(
        "Dutch intervallen", run("Intervallen", 10.0, "5:10", 151.0), ROUTINE, Effort.SPEEDWORK, "Intervallen"
    ),
    Case(
        "Portuguese treino intervalado",
        run("Treino intervalado", 10.0, "5:10", 151.0),
        ROUTINE,
        Effort.SPEEDWORK,
        "intervalado",
    ),
    Case("threshold", run("Threshold 3x10min", 12.0, "4:55", 158.0), ROUTINE, Effort.SPEEDWORK, "3x10min"),
    Case(
        "treadmill intervals",
        run("Treadmill 8x400", 8.0, "5:10", 152.0, sport="VirtualRun", trainer=True),
        ROUTINE,
        Effort.SPEEDWORK,
        "8x400",
    ),
    # --- long runs by name
    Case("Long run", run("Long run", 18.0, "5:50", 138.0), ROUTINE, Effort.LONG_RUN, "name mentions Long"),
    Case("LR 18mi", run("LR 18mi", 29.0, "5:35"), NO_HR_ROUTINE, Effort.LONG_RUN, "name mentions LR"),
    Case("Sunday long", run("Sunday long 16", 25.7, "5:40"), NO_HR_ROUTINE, Effort.LONG_RUN, "long"),
    Case(
        "Runna race practice long run is not a race",
        run("6mi Race Practice Long Run with Runna ✅", 9.7, "6:40", 145.0),
        ROUTINE,
        Effort.LONG_RUN,
        "Long",
    ),
    Case(
        "long run with MP miles",
        run("LR 16 w/ 8 @ MP", 25.7, "5:10"),
        NO_HR_ROUTINE,
        Effort.LONG_RUN,
        "within it",
    ),
    Case(
        "German langer Lauf",
        run("Langer Lauf 25 km", 25.0, "6:00", 140.0),
        ROUTINE,
        Effort.LONG_RUN,
        "Langer Lauf",
    ),
    Case(
        "French sortie longue",
        run("Sortie longue", 24.0, "6:30", 138.0, sport="TrailRun", total_elevation_gain=700.0),
        ROUTINE,
        Effort.LONG_RUN,
        "Sortie longue",
    ),
    Case(
        "Spanish tirada larga",
        run("Tirada larga 22 km", 22.0, "5:55", 139.0),
        ROUTINE,
        Effort.LONG_RUN,
        "Tirada larga",
    ),
    Case("Italian lungo", run("Lungo 28k", 28.0, "5:45"), NO_HR_ROUTINE, Effort.LONG_RUN, "Lungo"),
    Case(
        "Dutch lange duurloop",
        run("Lange duurloop", 20.0, "6:10", 140.0),
        ROUTINE,
        Effort.LONG_RUN,
        "Lange duurloop",
    ),
    Case("Portuguese longão", run("Longão 25k", 25.0, "5:45", 141.0), ROUTINE, Effort.LONG_RUN, "Longão"),
    Case(
        "easy name but over two hours",
        run("Easy 14", 22.5, "5:50", 139.0),
        ROUTINE,
        Effort.LONG_RUN,
        "your median run",
    ),
    # --- easy by name
    Case("Easy 45", run("Easy 45", 8.0, "5:38", 141.0), ROUTINE, Effort.EASY, "name mentions Easy"),
    Case(
        "strides do not make a workout",
        run("Easy 8k + strides", 8.2, "5:35", 142.0),
        ROUTINE,
        Effort.EASY,
        "name mentions Easy",
    ),
    Case("recovery jog", run("Recovery jog", 6.0, "6:05", 132.0), ROUTINE, Effort.EASY, "Recovery"),
    Case("shakeout", run("Shakeout", 4.0, "5:50"), NO_HR_ROUTINE, Effort.EASY, "Shakeout"),
    Case(
        "Runna easy", run("3.75mi Easy Run with Runna ✅", 6.0, "6:20", 143.0), ROUTINE, Effort.EASY, "Easy"
    ),
    Case(
        "commute flag",
        run("To the office", 6.5, "5:45", 141.0, commute=True),
        ROUTINE,
        Effort.EASY,
        "commute",
    ),
    Case("German Dauerlauf", run("Dauerlauf", 10.0, "6:00", 140.0), ROUTINE, Effort.EASY, "Dauerlauf", LENA),
    Case("French footing récup", run("Footing récup", 7.0, "6:10", 135.0), ROUTINE, Effort.EASY, "Footing"),
    Case("Spanish rodaje", run("Rodaje suave", 8.0, "5:55", 140.0), ROUTINE, Effort.EASY, "Rodaje"),
    Case("Italian corsa lenta", run("Corsa lenta", 9.0, "5:50"), NO_HR_ROUTINE, Effort.EASY, "lenta"),
    Case(
        "Dutch rustige duurloop", run("Rustige duurloop", 9.0, "6:00", 139.0), ROUTINE, Effort.EASY, "Rustige"
    ),
    Case(
        "Portuguese rodagem leve", run("Rodagem leve 8k", 8.0, "5:45", 141.0), ROUTINE, Effort.EASY, "Rodagem"
    ),
    # --- automatic names: only the numbers can tell
    Case(
        "auto name, easy HR",
        run("Morning Run", 9.0, "5:42", 139.0),
        ROUTINE,
        Effort.EASY,
        "average HR 139 = 74% of",
    ),
    Case(
        "German automatic name", run("Morgenlauf", 8.0, "5:45", 138.0), ROUTINE, Effort.EASY, "average HR 138"
    ),
    Case(
        "French automatic name",
        run("Course à pied le matin", 8.0, "5:45", 138.0),
        ROUTINE,
        Effort.EASY,
        "average HR",
    ),
    Case(
        "Spanish automatic name",
        run("Carrera matutina", 8.0, "5:45", 138.0),
        ROUTINE,
        Effort.EASY,
        "average HR",
    ),
    Case(
        "trail run, slow pace on climbs",
        run("Afternoon Run", 10.0, "7:30", 138.0, sport="TrailRun", total_elevation_gain=400.0),
        ROUTINE,
        Effort.EASY,
        "climb-adjusted pace",
    ),
    Case(
        "treadmill easy",
        run("Morning Run", 6.0, "5:50", 137.0, sport="VirtualRun", trainer=True),
        ROUTINE,
        Effort.EASY,
        "average HR 137",
    ),
    Case(
        "auto name, long for this athlete",
        run("Morning Run", 20.0, "5:36", 139.0),
        ROUTINE,
        Effort.LONG_RUN,
        "× your median run of the last 28 days",
    ),
    Case(
        "auto name, long with no history",
        run("Morning Run", 17.0, "5:50"),
        no_history,
        Effort.LONG_RUN,
        "from 90 min",
    ),
    Case(
        "30 km is always long", run("Saturday", 30.5, "5:30", 142.0), ROUTINE, Effort.LONG_RUN, "from 30 km"
    ),
    Case(
        "auto 10K at race HR",
        run("Morning Run", 10.05, "4:12", 176.0, 186),
        ROUTINE,
        Effort.RACE,
        "standard 10K race distance",
    ),
    Case(
        "auto 5K without HR, much faster than easy",
        run("Morning Run", 5.02, "3:58"),
        NO_HR_ROUTINE,
        Effort.RACE,
        "faster than your easy",
    ),
    Case(
        "auto marathon at hard HR",
        run("Morning Run", 42.5, "4:45", 160.0, 172),
        ROUTINE,
        Effort.RACE,
        "marathon race distance",
    ),
    Case(
        "auto intervals told by laps",
        detailed(run("Evening Run", 11.2, "5:05", 153.0), interval_laps(6, 800.0, "3:50")),
        ROUTINE,
        Effort.SPEEDWORK,
        "laps alternate fast and slow: 6 fast laps",
    ),
    Case(
        "auto tempo told by laps",
        detailed(
            run("Morning Run", 11.0, "5:00", 152.0),
            laps(*[(1000.0, "5:40")] * 3, *[(1000.0, "4:35")] * 5, *[(1000.0, "5:45")] * 3),
        ),
        ROUTINE,
        Effort.SPEEDWORK,
        "min block at 4:35/km",
    ),
    Case(
        "auto progression told by laps",
        detailed(
            run("Morning Run", 12.0, "5:05", 150.0),
            laps(
                *[
                    (1000.0, p)
                    for p in (
                        "5:45",
                        "5:40",
                        "5:35",
                        "5:25",
                        "5:15",
                        "5:05",
                        "4:55",
                        "4:48",
                        "4:40",
                        "4:35",
                        "4:30",
                        "4:25",
                    )
                ]
            ),
        ),
        ROUTINE,
        Effort.SPEEDWORK,
        "laps get faster",
    ),
    Case(
        "auto, odd-distance race: even fast laps",
        detailed(run("Morning Run", 7.3, "4:20"), laps(*[(1000.0, "4:20")] * 7, (300.0, "4:15"))),
        NO_HR_ROUTINE,
        Effort.RACE,
        "even laps at 4:20/km",
    ),
    Case(
        "heat day: hard HR at easy pace, even easy laps",
        detailed(run("Morning Run", 9.0, "5:42", 160.0), km_laps(9, "5:42")),
        ROUTINE,
        Effort.EASY,
        "no lap faster than your easy pace",
    ),
    Case(
        "HR max estimated from easy runs only cannot make a run hard",
        run("Morning Run", 8.0, "5:40", 146.0, 155),
        easy_only,
        Effort.EASY,
        "your typical 140",
    ),
    Case(
        "moderate effort, no laps yet",
        run("Evening Run", 11.0, "5:05", 152.0),
        ROUTINE,
        Effort.EASY,
        "laps would tell",
    ),
    Case(
        "trail history: climb-adjusted pace keeps a hilly run easy",
        run("Morning Run", 9.0, "7:05", 140.0, sport="TrailRun", total_elevation_gain=360.0),
        trail_routine,
        Effort.EASY,
        "climb-adjusted",
    ),
    Case(
        "workout in the description",
        detailed(run("Morning Run", 10.0, "5:10", 151.0), [], description="6x800 on the track, 400 jog"),
        ROUTINE,
        Effort.SPEEDWORK,
        "description mentions 6x800",
    ),
    # --- not runs
    Case(
        "ride", other("Ride", "Evening Ride", 90, km=40, hr=135.0), ROUTINE, Effort.OTHER, "not a run (Ride)"
    ),
    Case("swim", other("Swim", "Morning Swim", 40, km=2.0), ROUTINE, Effort.OTHER, "not a run (Swim)"),
    Case("strength", other("WeightTraining", "Leg day", 45), ROUTINE, Effort.OTHER, "WeightTraining"),
    Case("walk", other("Walk", "Afternoon Walk", 50, km=4.5), ROUTINE, Effort.OTHER, "not a run (Walk)"),
    Case("hike named like a long run", other("Hike", "Long hike", 240, km=15), ROUTINE, Effort.OTHER, "Hike"),
]


def test_the_table_is_large_and_covers_every_class() -> None:
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    assert {case.effort for case in CASES} == set(Effort)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    activity = parse_activity(case.raw)
    result = classify(activity, case.history(activity.start_date), case.profile)
    assert result.effort == case.effort, result.reasons
    assert any(case.reason in reason for reason in result.reasons), result.reasons
