"""The apprise adapter against real receivers: HTTP (json://, ntfy://), SMTP (mailto://) and MQTT (mqtt://)."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scheduler.notify.apprise_notifier import AppriseNotifier
from scheduler.notify.port import Message, SendResult
from tests.conftest import IN_CI
from tests.doubles.deadlines import GENEROUS, finishes_within
from tests.doubles.receivers import HttpReceiver, Request, SmtpReceiver

ICE = Message(
    title="Ice now — Harbourfront 10K",
    body=(
        "10–15 min of cold on calves and quads.\n"
        "Caution: Wrap the ice in a thin cloth.\n"
        "Why: Harbourfront 10K (10.0 km, 44:10) was classed as race."
    ),
    tags=("urgent",),
)
FOAM_ROLL = Message(
    title="Foam roll — Harbourfront 10K", body="Quads, hamstrings, calves.", tags=("routine",)
)
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


def test_json_destination_receives_title_and_plain_body(http: HttpReceiver) -> None:
    result = AppriseNotifier([f"json://{http.host_port}/inbox"]).send(ICE)

    [request] = http.wait_for(1)
    assert result.ok
    assert request.path == "/inbox"
    assert request.json()["title"] == "Ice now — Harbourfront 10K"
    assert request.json()["message"] == ICE.body  # json is a plain-text destination: the words untouched
    assert [r.destination.split("?")[0] for r in result.results] == [f"json://{http.host_port}/inbox"]


def test_ntfy_destination_receives_the_message(http: HttpReceiver) -> None:
    result = AppriseNotifier([f"ntfy://{http.host_port}/recovery-ada"]).send(ICE)

    [request] = http.wait_for(1)
    assert result.ok
    payload = request.json()
    assert (payload["topic"], payload["title"], payload["message"]) == ("recovery-ada", ICE.title, ICE.body)


def test_ntfy_with_markdown_gets_the_labels_in_bold(http: HttpReceiver) -> None:
    AppriseNotifier([f"ntfy://{http.host_port}/recovery-ada?format=markdown"]).send(ICE)

    [request] = http.wait_for(1)
    message = request.json()["message"]
    assert "**Caution:** Wrap the ice in a thin cloth." in message
    assert "**Why:** Harbourfront 10K" in message


def test_email_arrives_over_smtp_with_subject_and_html_body(smtp: SmtpReceiver) -> None:
    url = f"mailto://127.0.0.1:{smtp.port}?from=coach@example.com&to=runner@example.com&mode=insecure"

    result = AppriseNotifier([url]).send(ICE)

    [mail] = smtp.wait_for(1)
    assert result.ok, result.error
    assert mail.rcpt_tos == ("runner@example.com",)
    assert mail.subject == "Ice now — Harbourfront 10K"
    html = mail.text("html")
    assert "10–15 min of cold on calves and quads." in html
    assert "<strong>Caution:</strong> Wrap the ice in a thin cloth." in html


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2):
            pass
    except OSError as exc:
        message = f"MQTT broker unreachable at {MQTT_HOST}:{MQTT_PORT} ({exc})"
        if IN_CI:
            pytest.fail(f"{message}; under CI=true the MQTT test must run")
        pytest.skip(f"{message}; start mosquitto to run this test")
    return MQTT_HOST, MQTT_PORT


def test_mqtt_broker_receives_the_message(mqtt_broker: tuple[str, int]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, port = mqtt_broker
    topic = f"recovery/test-{uuid.uuid4().hex[:10]}"
    received: list[bytes] = []
    subscribed, arrived = threading.Event(), threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client: object, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        received.append(bytes(msg.payload))
        arrived.set()

    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    try:
        assert subscribed.wait(10), "could not subscribe to the broker"
        result = AppriseNotifier([f"mqtt://{host}:{port}/{topic}"]).send(ICE)
        assert result.ok, result.error
        assert arrived.wait(10), "the broker delivered nothing"
    finally:
        client.loop_stop()
        client.disconnect()
    assert "10–15 min of cold on calves and quads." in received[0].decode()


def test_tags_route_urgent_to_push_and_routine_to_email(http: HttpReceiver, tmp_path: Path) -> None:
    config = tmp_path / "apprise.yaml"
    config.write_text(
        "version: 1\n"
        "urls:\n"
        f"  - json://{http.host_port}/push:\n"
        "      tag: urgent\n"
        f"  - json://{http.host_port}/email:\n"
        "      tag: routine\n"
    )
    notifier = AppriseNotifier([f"json://{http.host_port}/default"], config)

    notifier.send(ICE)
    notifier.send(FOAM_ROLL)

    requests = http.wait_for(2)
    assert sorted((r.path, r.json()["title"]) for r in requests) == [
        ("/email", FOAM_ROLL.title),
        ("/push", ICE.title),
    ]


def test_an_unmatched_tag_falls_back_to_the_untagged_destinations_and_says_so(
    http: HttpReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "apprise.txt"
    config.write_text(f"urgent=json://{http.host_port}/push\n")
    notifier = AppriseNotifier([f"json://{http.host_port}/default"], config)

    with caplog.at_level(logging.WARNING, logger="scheduler.notify"):
        result = notifier.send(FOAM_ROLL)

    assert result.ok
    assert [r.path for r in http.wait_for(1)] == ["/default"]
    assert "no destination is tagged routine; sending to the untagged destinations" in caplog.text


def test_the_athletes_own_urls_replace_the_defaults(http: HttpReceiver, tmp_path: Path) -> None:
    config = tmp_path / "apprise.txt"
    config.write_text(f"urgent=json://{http.host_port}/push\n")
    notifier = AppriseNotifier([f"json://{http.host_port}/default"], config)

    notifier.send(ICE, athlete_urls=[f"json://{http.host_port}/ada"])

    assert [r.path for r in http.wait_for(1)] == ["/ada"]


def test_a_partial_failure_is_reported_per_destination_without_secrets(
    http: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(
        [f"json://{http.host_port}/ok", f"json://coach:s3cr3t-pass@{http.host_port}/broken?token=t0ps3cr3t"]
    )
    http.fail_next(1)  # the requests go out in parallel: fail whichever arrives first, then see which it was

    with caplog.at_level(logging.DEBUG):
        result = notifier.send(ICE)

    assert not result.ok
    by_path = {r.destination.split("?")[0].rsplit("/", 1)[1]: r for r in result.results}
    failed_path = next(r.path for r in http.requests if r.status == 500).lstrip("/")
    assert not by_path[failed_path].ok
    assert "500" in (by_path[failed_path].error or "")
    assert [name for name, r in by_path.items() if r.ok] == [p for p in ("ok", "broken") if p != failed_path]
    everything = repr(result) + caplog.text
    assert "s3cr3t-pass" not in everything
    assert "t0ps3cr3t" not in everything


def test_an_endpoint_that_never_answers_fails_within_the_url_timeouts(http: HttpReceiver) -> None:
    http.never_answer()
    notifier = AppriseNotifier([f"json://{http.host_port}/hang?rto=0.5&cto=0.5"])

    # An endpoint that never answers would hold the send forever without the URL's timeouts.
    result = finishes_within(GENEROUS, lambda: notifier.send(ICE), "sending to a silent endpoint")

    assert not result.ok
    assert result.results[0].error


def test_an_invalid_url_is_a_failed_destination_not_a_crash(http: HttpReceiver) -> None:
    result = AppriseNotifier([f"json://{http.host_port}/ok", "nosuchservice://secret@x"]).send(ICE)

    assert [(r.destination.split("?")[0], r.ok) for r in result.results] == [
        ("nosuchservice://…", False),
        (f"json://{http.host_port}/ok", True),
    ]
    assert "secret" not in repr(result)


def test_no_destination_at_all_is_a_failure_saying_so() -> None:
    result = AppriseNotifier([]).send(ICE)

    assert not result.ok
    assert result.error == "no destination configured"


def test_a_burst_to_one_throttled_service_is_not_serialised(http: HttpReceiver) -> None:
    # ntfy's plugin waits 5.5 s between two requests of one instance; ten reminders due at once must not
    # take ten times that.
    notifier = AppriseNotifier([f"ntfy://{http.host_port}/burst"])

    def burst() -> list[SendResult]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: notifier.send(ICE), range(10)))
        for _ in range(2):  # and one after the other from the same notifier
            results.append(notifier.send(ICE))
        return results

    # Serialised, the twelve would take 11 × 5.5 s ≈ 60 s; the deadline is half that.
    results = finishes_within(GENEROUS, burst, "twelve sends to one throttled service")

    assert all(r.ok for r in results)
    assert len(http.wait_for(12)) == 12


def priority_of(request: Request) -> str:
    """What an ntfy server reads as the priority: the X-Priority header, "default" without one."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    return headers.get("x-priority", "default")


