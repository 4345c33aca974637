"""The README is the manual: every `recovery` command it shows exists, with the options it shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
INLINE = re.compile(r"`(recovery [^`]+)`")


def _subcommands() -> dict[str, set[str]]:
    """Each command group of the real CLI with its subcommands, so a new one needs no list kept here."""
    import typer

    from scheduler.cli.app import app

    root = typer.main.get_command(app)
    return {
        name: set(group.commands)
        for name, group in root.commands.items()  # type: ignore[attr-defined]
        if hasattr(group, "commands")
    }


SUBCOMMANDS = _subcommands()


def shell_lines(text: str) -> list[str]:
    """The lines of the README's ```sh blocks (indented ones inside lists too)."""
    lines, language = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            language = None if language is not None else (stripped[3:] or "text")
        elif language in ("sh", "bash"):
            lines.append(stripped)
    return lines


def shown_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    for line in shell_lines(text):
        for part in re.split(r"&&|;|\|", line.split("  #", 1)[0]):
            part = part.strip()
            if part.startswith("recovery "):
                found.append(part)
    found += [cmd for cmd in INLINE.findall(text) if "…" not in cmd]
    return sorted(set(found))


def command_path(words: list[str]) -> list[str]:
    path = [words[1]]
    if words[1] in SUBCOMMANDS and len(words) > 2 and words[2] in SUBCOMMANDS[words[1]]:
        path.append(words[2])
    return path


@pytest.mark.parametrize("shown", shown_commands())
def test_every_command_in_the_readme_exists_with_its_options(shown: str, tmp_path: Path) -> None:
    words = shlex.split(shown.replace("[", " ").replace("]", " ").replace("|", " "))
    path = command_path(words)
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", *path, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200"},
    )
    assert result.returncode == 0, f"{shown}: {result.stderr}"
    for option in (word.split("=", 1)[0] for word in words if word.startswith("--")):
        assert option in result.stdout, f"{shown}: {' '.join(path)} has no option {option}"


def test_the_readme_shows_commands() -> None:
    assert len(shown_commands()) >= 15


def test_the_plan_example_of_the_readme_runs_as_shown(tmp_path: Path) -> None:
    shown = next(cmd for cmd in shown_commands() if cmd.startswith("recovery plan tests/"))
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", *shlex.split(shown)[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=README.parent,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RECOVERY_TIMEZONE": "UTC"},
    )
    assert result.returncode == 0, result.stderr
    assert '"step": "ice", "due_at": "2026-05-16T11:00:00-04:00"' in result.stdout
