"""Prometheus metrics of the konnector, registered on a registry passed in (never at import time).

Why these: operators need to see whether sync keeps up (latency per GVR and direction), whether
queues back up (depth, via the workqueue provider), whether watches flap (restarts), and what
fails (errors by controller).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kubebind import workqueue
from kubebind.kube.metrics import PrometheusRequestMetrics

__all__ = ["Metrics"]

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.sync_latency = Histogram(
            "kube_bind_konnector_sync_duration_seconds",
            "Time from an observed change to the write on the other cluster, per GVR and direction.",
            ["gvr", "direction"],
            registry=registry,
            buckets=_BUCKETS,
        )
        self.reconcile_duration = Histogram(
            "kube_bind_konnector_reconcile_duration_seconds",
            "Duration of one reconcile, per controller.",
            ["controller"],
            registry=registry,
            buckets=_BUCKETS,
        )
        self.errors = Counter(
            "kube_bind_konnector_errors_total",
            "Failed reconciles, per controller.",
            ["controller"],
            registry=registry,
        )
        self._informers: weakref.WeakSet[Any] = weakref.WeakSet()
        registry.register(_InformerCollector(self._informers))
        self.heartbeats = Counter(
            "kube_bind_konnector_heartbeats_total",
            "ClusterBinding heartbeats written, by result.",
            ["result"],
            registry=registry,
        )
        self.queue_metrics: workqueue.MetricsProvider = workqueue.PrometheusMetricsProvider(
            registry, prefix="kube_bind_konnector_workqueue"
        )
        #: API requests (count by verb and code, latency, rate-limiter wait) per side; every
        #: provider connection shares the provider family.
        prefix = "kube_bind_konnector"
        self.consumer_requests = PrometheusRequestMetrics(registry, prefix=f"{prefix}_consumer_client")
        self.provider_requests = PrometheusRequestMetrics(registry, prefix=f"{prefix}_provider_client")

    def on_result(self, controller: str, seconds: float, error: BaseException | None) -> None:
        base = controller.split(":", 1)[0]
        self.reconcile_duration.labels(base).observe(seconds)
        if error is not None:
            self.errors.labels(base).inc()

    def track(self, informer: Any) -> None:
        """Count an informer's lists and watch (re)starts in ``/metrics`` while it lives."""
        self._informers.add(informer)


class _InformerCollector(Collector):
    """Reads the reflectors' list/watch counters at scrape time, summed per resource and side."""

    def __init__(self, informers: weakref.WeakSet[Any]) -> None:
        self._informers = informers

    def collect(self) -> Iterator[Metric]:
        lists = CounterMetricFamily(
            "kube_bind_konnector_informer_lists",
            "Full lists (initial and re-lists after 410/errors).",
            labels=["resource"],
        )
        watches = CounterMetricFamily(
            "kube_bind_konnector_watch_starts",
            "Watch requests started (every one after the first is a restart).",
            labels=["resource"],
        )
        errors = GaugeMetricFamily(
            "kube_bind_konnector_informers_failing",
            "Informers whose last list/watch failed.",
            labels=["resource"],
        )
        sums: dict[str, list[int]] = {}
        for inf in list(self._informers):
            row = sums.setdefault(inf.metric_name, [0, 0, 0])
            row[0] += inf.shared.reflector.list_count
            row[1] += inf.shared.reflector.watch_count
            row[2] += 1 if inf.last_error is not None else 0
        for name, (n_lists, n_watches, n_errors) in sorted(sums.items()):
            lists.add_metric([name], n_lists)
            watches.add_metric([name], n_watches)
            errors.add_metric([name], n_errors)
        yield lists
        yield watches
        yield errors
