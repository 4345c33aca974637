"""Prometheus metrics of this process, served at /metrics.

The counters and the histogram are this process's own; figures that live in the database (reminders by
status, the Strava budget left) are read at scrape time by a collector registered by the HTTP layer.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

DELIVERY_ATTEMPTS = Counter(
    "recovery_delivery_attempts",
    "Sends of a message to one destination, by apprise service (scheme)",
    ["service"],
    registry=REGISTRY,
)
DELIVERY_FAILURES = Counter(
    "recovery_delivery_failures",
    "Sends of a message to one destination that failed, by apprise service (scheme)",
    ["service"],
    registry=REGISTRY,
)
LATENESS = Histogram(
    "recovery_reminder_lateness_seconds",
    "From a reminder's due time to the end of its send",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
STRAVA_REQUESTS = Counter(
    "recovery_strava_requests",
    "Requests made to Strava's API, by what drove them (poll, webhook, token, command)",
    ["driver"],
    registry=REGISTRY,
)
POLL_FAILURES = Counter(
    "recovery_poll_failures",
    "Polls of an athlete that failed",
    ["athlete"],
    registry=REGISTRY,
)
