"""The FIT, GPX and TCX parsers on real files written by an encoder (FIT) or as devices write them (XML)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.domain.activity import parse_activity
from scheduler.files.formats import parse_bytes
from scheduler.files.recording import FILE_ID_BASE, FileRejected, content_digest, summary
from tests.data.files.samples import Lap, Run, easy_run, race_10k, truncate, write_fit, write_gpx, write_tcx

START = datetime(2026, 5, 16, 13, 0, tzinfo=UTC)  # 09:00 in Toronto
WRITERS = {"fit": write_fit, "gpx": write_gpx, "tcx": write_tcx}


def read(path: Path, athlete_zone: str | None = None) -> dict[str, object]:
    data = path.read_bytes()
    return summary(parse_bytes(data, path.name), content_digest(data), 9_000_000_001, athlete_zone, path.name)


@pytest.mark.parametrize("kind", ["fit", "gpx", "tcx"])
def test_a_race_with_laps_and_a_pause_reads_as_strava_would_show_it(tmp_path: Path, kind: str) -> None:
    run = race_10k(START, utc_offset=timedelta(hours=-4), pause_after_lap=4)
    raw = read(WRITERS[kind](run, tmp_path / f"race.{kind}"))
    activity = parse_activity(raw)  # exactly what ingest does with it

    assert activity.sport_type == "Run"
    assert activity.start_date == START
    assert activity.timezone == "America/Toronto"  # the device's offset and the start's place agree
    assert abs(activity.elapsed_time - run.elapsed_seconds) <= 1  # the 5-minute pause is in elapsed time …
    assert abs(activity.moving_time - run.moving_seconds) <= 15  # … and not in moving time
    assert activity.distance == pytest.approx(10_000, rel=0.01)
    assert activity.average_heartrate == pytest.approx(176)
    assert len(activity.laps) == 10  # FIT and TCX laps, GPX segments
    assert all(lap.distance == pytest.approx(1000, rel=0.01) for lap in activity.laps)
    assert activity.id >= FILE_ID_BASE  # never a Strava id
    if kind == "fit":
        assert activity.name == "Morning Run"  # FIT carries no name: Strava's automatic one, 09:00 local
    else:
        assert activity.name == "Harbourfront 10K race"


@pytest.mark.parametrize("kind", ["fit", "gpx", "tcx"])
def test_no_heart_rate_is_unknown_not_zero(tmp_path: Path, kind: str) -> None:
    run = Run(start=START, laps=(Lap(seconds=600, speed=3.0), Lap(seconds=600, speed=3.1)))
    activity = parse_activity(read(WRITERS[kind](run, tmp_path / f"nohr.{kind}")))
    assert activity.average_heartrate is None
    assert not activity.has_heartrate
    assert activity.distance == pytest.approx(3660, rel=0.01)


@pytest.mark.parametrize("kind", ["fit", "tcx"])
def test_a_treadmill_run_without_gps_takes_the_athletes_zone(tmp_path: Path, kind: str) -> None:
    run = easy_run(START, lat=None, lon=None, utc_offset=timedelta(hours=2) if kind == "fit" else None)
    raw = read(WRITERS[kind](run, tmp_path / f"treadmill.{kind}"), athlete_zone="Europe/Berlin")
    activity = parse_activity(raw)
    assert activity.trainer
    assert activity.timezone == "Europe/Berlin"
    assert activity.distance == pytest.approx(2.9 * 2400)
    assert activity.name == "Afternoon Run"  # 15:00 in Berlin


def test_a_treadmill_run_with_no_zone_anywhere_is_left_to_the_default(tmp_path: Path) -> None:
    raw = read(write_tcx(easy_run(START, lat=None, lon=None), tmp_path / "t.tcx"), athlete_zone=None)
    assert raw["timezone"] is None  # ingest then uses RECOVERY_TIMEZONE


def test_a_device_in_another_zone_keeps_its_own(tmp_path: Path) -> None:
    """A Berlin athlete racing in Tokyo: the file's offset (+9) and place win over the athlete's zone."""
    run = race_10k(START, lat=35.68, lon=139.76, utc_offset=timedelta(hours=9))
    activity = parse_activity(read(write_fit(run, tmp_path / "tokyo.fit"), athlete_zone="Europe/Berlin"))
    assert activity.timezone == "Asia/Tokyo"
    assert activity.name == "Night Run"  # 22:00 in Tokyo


def test_an_offset_matching_no_known_zone_becomes_a_fixed_one(tmp_path: Path) -> None:
    run = easy_run(START, lat=None, lon=None, utc_offset=timedelta(hours=-7))
    activity = parse_activity(read(write_fit(run, tmp_path / "t.fit"), athlete_zone="Europe/Berlin"))
    assert activity.timezone == "Etc/GMT+7"  # UTC-7 in POSIX signs


def test_the_same_bytes_give_the_same_id_whatever_the_name(tmp_path: Path) -> None:
    first = write_fit(race_10k(START), tmp_path / "a.fit")
    second = tmp_path / "renamed.fit"
    second.write_bytes(first.read_bytes())
    other = write_fit(race_10k(START + timedelta(days=1)), tmp_path / "b.fit")
    assert read(first)["id"] == read(second)["id"] != read(other)["id"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("fit", "truncated FIT file"), ("gpx", "corrupt GPX file"), ("tcx", "corrupt TCX file")],
)
def test_a_truncated_file_is_rejected_with_one_line(tmp_path: Path, kind: str, reason: str) -> None:
    path = truncate(WRITERS[kind](race_10k(START), tmp_path / f"cut.{kind}"))
    with pytest.raises(FileRejected) as caught:
        parse_bytes(path.read_bytes(), path.name)
    assert str(caught.value).startswith(reason)
    assert "\n" not in str(caught.value)


def test_a_fit_file_with_a_flipped_byte_fails_its_checksum(tmp_path: Path) -> None:
    data = bytearray(write_fit(race_10k(START), tmp_path / "r.fit").read_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(FileRejected, match="checksum"):
        parse_bytes(bytes(data), "r.fit")


@pytest.mark.parametrize("name", ["empty.fit", "empty.gpx", "empty.tcx"])
def test_an_empty_file_is_rejected(name: str) -> None:
    with pytest.raises(FileRejected, match="empty file"):
        parse_bytes(b"", name)


def test_a_file_that_is_not_an_activity_is_rejected() -> None:
    with pytest.raises(FileRejected, match="not a FIT file"):
        parse_bytes(b"hello, this is not a FIT file at all", "x.fit")
    with pytest.raises(FileRejected, match="no timed track points"):
        parse_bytes(b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><rte/></gpx>', "route.gpx")
