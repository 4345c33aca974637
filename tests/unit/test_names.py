"""Name tables: which cue a name carries, and which names carry none."""

from __future__ import annotations

import pytest

from scheduler.domain.names import Cue, is_automatic_name, read_name

AUTOMATIC = [
    "Morning Run",
    "Lunch Run",
    "Afternoon Run",
    "Evening Run",
    "Night Run",
    "Morning Trail Run",
    "Morgenlauf",
    "Abendlauf",
    "Course à pied le matin",
    "Course à pied dans l'après-midi",
    "Carrera matutina",
    "Carrera por la tarde",
    "Corsa mattutina",
    "Corsa serale",
    "Ochtendloop",
    "Avondloop",
    "Corrida matinal",
    "Corrida noturna",
    "Run",
    "  Morning Run  ",
]

NOT_AUTOMATIC = ["Morning Run with Dave", "Sunday long run", "Morning 10k", "Tempo", "parkrun"]


@pytest.mark.parametrize("name", AUTOMATIC)
def test_strava_automatic_names_say_nothing(name: str) -> None:
    assert is_automatic_name(name)
    reading = read_name(name)
    assert reading.automatic and reading.found == ()


@pytest.mark.parametrize("name", NOT_AUTOMATIC)
def test_names_the_athlete_wrote_are_not_automatic(name: str) -> None:
    assert not is_automatic_name(name)


# (name, the cue that must be found, the words that carry it)
CUES = [
    ("Publix Half Marathon", Cue.RACE, "Half Marathon"),
    ("Grandma's Marathon", Cue.RACE, "Marathon"),
    ("County XC Championships", Cue.RACE, "XC"),
    ("Mt. Hood 50k", Cue.RACE, "50k"),
    ("10K race 42:13", Cue.RACE, "race"),
    ("PR!", Cue.RACE, "PR"),
    ("Spring 5K - 3rd AG", Cue.RACE, "3rd AG"),
    ("parkrun #123", Cue.RACE, "parkrun"),
    ("Sunrise Shuffle 8K 31:40", Cue.RACE, "Shuffle 8K 31:40"),
    ("Silvesterlauf 5 km", Cue.RACE, "Silvesterlauf 5 km"),
    ("Carrera de la Mujer", Cue.RACE, "Carrera"),
    ("Summer 5K Series #3", Cue.RACE, "Series #3"),
    ("Wettkampf", Cue.RACE, "Wettkampf"),
    ("Semi-marathon de Lyon", Cue.RACE, "Semi-marathon"),
    ("Media Maratón de Sevilla", Cue.RACE, "Media Maratón"),
    ("Gara sociale", Cue.RACE, "Gara"),
    ("Wedstrijd", Cue.RACE, "Wedstrijd"),
    ("Meia Maratona", Cue.RACE, "Meia Maratona"),
    ("Club Night - 6x800, 5x300", Cue.WORKOUT, "6x800"),
    ("wu, 4 x 1 mile, cd", Cue.WORKOUT, "4 x 1 mile"),
    ("5 x (3x300m)", Cue.WORKOUT, "5 x (3x300m)"),
    ("FFBQ 2x2@MP", Cue.WORKOUT, "@MP"),
    ("Fartlek 10x1'/1'", Cue.WORKOUT, "10x1'/1'"),
    ("Yasso 800s", Cue.WORKOUT, "800s"),
    ("Hill repeats x8", Cue.WORKOUT, "x8"),
    ("Bergsprints 8x", Cue.WORKOUT, "8x"),
    ("30/30", Cue.WORKOUT, "30/30"),
    ("Tempo 3mi @ T", Cue.WORKOUT, "@ T"),
    ("Race pace 4x1k", Cue.WORKOUT, "Race pace"),
    ("MP miles", Cue.WORKOUT, "MP"),
    ("Intervalle", Cue.WORKOUT, "Intervalle"),
    ("Tempolauf", Cue.WORKOUT, "Tempolauf"),
    ("Fractionné", Cue.WORKOUT, "Fractionné"),
    ("Séance VMA", Cue.WORKOUT, "VMA"),
    ("Series", Cue.WORKOUT, "Series"),
    ("Ripetute", Cue.WORKOUT, "Ripetute"),
    ("Intervallen", Cue.WORKOUT, "Intervallen"),
    ("Treino intervalado", Cue.WORKOUT, "Treino intervalado"),
    ("Long intervals", Cue.WORKOUT, "Long intervals"),
    ("Progression run", Cue.WORKOUT, "Progression"),
    ("Long run", Cue.LONG, "Long"),
    ("LR 18mi", Cue.LONG, "LR"),
    ("6mi Race Practice Long Run with Runna ✅", Cue.LONG, "Long"),
    ("langer Lauf", Cue.LONG, "langer Lauf"),
    ("Sortie longue", Cue.LONG, "Sortie longue"),
    ("Tirada larga", Cue.LONG, "Tirada larga"),
    ("Lungo", Cue.LONG, "Lungo"),
    ("Lange duurloop", Cue.LONG, "Lange duurloop"),
    ("Longão", Cue.LONG, "Longão"),
    ("Easy 45", Cue.EASY, "Easy"),
    ("Recovery jog", Cue.EASY, "Recovery"),
    ("Shakeout", Cue.EASY, "Shakeout"),
    ("Run commute", Cue.EASY, "Run commute"),
    ("Commute home", Cue.EASY, "Commute"),
    ("Dauerlauf", Cue.EASY, "Dauerlauf"),
    ("Footing", Cue.EASY, "Footing"),
    ("Rodaje", Cue.EASY, "Rodaje"),
    ("Corsa lenta", Cue.EASY, "lenta"),
    ("Rustige duurloop", Cue.EASY, "Rustige"),
    ("Rodagem leve", Cue.EASY, "Rodagem"),
    ("WU", Cue.WARMUP, "WU"),
    ("warm up", Cue.WARMUP, "warm up"),
    ("Cooldown", Cue.WARMUP, "Cooldown"),
    ("Einlaufen", Cue.WARMUP, "Einlaufen"),
    ("Calentamiento", Cue.WARMUP, "Calentamiento"),
    ("Pacing the 4:00 group", Cue.NOT_RACE, "Pacing"),
    ("Bushy parkrun with my daughter", Cue.NOT_RACE, "with my daughter"),
]


