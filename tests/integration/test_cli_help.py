"""`--help` of every command names values as the README does and shows none of Typer's type placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from scheduler.cli.app import app
from scheduler.cli.help import HelpGroup, tidy

PLACEHOLDER = re.compile(r"<(bool|str|int|float|path)[^>]*>")


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*prefix, name))


def help_text(command: Any, path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        command.main([*path, "--help"], prog_name="recovery")
    assert exit_.value.code in (0, None)
    return capsys.readouterr().out


def test_every_help_is_free_of_type_placeholders(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    command = typer.main.get_command(app)
    tidy(command)
    paths = list(command_paths(command))
    assert ("athletes", "set") in paths and ("history",) in paths

    texts = {path: help_text(command, path, capsys) for path in paths}

    for path, text in texts.items():
        assert "Usage: recovery" in text, path
        assert not PLACEHOLDER.search(text), (path, PLACEHOLDER.findall(text))
    assert re.search(r"--athlete\s+ID\s", texts[("sync",)])
    assert re.search(r"--quiet-hours\s+HH:MM-HH:MM\s", texts[("athletes", "set")])
    assert re.search(r"--limit\s+N \[x>=1\].*\[default: 50\]", texts[("history",)])
    assert re.search(r"--json\s+One JSON object", texts[("upcoming",)])  # a flag takes no value
    assert re.search(r"--help\s+Show this message", texts[()])


def test_the_root_group_tidies_before_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    root = HelpGroup(name="recovery", commands={"sync": typer.main.get_command(app).commands["sync"]})  # type: ignore[attr-defined]

    text = help_text(root, ("sync",), capsys)

    assert not PLACEHOLDER.search(text), text
