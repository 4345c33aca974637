"""Parsing the athlete preferences users type: equipment lists and quiet hours."""

from __future__ import annotations

import re
from datetime import time

from scheduler.domain.protocols import EQUIPMENT
from scheduler.errors import InputError

_HHMM = re.compile(r"^(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)$")


def parse_equipment(value: str) -> frozenset[str]:
    items = frozenset(part.strip().lower().replace("-", "_") for part in value.split(",") if part.strip())
    unknown = sorted(items - EQUIPMENT)
    if unknown:
        raise InputError(f"--equipment: unknown tool {unknown[0]!r}; known: {', '.join(sorted(EQUIPMENT))}")
    return items


def parse_hhmm(value: str, where: str) -> time:
    match = _HHMM.match(value.strip())
    if not match:
        raise InputError(f"{where}: expected HH:MM, got {value!r}")
    return time(int(match["h"]), int(match["m"]))


def parse_quiet_hours(value: str) -> tuple[time, time]:
    start, sep, end = value.partition("-")
    if not sep:
        raise InputError(f"--quiet-hours: expected START-END like 22:00-07:00, got {value!r}")
    return parse_hhmm(start, "--quiet-hours"), parse_hhmm(end, "--quiet-hours")
