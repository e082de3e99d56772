"""Retry policies for :class:`~kubebind.workqueue.ratelimiting.RateLimitingQueue`.

Why apart from the queue: how long to wait before retrying an item is a policy that controllers
tune (and tests pin), while the queue mechanics never change. A :class:`RateLimiter` answers
"when may this item be retried?" and remembers per-item failures until :meth:`RateLimiter.forget`.

* :class:`ItemExponentialFailureRateLimiter` — ``base * 2**failures`` per item, optional jitter,
  capped at ``max_delay`` (jitter never pushes a delay past the cap).
* :class:`BucketRateLimiter` — an overall token bucket (``qps`` refill, ``burst`` size) shared by all
  items; it protects the API server from a retry storm across many keys. Each call reserves a
  token and returns how long until that token exists.
* :class:`MaxOfRateLimiter` — the longest delay of several limiters (the default controller limiter
  is max(per-item exponential 5 ms→1000 s, bucket 10 qps / burst 100), like client-go).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from kubebind.workqueue.queue import Clock, MonotonicClock

__all__ = [
    "BucketRateLimiter",
    "ItemExponentialFailureRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "default_controller_rate_limiter",
]

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)


class RateLimiter(Protocol[T_contra]):
    def when(self, item: T_contra) -> float:
        """Seconds to wait before ``item`` may be processed again; records a failure."""
        ...

    def forget(self, item: T_contra) -> None:
        """Stop tracking ``item`` (it succeeded or was given up)."""
        ...

    def num_requeues(self, item: T_contra) -> int:
        """Failures recorded for ``item`` since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter(Generic[T]):
    def __init__(
        self,
        base_delay: float = 0.005,
        max_delay: float = 1000.0,
        *,
        jitter: float = 0.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if base_delay <= 0 or max_delay < base_delay:
            raise ValueError("need 0 < base_delay <= max_delay")
        if jitter < 0:
            raise ValueError("jitter must be >= 0")
        self._base = base_delay
        self._max = max_delay
        self._jitter = jitter
        self._rand = rand
        self._failures: dict[T, int] = {}

    def when(self, item: T) -> float:
        exp = self._failures.get(item, 0)
        self._failures[item] = exp + 1
        if exp > 1000:  # 2**1000 overflows float multiplication long before this matters
            return self._max
        delay = self._base * (2.0**exp)
        if self._jitter:
            delay += delay * self._jitter * self._rand()
        return min(delay, self._max)

    def forget(self, item: T) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter(Generic[T]):
    """Token bucket over all items. ``num_requeues`` is always 0: it tracks no items."""

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("need qps > 0 and burst >= 1")
        self._qps = qps
        self._burst = float(burst)
        self._clock: Clock = clock or MonotonicClock()
        self._tokens = float(burst)
        self._last = self._clock.now()

    def when(self, item: T) -> float:
        now = self._clock.now()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
        self._last = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self._qps

    def forget(self, item: T) -> None:
        pass

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    def __init__(self, *limiters: RateLimiter[T]) -> None:
        if not limiters:
            raise ValueError("need at least one rate limiter")
        self._limiters = limiters

    def when(self, item: T) -> float:
        return max(limiter.when(item) for limiter in self._limiters)

    def forget(self, item: T) -> None:
        for limiter in self._limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self._limiters)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> MaxOfRateLimiter[T]:
    """Per-item exponential (5 ms doubling to 1000 s) combined with a 10 qps / burst 100 bucket."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0),
        BucketRateLimiter(10.0, 100, clock=clock),
    )
