"""The words of an activity that raise a check-in, as a table: what each says, in a few languages, and the
phrases that must raise nothing (negations, other meanings of the same words)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.domain.checkins import CheckInKind
from scheduler.domain.descriptions import activity_findings, findings, reason, still_fresh

PAIN, ACHE, UNSTABLE, TIGHT, SORE = (
    CheckInKind.PAIN,
    CheckInKind.KNEE_ACHE,
    CheckInKind.KNEE_UNSTABLE,
    CheckInKind.TIGHT,
    CheckInKind.SORE,
)


@pytest.mark.parametrize(
    ("text", "kind", "area", "words"),
    [
        ("knee hurts", PAIN, "knee", "knee hurts"),
        ("Tempo 6k. Sharp pain in my calf at 4k, stopped", PAIN, "calf", "Sharp pain in my calf"),
        ("my left knee is hurting", PAIN, "knee", "my left knee is hurting"),
        ("Pain in the right shin after 5k", PAIN, "shin", "Pain in the right shin"),
        ("Hurt my ankle on the trail", PAIN, "ankle", "Hurt my ankle"),
        ("stabbing pain", PAIN, None, "stabbing pain"),
        ("niggle", SORE, None, "niggle"),
        ("small niggle in my hamstring", SORE, "hamstrings", "niggle in my hamstring"),
        ("tight hamstrings", TIGHT, "hamstrings", "tight hamstrings"),
        ("My left calf was really tight", TIGHT, "calf", "My left calf was really tight"),
        ("knee felt wobbly", UNSTABLE, "knee", "knee felt wobbly"),
        ("right knee gave way on the descent", UNSTABLE, "knee", "knee gave way"),
        ("back of the knee aches", ACHE, "knee", "back of the knee aches"),
        ("legs felt sore", SORE, "legs", "legs felt sore"),
        # German, French, Spanish, Dutch
        ("Wade tut weh", PAIN, "calf", "Wade tut weh"),
        ("Stechende Schmerzen im Knie", PAIN, "knee", "Stechende Schmerzen im Knie"),
        ("Knie war wackelig", UNSTABLE, "knee", "Knie war wackelig"),
        ("Kniekehle zieht", ACHE, "knee", "Kniekehle zieht"),
        ("Muskelkater vom Samstag", SORE, None, "Muskelkater"),
        ("verspannte Waden", TIGHT, "calf", "verspannte Waden"),
        ("Douleur vive au genou", PAIN, "knee", "Douleur vive au genou"),
        ("mollets tendus", TIGHT, "calf", "mollets tendus"),
        ("courbatures", SORE, None, "courbatures"),
        ("me duele la rodilla", PAIN, "knee", "me duele la rodilla"),
        ("isquios cargados", TIGHT, "hamstrings", "isquios cargados"),
        ("rodilla inestable", UNSTABLE, "knee", "rodilla inestable"),
        ("pijn in mijn kuit", PAIN, "calf", "pijn in mijn kuit"),
        ("stijve kuiten", TIGHT, "calf", "stijve kuiten"),
    ],
)
def test_the_words_raise_the_matching_checkin(
    text: str, kind: CheckInKind, area: str | None, words: str
) -> None:
    [found] = findings(text)
    assert (found.kind, found.area, found.words) == (kind, area, words)
    assert reason(found) == f'Strava: "{words}"'


@pytest.mark.parametrize(
    "text",
    [
        "no pain today",
        "pain free",
        "Pain-free 10k at last",
        "painting the fence after",
        "no niggles, no pain",
        "knee did not hurt at all",
        "without any pain",
        "Easy 8k, legs fine",
        "tight schedule today",
        "sore throat, easy jog",
        "coming back from injury",
        "Morning Run",
        "kein Schmerz im Knie",
        "schmerzfrei gelaufen",
        "sans douleur",
        "sin dolor",
        "geen pijn meer",
        "",
    ],
)
def test_words_that_say_nothing_wrong_raise_nothing(text: str) -> None:
    assert findings(text) == []


def test_one_finding_per_kind_and_each_words_only_once() -> None:
    found = findings("Back of the knee aches, tight calves and tight hamstrings too; sharp pain in my foot")
    assert [(f.kind, f.area) for f in found] == [(ACHE, "knee"), (PAIN, "foot"), (TIGHT, "calf")]
    # "tight hamstrings ... no pain": the negation takes only the pain
    assert [f.kind for f in findings("hamstrings felt a bit tight but no pain")] == [TIGHT]


def test_an_activity_is_read_in_its_name_description_and_private_note() -> None:
    raw = {
        "name": "Intervals: knee felt wobbly",
        "description": "Sharp pain in my calf on the last rep",
        "private_note": "tight hamstrings; also knee felt wobbly again",
    }
    found = {f.kind: f.words for f in activity_findings(raw)}
    assert found == {
        UNSTABLE: "knee felt wobbly",
        PAIN: "Sharp pain in my calf",
        TIGHT: "tight hamstrings",
    }
    assert activity_findings({"name": "Morning Run", "description": None}) == []


def test_only_recent_activities_speak_of_the_legs_now() -> None:
    end = datetime(2026, 5, 16, 11, 0, tzinfo=UTC)
    assert still_fresh(end, end + timedelta(hours=47))
    assert not still_fresh(end, end + timedelta(hours=49))