@pytest.mark.parametrize(("name", "cue", "text"), CUES, ids=[c[0] for c in CUES])
def test_cue_found(name: str, cue: Cue, text: str) -> None:
    found = [f.text for f in read_name(name).found if f.cue == cue]
    assert text in found, read_name(name).found


# Words that must NOT produce a cue: the trap each table row exists to avoid.
ABSENT = [
    ("Easy 8k + strides", Cue.WORKOUT),
    ("Easy 8k + 6x100m strides", Cue.WORKOUT),
    ("Dauerlauf mit Steigerungen", Cue.WORKOUT),
    ("6mi Race Practice Long Run with Runna ✅", Cue.RACE),
    ("Race pace 4x1k", Cue.RACE),
    ("Marathon training long run", Cue.RACE),
    ("Tempodauerlauf", Cue.EASY),
    ("Lange duurloop", Cue.EASY),
    ("Long intervals", Cue.LONG),
    ("Run with Dave", Cue.RACE),
    ("Sunday 10k", Cue.RACE),
    ("Cross-training", Cue.RACE),
    ("Back-to-back long 1/2", Cue.WORKOUT),
    ("3.75mi Easy Run with Runna ✅", Cue.RACE),
    ("Waldlauf 10 km", Cue.RACE),
]


@pytest.mark.parametrize(("name", "cue"), ABSENT, ids=[f"{a[0]} has no {a[1]}" for a in ABSENT])
def test_cue_absent(name: str, cue: Cue) -> None:
    assert not read_name(name).has(cue), read_name(name).found


def test_cues_are_reported_in_the_order_written() -> None:
    assert read_name("Tempo 3mi @ T").all_of(Cue.WORKOUT) == "Tempo, @ T"


def test_a_name_of_only_neutral_words_is_not_decisive() -> None:
    assert not read_name("Run with Dave").decisive
    assert not read_name("Pacing").decisive
    assert read_name("Easy").decisive
