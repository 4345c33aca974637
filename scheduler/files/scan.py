"""Which files a path names: a file itself, or the activity files under a folder (recursively)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from scheduler.errors import InputError
from scheduler.files.formats import is_activity_file

REJECTED_DIR = "rejected"


def activity_files(paths: Iterable[Path]) -> list[Path]:
    """Files in the order given, each folder's in name order; a missing path is an InputError."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if _wanted(p))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def _wanted(path: Path) -> bool:
    return is_activity_file(path) and REJECTED_DIR not in path.parts[:-1] and path.is_file()
