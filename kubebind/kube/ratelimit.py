"""Client-side request throttling: a QPS/burst token bucket, like client-go's ``flowcontrol``.

Why: a konnector syncing thousands of objects, or a re-list storm after a restart, must not flood
the API server (which answers with 429s and priority-and-fairness rejections). Every request of an
:class:`~kubebind.kube.client.ApiClient` first awaits :meth:`TokenBucket.acquire`.

Contract: up to ``burst`` requests pass at once; afterwards they are admitted at ``qps`` per second
in arrival order (each waiter reserves its slot at call time, so waiters never starve each other).
``qps <= 0`` disables throttling. Cancelling a waiter does not return its reserved slot (the bucket
simply refills); that keeps the arithmetic lock-free.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["Clock", "TokenBucket"]


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class _Monotonic:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class TokenBucket:
    def __init__(self, qps: float, burst: int, *, clock: Clock | None = None) -> None:
        if qps > 0 and burst < 1:
            raise ValueError("burst must be >= 1 when qps > 0")
        self.qps = qps
        self.burst = burst
        self._clock: Clock = clock or _Monotonic()
        self._tokens = float(burst)
        self._last = self._clock.now()

    def reserve(self) -> float:
        """Take a token now; returns the seconds until it may be used (0 when immediately)."""
        if self.qps <= 0:
            return 0.0
        now = self._clock.now()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    async def acquire(self) -> None:
        """Wait until a request may be sent."""
        delay = self.reserve()
        if delay > 0:
            await self._clock.sleep(delay)
