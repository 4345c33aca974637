"""Long, messy training logs of simulated runners.

Written to resemble the real exports issue 12 measured on, not the classifier's rules: every activity starts
as an intent (what the runner set out to do that day: an easy run, 6x800 with jogs, a marathon, a jogged
charity 5K with a friend …), the intent is simulated as segments (distance, pace, heart rate), and the
Strava summary (distance, times, average and max speed, average and max heart rate, climbing) is computed
from the segments, with the watch's noise: GPS speed spikes, a strap that locks on to cadence, treadmills
that measure 20 % long, auto-laps that hide the structure. The label is the intent, never a classifier's
output. Names come from habit pools (miles with club and shop abbreviations, places, brands and jokes,
emoji, sentences, German/French/Spanish, Strava's automatic names), which change over an athlete's years.

Two splits keep the measurement honest: every name pool and every seed is divided into a `dev` half (used
while changing the classifier) and a `test` half (only ever reported). Sets per split:

- `veteran`: 16 years, heart rate from the third year on, names of every habit, laps on part of the runs,
  ~100 non-runs (some with race words: "Gran Fondo", "Swim meet").
- `veteran_generic`: the same runs, every name replaced by Strava's automatic name for the time of day.
- `no_hr`: 3 years, never a heart-rate monitor, km names in Spanish and English, treadmill winters.
- `triathlete`: 4 years of swim, bike and run: triathlons' run legs, brick runs, long rides.

The sets are built in memory by bench/runner_logs_eval.py (seeded: the same every time, ~2 s); to read
them, write them out:

    .venv/bin/python bench/make_runner_logs.py /tmp/runner_logs.json
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

MILE = 1609.344
HISTORY_DAYS = 42  # the first weeks of each log are history, not scored

# A segment: metres, pace as a multiple of the day's easy pace, heart rate as a fraction of max HR.
Segment = tuple[float, float, float]


@dataclass
class Runner:
    key: str
    years: int
    start: date
    tz: str
    unit: str  # "mi" or "km"
    easy: float  # easy pace in s/km at the start of the log
    hr_max: int
    hr_rest: int
    hr_from_year: int | None  # the year of the log a heart-rate monitor arrives; None: never
    habits: tuple[str, ...]  # naming habits, one per era of the log
    laps_from_year: int  # before it, the watch records no laps
    runs_per_week: float
    races_per_year: int
    other_per_year: int
    triathlete: bool = False
    treadmill_share: float = 0.05
    hilly_share: float = 0.1


# ------------------------------------------------------------------ names, per intent and habit
# {d}: the distance in the athlete's unit ("8mi", "13k"); {n}: the number alone; {club} {shop} {place}
# {event}: drawn from the pools below. Each list is split: even positions dev, odd positions test.

CLUBS = [
    "CPTC",
    "NYRR",
    "GVH",
    "TNT",
    "WSX",
    "BRC",
    "Dashing Whippets",
    "the Harriers",
    "RunClub",
    "Striders",
    "QDT",
    "BAA",
]
SHOPS = [
    "Fleet Feet",
    "Hoka",
    "Brooks",
    "Saucony",
    "NB",
    "Asics",
    "Nike",
    "Altra",
    "Lululemon",
    "Runner's World",
]
PLACES = [
    "Prospect Park",
    "Central Park",
    "Hudson",
    "Van Cortlandt",
    "Harlem Hill",
    "Bronx",
    "Rockaway",
    "Palisades",
    "Greenwood",
    "Tiergarten",
    "Lake Como",
    "Montauk",
]
JOKES = [
    "of suffering",
    "send help",
    "because why not",
    "legs = jelly",
    "ugh",
    "never again",
    "pizza earned",
    "who am I",
    "lol",
    "😅",
    "🔥🔥",
    "☀️",
    "💀",
    "🥵",
]

NAMES: dict[str, dict[str, list[str]]] = {
    "easy": {
        "miles": [
            "{d} easy",
            "Easy {d}",
            "{d} w/ {club}",
            "{d} {place}",
            "{d} {shop} test",
            "{n} miles {joke}",
            "Easy {d} {place}",
            "{d} recovery",
            "{d} {club} group run",
            "shakeout {d}",
            "{d} slow and steady",
            "{d} loop",
        ],
        "sentences": [
            "Legs heavy after yesterday, kept it chill",
            "Nice and easy with the dog",
            "Humid. Just got it done",
            "Recovery jog, knees ok",
            "Ran to the office",
            "Quick one before work",
            "Easy miles, marathon in 3 weeks!",
            "Shakeout, big race Sunday",
            "Snowy loop, slipped twice",
            "Jogged around the lake with Sam",
            "Felt good, kept it easy",
            "Back after the cold",
        ],
        "emoji": [
            "🏃‍♂️",
            "☀️ easy",
            "🌧️🌧️",
            "easy 😴",
            "🐢",
            "❄️ {d}",
            "🎧 {d}",
            "☕ run",
            "🌅",
            "🐕 + 🏃",
            "💤",
            "🍂 {d}",
        ],
        "german": [
            "Lockerer Dauerlauf",
            "GA1 {d}",
            "Regeneration",
            "Lauf mit Anna",
            "Runde um den See",
            "Ruhiger Lauf",
            "Feierabendrunde",
            "Waldrunde",
            "Erholungslauf",
            "Locker {d}",
            "Sonntagsrunde",
            "Kurze Runde",
        ],
        "french": [
            "Footing",
            "Footing tranquille",
            "Petit footing",
            "Récup",
            "Sortie cool",
            "Footing {d}",
            "Footing avec Julie",
            "Décrassage",
            "Footing du soir",
            "Tour du lac",
            "Footing léger",
            "Sortie facile",
        ],
        "spanish": [
            "Rodaje suave",
            "Rodaje {d}",
            "Trote",
            "Rodaje regenerativo",
            "Vuelta al parque",
            "Rodaje con Marta",
            "Suave",
            "Rodaje tranquilo",
            "Trotecito",
            "Rodaje por la playa",
            "Recuperación",
            "Rodaje corto",
        ],
        "brick": [
            "Brick run",
            "Off the bike",
            "Brick",
            "T-run",
            "Transition run",
            "Brick jog",
            "Brick off the trainer",
            "Quick brick",
            "Brick 15'",
            "Run off the bike",
            "Brick 2",
            "Brick easy",
        ],
    },
    "speedwork": {
        "miles": [
            "6x800",
            "{club} track",
            "4x mile @ T",
            "Halves",
            "Alternating half miles",
            "8x400 {club}",
            "3x2mi",
            "Half mile repeats",
            "{club} workout",
            "Tempo {d}",
            "Hill repeats {place}",
            "Ladder 400-1600",
            "12x400",
            "Fartlek {d}",
            "5x1k",
            "2x3mi @ HMP",
            "Cruise intervals",
            "Yasso 800s x10",
            "{d} w/ 4 @ T",
            "Track Tuesday",
        ],
        "sentences": [
            "Track with the group, 800s felt smooth",
            "Tempo on the river, windy",
            "Hills until my legs fell off",
            "Intervals. Died on the last one",
            "Workout with Ben: miles",
            "Threshold, controlled",
            "Speed session at the track",
            "Coach's workout, 400s",
            "Ran the hills in the park",
            "Fartlek in the woods",
            "Progression run, felt strong",
            "Workout, marathon is 5 weeks out",
        ],
        "emoji": [
            "🔥 track",
            "⚡ 6x1k",
            "🏟️ 400s",
            "💀 hills",
            "🔥🔥 tempo",
            "⏱️ 5x1k",
            "🚀",
            "💪 workout",
            "⚡⚡",
            "🏟️",
            "🔥 intervals",
            "😤 8x800",
        ],
        "german": [
            "Intervalle 6x1000",
            "Tempodauerlauf",
            "Bahntraining",
            "Bergsprints",
            "Schwellenlauf",
            "Fahrtspiel",
            "10x400",
            "Tempolauf {d}",
            "Pyramide",
            "Intervalltraining",
            "Berganläufe",
            "3x3km",
        ],
        "french": [
            "Fractionné 10x400",
            "Séance VMA",
            "Seuil 3x10'",
            "Fractionné",
            "Côtes",
            "Séance piste",
            "VMA courte",
            "Fartlek",
            "Séance seuil",
            "Pyramide",
            "30/30",
            "Fractionné long",
        ],
        "spanish": [
            "Series 6x1000",
            "Cuestas",
            "Series en pista",
            "Tempo {d}",
            "Fartlek",
            "Series cortas",
            "Umbral",
            "Cambios de ritmo",
            "Series 10x400",
            "Progresivo",
            "Pirámide",
            "Series largas",
        ],
        "brick": [
            "Brick w/ pickups",
            "Brick tempo",
            "Race pace brick",
            "Brick intervals",
            "Brick 3x1k",
            "Hard brick",
            "Tempo off the bike",
            "Brick @ race pace",
            "Brick, HIM pace",
            "Brick 5x3'",
            "Brick: Oly pace",
            "Brick progression",
        ],
    },
    "long_run": {
        "miles": [
            "{d} {club}",
            "{d} {shop}",
            "{d} {place}",
            "{d} long",
            "Long run {place}",
            "{d} w/ {club}",
            "20 miler",
            "{d} {joke}",
            "LR {d}",
            "{d} w/ last 4 @ MP",
            "Sunday long",
            "{d} {place} loop",
            "{d} of suffering",
            "{d} {shop} shoes",
            "Long one with {club}",
            "{d} BQ training lol",
        ],
        "sentences": [
            "Long run with the group, felt strong",
            "Long and slow",
            "Long run, last few at marathon pace",
            "Sunday long run in the rain",
            "Long one on the canal",
            "Longest run since the injury",
            "Ran to the beach and back",
            "Long run, marathon in 4 weeks",
            "Steady long run",
            "Long and hilly",
            "Two hours on the trails",
            "Long run, fuelling practice",
        ],
        "emoji": [
            "🏃 long",
            "☀️ {d}",
            "🥵 long",
            "LR 🐢",
            "🍌 {d}",
            "Long 🔥",
            "🌄 {d}",
            "🌧️ long",
            "Long 💪",
            "🥯 {d}",
            "Long 😅",
            "🏔️ {d}",
        ],
        "german": [
            "Langer Lauf",
            "Langer Lauf {d}",
            "LDL",
            "Long Jog",
            "Lange Runde",
            "Langer Lauf am Fluss",
            "Langer Dauerlauf",
            "Sonntags lang",
            "Lange Runde mit Tom",
            "Lang und ruhig",
            "Langer Lauf, MRT am Ende",
            "Lange Einheit",
        ],
        "french": [
            "Sortie longue",
            "SL {d}",
            "Sortie longue vallonnée",
            "Sortie longue avec le club",
            "SL tranquille",
            "Longue",
            "Sortie longue au bord de l'eau",
            "SL + allure marathon",
            "Sortie longue du dimanche",
            "SL",
            "Longue sortie",
            "SL trail",
        ],
        "spanish": [
            "Tirada larga",
            "Tirada {d}",
            "Largo",
            "Tirada larga con el grupo",
            "Rodaje largo",
            "Tirada larga por el río",
            "Tirada de domingo",
            "Largo suave",
            "Tirada larga + ritmo",
            "Tirada",
            "Largo con Pablo",
            "Tirada larga lenta",
        ],
        "brick": [
            "Long run",
            "Long run, Z2",
            "Long run off the bike",
            "LR",
            "Long Z2",
            "Long run (70.3 prep)",
            "Long run, nutrition test",
            "Long run, flat",
            "Long run, hills",
            "LR easy",
            "Long run Z2",
            "Long slow run",
        ],
    },
    "race": {
        "miles": [
            "{event}",
            "{event}!",
            "{event} - PR",
            "{event} 🏅",
            "{event}, {time}",
            "{event} done",
            "{event} (hot)",
            "{event} with {club}",
            "Race: {event}",
            "{event} - AG 3rd",
            "{event} 💀",
            "{event} PB",
        ],
        "sentences": [
            "{event}, what a day",
            "{event}. Went out too fast",
            "Raced {event}",
            "{event}, new PB!",
            "{event}: negative split",
            "{event}, windy but fun",
            "{event} in the heat",
            "{event}, finally sub 40",
            "{event}, legs gave out at the end",
            "{event} with the team",
            "{event}, happy with that",
            "{event}, cramped but finished",
        ],
        "emoji": [
            "{event} 🏅",
            "🏅 {event}",
            "{event} 🥈",
            "{event} 🏆",
            "{event} 🔥",
            "🎉 {event}",
            "{event} 💪",
            "{event} 😭",
            "{event} ⚡",
            "{event} ✅",
            "{event} 🥇",
            "{event} 🙌",
        ],
        "german": [
            "{event}",
            "{event} - Bestzeit",
            "{event}, Wettkampf",
            "{event} 🏅",
            "{event} mit dem Verein",
            "{event} {time}",
            "{event}",
            "{event}, PB",
            "{event} (heiß)",
            "{event}!",
            "{event}, Platz 5 AK",
            "{event} geschafft",
        ],
        "french": [
            "{event}",
            "{event} - record perso",
            "{event} {time}",
            "{event} 🏅",
            "{event} avec le club",
            "{event}!",
            "{event}",
            "{event}, chaud",
            "{event} RP",
            "{event} 🔥",
            "{event} finisher",
            "{event} en {time}",
        ],
        "spanish": [
            "{event}",
            "{event} - marca personal",
            "{event} {time}",
            "{event} 🏅",
            "{event} con el club",
            "{event}!",
            "{event}",
            "{event}, calor",
            "{event} MMP",
            "{event} 🔥",
            "{event} finisher",
            "{event} en {time}",
        ],
        "brick": [
            "{event} - Run",
            "{event} run leg",
            "{event}: run",
            "{event} (run)",
            "{event} run split",
            "{event} - run",
            "{event} T2 run",
            "{event} run",
            "Run leg {event}",
            "{event} - Laufen",
            "{event} run 🏅",
            "{event} finish",
        ],
    },
    "jogged_race": {
        "miles": [
            "{event} with my daughter",
            "{event}, paced Sarah",
            "{event} w/ {club} (fun)",
            "{event} - jogged it",
            "{event} costume run",
            "{event} with the kids",
            "Paced {event}",
            "{event}, just for fun",
            "{event} sweeper",
            "{event} with Mom",
            "{event} ran with Dave",
            "{event}, took it easy",
        ],
    },
    "warmup": {
        "miles": [
            "WU",
            "Warm up",
            "Cool down",
            "CD",
            "wu",
            "Cooldown",
            "Warmup",
            "Warm-up jog",
            "Cool-down with the team",
            "wu before race",
            "CD 2mi",
            "Warm up 🔥",
        ],
    },
    "other": {
        "any": [
            "Morning Ride",
            "Spin class",
            "Pool swim 2000yd",
            "Walk with the dog",
            "Gran Fondo",
            "Bike race",
            "Swim meet",
            "Yoga",
            "Lifting",
            "Hike {place}",
            "Evening Ride",
            "Commute by bike",
            "Open water swim",
            "Zwift race",
            "Masters swim",
            "Strength",
            "Half Century ride",
            "Afternoon Walk",
            "Century ride!",
            "Crit #3",
        ],
    },
}

EVENTS: dict[str, list[str]] = {
    "5k": [
        "Turkey Trot",
        "Shamrock Shuffle",
        "Jingle Bell Run",
        "Pride Run",
        "Brooklyn 5K",
        "parkrun",
        "Firecracker 5K",
        "Race for the Cure",
        "Midnight Run",
        "Summer Streak #2",
        "Reindeer Romp",
        "Club Champs 5K",
    ],
    "10k": [
        "Healthy Kidney 10K",
        "Mini 10K",
        "Peachtree",
        "Bolder Boulder",
        "Run for the Parks 10K",
        "Bay to Breakers",
        "Great Ireland Run",
        "Boulevard 10K",
        "Vancouver Sun Run",
        "Harbourfront 10K",
        "Cherry Blossom",
        "AJC",
    ],
    "half": [
        "NYC Half",
        "Brooklyn Half",
        "Philly Half",
        "Bronx 10 Mile",
        "Staten Island Half",
        "Fred Lebow",
        "Manhattan Half",
        "RnR Half",
        "Great North Run",
        "Berlin Halbmarathon",
        "Semi de Paris",
        "Mezza di Roma",
    ],
    "marathon": [
        "NYC Marathon",
        "Boston",
        "Chicago",
        "Berlin",
        "Philly Marathon",
        "Wineglass",
        "CIM",
        "Grandma's",
        "London",
        "Marine Corps",
        "Twin Cities",
        "Sugarloaf",
    ],
    "other": [
        "Corporate Challenge",
        "JPMorgan Chase Corporate Challenge",
        "Charity Shuffle",
        "Dash to the Finish",
        "Club Cross",
        "XC Champs",
        "Ragnar leg 2",
        "Ekiden leg",
        "Fifth Avenue Mile",
        "Emerald Nuts Midnight",
        "Queens 10K",
        "Hood to Coast leg",
    ],
    "tri": [
        "Ironman 70.3 Muskoka",
        "Sprint Tri",
        "Olympic tri",
        "NYC Tri",
        "Chicago Triathlon",
        "Escape from Alcatraz",
        "Tri-Rock",
        "Duathlon",
        "IM Lake Placid",
        "Club Aquathlon",
        "Challenge Roth",
        "Ironman Florida",
    ],
}


# ------------------------------------------------------------------ intents: segments, labels


def _u(rng: random.Random, low: float, high: float) -> float:
    return rng.uniform(low, high)


def easy(rng: random.Random, km: float) -> list[Segment]:
    return [(km * 1000, _u(rng, 0.96, 1.07), _u(rng, 0.66, 0.76))]


def recovery(rng: random.Random, km: float) -> list[Segment]:
    return [(km * 1000, _u(rng, 1.05, 1.16), _u(rng, 0.62, 0.70))]


def strides(rng: random.Random, km: float) -> list[Segment]:
    segs = easy(rng, km - 0.8)
    for _ in range(rng.randint(4, 8)):
        segs += [(100, 0.7, 0.78), (100, 1.4, 0.74)]
    return segs


def intervals(rng: random.Random, rep_m: float, reps: int, rec_m: float) -> list[Segment]:
    speed = {400: 0.70, 800: 0.74, 1000: 0.76, 1609: 0.79, 2000: 0.8, 3218: 0.83}.get(int(rep_m), 0.77)
    segs: list[Segment] = [(_u(rng, 2000, 3500), _u(rng, 1.0, 1.08), _u(rng, 0.66, 0.72))]
    for i in range(reps):
        segs.append((rep_m, speed * _u(rng, 0.97, 1.03), min(0.97, _u(rng, 0.84, 0.9) + 0.004 * i)))
        if i < reps - 1:
            segs.append((rec_m, _u(rng, 1.15, 1.5), _u(rng, 0.74, 0.8)))
    segs.append((_u(rng, 1500, 3200), _u(rng, 1.02, 1.12), _u(rng, 0.70, 0.76)))
    return segs


def tempo(rng: random.Random, km: float) -> list[Segment]:
    return [
        (_u(rng, 1600, 3200), _u(rng, 1.0, 1.06), _u(rng, 0.68, 0.74)),
        (km * 1000, _u(rng, 0.82, 0.88), _u(rng, 0.85, 0.9)),
        (_u(rng, 1500, 3000), _u(rng, 1.02, 1.1), _u(rng, 0.72, 0.78)),
    ]


def fartlek(rng: random.Random, km: float) -> list[Segment]:
    segs: list[Segment] = [(2000, _u(rng, 1.0, 1.06), 0.7)]
    while sum(s[0] for s in segs) < km * 1000 - 1500:
        segs += [
            (_u(rng, 300, 1000), _u(rng, 0.74, 0.84), _u(rng, 0.84, 0.9)),
            (_u(rng, 200, 600), _u(rng, 1.05, 1.3), 0.76),
        ]
    return [*segs, (1500, 1.05, 0.72)]


def progression(rng: random.Random, km: float) -> list[Segment]:
    thirds = km * 1000 / 3
    return [
        (thirds, _u(rng, 1.0, 1.05), 0.7),
        (thirds, _u(rng, 0.9, 0.95), 0.78),
        (thirds, _u(rng, 0.8, 0.86), 0.86),
    ]


def long_run(rng: random.Random, km: float, mp_finish: bool) -> list[Segment]:
    if not mp_finish:
        return [(km * 1000, _u(rng, 0.98, 1.08), _u(rng, 0.70, 0.79))]
    fast = _u(rng, 5, 10)
    return [
        (max(6, km - fast) * 1000, _u(rng, 1.0, 1.06), 0.72),
        (fast * 1000, _u(rng, 0.86, 0.92), _u(rng, 0.8, 0.85)),
    ]


RACE_PACE = {
    "5k": (0.76, 0.82, 0.90, 0.95),
    "10k": (0.79, 0.85, 0.88, 0.93),
    "half": (0.83, 0.89, 0.85, 0.91),
    "marathon": (0.87, 0.95, 0.80, 0.88),
}
RACE_KM = {"5k": 5.0, "10k": 10.0, "half": 21.1, "marathon": 42.2}


def race(rng: random.Random, kind: str, km: float) -> list[Segment]:
    low, high, hr_low, hr_high = RACE_PACE[kind]
    pace, hr = _u(rng, low, high), _u(rng, hr_low, hr_high)
    laps = max(3, round(km))
    # GPS runs long on a certified course; even splits with a little fade or kick.
    return [
        (km * 1000 * _u(rng, 1.0, 1.03) / laps, pace * _u(rng, 0.98, 1.03), min(0.98, hr + 0.01 * i / laps))
        for i in range(laps)
    ]


# ------------------------------------------------------------------ the simulation


@dataclass
class Made:
    label: str
    intent: str
    segments: list[Segment]
    name: str
    sport: str = "Run"
    trainer: bool = False
    hilly: float = 0.0  # metres of climbing per km
    hour: float = 7.0
    distance_error: float = 1.0  # treadmills that measure long or short


class Log:
    def __init__(self, runner: Runner, split: str, seed: int) -> None:
        self.runner, self.split = runner, split
        self.rng = random.Random(seed)
        self.activities: list[dict[str, Any]] = []
        self.next_id = seed * 1_000_000

    def pool(self, pool: list[str]) -> list[str]:
        return pool[0::2] if self.split == "dev" else pool[1::2]

    def pick(self, pool: list[str]) -> str:
        return self.rng.choice(self.pool(pool))

    def name(self, intent: str, habit: str, km: float, event: str = "", finish: str = "") -> str:
        table = NAMES[intent]
        pool = table.get(habit) or table.get("miles") or table["any"]
        n = km / (MILE / 1000) if self.runner.unit == "mi" else km
        number = f"{n:.0f}" if n >= 3 else f"{n:.1f}"
        return (
            self.pick(pool)
            .replace("{d}", f"{number}{'mi' if self.runner.unit == 'mi' else 'k'}")
            .replace("{n}", number)
            .replace("{club}", self.pick(CLUBS))
            .replace("{shop}", self.pick(SHOPS))
            .replace("{place}", self.pick(PLACES))
            .replace("{joke}", self.pick(JOKES))
            .replace("{event}", event)
            .replace("{time}", finish)
        )

    def add(self, made: Made, when: datetime, easy_pace: float, year: int) -> None:
        r, rng = self.runner, self.rng
        heart = r.hr_from_year is not None and year >= r.hr_from_year and rng.random() < 0.92
        daily = _u(rng, 0.97, 1.03)  # heat, fatigue, wind
        climb = made.hilly * (1 + _u(rng, -0.3, 0.3))
        slow = 1 + climb * 0.006
        metres = sum(s[0] for s in made.segments)
        moving = sum(s[0] / 1000 * easy_pace * s[1] * daily * slow for s in made.segments)
        hr_avg = sum(s[0] / 1000 * easy_pace * s[1] * s[2] for s in made.segments) / sum(
            s[0] / 1000 * easy_pace * s[1] for s in made.segments
        )
        hr_drift = _u(rng, -0.025, 0.03)
        fastest = max(1000 / (easy_pace * s[1] * daily * slow) for s in made.segments)
        spike = _u(rng, 1.3, 1.9) if rng.random() < 0.08 and not made.trainer else _u(rng, 1.03, 1.12)
        recorded = metres * made.distance_error
        raw: dict[str, Any] = {
            "id": self.next_id,
            "name": made.name,
            "sport_type": made.sport,
            "start_date": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": f"(GMT) {r.tz}",
            "distance": round(recorded, 1),
            "moving_time": round(moving),
            "elapsed_time": round(moving * _u(rng, 1.0, 1.06)),
            "total_elevation_gain": round(climb * metres / 1000, 1),
            "average_speed": round(recorded / moving, 3),
            "max_speed": round(fastest * made.distance_error * spike, 3),
            "trainer": made.trainer,
            "commute": False,
            "manual": False,
            "has_heartrate": heart,
            "label": made.label,
            "intent": made.intent,
        }
        self.next_id += 1
        if heart:
            glitch = rng.random() < 0.02  # an optical sensor locked on to cadence
            average = (hr_avg + hr_drift) * r.hr_max
            if glitch:
                average = min(r.hr_max * 0.97, average * 1.18)
            peak_fraction = max(s[2] for s in made.segments) + _u(rng, 0.02, 0.06)
            raw["average_heartrate"] = round(max(r.hr_rest + 10, average), 1)
            raw["max_heartrate"] = round(min(r.hr_max, max(peak_fraction * r.hr_max, average + 6)))
        if year >= r.laps_from_year and made.sport == "Run":
            raw["detail"] = {"laps": self.laps(made, easy_pace * daily * slow, heart, r)}
        self.activities.append(raw)

    def laps(self, made: Made, pace: float, heart: bool, r: Runner) -> list[dict[str, Any]]:
        """The watch's laps: the workout's own steps, or auto-laps every km/mile that blur them."""
        manual = made.intent in ("intervals", "tempo", "fartlek") and self.rng.random() < 0.6
        if manual or (made.intent.startswith("race") and self.rng.random() < 0.3):
            pieces = [(s[0], s[1], s[2]) for s in made.segments]
        else:
            step = MILE if r.unit == "mi" else 1000.0
            pieces = []
            for metres, m, hr in made.segments:
                pieces.append((metres, m, hr))
            pieces = _auto_laps(pieces, step)
        out = []
        for i, (metres, m, hr) in enumerate(pieces, start=1):
            seconds = max(1, round(metres / 1000 * pace * m))
            recorded = metres * made.distance_error
            lap: dict[str, Any] = {
                "lap_index": i,
                "distance": round(recorded, 1),
                "moving_time": seconds,
                "elapsed_time": seconds,
                "average_speed": round(recorded / seconds, 3),
            }
            if heart:
                lap["average_heartrate"] = round(hr * r.hr_max)
            out.append(lap)
        return out


def _auto_laps(pieces: list[Segment], step: float) -> list[Segment]:
    """Cut the segment stream every `step` metres: each lap's pace and HR are the mix of what it covers."""
    laps: list[Segment] = []
    covered, time_sum, hr_sum = 0.0, 0.0, 0.0
    for metres, m, hr in pieces:
        left = metres
        while left > 0:
            take = min(left, step - covered)
            covered += take
            time_sum += take * m
            hr_sum += take * m * hr
            left -= take
            if covered >= step - 1e-6:
                laps.append((covered, time_sum / covered, hr_sum / time_sum))
                covered, time_sum, hr_sum = 0.0, 0.0, 0.0
    if covered > 50:
        laps.append((covered, time_sum / covered, hr_sum / time_sum))
    return laps


