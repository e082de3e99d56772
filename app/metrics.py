"""Prometheus metrics of the backend, registered on a registry passed in (never at import time)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "kube_bind_apiserver_requests_total",
            "Aggregated API requests by verb, resource and HTTP code.",
            ["verb", "resource", "code"],
            registry=registry,
        )
        self.latency = Histogram(
            "kube_bind_apiserver_request_duration_seconds",
            "Aggregated API request latency (non-watch).",
            ["verb", "resource"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.watchers = Gauge(
            "kube_bind_apiserver_watchers", "Open watch streams by resource.", ["resource"], registry=registry
        )
        self.watch_events = Counter(
            "kube_bind_apiserver_watch_events_total",
            "Watch events sent by type.",
            ["type"],
            registry=registry,
        )
