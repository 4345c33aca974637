"""Logs a user reads: plain lines by default, JSON lines on request, and never a secret in either."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from scheduler.logs import Redactor, setup_logging
from scheduler.settings import Settings

CLIENT_SECRET = "c0ffee-client-secret-value"
VERIFY_TOKEN = "strava-verify-token-42"
HTTP_TOKEN = "http-bearer-token-zz9"
NTFY_URL = "ntfys://ntfy.example.org/private-topic-xyz"
MAIL_URL = "mailtos://runner:mail-password-1@example.org"
STRAVA_ACCESS = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    logging.captureWarnings(False)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def configure(log_format: str = "text", **overrides: Any) -> tuple[io.StringIO, Redactor]:
    settings = Settings(
        log_format=log_format,
        strava={"client_id": 1, "client_secret": CLIENT_SECRET, "webhook_verify_token": VERIFY_TOKEN},
        http={"token": HTTP_TOKEN},
        notify={"urls": f"{NTFY_URL} {MAIL_URL}"},
        **overrides,
    )
    stream = io.StringIO()
    redactor = setup_logging(settings, stream)
    return stream, redactor


SECRETS = (CLIENT_SECRET, VERIFY_TOKEN, HTTP_TOKEN, "private-topic-xyz", "mail-password-1", STRAVA_ACCESS)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_say_when_how_bad_where_and_what() -> None:
    stream, _ = configure()
    logging.getLogger("scheduler.daemon").warning("no athlete connected yet: run %s", "`recovery auth`")
    line = stream.getvalue().strip()
    assert line.endswith("WARNING scheduler.daemon: no athlete connected yet: run `recovery auth`")
    assert line[:4].isdigit() and "T" in line.split()[0]  # an ISO timestamp first


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_fields_extras_and_tracebacks() -> None:
    stream, _ = configure("json")
    log = logging.getLogger("scheduler.dispatch")
    log.info("sent %s", "ice_now", extra={"reminder_id": 12, "athlete_id": 7})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("send failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO"
    assert first["logger"] == "scheduler.dispatch"
    assert first["msg"] == "sent ice_now"
    assert first["reminder_id"] == 12 and first["athlete_id"] == 7
    assert first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR"
    assert "RuntimeError: boom" in second["exc"]


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.usefixtures("restore_logging")
def test_configured_secrets_never_reach_the_log(log_format: str) -> None:
    stream, _ = configure(log_format)
    log = logging.getLogger("scheduler.test")
    log.info("client secret is %s", CLIENT_SECRET)
    log.info("verify token %s and bearer %s", VERIFY_TOKEN, HTTP_TOKEN)
    log.info("sending to %s and %s", NTFY_URL, MAIL_URL)
    log.info("extra field", extra={"url": NTFY_URL})
    try:
        raise ValueError(f"refused: client_secret={CLIENT_SECRET}")
    except ValueError:
        log.exception("token exchange failed")
    text = stream.getvalue()
    assert_no_secret(text)
    # Masked, not dropped: the user still sees which destination was meant.
    assert "ntfys://***" in text
    assert "mailtos://***" in text
    assert "token exchange failed" in text


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (f"GET /api/v3/athlete Authorization: Bearer {STRAVA_ACCESS}", "Authorization: Bearer ***"),
        ('{"access_token": "a1b2c3d4e5", "refresh_token": "f6g7h8i9j0"}', '"access_token": "***"'),
        ("POST /oauth/token?client_id=1&code=single-use-code-99&grant_type=x", "code=***&grant_type=x"),
        ("postgresql+psycopg://recovery:db-pass-77@db/recovery", "postgresql+psycopg://recovery:***@db"),
        (f"token {STRAVA_ACCESS} expired", "token *** expired"),
    ],
)
@pytest.mark.usefixtures("restore_logging")
def test_secret_shaped_values_are_masked_even_when_not_configured(message: str, kept: str) -> None:
    stream, _ = configure()
    logging.getLogger("scheduler.strava").info(message)
    text = stream.getvalue()
    assert kept in text
    for leaked in ("a1b2c3d4e5", "f6g7h8i9j0", "single-use-code-99", "db-pass-77", STRAVA_ACCESS):
        assert leaked not in text


@pytest.mark.usefixtures("restore_logging")
def test_secrets_learned_at_run_time_are_masked_too() -> None:
    stream, redactor = configure()
    athlete_url = "tgram://123456:bot-token-secret/987654"
    redactor.set_secrets("athlete-urls", [athlete_url], urls=True)
    redactor.set_secrets("athlete-tokens", ["rotating-refresh-token-1"])
    logging.getLogger("scheduler.test").info(
        "athlete 7 sends to %s with %s", athlete_url, "rotating-refresh-token-1"
    )
    text = stream.getvalue()
    assert "bot-token-secret" not in text
    assert "rotating-refresh-token-1" not in text
    assert "tgram://***" in text


@pytest.mark.usefixtures("restore_logging")
def test_ordinary_words_survive_redaction() -> None:
    stream, _ = configure()
    logging.getLogger("scheduler.test").info("polled athlete 7: 3 activities, exit code 0, status code: 404")
    assert "polled athlete 7: 3 activities, exit code 0, status code: 404" in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_scheduler_chatter_is_quiet_unless_debugging() -> None:
    stream, _ = configure()
    logging.getLogger("apscheduler.executors.default").info('Running job "dispatch-sweep"')
    assert stream.getvalue() == ""

    stream, _ = configure(log_level="DEBUG")
    logging.getLogger("apscheduler.executors.default").info('Running job "dispatch-sweep"')
    assert "Running job" in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_library_deprecation_warnings_stay_out_of_the_users_log() -> None:
    stream, _ = configure()
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as stravalib does on import
        warnings.warn("imghdr is deprecated", DeprecationWarning, stacklevel=1)
        warnings.warn("disk almost full", UserWarning, stacklevel=1)
    text = stream.getvalue()
    assert "imghdr" not in text
    assert "disk almost full" in text
