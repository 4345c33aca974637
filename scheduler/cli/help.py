"""Help that names each value the way the README writes it (`--athlete ID`, `--days N`), never by Typer's type
placeholders.

Typer's rich help prints `<int>`, `<str>` or `<bool>` beside every parameter: beside flags, which take no
value, beside `--help` itself, and beside arguments whose name already says what to give. Options name their
value with `metavar=` where they are declared; `tidy` covers the rest, for every command of the tree at once
(commands added later included), so no command can bring the placeholders back.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption


class _NamedArgument(TyperArgument):
    """An argument shown by its name alone (ID, FILE, URLS…): the type column would only repeat it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def tidy(command: Any) -> None:
    """Give every option of `command` and its subcommands a value name or none (flags), and show arguments
    by name only."""
    help_option = command.get_help_option(typer.Context(command))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if isinstance(param, TyperOption) and param.metavar is None:
            # A flag takes no value; another option's value is named after it (--code CODE).
            param.metavar = "" if param.is_flag else param.name.upper() if param.name else "VALUE"
        elif type(param) is TyperArgument:
            param.__class__ = _NamedArgument  # Typer builds the argument; only its help display changes
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)


class HelpGroup(TyperGroup):
    """The root command: tidies the help of the whole command tree before it runs (`typer.Typer(cls=…)`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        tidy(self)
        return super().main(*args, **kwargs)
