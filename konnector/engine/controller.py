"""The controller worker loop: keys in a rate-limited queue, N workers calling ``reconcile(key)``.

Why: every konnector controller has the same shape (sample-controller): event handlers enqueue keys,
workers re-read the latest state and write; failures retry with per-item exponential backoff; a
reconcile may ask to be called again later (:class:`Requeue`, e.g. while waiting for the backend
to assign a provider namespace). De-duplication comes from the queue: a burst of events for one
key collapses into one reconcile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from kubebind import workqueue
from kubebind.kube import errors

__all__ = ["Controller", "Requeue"]

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)


class Requeue(Exception):
    """Raised by a reconcile to be called again after ``after`` seconds (not counted as failure)."""

    def __init__(self, after: float = 1.0, reason: str = "") -> None:
        super().__init__(reason or f"requeue after {after}s")
        self.after = after


class Controller(Generic[K]):
    def __init__(
        self,
        name: str,
        reconcile: Callable[[K], Awaitable[None]],
        *,
        workers: int = 2,
        metrics: workqueue.MetricsProvider | None = None,
        on_result: Callable[[str, float, BaseException | None], None] | None = None,
        max_backoff: float = 60.0,
    ) -> None:
        self.name = name
        self._reconcile = reconcile
        self.workers = workers
        limiter: workqueue.RateLimiter[K] = workqueue.ItemExponentialFailureRateLimiter(0.01, max_backoff)
        self.queue: workqueue.RateLimitingQueue[K] = workqueue.RateLimitingQueue(
            name, rate_limiter=limiter, metrics=metrics
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._on_result = on_result

    def enqueue(self, key: K) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: K, delay: float) -> None:
        self.queue.add_after(key, delay)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for i in range(self.workers):
            self._tasks.append(loop.create_task(self._worker(), name=f"{self.name}-worker-{i}"))

    async def stop(self) -> None:
        self.queue.shut_down()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except workqueue.ShutDown:
                return
            started = time.monotonic()
            error: BaseException | None = None
            try:
                await self._reconcile(key)
            except asyncio.CancelledError:
                raise
            except Requeue as req:
                self.queue.forget(key)
                self.queue.add_after(key, req.after)
            except Exception as exc:
                error = exc
                level = logging.INFO if errors.is_conflict(exc) else logging.WARNING
                log.log(
                    level,
                    "reconcile failed controller=%s key=%s retries=%d error=%s",
                    self.name,
                    key,
                    self.queue.num_requeues(key),
                    _describe(exc),
                )
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)
            if self._on_result is not None:
                self._on_result(self.name, time.monotonic() - started, error)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, errors.ApiError):
        return f"{exc.code} {exc.reason}: {exc.message}"
    return repr(exc)
