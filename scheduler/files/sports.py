"""Sport names as FIT, TCX and GPX write them, in Strava's words (which the classifier reads)."""

from __future__ import annotations

# (sport, sub-sport) → Strava sport_type; a sub-sport not listed falls back to the sport's own entry.
_FIT: dict[tuple[str, str | None], str] = {
    ("running", None): "Run",
    ("running", "trail"): "TrailRun",
    ("running", "virtual_activity"): "VirtualRun",
    ("running", "indoor_running"): "Run",
    ("running", "treadmill"): "Run",
    ("cycling", None): "Ride",
    ("cycling", "virtual_activity"): "VirtualRide",
    ("cycling", "mountain"): "MountainBikeRide",
    ("cycling", "gravel_cycling"): "GravelRide",
    ("walking", None): "Walk",
    ("hiking", None): "Hike",
    ("swimming", None): "Swim",
    ("training", None): "WeightTraining",
    ("fitness_equipment", None): "Workout",
    ("cross_country_skiing", None): "NordicSki",
    ("rowing", None): "Rowing",
    ("e_biking", None): "EBikeRide",
}
INDOOR_SUB_SPORTS = frozenset({"treadmill", "indoor_running", "indoor_cycling", "virtual_activity"})

_WORDS: dict[str, str] = {
    "running": "Run",
    "run": "Run",
    "trail_running": "TrailRun",
    "trail running": "TrailRun",
    "trailrun": "TrailRun",
    "biking": "Ride",
    "cycling": "Ride",
    "ride": "Ride",
    "walking": "Walk",
    "walk": "Walk",
    "hiking": "Hike",
    "hike": "Hike",
    "swimming": "Swim",
    "other": "Workout",
    # Strava's GPX export writes its activity type as a number.
    "9": "Run",
    "1": "Ride",
    "10": "Walk",
    "4": "Hike",
}


def from_fit(sport: object, sub_sport: object) -> str:
    sport_name = str(sport) if sport is not None else "running"
    sub = str(sub_sport) if sub_sport is not None else None
    return _FIT.get((sport_name, sub)) or _FIT.get((sport_name, None)) or "Workout"


def from_word(word: str | None) -> str:
    """A TCX `Sport` attribute or a GPX `<type>`; an unnamed one is a run (what runners' files hold)."""
    if not word or not word.strip():
        return "Run"
    return _WORDS.get(word.strip().lower(), "Workout")
