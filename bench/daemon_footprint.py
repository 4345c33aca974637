"""How heavy and how quick is `recovery run`? Resident memory when idle, time to healthy, time to stop.

Starts the daemon as a user would (empty data directory, SQLite, no Strava app, no athletes), waits for a
200 from /healthz, lets it idle, reads VmRSS/VmHWM from /proc, then stops it with SIGTERM; then starts it
again on the same data directory, the way it runs every day: the schema at head, so no migration to load.
With --watch it also watches a folder (one files-only athlete's sub-folder), as RECOVERY_IMPORT__DIR does.

Targets (for the restart): < 80 MiB resident when idle; healthy within 1.5 s of spawn; stopped within 10 s
of SIGTERM. The first start is printed too: it migrates, so it also holds alembic (about 11 MiB).

    .venv/bin/python bench/daemon_footprint.py [--runs 3] [--idle 5] [--watch]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECOVERY = REPO / ".venv" / "bin" / "recovery"
LISTENING = re.compile(r"listening on (http://\S+?)[\s(]")
IDLE_TARGET_MIB = 80.0
HEALTHY_TARGET_S = 1.5
STOP_TARGET_S = 10.0


@dataclass(frozen=True)
class Sample:
    healthy_after: float
    cpu_to_healthy: float  # seconds of CPU the daemon used until healthy: what a busy machine cannot inflate
    rss_mib: float
    hwm_mib: float
    stop_after: float
    exit_code: int


def proc_status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), after pid and comm
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def one_run(idle_seconds: float, watch: bool) -> tuple[Sample, Sample]:
    """The first start (it creates and migrates the database) and a restart on the same data directory (the
    schema already at head: the state of every start but the first)."""
    with tempfile.TemporaryDirectory(prefix="recovery-bench-") as tmp:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RECOVERY_")}
        env.update(
            {
                "HOME": tmp,
                "RECOVERY_DATA_DIR": str(Path(tmp) / "data"),
                "RECOVERY_HTTP__PORT": "0",
                "RECOVERY_TIMEZONE": "UTC",
            }
        )
        if watch:  # a watched folder with one files-only athlete's sub-folder, as `import.dir` is used
            athlete = subprocess.run(
                [str(RECOVERY), "athletes", "add", "Bench", "--zone", "Europe/Berlin"],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()[-1]
            (Path(tmp) / "inbox" / athlete).mkdir(parents=True)
            env["RECOVERY_IMPORT__DIR"] = str(Path(tmp) / "inbox")
        first = start_idle_stop(Path(tmp), env, idle_seconds, Path(tmp) / "first.log")
        again = start_idle_stop(Path(tmp), env, idle_seconds, Path(tmp) / "restart.log")
    return first, again


def start_idle_stop(cwd: Path, env: dict[str, str], idle_seconds: float, log_path: Path) -> Sample:
    with log_path.open("wb") as log_file:
        spawned = time.monotonic()
        proc = subprocess.Popen(
            [str(RECOVERY), "run"], cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            deadline = spawned + 30
            url = None
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"daemon exited early:\n{log_path.read_text()}")
                if url is None:
                    match = LISTENING.search(log_path.read_text())
                    url = match.group(1) if match else None
                if url is not None and healthy(url):
                    break
                time.sleep(0.01)
            else:
                raise RuntimeError(f"not healthy within 30 s:\n{log_path.read_text()}")
            healthy_after = time.monotonic() - spawned
            cpu = cpu_seconds(proc.pid)
            time.sleep(idle_seconds)  # idle on purpose: the figure is the resting footprint
            rss = proc_status_mib(proc.pid, "VmRSS")
            hwm = proc_status_mib(proc.pid, "VmHWM")
            stopping = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
            stop_after = time.monotonic() - stopping
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return Sample(healthy_after, cpu, rss, hwm, stop_after, code)


def summary(title: str, samples: list[Sample]) -> None:
    healthy_median = statistics.median(s.healthy_after for s in samples)
    cpu_median = statistics.median(s.cpu_to_healthy for s in samples)
    rss_median = statistics.median(s.rss_mib for s in samples)
    hwm_max = max(s.hwm_mib for s in samples)
    stop_max = max(s.stop_after for s in samples)
    codes = [s.exit_code for s in samples]
    print(title)
    print(
        f"  median time to healthy: {healthy_median:.2f} s (target < {HEALTHY_TARGET_S} s), "
        f"{cpu_median:.2f} s of it on the CPU"
    )
    memory = f"{rss_median:.1f} MiB (target < {IDLE_TARGET_MIB:.0f} MiB); peak VmHWM {hwm_max:.1f} MiB"
    print(f"  median idle VmRSS:      {memory}")
    print(f"  slowest stop:           {stop_max:.2f} s (target < {STOP_TARGET_S:.0f} s); exit codes {codes}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idling before measuring memory")
    parser.add_argument("--watch", action="store_true", help="with a watched folder (RECOVERY_IMPORT__DIR)")
    args = parser.parse_args()
    if not RECOVERY.exists():
        print(f"{RECOVERY} not found: run ./dev test (or pip install -e .) first", file=sys.stderr)
        return 2

    firsts: list[Sample] = []
    restarts: list[Sample] = []
    header = ("run", "start", "healthy after", "CPU until", "VmRSS", "VmHWM", "stop after", "exit")
    print("{:>3}  {:<7}  {:>13}  {:>9}  {:>9}  {:>9}  {:>10}  {}".format(*header))
    for number in range(1, args.runs + 1):
        first, again = one_run(args.idle, args.watch)
        firsts.append(first)
        restarts.append(again)
        for kind, s in (("first", first), ("restart", again)):
            timing = f"{s.healthy_after:>11.2f} s  {s.cpu_to_healthy:>7.2f} s"
            memory = f"{s.rss_mib:>5.1f} MiB  {s.hwm_mib:>5.1f} MiB"
            print(f"{number:>3}  {kind:<7}  {timing}  {memory}  {s.stop_after:>8.2f} s  {s.exit_code}")

    print()
    summary("restart (schema at head: every start but the first):", restarts)
    summary("first start (creates and migrates the database, so it loads alembic):", firsts)
    load = os.getloadavg()[0]
    print(f"machine load average: {load:.2f} on {os.cpu_count()} CPUs (a busy machine slows the start)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
