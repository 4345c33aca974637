"""The apprise adapter of the notification port: default URLs, an apprise config file with tags, athlete URLs.

Bursts. Most apprise plugins throttle each instance (`request_rate_per_sec`: 5.5 s between two requests of
one ntfy, email, Telegram … instance; measured: three sends through one reused ntfy object took 11 s). The
dispatcher sends the reminders due together from a thread pool; through shared instances they would be
serialised into minutes of delay. So a throttled plugin gets a fresh instance for every send (its first
request is never throttled; parsing the URL costs a fraction of a millisecond); the throttle still spaces
the requests *within* one send (several recipients of one email URL), and a burst to one cloud service is
bounded by the dispatcher's worker count, well below public services' burst allowances. Plugins without a
throttle (json://, xml://, form://: self-hosted endpoints) are built once and shared. Measured by
bench/dispatch_bench.py: 20 reminders due at once reach a local ntfy endpoint in under 0.1 s.

Priorities. apprise has no service-independent priority, but many plugins take a `priority` URL argument.
An urgent message (protocol tag `urgent`) goes to those at "high" unless the URL chose a priority itself;
routine messages go at the service's default. Identity. Every result carries a key that is the same on each
attempt (`destination_keys`), and a message lists the keys that already have it, so a retry skips them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import apprise

from scheduler.notify.format import Rendering, markdown, ntfy_actions, plain_text
from scheduler.notify.port import DestinationResult, Message, SendResult, destination_keys

log = logging.getLogger("scheduler.notify")

# Bounds one destination's attempt so a send ends well inside the dispatcher's lease (60 s by default).
DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_SHARED_INSTANCES = 256  # athletes' own URLs included; beyond this, instances are simply not kept
ALWAYS_TAG = "always"  # apprise's reserved tag: such a destination gets every message
_URL_PARTS = re.compile(r"[/:@?&=#,;+\s]+")
_RICH_FORMATS = (apprise.NotifyFormat.MARKDOWN, apprise.NotifyFormat.HTML)
# The plugins whose `priority` URL argument takes the word "high" (apprise has no service-independent
# priority): an urgent step goes out at that level; dapnet's only step up is "emergency", and the rest have no
# priority, so they send as configured.
HIGH_PRIORITY = {
    plugin: "high"
    for plugin in (
        "NotifyNtfy",
        "NotifyPushover",
        "NotifyGotify",
        "NotifyProwl",
        "NotifyJoin",
        "NotifyGrowl",
        "NotifyOpsgenie",
        "NotifyPushSafer",
    )
}


@dataclass(frozen=True, slots=True)
class Route:
    chosen: tuple[int, ...]  # indexes into the destinations given to `route`
    fallback: str | None  # why the message goes elsewhere than to destinations carrying its tags


def route(destination_tags: Sequence[Collection[str]], message_tags: Collection[str]) -> Route:
    """Which destinations get a message with `message_tags`.

    No message tags, or no tagged destination: every destination. Otherwise the destinations carrying one of
    the message's tags (plus apprise's `always` ones); when none does, the untagged destinations; when there
    are none of those either, every destination — a reminder on the wrong device beats one on none.
    """
    everything = tuple(range(len(destination_tags)))
    wanted = {tag.lower() for tag in message_tags}
    if not wanted or not any(set(tags) - {ALWAYS_TAG} for tags in destination_tags):
        return Route(everything, None)  # no routing asked for, or none set up
    matching = tuple(i for i, tags in enumerate(destination_tags) if wanted & set(tags))
    if matching:
        always = tuple(
            i for i, tags in enumerate(destination_tags) if ALWAYS_TAG in tags and i not in matching
        )
        return Route(tuple(sorted(matching + always)), None)
    label = ", ".join(sorted(wanted))
    untagged = tuple(i for i, tags in enumerate(destination_tags) if not set(tags) - {ALWAYS_TAG})
    if untagged:
        return Route(untagged, f"no destination is tagged {label}; sending to the untagged destinations")
    return Route(
        everything, f"no destination is tagged {label} and none is untagged; sending to every destination"
    )


class AppriseNotifier:
    """Sends through apprise. Thread-safe; `timeout` bounds each destination's attempt (seconds)."""

    def __init__(
        self,
        urls: Sequence[str],
        config_path: Path | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._urls = tuple(url.strip() for url in urls if url.strip())
        self._config_path = config_path
        self._lock = threading.Lock()
        self._unthrottled: dict[str, _Destination] = {}
        self._per_thread = threading.local()
        self._asset = apprise.AppriseAsset(
            app_id="Recovery Scheduler",
            app_desc="Recovery reminders for runners",
            service_timeout=timeout,
        )

    @property
    def configured(self) -> bool:
        return bool(self._urls or self._config_path)

    def ready(self) -> None:
        """Nothing to prepare: apprise is loaded, and each send reads its destinations afresh."""

    def destinations(self, athlete_urls: Sequence[str] = ()) -> list[str]:
        """The privacy form of every destination a send would consider (before routing by tags)."""
        found, invalid = self._load(athlete_urls)
        return [r.destination for r in invalid] + [d.public for d in found]

    def send(self, message: Message, athlete_urls: Sequence[str] = ()) -> SendResult:
        found, invalid = self._load(athlete_urls)
        # Keys over every destination in configured order, before routing: the same on each attempt.
        keys = destination_keys([r.destination for r in invalid] + [d.public for d in found])
        invalid_keys, found_keys = keys[: len(invalid)], keys[len(invalid) :]
        decision = route([d.tags for d in found], message.tags)
        if decision.fallback:
            log.warning("%r (tags %s): %s", message.title, ",".join(message.tags), decision.fallback)
        chosen = [
            _Target.of(self._for_message(found[i], message), found[i], found_keys[i])
            for i in decision.chosen
            if found_keys[i] not in message.delivered
        ]
        # One apprise call per rendering: rich or plain text, and with the answers as buttons (ntfy) or as
        # links in the text (email and the rest).
        batches = [
            (group, render(message, links=not buttons))
            for buttons in (False, True)
            for rich, render in ((True, markdown), (False, plain_text))
            if (group := [t for t in chosen if t.destination.rich == rich and t.buttons == buttons])
        ]
        results = [
            DestinationResult(r.destination, r.ok, r.error, key)
            for r, key in zip(invalid, invalid_keys, strict=True)
            if key not in message.delivered
        ]
        if len(batches) == 1:
            results += self._notify(*batches[0])
        elif batches:
            # Two formats need two apprise calls; run them side by side so one slow service delays neither.
            with ThreadPoolExecutor(max_workers=len(batches), thread_name_prefix="notify") as pool:
                for batch in list(pool.map(lambda b: self._notify(*b), batches)):
                    results += batch
        outcome = SendResult(tuple(results))
        for result in outcome.results:
            if result.ok:
                log.debug("%r delivered to %s", message.title, result.destination)
            else:
                log.warning("%r not delivered to %s: %s", message.title, result.destination, result.error)
        return outcome

    def _for_message(self, destination: _Destination, message: Message) -> _Destination:
        """The destination as it sends `message`: an urgent one at high priority where the service has one,
        and on ntfy the answers as action buttons and the page as the click URL.

        A priority, click or actions the URL sets itself is kept: the user chose it. The instance is a new
        one, built from the full URL with the arguments added, so a shared instance is never changed under
        another thread.
        """
        service = destination.service
        level = HIGH_PRIORITY.get(type(service).__name__)
        raise_priority = message.urgent and level is not None and _at_default_priority(service)
        buttons = _takes_buttons(service) and bool(message.links or message.page_url)
        if not raise_priority and not buttons:
            # Sent as configured: rendering the full URL back (a costly part of a send) would be wasted.
            return destination
        full = service.url(privacy=False)
        own = {name for name, _ in parse_qsl(urlsplit(full).query)}
        arguments: dict[str, str] = {}
        if raise_priority and level is not None:
            arguments["priority"] = level
        if buttons:
            if message.links and "actions" not in own:
                arguments["actions"] = ntfy_actions(message)
            if message.page_url and "click" not in own:
                arguments["click"] = message.page_url
        if not arguments:
            return destination
        changed = apprise.Apprise.instantiate(_with_query(full, **arguments), asset=self._asset)
        if changed is None:  # not for a URL apprise built itself; if it were, send as configured
            return destination
        return _Destination(
            changed, destination.tags, destination.rich, destination.public, buttons="actions" in arguments
        )

    def _load(self, athlete_urls: Sequence[str]) -> tuple[list[_Destination], list[DestinationResult]]:
        """The destinations of one send: the athlete's own URLs, else the defaults and the config file."""
        own = [url.strip() for url in athlete_urls if url.strip()]
        found: list[_Destination] = []
        invalid: list[DestinationResult] = []
        for url in own or self._urls:
            destination = self._destination(url)
            if destination is None:
                invalid.append(
                    DestinationResult(_scheme_only(url), False, "not a valid or supported apprise URL")
                )
            else:
                found.append(destination)
        if not own and self._config_path is not None:
            # Read on every send: edits apply without a restart, and each send gets its own instances.
            config = apprise.AppriseConfig(str(self._config_path), asset=self._asset, cache=False)
            services = list(apprise.Apprise(config, asset=self._asset).find())
            if not services:
                log.warning("apprise config %s holds no usable URL", self._config_path)
            found += [_Destination.of(service) for service in services]
        return found, invalid

    def _destination(self, url: str) -> _Destination | None:
        with self._lock:
            shared = self._unthrottled.get(url)
        if shared is not None:
            return shared
        service = apprise.Apprise.instantiate(url, asset=self._asset)
        if service is None:
            return None
        destination = _Destination.of(service)
        # A plugin without a throttle (json://, xml://, form://: self-hosted endpoints) keeps no state a send
        # could pass on to the next, so one instance serves every send and thread; throttled ones stay fresh.
        if service.request_rate_per_sec <= 0:
            with self._lock:
                if len(self._unthrottled) < MAX_SHARED_INSTANCES:
                    self._unthrottled[url] = destination
        return destination

    def _notify(self, targets: Sequence[_Target], rendering: Rendering) -> list[DestinationResult]:
        # One apprise object per thread, refilled for each send: building one reads locale files every time.
        bundle: Any = getattr(self._per_thread, "bundle", None)
        if bundle is None:
            bundle = self._per_thread.bundle = apprise.Apprise(asset=self._asset)
        bundle.clear()
        bundle.add([target.destination.service for target in targets])
        # apprise names each outcome by the privacy URL of the instance it sent with; map that back to the
        # destination (in order, for destinations whose privacy forms are the same).
        waiting = [(target.sent_as, target) for target in targets]
        try:
            with bundle.notify(
                body=rendering.body,
                title=rendering.title,
                body_format=apprise.NotifyFormat(rendering.body_format),
            ) as outcome:
                results = []
                for service_result in outcome:
                    target = _take(waiting, service_result.url)
                    results.append(
                        DestinationResult(
                            destination=target.public,
                            ok=bool(service_result),
                            error=None
                            if service_result
                            else _error_text(service_result, _secret_parts(target.destination.service)),
                            key=target.key,
                        )
                    )
                if not results:
                    # apprise refused the message itself (no service ran): report it on every destination.
                    reason = (
                        _last_problem(outcome.call_logs())
                        or f"apprise refused the message ({outcome.status.name})"
                    )
                    results = [
                        DestinationResult(
                            target.public,
                            False,
                            _scrub(reason, _secret_parts(target.destination.service)),
                            target.key,
                        )
                        for target in targets
                    ]
        finally:
            bundle.clear()  # hold no plugin instance between sends
        return results


@dataclass(frozen=True, slots=True)
class _Destination:
    service: Any  # an apprise plugin instance
    tags: frozenset[str]
    rich: bool  # shows Markdown or HTML (its own preferred format, e.g. a `?format=` override)
    public: str  # its privacy URL as configured (a priority set for one message does not change it)
    buttons: bool = False  # this instance carries the message's answers as action buttons (ntfy)

    @classmethod
    def of(cls, service: Any) -> _Destination:
        rich = service.resolve_format(None) in _RICH_FORMATS
        return cls(service, _tag_names(service), rich, service.url(privacy=True))


@dataclass(frozen=True, slots=True)
class _Target:
    """A destination chosen for one send: the instance to send with, its key and its privacy URL."""

    destination: _Destination
    key: str
    public: str  # as configured
    sent_as: str  # the privacy URL of the instance sent with (with a priority apprise shows, if raised)

    @property
    def buttons(self) -> bool:
        return self.destination.buttons

    @classmethod
    def of(cls, sending: _Destination, configured: _Destination, key: str) -> _Target:
        sent_as = configured.public if sending is configured else sending.service.url(privacy=True)
        return cls(sending, key, configured.public, sent_as)


def _take(waiting: list[tuple[str, _Target]], url: str) -> _Target:
    """The first destination not reported yet that sent as `url` (a crashed plugin may report none)."""
    index = next((i for i, (sent_as, _) in enumerate(waiting) if sent_as == url), 0)
    return waiting.pop(index)[1]


def _takes_buttons(service: Any) -> bool:
    """ntfy shows action buttons and opens a click URL; other services get the answers as links."""
    return type(service).__name__ == "NotifyNtfy"


def _at_default_priority(service: Any) -> bool:
    declared = getattr(type(service), "template_args", {}).get("priority", {})
    return "default" in declared and getattr(service, "priority", None) == declared["default"]


def _with_query(url: str, **arguments: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in arguments]
    # %20, not "+", for spaces: apprise unquotes its arguments without turning "+" back into a space.
    return urlunsplit(parts._replace(query=urlencode(query + list(arguments.items()), quote_via=quote)))


def _tag_names(service: Any) -> frozenset[str]:
    return frozenset(str(tag).lower() for tag in service.tags)


def _error_text(service_result: Any, secrets: Iterable[str]) -> str:
    if service_result.status == apprise.AppriseResultStatus.TIMEOUT:
        text = f"no answer within {service_result.elapsed:.1f} s"
    else:
        text = _last_problem(service_result.logs()) or "failed"
    return _scrub(text, secrets)


def _last_problem(entries: Iterable[Any]) -> str | None:
    problems = [entry.message for entry in entries if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    return problems[-1] if problems else None


def _secret_parts(service: Any) -> frozenset[str]:
    """Pieces of the full URL that its privacy form hides (passwords, tokens, keys)."""
    full, public = service.url(privacy=False), service.url(privacy=True)
    shown = set(_URL_PARTS.split(public)) | set(_URL_PARTS.split(unquote(public)))
    pieces = set(_URL_PARTS.split(full)) | set(_URL_PARTS.split(unquote(full)))
    return frozenset(piece for piece in pieces if len(piece) >= 4 and piece not in shown)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


def _scheme_only(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep and scheme.isalnum() else "(unparsable URL)"
