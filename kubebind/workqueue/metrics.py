"""Work queue metrics: a provider seam with a no-op default and a Prometheus implementation.

Why a seam: the queue is a library type used by the backend, the konnector and tests. A library
that registered Prometheus collectors at import time would clash on the second queue with the same
name, would leak between tests, and would force a global registry on every process. So queues take
a :class:`MetricsProvider` (default :data:`NOOP_METRICS`), and the process that owns a registry
builds :class:`PrometheusMetricsProvider` with it and hands it down.

Metrics exported by :class:`PrometheusMetricsProvider` (label ``name`` = queue name):

=================================================  ==========  ==========================================
``kube_bind_workqueue_depth``                      gauge       items waiting to be handed to a worker
``kube_bind_workqueue_adds_total``                 counter     adds handled by the queue
``kube_bind_workqueue_queue_duration_seconds``     histogram   time an item waited before a worker got it
``kube_bind_workqueue_work_duration_seconds``      histogram   time between ``get`` and ``done``
``kube_bind_workqueue_unfinished_work_seconds``    gauge       sum of the age of items being processed
``kube_bind_workqueue_longest_running_processor_seconds``  gauge  age of the oldest item being processed
``kube_bind_workqueue_retries_total``              counter     rate-limited re-adds
=================================================  ==========  ==========================================
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "NOOP_METRICS",
    "CounterMetric",
    "GaugeMetric",
    "HistogramMetric",
    "MetricsProvider",
    "NoopMetricsProvider",
    "PrometheusMetricsProvider",
    "SettableGaugeMetric",
]


class GaugeMetric(Protocol):
    def inc(self) -> None: ...

    def dec(self) -> None: ...


class SettableGaugeMetric(Protocol):
    def set(self, value: float) -> None: ...


class CounterMetric(Protocol):
    def inc(self) -> None: ...


class HistogramMetric(Protocol):
    def observe(self, value: float) -> None: ...


class MetricsProvider(Protocol):
    """Builds the per-queue metrics; called once per queue with the queue's name."""

    def new_depth_metric(self, name: str) -> GaugeMetric: ...

    def new_adds_metric(self, name: str) -> CounterMetric: ...

    def new_latency_metric(self, name: str) -> HistogramMetric: ...

    def new_work_duration_metric(self, name: str) -> HistogramMetric: ...

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric: ...

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric: ...

    def new_retries_metric(self, name: str) -> CounterMetric: ...


class _Noop:
    def inc(self) -> None:
        pass

    def dec(self) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


class NoopMetricsProvider:
    """Discards everything; the default for queues built without a provider."""

    _noop = _Noop()

    def new_depth_metric(self, name: str) -> GaugeMetric:
        return self._noop

    def new_adds_metric(self, name: str) -> CounterMetric:
        return self._noop

    def new_latency_metric(self, name: str) -> HistogramMetric:
        return self._noop

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        return self._noop

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._noop

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._noop

    def new_retries_metric(self, name: str) -> CounterMetric:
        return self._noop


NOOP_METRICS: MetricsProvider = NoopMetricsProvider()

# Exponential buckets from 1 µs to ~10^3 s, like client-go's workqueue histograms.
_DURATION_BUCKETS = tuple(10.0**exp for exp in range(-8, 4))


class PrometheusMetricsProvider:
    """Registers the workqueue metric families in ``registry`` once; queues get labelled children.

    Build one per registry (per process in production, per test in tests) and pass it to every
    queue; two queues with the same ``name`` share their series.
    """

    def __init__(self, registry: CollectorRegistry, *, prefix: str = "kube_bind_workqueue") -> None:
        labels = ["name"]
        self._depth = Gauge(f"{prefix}_depth", "Current depth of the work queue.", labels, registry=registry)
        self._adds = Counter(f"{prefix}_adds", "Adds handled by the work queue.", labels, registry=registry)
        self._latency = Histogram(
            f"{prefix}_queue_duration_seconds",
            "Seconds an item stays in the queue before it is requested.",
            labels,
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self._work = Histogram(
            f"{prefix}_work_duration_seconds",
            "Seconds processing an item from the queue takes.",
            labels,
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self._unfinished = Gauge(
            f"{prefix}_unfinished_work_seconds",
            "Seconds of work in progress that has not been observed by work_duration.",
            labels,
            registry=registry,
        )
        self._longest = Gauge(
            f"{prefix}_longest_running_processor_seconds",
            "Seconds the longest running processor of the queue has been running.",
            labels,
            registry=registry,
        )
        self._retries = Counter(
            f"{prefix}_retries", "Rate-limited retries handled by the work queue.", labels, registry=registry
        )

    def new_depth_metric(self, name: str) -> GaugeMetric:
        return self._depth.labels(name)

    def new_adds_metric(self, name: str) -> CounterMetric:
        return self._adds.labels(name)

    def new_latency_metric(self, name: str) -> HistogramMetric:
        return self._latency.labels(name)

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        return self._work.labels(name)

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._unfinished.labels(name)

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self._longest.labels(name)

    def new_retries_metric(self, name: str) -> CounterMetric:
        return self._retries.labels(name)
