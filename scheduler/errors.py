"""Errors the shell turns into exit codes and one-line messages."""


class InputError(ValueError):
    """Bad user input (file, option, config): exit 2 with this one-line message, nothing changed."""


class ConfigError(InputError):
    """A setting or a shipped/user configuration file is invalid."""
