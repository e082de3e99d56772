"""A delaying queue that retries items according to a :class:`RateLimiter` (client-go
``RateLimitingInterface``).

Controllers use exactly three calls beyond the plain queue: after a failed reconcile
``add_rate_limited(key)`` (the limiter picks the delay and counts the failure), after a successful
one ``forget(key)`` (resets the per-item backoff — forgetting is *not* removing from the queue),
and ``num_requeues(key)`` to decide when to give up.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from kubebind.workqueue import metrics as _metrics
from kubebind.workqueue.delaying import DelayingQueue
from kubebind.workqueue.queue import Clock
from kubebind.workqueue.ratelimiters import RateLimiter, default_controller_rate_limiter

__all__ = ["RateLimitingQueue"]

T = TypeVar("T", bound=Hashable)


class RateLimitingQueue(DelayingQueue[T]):
    def __init__(
        self,
        name: str = "",
        *,
        rate_limiter: RateLimiter[T] | None = None,
        metrics: _metrics.MetricsProvider | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, metrics=metrics, clock=clock)
        self.rate_limiter: RateLimiter[T] = rate_limiter or default_controller_rate_limiter(clock=clock)

    def add_rate_limited(self, item: T) -> None:
        """Re-add ``item`` after the delay its rate limiter decides (counts as a retry)."""
        if self.shutting_down():
            return
        self._metrics.retries.inc()
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)
