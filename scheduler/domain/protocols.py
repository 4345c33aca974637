"""Recovery protocols as data: load and strictly validate config/protocols.yaml.

A protocol step says what to remind (title/body templates), for which efforts (`applies_to`), when, for how
long it stays useful, which tools it needs and how it is routed (`tags`). One step key may appear in several
entries (e.g. `foam_roll` the next morning, but only after 48 h for a marathon) as long as no activity could
match two of them: reminders are unique per (athlete, local day, step key), and the day's hardest effort
picks the entries (see `planning.py`).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from scheduler.domain.ahead import AheadProtocol, parse_ahead
from scheduler.domain.checkins import CheckInKind
from scheduler.domain.effort import Effort
from scheduler.domain.timing import When, parse_span, parse_when
from scheduler.errors import ConfigError
from scheduler.resources import PROTOCOLS_FILE

EQUIPMENT = frozenset(
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
# What a title/body template may mention; the planner supplies exactly these.
PLACEHOLDERS = frozenset({"activity", "distance_km", "duration", "effort", "reasons"})

_STEP_FIELDS = frozenset(
    {
        "key",
        "label",
        "applies_to",
        "when",
        "not_before",
        "useful_for",
        "equipment",
        "tags",
        "caution",
        "title",
        "body",
        "suppressed_by",
        "only_with",
    }
)
_REQUIRED_FIELDS = ("key", "applies_to", "when", "useful_for", "title", "body")
_APPLIES_FIELDS = frozenset(
    {"efforts", "min_distance_km", "max_distance_km", "min_duration_h", "max_duration_h"}
)
_TOP_FIELDS = frozenset({"version", "steps", "ahead"})
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Applicability:
    """Efforts a step applies to, with optional bounds: min inclusive, max exclusive (so ranges can meet)."""

    efforts: frozenset[Effort]
    min_distance_km: float | None = None
    max_distance_km: float | None = None
    min_duration_h: float | None = None
    max_duration_h: float | None = None

    def matches(self, effort: Effort, distance_km: float, duration_h: float) -> bool:
        return (
            effort in self.efforts
            and _within(distance_km, self.min_distance_km, self.max_distance_km)
            and _within(duration_h, self.min_duration_h, self.max_duration_h)
        )

    def overlaps(self, other: Applicability) -> bool:
        """True when some activity could match both."""
        return (
            bool(self.efforts & other.efforts)
            and _ranges_meet(
                self.min_distance_km, self.max_distance_km, other.min_distance_km, other.max_distance_km
            )
            and _ranges_meet(
                self.min_duration_h, self.max_duration_h, other.min_duration_h, other.max_duration_h
            )
        )


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def _ranges_meet(
    low_a: float | None, high_a: float | None, low_b: float | None, high_b: float | None
) -> bool:
    low = max(low_a or 0.0, low_b or 0.0)
    high = min(math.inf if high_a is None else high_a, math.inf if high_b is None else high_b)
    return low < high


@dataclass(frozen=True, slots=True)
class ProtocolStep:
    key: str
    label: str  # how the step is named in a "skipped: …" explanation
    applies_to: tuple[Applicability, ...]
    when: When
    useful_for: timedelta
    equipment: frozenset[str]
    tags: tuple[str, ...]
    caution: str | None
    title: str
    body: str
    # Check-in kinds (scheduler.domain.checkins) that stop this step while in force at its due time...
    suppressed_by: frozenset[str] = frozenset()
    # ...and, when not empty, the kinds without one of which in force it is not planned at all.
    only_with: frozenset[str] = frozenset()

    def applies(self, effort: Effort, distance_km: float, duration_h: float) -> bool:
        return any(rule.matches(effort, distance_km, duration_h) for rule in self.applies_to)


@dataclass(frozen=True, slots=True)
class Protocols:
    steps: tuple[ProtocolStep, ...]
    source: str
    # The look-ahead messages (before a run, rest days; scheduler.domain.ahead); None: the file has no
    # `ahead` section and the shipped one is used.
    ahead: AheadProtocol | None = None

    def steps_for(self, effort: Effort, distance_km: float, duration_h: float) -> list[ProtocolStep]:
        """The entries that apply, in file order; validation guarantees at most one per key."""
        return [step for step in self.steps if step.applies(effort, distance_km, duration_h)]


def default_protocols_path() -> Path:
    """The shipped defaults, inside the package (`config/protocols.yaml` is the users' copy of them)."""
    return PROTOCOLS_FILE


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML silently keeps the last)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def load_protocols(path: Path) -> Protocols:
    """Read and validate a protocols file; raise ConfigError with one line naming the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read protocols file: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_error_line(path, exc)) from None
    return parse_protocols(data, str(path))


def _yaml_error_line(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    place = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    return f"{place}: malformed YAML: {' '.join(str(problem).split())}"


def parse_protocols(data: object, where: str) -> Protocols:
    """Validate already-parsed YAML; `where` names the source in error messages."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with 'version' and 'steps'")
    unknown = sorted(str(key) for key in data if key not in _TOP_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_TOP_FIELDS))})")
    version = data.get("version", 1)
    if version != 1:
        raise ConfigError(f"{where}: version: unsupported protocols version {version!r} (expected 1)")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        raise ConfigError(f"{where}: steps: expected a list of steps")
    steps = tuple(_parse_step(raw, f"{where}: steps[{index}]") for index, raw in enumerate(raw_steps))
    _reject_overlapping_keys(steps, where)
    ahead = parse_ahead(data["ahead"], where) if data.get("ahead") is not None else None
    return Protocols(steps=steps, source=where, ahead=ahead)