def finish_time(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def simulate(runner: Runner, split: str, seed: int) -> list[dict[str, Any]]:
    log = Log(runner, split, seed)
    rng = log.rng
    zone = ZoneInfo(runner.tz)
    days = runner.years * 365
    race_days = set(rng.sample(range(HISTORY_DAYS // 2, days), runner.races_per_year * runner.years))
    other_days = set(rng.sample(range(days), runner.other_per_year * runner.years))
    injury = {
        d for start in rng.sample(range(days), runner.years) for d in range(start, start + rng.randint(5, 30))
    }
    for day in range(days):
        today = runner.start + timedelta(days=day)
        year = day // 365
        habit = runner.habits[min(len(runner.habits) - 1, year * len(runner.habits) // runner.years)]
        # Slower with age, faster with each training cycle.
        easy_pace = runner.easy * (1 + 0.006 * year) * (1 + 0.03 * ((day // 120) % 3 - 1))
        made: list[Made] = []
        if day in other_days:
            made.append(other(log, rng))
        if day in injury:
            pass
        elif day in race_days:
            made += race_day(log, rng, habit)
        elif rng.random() < runner.runs_per_week / 7:
            made.append(training_day(log, rng, today.weekday(), habit))
        for m in made:
            hour = m.hour + _u(rng, -0.7, 0.7)
            when = datetime(today.year, today.month, today.day, tzinfo=zone) + timedelta(hours=hour)
            log.add(m, when, easy_pace, year)
    scored_from = runner.start + timedelta(days=HISTORY_DAYS)
    for raw in log.activities:
        raw["scored"] = raw["start_date"] >= scored_from.isoformat()
    return log.activities


def other(log: Log, rng: random.Random) -> Made:
    name = log.name("other", "any", 0)
    lowered = name.lower()
    sport = (
        "Ride"
        if any(w in lowered for w in ("ride", "fondo", "bike", "spin", "century", "crit", "zwift"))
        else "Swim"
        if "swim" in lowered
        else "Walk"
        if "walk" in lowered
        else "Hike"
        if "hike" in lowered
        else "WeightTraining"
    )
    km = {"Ride": _u(rng, 20, 120), "Swim": _u(rng, 1, 3), "Walk": _u(rng, 2, 6), "Hike": _u(rng, 6, 18)}.get(
        sport, 0.1
    )
    return Made(
        "other", "other", [(km * 1000, 1.3 if sport != "Ride" else 0.3, 0.65)], name, sport=sport, hour=17
    )


def training_day(log: Log, rng: random.Random, weekday: int, habit: str) -> Made:
    r = log.runner
    if r.triathlete and rng.random() < 0.12:
        return brick(log, rng, habit)
    roll = rng.random()
    if weekday in (1, 3) and roll < 0.7:
        kind = rng.choice(["intervals", "intervals", "tempo", "fartlek", "hills", "progression"])
        if kind == "intervals":
            rep, count, rec = rng.choice(
                [
                    (400, 12, 200),
                    (800, 6, 400),
                    (1000, 5, 400),
                    (1609, 4, 400),
                    (3218, 3, 800),
                    (2000, 4, 600),
                ]
            )
            segs = intervals(rng, rep, count, rec)
        elif kind == "tempo":
            segs = tempo(rng, _u(rng, 4, 10))
        elif kind == "fartlek":
            segs = fartlek(rng, _u(rng, 8, 12))
        elif kind == "hills":
            segs = intervals(rng, 300, rng.randint(6, 10), 300)
            segs = [(m, p * 1.25 if p < 1 else p, h) for m, p, h in segs]
        else:
            segs = progression(rng, _u(rng, 10, 16))
        km = sum(s[0] for s in segs) / 1000
        trainer = rng.random() < r.treadmill_share
        name = log.name("speedwork", habit, km) if rng.random() < 0.8 else auto_name(rng, 18.5, trainer)
        return Made(
            "speedwork", kind, segs, name, trainer=trainer, hilly=25 if kind == "hills" else 5, hour=18.5
        )
    if weekday == 6 and roll < 0.75:
        km = _u(rng, 19, 34) if rng.random() < 0.6 else _u(rng, 16, 22)
        mp = rng.random() < 0.2
        hilly = 22.0 if rng.random() < r.hilly_share else 6.0
        name = log.name("long_run", habit, km) if rng.random() < 0.75 else auto_name(rng, 7.0, False)
        return Made(
            "long_run", "long_mp" if mp else "long", long_run(rng, km, mp), name, hilly=hilly, hour=7.0
        )
    km = _u(rng, 5, 13)
    trainer = rng.random() < r.treadmill_share
    kind = rng.choice(["easy", "easy", "easy", "recovery", "strides"])
    segs = {"easy": easy, "recovery": recovery, "strides": strides}[kind](
        rng, min(km, 10) if kind == "recovery" else km
    )
    hilly = 20.0 if rng.random() < r.hilly_share else 4.0
    hour = rng.choice([6.5, 7.0, 12.5, 18.0])
    name = log.name("easy", habit, km) if rng.random() < 0.6 else auto_name(rng, hour, trainer)
    error = _u(rng, 1.1, 1.25) if trainer and rng.random() < 0.5 else 1.0
    return Made(
        "easy",
        kind,
        segs,
        name,
        trainer=trainer,
        hilly=0 if trainer else hilly,
        hour=hour,
        distance_error=error,
    )


def brick(log: Log, rng: random.Random, habit: str) -> Made:
    hard = rng.random() < 0.35
    km = _u(rng, 3, 8)
    segs = tempo(rng, km * 0.7) if hard else easy(rng, km)
    return Made(
        "speedwork" if hard else "easy",
        "brick",
        segs,
        log.name("speedwork" if hard else "easy", "brick", km),
        hour=10,
    )


def race_day(log: Log, rng: random.Random, habit: str) -> list[Made]:
    r = log.runner
    if r.triathlete and rng.random() < 0.6:
        event = log.pick(EVENTS["tri"])
        km = rng.choice([5.0, 10.0, 21.1, 42.2])
        pace, hr = _u(rng, 0.88, 1.0), _u(rng, 0.8, 0.88)
        segs = [(km * 1000 / max(3, round(km)), pace, hr)] * max(3, round(km))
        return [
            Made("other", "tri_swim", [(1500, 1.3, 0.8)], f"{event} - Swim", sport="Swim", hour=7.0),
            Made("other", "tri_bike", [(40000, 0.3, 0.8)], f"{event} - Bike", sport="Ride", hour=7.5),
            Made("race", "tri_run", segs, log.name("race", "brick", km, event), hour=9.5),
        ]
    kind = rng.choices(["5k", "10k", "half", "marathon", "other"], weights=[4, 3, 2, 1, 2])[0]
    out: list[Made] = []
    if rng.random() < 0.25:
        out.append(Made("easy", "warmup", easy(rng, _u(rng, 2, 4)), log.name("warmup", "miles", 3), hour=7.2))
    if kind == "other":
        event = log.pick(EVENTS["other"])
        km = rng.choice([1.6, 5.6, 8.0, 6.4, 15.0, 16.1])
        # A charity shuffle or a corporate challenge: raced, but not to the limit.
        pace, hr = _u(rng, 0.82, 0.9), _u(rng, 0.8, 0.87)
        segs = [
            (km * 1000 / max(3, round(km)), pace * _u(rng, 0.98, 1.02), hr) for _ in range(max(3, round(km)))
        ]
    else:
        event = log.pick(EVENTS[kind])
        km = RACE_KM[kind]
        segs = race(rng, kind, km)
    jogged = rng.random() < 0.12 and kind in ("5k", "10k", "other")
    if jogged:
        return [
            *out,
            Made(
                "easy",
                "jogged_race",
                easy(rng, km * 1.01),
                log.name("jogged_race", "miles", km, event),
                hour=8.0,
            ),
        ]
    seconds = sum(s[0] / 1000 * r.easy * s[1] for s in segs)
    named = (
        log.name("race", habit, km, event, finish_time(seconds))
        if rng.random() < 0.85
        else auto_name(rng, 8.0, False)
    )
    out.append(Made("race", f"race_{kind}", segs, named, hour=8.0))
    if rng.random() < 0.25:
        out.append(
            Made(
                "easy", "cooldown", recovery(rng, _u(rng, 1.5, 3)), log.name("warmup", "miles", 2), hour=10.0
            )
        )
    return out


def auto_name(rng: random.Random, hour: float, trainer: bool) -> str:
    if trainer:
        return "Treadmill Run" if rng.random() < 0.5 else "Morning Run"
    return (
        "Morning Run"
        if hour < 11
        else "Lunch Run"
        if hour < 14
        else "Afternoon Run"
        if hour < 17
        else "Evening Run"
    )


def generic(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for raw in activities:
        if raw["sport_type"] in ("Run", "TrailRun", "VirtualRun"):
            local = datetime.fromisoformat(raw["start_date"].replace("Z", "+00:00")).astimezone(
                ZoneInfo(raw["timezone"].split()[-1])
            )
            raw = {
                **raw,
                "name": auto_name(random.Random(raw["id"]), local.hour + local.minute / 60, raw["trainer"]),
            }
        out.append(raw)
    return out


RUNNERS: dict[str, Callable[[], Runner]] = {
    "veteran": lambda: Runner(
        "veteran",
        16,
        date(2009, 3, 2),
        "America/New_York",
        "mi",
        330.0,
        189,
        48,
        2,
        ("miles", "miles", "sentences", "emoji", "miles", "german", "sentences"),
        6,
        3.2,
        7,
        7,
    ),
    "no_hr": lambda: Runner(
        "no_hr",
        3,
        date(2022, 1, 3),
        "Europe/Madrid",
        "km",
        345.0,
        186,
        55,
        None,
        ("spanish", "emoji", "french"),
        0,
        4.5,
        6,
        4,
        treadmill_share=0.15,
    ),
    "triathlete": lambda: Runner(
        "triathlete",
        4,
        date(2021, 1, 4),
        "America/Chicago",
        "mi",
        320.0,
        184,
        50,
        0,
        ("brick", "sentences", "miles"),
        0,
        3.5,
        6,
        60,
        triathlete=True,
    ),
}


def build() -> dict[str, Any]:
    sets: dict[str, Any] = {}
    for split, base in (("dev", 100), ("test", 200)):
        for index, (key, make) in enumerate(RUNNERS.items()):
            acts = simulate(make(), split, base + index)
            sets[f"{split}/{key}"] = acts
            if key == "veteran":
                sets[f"{split}/veteran_generic"] = generic(acts)
    return {
        "about": __doc__.splitlines()[0],
        "profiles": {"veteran": {}, "no_hr": {}, "triathlete": {}, "veteran_generic": {}},
        "sets": sets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the sets as JSON (for reading them)")
    out = parser.parse_args().out
    out.write_text(json.dumps(build(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
