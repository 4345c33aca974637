"""Protocol files: the shipped defaults load, and each kind of mistake is one clear line naming its place."""

from __future__ import annotations

import copy
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler.domain.effort import Effort
from scheduler.domain.protocols import default_protocols_path, load_protocols, parse_protocols
from scheduler.errors import ConfigError

ICE: dict[str, Any] = {
    "key": "ice",
    "applies_to": {"efforts": ["race", "speedwork"]},
    "when": "now",
    "useful_for": "3h",
    "equipment": ["ice"],
    "tags": ["urgent"],
    "title": "Ice now — {activity}",
    "body": "10–15 min cold after {distance_km} km.",
}


def write(tmp_path: Path, steps: list[dict[str, Any]], **top: Any) -> Path:
    path = tmp_path / "protocols.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "steps": steps, **top}, allow_unicode=True), encoding="utf-8"
    )
    return path


def ice(**changes: Any) -> dict[str, Any]:
    step = copy.deepcopy(ICE)
    step.update(changes)
    return step


def test_shipped_defaults_load_with_the_required_steps() -> None:
    protocols = load_protocols(default_protocols_path())
    keys = {step.key for step in protocols.steps}

    assert {"ice", "refuel", "leg_massager", "foot_massager", "foam_roll"} <= keys
    ice_step = next(step for step in protocols.steps if step.key == "ice")
    assert ice_step.when.kind == "now"
    assert ice_step.useful_for == timedelta(hours=3)
    assert ice_step.tags == ("urgent",)
    leg = next(step for step in protocols.steps if step.key == "leg_massager")
    assert (leg.when.kind, leg.when.at) == ("tonight", time(20, 0))


@pytest.mark.parametrize(
    ("effort", "km", "hours", "expected_when"),
    [
        (Effort.RACE, 10.0, 0.7, ("tomorrow", None)),
        (Effort.RACE, 21.1, 1.6, ("tomorrow", None)),
        (Effort.RACE, 42.2, 3.5, ("tomorrow", timedelta(hours=48))),
        (Effort.LONG_RUN, 30.0, 2.6, ("tomorrow", None)),
        (Effort.SPEEDWORK, 12.0, 1.0, ("tomorrow", None)),
    ],
)
def test_shipped_foam_roll_is_one_step_key_with_a_marathon_variant(
    effort: Effort, km: float, hours: float, expected_when: tuple[str, timedelta | None]
) -> None:
    steps = load_protocols(default_protocols_path()).steps_for(effort, km, hours)
    foam_rolls = [step for step in steps if step.key == "foam_roll"]

    assert len(foam_rolls) == 1
    assert (foam_rolls[0].when.kind, foam_rolls[0].when.not_before) == expected_when


@pytest.mark.parametrize(
    ("effort", "km", "hours", "refuel"),
    [
        (Effort.RACE, 10.0, 0.7, False),
        (Effort.RACE, 21.1, 1.5, True),
        (Effort.LONG_RUN, 18.0, 1.9, False),
        (Effort.LONG_RUN, 22.0, 2.1, True),
        (Effort.EASY, 25.0, 2.5, False),
    ],
)
def test_shipped_refuel_applies_to_half_marathon_races_and_two_hour_long_runs(
    effort: Effort, km: float, hours: float, refuel: bool
) -> None:
    steps = load_protocols(default_protocols_path()).steps_for(effort, km, hours)
    assert any(step.key == "refuel" for step in steps) is refuel


def test_a_step_key_may_repeat_for_disjoint_conditions(tmp_path: Path) -> None:
    short = ice(applies_to={"efforts": ["race"], "max_distance_km": 41})
    long = ice(
        applies_to={"efforts": ["race"], "min_distance_km": 41}, when="tomorrow 08:00", not_before="48h"
    )
    protocols = load_protocols(write(tmp_path, [short, long]))

    assert [step.when.kind for step in protocols.steps_for(Effort.RACE, 40.9, 3)] == ["now"]
    assert [step.when.kind for step in protocols.steps_for(Effort.RACE, 41.0, 3)] == ["tomorrow"]


