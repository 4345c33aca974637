"""Activity files: a 5-year archive through `recovery import`, and the watched folder's pick-up time.

1. Writes N FIT/GPX/TCX files (a third each; runs of 30–90 min recorded every 5 s, over five years) and
   times `recovery import FOLDER` into a fresh SQLite database (wall and CPU seconds), then again (all
   already imported). Target: 1,000 files under 30 s.
2. Starts `recovery run` watching a folder (inotify, then polling), drops a race FIT into it, and times the
   file's close → the ice reminder in the database; prints the idle daemon's resident memory with the folder
   watched, before and after the first file. Target: pick-up under 5 s.

    .venv/bin/python bench/files_import.py [--files 1000] [--runs 3] [--archive DIR] [--import-only]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.data.files.samples import Lap, Run, race_10k, write_fit, write_gpx, write_tcx  # noqa: E402

RECOVERY = REPO / ".venv" / "bin" / "recovery"


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_")}
    env.update(
        {"RECOVERY_DATA_DIR": str(tmp / "data"), "RECOVERY_TIMEZONE": "UTC", "RECOVERY_HTTP__PORT": "0"}
    )
    env.update(extra)
    return env


def add_athlete(tmp: Path) -> int:
    out = subprocess.run(
        [str(RECOVERY), "athletes", "add", "Bench", "--zone", "Europe/Berlin"],
        env=env_for(tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.splitlines()[-1])


def archive(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    start = datetime(2021, 1, 1, 6, 0, tzinfo=UTC)
    writers = (write_fit, write_gpx, write_tcx)
    for i in range(count):
        minutes = 30 + (i * 7) % 60
        run = Run(
            start=start + timedelta(days=i * 1826 / count),
            laps=tuple(
                Lap(seconds=300, speed=2.8 + (i % 5) * 0.2, heart_rate=140 + i % 20)
                for _ in range(minutes // 5)
            ),
            lat=52.52,
            lon=13.40,
        )
        writer = writers[i % 3]
        writer(run, folder / f"{i:04d}.{writer.__name__.removeprefix('write_')}")


def bench_import(files: int, kept: Path | None) -> float:
    """Wall time of `recovery import` of the archive, and the CPU seconds it and its parser processes used
    (the machine is shared: wall time alone says as much about the neighbours as about the import)."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        folder = kept if kept is not None else tmp / "archive"
        if not (folder / f"{files - 1:04d}.{('fit', 'gpx', 'tcx')[(files - 1) % 3]}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            archive(folder, files)
        add_athlete(tmp)
        for round_ in ("first", "again"):
            cpu_before = _children_cpu()
            began = time.perf_counter()
            done = subprocess.run(
                [str(RECOVERY), "import", str(folder)],
                env=env_for(tmp),
                cwd=tmp,
                capture_output=True,
                text=True,
            )
            took = time.perf_counter() - began
            cpu = _children_cpu() - cpu_before
            imported = done.stdout.count('"outcome": "imported"')
            already = done.stdout.count('"outcome": "already imported"')
            print(
                f"import of {files} files ({round_}): {took:.1f} s wall "
                f"({took / files * 1000:.1f} ms a file), "
                f"{cpu:.1f} s CPU; {imported} imported, {already} already imported, exit {done.returncode} "
                f"(target < 30 s)"
            )
            if round_ == "first":
                first = took
        return first


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_pickup(poll: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            athlete = add_athlete(tmp)
            inbox = tmp / "inbox" / str(athlete)
            inbox.mkdir(parents=True)
            log = (tmp / "daemon.log").open("wb")
            env = env_for(tmp, RECOVERY_IMPORT__DIR=str(inbox.parent), RECOVERY_IMPORT__POLL=poll)
            proc = subprocess.Popen(
                [str(RECOVERY), "run"], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                deadline = time.monotonic() + 30
                while (
                    not re.search(r"listening on", (tmp / "daemon.log").read_text())
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.05)
                time.sleep(2)
                idle = rss_mib(proc.pid)
                now = datetime.now(UTC).replace(microsecond=0)
                data = write_fit(race_10k(now - timedelta(minutes=50)), tmp / "race.fit").read_bytes()
                with (inbox / "race.fit").open("wb") as out:
                    out.write(data)
                closed = time.perf_counter()
                engine = create_engine(f"sqlite:///{tmp / 'data' / 'recovery.db'}")
                while time.perf_counter() - closed < 60:
                    with engine.connect() as conn:
                        if conn.execute(text("select count(*) from reminders where step = 'ice'")).scalar():
                            break
                    time.sleep(0.02)
                times.append(time.perf_counter() - closed)
                engine.dispose()
                print(
                    f"  {poll=}: pick-up {times[-1]:.2f} s; "
                    f"VmRSS idle {idle:.1f} MiB, after {rss_mib(proc.pid):.1f} MiB"
                )
            finally:
                proc.terminate()
                proc.wait(15)
                log.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="pick-up runs per watch mode")
    parser.add_argument(
        "--archive",
        type=Path,
        help="keep the archive here and reuse it (writing it is slow)",
    )
    parser.add_argument("--import-only", action="store_true", help="skip the watched-folder pick-up")
    args = parser.parse_args()
    bench_import(args.files, args.archive)
    if args.import_only:
        return
    for poll in ("false", "true"):
        times = bench_pickup(poll, args.runs)
        print(
            f"watched folder ({'polling' if poll == 'true' else 'inotify'}): "
            f"median {statistics.median(times):.2f} s, max {max(times):.2f} s (target < 5 s)"
        )


if __name__ == "__main__":
    main()
