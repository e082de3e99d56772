"""API client metrics: a seam with a no-op default and a Prometheus implementation.

Why a seam: the client is a library type built many times per process (one per provider
credential in the konnector); registering collectors on construction would clash, so the owner of
a registry builds :class:`PrometheusRequestMetrics` once and passes it to every client.

Metrics (labels: ``verb`` = HTTP method or ``WATCH``, ``code`` = status code, or ``error`` when no
answer arrived):

* ``kube_bind_rest_client_requests_total{verb,code}``
* ``kube_bind_rest_client_request_duration_seconds{verb}`` — time to the response headers (for
  watches: until the stream opened)
* ``kube_bind_rest_client_rate_limiter_wait_seconds`` — time spent waiting for the client-side
  token bucket
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["NOOP_REQUEST_METRICS", "PrometheusRequestMetrics", "RequestMetrics"]


class RequestMetrics(Protocol):
    def observe_request(self, verb: str, code: str, seconds: float) -> None: ...

    def observe_rate_limit_wait(self, seconds: float) -> None: ...


class _NoopRequestMetrics:
    def observe_request(self, verb: str, code: str, seconds: float) -> None:
        pass

    def observe_rate_limit_wait(self, seconds: float) -> None:
        pass


NOOP_REQUEST_METRICS: RequestMetrics = _NoopRequestMetrics()

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class PrometheusRequestMetrics:
    def __init__(self, registry: CollectorRegistry, *, prefix: str = "kube_bind_rest_client") -> None:
        self._requests = Counter(
            f"{prefix}_requests",
            "Requests to the Kubernetes API by verb and status code.",
            ["verb", "code"],
            registry=registry,
        )
        self._duration = Histogram(
            f"{prefix}_request_duration_seconds",
            "Latency of Kubernetes API requests until the response headers arrived.",
            ["verb"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self._wait = Histogram(
            f"{prefix}_rate_limiter_wait_seconds",
            "Time requests waited for the client-side rate limiter.",
            buckets=_BUCKETS,
            registry=registry,
        )

    def observe_request(self, verb: str, code: str, seconds: float) -> None:
        self._requests.labels(verb, code).inc()
        self._duration.labels(verb).observe(seconds)

    def observe_rate_limit_wait(self, seconds: float) -> None:
        self._wait.observe(seconds)
