"""Prometheus metrics of the konnector, registered on a registry passed in (never at import time).

Why these: operators need to see whether sync keeps up (latency per GVR and direction), whether
queues back up (depth, via the workqueue provider), whether watches flap (restarts), and what
fails (errors by controller).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from kubebind import workqueue

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
        self.watch_restarts = Counter(
            "kube_bind_konnector_watch_restarts_total",
            "Watch restarts per informer resource and cause (timeout, gone, error).",
            ["resource", "cause"],
            registry=registry,
        )
        self.heartbeats = Counter(
            "kube_bind_konnector_heartbeats_total",
            "ClusterBinding heartbeats written, by result.",
            ["result"],
            registry=registry,
        )
        self.queue_metrics: workqueue.MetricsProvider = workqueue.PrometheusMetricsProvider(
            registry, prefix="kube_bind_konnector_workqueue"
        )

    def on_result(self, controller: str, seconds: float, error: BaseException | None) -> None:
        base = controller.split(":", 1)[0]
        self.reconcile_duration.labels(base).observe(seconds)
        if error is not None:
            self.errors.labels(base).inc()

    def watch_restart_hook(self, resource: str) -> WatchHook:
        return WatchHook(self, resource)


class WatchHook:
    def __init__(self, metrics: Metrics, resource: str) -> None:
        self.metrics = metrics
        self.resource = resource

    def __call__(self, cause: str) -> None:
        self.metrics.watch_restarts.labels(self.resource, cause).inc()
