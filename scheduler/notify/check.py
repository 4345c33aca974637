"""The start-time check of notification destinations: every URL and the config file parse with apprise.

A bad destination is a bad setting: the program stops at start with one line naming it, instead of every
reminder failing later with "no destination configured". apprise's own parser decides, so the check accepts
exactly what a send would.

Loading apprise's plugins costs ~40 MiB and ~0.4 s of CPU. A command that sends loads them anyway and checks
in-process (`check_destinations`); the daemon, whose idle footprint must stay small and which loads apprise
only before its first reminder, runs the same check in a short-lived child process (`start_check`) while it
imports its own modules, and waits for the answer before it touches the database.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.errors import ConfigError

log = logging.getLogger(__name__)

URLS_SETTING = "RECOVERY_NOTIFY__URLS"
CONFIG_SETTING = "RECOVERY_NOTIFY__CONFIG"
CHILD_TIMEOUT_SECONDS = 30.0
_ANY_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://\S*")
_LOG_LINE = re.compile(r"^(ERROR|CRITICAL)\|(.*)$")


def privacy_scheme(url: str) -> str:
    """A URL reduced to its scheme: what an error line may show of a destination (it may hold secrets)."""
    scheme, sep, _ = url.strip().partition("://")
    return f"{scheme}://…" if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else "(not a URL)"


def url_problem(url: str) -> str | None:
    """Why apprise cannot use `url`, or None."""
    import apprise

    if apprise.Apprise.instantiate(url.strip()) is None:
        return f"{privacy_scheme(url)} is not an apprise URL apprise can use"
    return None


def config_problem(path: Path) -> str | None:
    """Why the apprise config file at `path` is unusable (unreadable, does not parse, an entry apprise
    rejects, no URL at all), or None."""
    import apprise

    capture: Any = apprise.LogCapture  # untyped in apprise
    with capture(level=logging.ERROR, fmt="%(levelname)s|%(message)s") as captured:
        services = list(apprise.Apprise(apprise.AppriseConfig(str(path), cache=False)).find())
    errors = [m.group(2) for m in map(_LOG_LINE.match, captured.getvalue().splitlines()) if m is not None]
    if errors:
        # apprise quotes the rejected URL in full: keep only its scheme.
        return _ANY_URL.sub(lambda m: f"{m.group(1)}://…", errors[0].strip().rstrip("."))
    if not services:
        return "holds no apprise URL"
    return None


def destinations_problem(urls: Sequence[str], config: Path | None) -> str | None:
    """One line naming the setting whose destination apprise rejects, or None when all parse."""
    for url in urls:
        problem = url_problem(url)
        if problem is not None:
            return f"{URLS_SETTING}: {problem}"
    if config is not None:
        problem = config_problem(config)
        if problem is not None:
            return f"{CONFIG_SETTING}: {config}: {problem}"
    return None


def check_destinations(urls: Sequence[str], config: Path | None) -> None:
    """In-process check, for commands that load apprise anyway: ConfigError when a destination is bad."""
    problem = destinations_problem(urls, config)
    if problem is not None:
        raise ConfigError(problem)


@dataclass
class PendingCheck:
    """The check running in a child process; `wait` raises ConfigError when it found a bad destination."""

    process: subprocess.Popen[str] | None

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            out, err = self.process.communicate(timeout=CHILD_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            log.warning("could not check the notification destinations within %.0f s", CHILD_TIMEOUT_SECONDS)
            return
        if self.process.returncode == 0:
            return
        if self.process.returncode == 2 and out.strip():
            raise ConfigError(out.strip().splitlines()[0])
        # The checker itself failed (no secret in its output: URLs reach it on stdin): sends will say more.
        detail = err.strip().splitlines()[-1] if err.strip() else f"exit {self.process.returncode}"
        log.warning("could not check the notification destinations: %s", detail)


def start_check(urls: Sequence[str], config: Path | None) -> PendingCheck:
    """Start the check in a child process (nothing to check: no child). URLs go through stdin, never argv,
    which other users can read in the process list."""
    if not urls and config is None:
        return PendingCheck(None)
    request = {"urls": list(urls), "config": str(config.resolve()) if config is not None else None}
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler.notify.check"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],  # this checkout's `scheduler`, whatever the daemon's cwd
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(request))  # a few hundred bytes: the pipe takes them without blocking
    process.stdin.close()
    process.stdin = None  # written in full: `communicate` must not touch it again
    return PendingCheck(process)


def _child() -> int:
    request = json.loads(sys.stdin.read())
    config = Path(request["config"]) if request["config"] else None
    problem = destinations_problem(request["urls"], config)
    if problem is None:
        return 0
    print(problem)
    return 2


if __name__ == "__main__":
    raise SystemExit(_child())
