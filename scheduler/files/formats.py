"""Which parser reads a file: by its content (a FIT header, an XML root), else by its name's ending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scheduler.files.recording import FileRejected, Recording

SUFFIXES = (".fit", ".gpx", ".tcx")


def is_activity_file(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.name.startswith(".")


def parse_bytes(data: bytes, name: str) -> Recording:
    if not data:
        raise FileRejected("empty file")
    return _parser(data, name)(data)


def _parser(data: bytes, name: str) -> Callable[[bytes], Recording]:
    if len(data) >= 12 and data[8:12] == b".FIT":
        from scheduler.files.fit import parse_fit

        return parse_fit
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<gpx" in head:
        from scheduler.files.gpx import parse_gpx

        return parse_gpx
    if b"<trainingcenterdatabase" in head:
        from scheduler.files.tcx import parse_tcx

        return parse_tcx
    suffix = Path(name).suffix.lower()
    if suffix == ".fit":
        raise FileRejected("not a FIT file (no FIT header)" if len(data) >= 12 else "truncated FIT file")
    if suffix in (".gpx", ".tcx"):
        root = "gpx" if suffix == ".gpx" else "TrainingCenterDatabase"
        raise FileRejected(f"not a {suffix[1:].upper()} file (no <{root}> root)")
    raise FileRejected("not a FIT, GPX or TCX file")