def _reject_overlapping_keys(steps: Sequence[ProtocolStep], where: str) -> None:
    for later_index, later in enumerate(steps):
        for earlier_index, earlier in enumerate(steps[:later_index]):
            if earlier.key != later.key:
                continue
            for rule in later.applies_to:
                for other in earlier.applies_to:
                    if rule.overlaps(other):
                        shared = ", ".join(sorted(effort.value for effort in rule.efforts & other.efforts))
                        raise ConfigError(
                            f"{where}: steps[{later_index}] ({later.key}).applies_to: duplicate step key "
                            f"{later.key!r}: steps[{earlier_index}] already applies to {shared} in this range"
                        )


def _parse_step(raw: object, where: str) -> ProtocolStep:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: a step must be a mapping")
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ConfigError(f"{where}.key: expected a lower_snake_case step key, got {key!r}")
    where = f"{where} ({key})"
    unknown = sorted(str(name) for name in raw if name not in _STEP_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_STEP_FIELDS))})")
    for name in _REQUIRED_FIELDS:
        if raw.get(name) is None:
            raise ConfigError(f"{where}.{name}: missing")
    not_before = _span(raw, "not_before", where) if raw.get("not_before") is not None else None
    try:
        when = parse_when(_text(raw, "when", where), not_before)
    except ValueError as exc:
        raise ConfigError(f"{where}.when: {exc}") from None
    return ProtocolStep(
        key=key,
        label=_text(raw, "label", where) if raw.get("label") is not None else key.replace("_", " "),
        applies_to=_applicability(raw["applies_to"], f"{where}.applies_to"),
        when=when,
        useful_for=_span(raw, "useful_for", where),
        equipment=_equipment(raw.get("equipment"), f"{where}.equipment"),
        tags=_tags(raw.get("tags"), f"{where}.tags"),
        caution=_text(raw, "caution", where) if raw.get("caution") is not None else None,
        title=_template(raw, "title", where),
        body=_template(raw, "body", where),
        suppressed_by=_checkin_kinds(raw.get("suppressed_by"), f"{where}.suppressed_by"),
        only_with=_checkin_kinds(raw.get("only_with"), f"{where}.only_with"),
    )