def test_urgent_steps_reach_ntfy_at_high_priority_and_routine_ones_at_default(http: HttpReceiver) -> None:
    notifier = AppriseNotifier([f"ntfy://{http.host_port}/recovery-ada"])

    urgent, routine = notifier.send(ICE), notifier.send(FOAM_ROLL)

    requests = http.wait_for(2)
    assert urgent.ok and routine.ok
    assert {r.json()["title"]: priority_of(r) for r in requests} == {
        ICE.title: "high",
        FOAM_ROLL.title: "default",
    }
    # The destination is named as configured, whatever priority one message went at.
    assert urgent.results[0].destination == routine.results[0].destination
    assert "priority=high" not in urgent.results[0].destination


def test_a_priority_the_url_sets_is_kept_for_urgent_steps(http: HttpReceiver) -> None:
    AppriseNotifier([f"ntfy://{http.host_port}/recovery-ada?priority=min"]).send(ICE)

    [request] = http.wait_for(1)
    assert priority_of(request) == "min"


def test_services_without_priorities_get_urgent_steps_as_configured(http: HttpReceiver) -> None:
    result = AppriseNotifier([f"json://{http.host_port}/inbox"]).send(ICE)

    [request] = http.wait_for(1)
    assert result.ok and request.json()["title"] == ICE.title


def test_destinations_already_reached_are_left_out_by_their_stable_key(http: HttpReceiver) -> None:
    # Two destinations whose privacy forms are the same (they differ only in a secret) keep distinct keys.
    notifier = AppriseNotifier(
        [
            f"json://coach:first-secret@{http.host_port}/a",
            f"json://coach:other-secret@{http.host_port}/a",
            f"json://{http.host_port}/b",
        ]
    )
    first = notifier.send(ICE)
    keys = [r.key for r in first.results]
    assert len(set(keys)) == 3 and keys == [r.key for r in notifier.send(ICE).results]  # the same each time
    assert not any("secret" in key for key in keys)
    reached_a = frozenset(key for key, r in zip(keys, first.results, strict=True) if "/a" in r.destination)

    retry = notifier.send(Message(ICE.title, ICE.body, ICE.tags, delivered=reached_a))

    assert [r.destination.split("?")[0] for r in retry.results] == [f"json://{http.host_port}/b"]
    assert [r.path for r in http.wait_for(7)][-1] == "/b"
    assert len(http.requests) == 7
