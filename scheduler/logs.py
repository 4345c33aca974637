"""Logging for the daemon and the commands: human-readable or JSON lines on stderr, secrets redacted.

Redaction happens on the handler, after the message is formatted with its arguments and traceback, so a
secret cannot slip through `%s` arguments, `extra` fields or an exception text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from scheduler.settings import Settings

MASK = "***"
# Shorter values would mask ordinary words; a secret that short is not worth protecting anyway.
MIN_SECRET_LENGTH = 4

# key=value and "key": "value" forms of the credentials the program handles.
_SECRET_FIELD = re.compile(
    r"""(?P<key>["']?\b(?:access_token|refresh_token|client_secret|verify_token|token|password)["']?\s*[=:]\s*["']?)(?P<value>[^"'\s&,;}]+)""",
    re.IGNORECASE,
)
# The single-use OAuth authorization code in a redirect or token request.
_OAUTH_CODE = re.compile(r"(?P<key>[?&]code=)(?P<value>[^&\s]+)")
_BEARER = re.compile(r"(?P<key>\bBearer\s+)(?P<value>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE)
# Strava access and refresh tokens are 40 hexadecimal characters.
_STRAVA_TOKEN = re.compile(r"\b[0-9a-fA-F]{40}\b")
# user:password@ in any URL (apprise mailto://, postgresql://, …).
_URL_PASSWORD = re.compile(r"(?P<key>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)(?P<value>[^@\s]+)(?=@)")

# Third-party loggers that narrate every job run at INFO.
_CHATTY_LOGGERS = ("apscheduler", "apprise", "urllib3", "stravalib", "alembic")


def mask_url(url: str) -> str:
    """Only the scheme of an apprise URL: the rest (tokens, topics, passwords) is the secret."""
    scheme, sep, _rest = url.partition("://")
    return f"{scheme}://{MASK}" if sep else MASK


class Redactor:
    """Replaces known secrets and secret-looking patterns in text. Thread-safe; secrets can be updated."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, dict[str, str]] = {}
        self._ordered: list[tuple[str, str]] = []

    def set_secrets(self, group: str, secrets: Iterable[str], *, urls: bool = False) -> None:
        """Replace the secrets of `group` (e.g. "settings", "athletes"); URLs keep their scheme visible."""
        replacements = {
            value: (mask_url(value) if urls else MASK)
            for value in secrets
            if value and len(value) >= MIN_SECRET_LENGTH
        }
        with self._lock:
            self._groups[group] = replacements
            merged: dict[str, str] = {}
            for values in self._groups.values():
                merged.update(values)
            # Longest first, so a URL is masked whole before a token inside it is.
            self._ordered = sorted(merged.items(), key=lambda item: len(item[0]), reverse=True)

    def redact(self, text: str) -> str:
        with self._lock:
            ordered = self._ordered
        for secret, replacement in ordered:
            if secret in text:
                text = text.replace(secret, replacement)
        text = _URL_PASSWORD.sub(rf"\g<key>{MASK}", text)
        text = _BEARER.sub(rf"\g<key>{MASK}", text)
        text = _SECRET_FIELD.sub(rf"\g<key>{MASK}", text)
        text = _OAUTH_CODE.sub(rf"\g<key>{MASK}", text)
        return _STRAVA_TOKEN.sub(MASK, text)


class RedactionFilter(logging.Filter):
    """Rewrites each record's message, traceback and stack text through the redactor before formatting."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        for name, value in _extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, name, self.redactor.redact(value))
        return True


_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS}


class DeprecationNoiseFilter(logging.Filter):
    """Drops library deprecation warnings: they speak to developers, not to the user reading the log.

    They would normally be hidden by Python's default filters, but stravalib resets those on import.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "DeprecationWarning:" not in record.getMessage()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, any `extra` fields, exc when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extra_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def settings_secrets(settings: Settings) -> tuple[list[str], list[str]]:
    """(plain secrets, apprise URLs) named in the settings."""
    plain = [
        secret.get_secret_value()
        for secret in (
            settings.strava.client_secret,
            settings.strava.webhook_verify_token,
            settings.http.token,
        )
        if secret is not None
    ]
    urls = [url.get_secret_value() for url in settings.notify.urls]
    return plain, urls


def setup_logging(settings: Settings, stream: TextIO | None = None) -> Redactor:
    """Send every log record to `stream` (stderr) in the configured format, with the settings' secrets masked.

    Returns the redactor so the daemon can add secrets it learns later (athletes' tokens and URLs).
    """
    redactor = Redactor()
    plain, urls = settings_secrets(settings)
    redactor.set_secrets("settings", plain)
    redactor.set_secrets("settings-urls", urls, urls=True)

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(RedactionFilter(redactor))

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    quiet_level = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(quiet_level)
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    for old_filter in list(warnings_logger.filters):
        if isinstance(old_filter, DeprecationNoiseFilter):
            warnings_logger.removeFilter(old_filter)
    if settings.log_level != "DEBUG":
        warnings_logger.addFilter(DeprecationNoiseFilter())
    return redactor
