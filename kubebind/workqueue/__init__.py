"""Work queues for controllers: de-duplicating FIFO → delaying → rate-limiting, plus retry policies.

This package imports nothing else from ``kubebind``; controllers in ``kubebind.runtime`` join it
with the informers of ``kubebind.cache``. Re-exports below are the public surface (the one place
where names rather than modules are imported).
"""

from kubebind.workqueue.delaying import DelayingQueue
from kubebind.workqueue.metrics import (
    NOOP_METRICS,
    MetricsProvider,
    NoopMetricsProvider,
    PrometheusMetricsProvider,
)
from kubebind.workqueue.queue import Clock, Queue, ShutDown
from kubebind.workqueue.ratelimiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from kubebind.workqueue.ratelimiting import RateLimitingQueue

__all__ = [
    "NOOP_METRICS",
    "BucketRateLimiter",
    "Clock",
    "DelayingQueue",
    "ItemExponentialFailureRateLimiter",
    "MaxOfRateLimiter",
    "MetricsProvider",
    "NoopMetricsProvider",
    "PrometheusMetricsProvider",
    "Queue",
    "RateLimiter",
    "RateLimitingQueue",
    "ShutDown",
    "default_controller_rate_limiter",
]