BAD_STEPS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown key", ice(colour="blue"), ["steps[0] (ice)", "unknown key 'colour'"]),
    ("bad time", ice(when="tonight 25:00"), ["(ice).when", "bad time 25:00"]),
    ("bad minutes", ice(when="tomorrow 08:60"), ["(ice).when", "bad time 08:60"]),
    ("bad rule", ice(when="later"), ["(ice).when", "bad rule 'later'"]),
    (
        "unknown effort",
        ice(applies_to={"efforts": ["marathon"]}),
        ["(ice).applies_to.efforts", "unknown effort class 'marathon'"],
    ),
    (
        "unknown condition",
        ice(applies_to={"efforts": ["race"], "min_km": 5}),
        ["(ice).applies_to", "'min_km'"],
    ),
    (
        "inverted bounds",
        ice(applies_to={"efforts": ["race"], "min_distance_km": 42, "max_distance_km": 21}),
        ["(ice).applies_to.max_distance_km", "must be above min_distance_km"],
    ),
    ("bad placeholder", ice(title="Ice — {distance}"), ["(ice).title", "unknown placeholder {distance}"]),
    ("unbalanced brace", ice(body="cold {activity"), ["(ice).body", "bad template"]),
    (
        "attribute placeholder",
        ice(body="{activity.name}"),
        ["(ice).body", "unknown placeholder {activity.name}"],
    ),
    ("unknown tool", ice(equipment=["cryo_chamber"]), ["(ice).equipment", "unknown tool 'cryo_chamber'"]),
    ("bad duration", ice(useful_for="3 days"), ["(ice).useful_for", "bad duration '3 days'"]),
    ("zero duration", ice(useful_for="0h"), ["(ice).useful_for", "longer than zero"]),
    ("not_before on now", ice(not_before="48h"), ["(ice).when", "not_before only applies"]),
    ("missing field", {k: v for k, v in ICE.items() if k != "useful_for"}, ["(ice).useful_for", "missing"]),
    ("bad key", ice(key="Ice Now"), ["steps[0].key", "'Ice Now'"]),
    ("bad tag", ice(tags=["urgent!"]), ["(ice).tags", "bad tag 'urgent!'"]),
]


@pytest.mark.parametrize(("label", "step", "fragments"), BAD_STEPS, ids=[row[0] for row in BAD_STEPS])
def test_bad_step_is_one_line_naming_file_step_and_field(
    tmp_path: Path, label: str, step: dict[str, Any], fragments: list[str]
) -> None:
    path = write(tmp_path, [step])
    with pytest.raises(ConfigError) as caught:
        load_protocols(path)
    message = str(caught.value)

    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


def test_duplicate_step_key_with_overlapping_applicability_is_refused(tmp_path: Path) -> None:
    first = ice(applies_to={"efforts": ["race"], "max_distance_km": 42})
    second = ice(applies_to=[{"efforts": ["speedwork"]}, {"efforts": ["race"], "min_distance_km": 21}])
    path = write(tmp_path, [first, second])

    with pytest.raises(ConfigError) as caught:
        load_protocols(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: steps[1] (ice).applies_to: duplicate step key 'ice'")
    assert "steps[0] already applies to race" in message
    assert "\n" not in message


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "protocols.yaml"
    path.write_text("version: 1\nsteps:\n  - key: ice\n    when: [now\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_protocols(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:5: malformed YAML")
    assert "\n" not in message


def test_a_key_repeated_inside_one_step_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "protocols.yaml"
    path.write_text(
        "version: 1\nsteps:\n  - key: ice\n    when: now\n    when: tonight 20:00\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError, match=r"protocols\.yaml:5: malformed YAML: duplicate key 'when'"):
        load_protocols(path)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"version": 1, "steps": [ICE], "quiet_hours": "22:00-07:00"}, "unknown key 'quiet_hours'"),
        ({"version": 2, "steps": [ICE]}, "version: unsupported protocols version 2"),
        ({"version": 1, "steps": {"ice": ICE}}, "steps: expected a list"),
        (["ice"], "expected a mapping"),
    ],
)
def test_bad_top_level_is_refused(document: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_protocols(document, "my.yaml")
    assert str(caught.value).startswith("my.yaml: ")
    assert fragment in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read protocols file"):
        load_protocols(tmp_path / "nope.yaml")


def test_literal_braces_are_allowed_in_templates(tmp_path: Path) -> None:
    protocols = load_protocols(write(tmp_path, [ice(body="Cold {{not a field}} after {activity}.")]))
    assert protocols.steps[0].body == "Cold {{not a field}} after {activity}."