def _text(raw: Mapping[Any, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{name}: expected non-empty text, got {value!r}")
    return value.strip()


def _span(raw: Mapping[Any, Any], name: str, where: str) -> timedelta:
    try:
        return parse_span(_text(raw, name, where))
    except ValueError as exc:
        raise ConfigError(f"{where}.{name}: {exc}") from None


def _template(raw: Mapping[Any, Any], name: str, where: str) -> str:
    text = _text(raw, name, where)
    try:
        fields = [field for _, field, spec, conversion in string.Formatter().parse(text) if field is not None]
    except ValueError as exc:
        raise ConfigError(
            f"{where}.{name}: bad template ({exc}); write a literal brace as {{{{ or }}}}"
        ) from None
    allowed = ", ".join("{" + placeholder + "}" for placeholder in sorted(PLACEHOLDERS))
    for field in fields:
        if field not in PLACEHOLDERS:
            raise ConfigError(f"{where}.{name}: unknown placeholder {{{field}}} (allowed: {allowed})")
    return text


def _applicability(raw: object, where: str) -> tuple[Applicability, ...]:
    rules = raw if isinstance(raw, list) else [raw]
    if not rules:
        raise ConfigError(f"{where}: expected at least one rule")
    return tuple(
        _one_applicability(rule, f"{where}[{index}]" if isinstance(raw, list) else where)
        for index, rule in enumerate(rules)
    )


def _one_applicability(raw: object, where: str) -> Applicability:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping with 'efforts' and optional bounds")
    unknown = sorted(str(name) for name in raw if name not in _APPLIES_FIELDS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_APPLIES_FIELDS))})"
        )
    efforts = raw.get("efforts")
    if not isinstance(efforts, list) or not efforts:
        raise ConfigError(f"{where}.efforts: expected a non-empty list of effort classes")
    known = ", ".join(effort.value for effort in Effort)
    parsed: set[Effort] = set()
    for value in efforts:
        try:
            parsed.add(Effort(value))
        except ValueError:
            raise ConfigError(f"{where}.efforts: unknown effort class {value!r} (known: {known})") from None
    rule = Applicability(
        efforts=frozenset(parsed),
        min_distance_km=_bound(raw, "min_distance_km", where),
        max_distance_km=_bound(raw, "max_distance_km", where),
        min_duration_h=_bound(raw, "min_duration_h", where),
        max_duration_h=_bound(raw, "max_duration_h", where),
    )
    for low, high in (("min_distance_km", "max_distance_km"), ("min_duration_h", "max_duration_h")):
        low_value, high_value = getattr(rule, low), getattr(rule, high)
        if low_value is not None and high_value is not None and low_value >= high_value:
            raise ConfigError(f"{where}.{high}: must be above {low} ({high_value} <= {low_value})")
    return rule


def _bound(raw: Mapping[Any, Any], name: str, where: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{where}.{name}: expected a non-negative number, got {value!r}")
    return float(value)


def _equipment(raw: object, where: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of tool names")
    for tool in raw:
        if tool not in EQUIPMENT:
            raise ConfigError(f"{where}: unknown tool {tool!r} (known: {', '.join(sorted(EQUIPMENT))})")
    return frozenset(raw)


def _checkin_kinds(raw: object, where: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of check-in kinds")
    known = {kind.value for kind in CheckInKind}
    for kind in raw:
        if kind not in known:
            raise ConfigError(f"{where}: unknown check-in {kind!r} (known: {', '.join(sorted(known))})")
    return frozenset(raw)


def _tags(raw: object, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of tags")
    for tag in raw:
        if not isinstance(tag, str) or not _TAG_RE.match(tag):
            raise ConfigError(f"{where}: bad tag {tag!r} (letters, digits, '_' and '-' only)")
    return tuple(dict.fromkeys(raw))
