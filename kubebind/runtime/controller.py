"""Controller: informers → rate-limited queue of keys → N workers calling ``reconcile(key)``.

Why this shape (sample-controller's): event handlers only enqueue ``ObjectKey``s, so a burst of
events for one object collapses into one reconcile of its *latest* cached state, one key is never
reconciled by two workers at once, and failures are retried with per-item exponential backoff
under an overall rate limit. Reconcilers are level-triggered and idempotent: they re-read the
cache (listers), compare with the desired state, and write through the client with preconditions.

Contract:

* ``reconcile(key)`` returns ``None`` (done: the key's backoff is forgotten), a :class:`Result`
  with ``requeue_after`` (come back after that many seconds; backoff forgotten) or with
  ``requeue=True`` (come back after the rate limiter's delay), or raises (logged; re-queued
  rate-limited — after ``max_retries`` failures, if set, the key is dropped until its next event).
* :meth:`Controller.watch` subscribes to an informer; ``key_func`` maps an object to the key(s) to
  reconcile (default: its own key; return owners' keys to reconcile parents), ``predicate`` filters
  events. The informer itself is run elsewhere (a :class:`~kubebind.cache.SharedInformerFactory`).
* :meth:`Controller.run` waits until every watched informer has synced, then runs the workers
  until cancelled (or until ``queue.shut_down()`` is called). On cancellation the queue shuts
  down, in-flight reconciles get ``shutdown_grace`` seconds to finish, then they are cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

from kubebind.cache.informer import (
    DeletedFinalStateUnknown,
    EventHandlerFuncs,
    HandlerRegistration,
    SharedInformer,
)
from kubebind.kube import errors
from kubebind.kube.resources import Object, ObjectKey, object_key
from kubebind.runtime.clock import Clock, RealClock
from kubebind.workqueue.metrics import MetricsProvider
from kubebind.workqueue.queue import ShutDown
from kubebind.workqueue.ratelimiters import RateLimiter
from kubebind.workqueue.ratelimiting import RateLimitingQueue

__all__ = ["Controller", "ControllerMetrics", "PrometheusControllerMetrics", "Reconcile", "Result"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    requeue: bool = False
    requeue_after: float | None = None


Reconcile = Callable[[ObjectKey], Awaitable[Result | None]]
KeyFunc = Callable[[Object], ObjectKey | Iterable[ObjectKey] | None]


class ControllerMetrics(Protocol):
    def observe(self, controller: str, result: str, seconds: float) -> None:
        """One reconcile finished with ``result`` in {success, requeue, requeue_after, error}."""
        ...


class _NoopControllerMetrics:
    def observe(self, controller: str, result: str, seconds: float) -> None:
        pass


class PrometheusControllerMetrics:
    """``kube_bind_controller_reconcile_total{controller,result}`` and
    ``kube_bind_controller_reconcile_duration_seconds{controller}``, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry, *, prefix: str = "kube_bind_controller") -> None:
        self._total = Counter(
            f"{prefix}_reconcile", "Reconciles by result.", ["controller", "result"], registry=registry
        )
        self._duration = Histogram(
            f"{prefix}_reconcile_duration_seconds",
            "Seconds per reconcile.",
            ["controller"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )

    def observe(self, controller: str, result: str, seconds: float) -> None:
        self._total.labels(controller, result).inc()
        self._duration.labels(controller).observe(seconds)


class Controller:
    def __init__(
        self,
        name: str,
        reconcile: Reconcile,
        *,
        workers: int = 2,
        rate_limiter: RateLimiter[ObjectKey] | None = None,
        queue_metrics: MetricsProvider | None = None,
        metrics: ControllerMetrics | None = None,
        clock: Clock | None = None,
        max_retries: int | None = None,
        shutdown_grace: float = 10.0,
    ) -> None:
        if workers < 1:
            raise ValueError("a controller needs at least one worker")
        self.name = name
        self._reconcile = reconcile
        self.workers = workers
        self._clock: Clock = clock or RealClock()
        self.queue: RateLimitingQueue[ObjectKey] = RateLimitingQueue(
            name, rate_limiter=rate_limiter, metrics=queue_metrics, clock=self._clock
        )
        self._metrics: ControllerMetrics = metrics or _NoopControllerMetrics()
        self.max_retries = max_retries
        self.shutdown_grace = shutdown_grace
        self._informers: list[SharedInformer] = []

    # -- wiring --------------------------------------------------------------------------------

    def watch(
        self,
        informer: SharedInformer,
        *,
        key_func: KeyFunc = object_key,
        predicate: Callable[[Object], bool] | None = None,
    ) -> HandlerRegistration:
        """Enqueue ``key_func(obj)`` for every add/update/delete of ``informer`` passing ``predicate``."""

        def enqueue(obj: Object) -> None:
            if predicate is not None and not predicate(obj):
                return
            keys = key_func(obj)
            if keys is None:
                return
            if isinstance(keys, ObjectKey):
                keys = (keys,)
            for key in keys:
                self.queue.add(key)

        def on_update(old: Object, new: Object) -> None:
            enqueue(new)

        def on_delete(obj: Object | DeletedFinalStateUnknown) -> None:
            enqueue(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj)

        if informer not in self._informers:
            self._informers.append(informer)
        return informer.add_event_handler(EventHandlerFuncs(add=enqueue, update=on_update, delete=on_delete))

    def enqueue(self, key: ObjectKey) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: ObjectKey, delay: float) -> None:
        self.queue.add_after(key, delay)

    # -- running -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Wait for the watched informers to sync, then reconcile until cancelled."""
        for informer in self._informers:
            await informer.wait_for_sync()
        log.info("controller %s: caches synced, starting %d workers", self.name, self.workers)
        loop = asyncio.get_running_loop()
        workers = [
            loop.create_task(self._worker(), name=f"controller:{self.name}/worker-{i}")
            for i in range(self.workers)
        ]
        ticker = loop.create_task(self._tick_metrics(), name=f"controller:{self.name}/metrics")
        try:
            # Workers only end when the queue shuts down, or by a bug (re-raised below).
            await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            self.queue.shut_down()
            ticker.cancel()
            _, pending = await asyncio.wait(workers, timeout=self.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(ticker, *workers, return_exceptions=True)
        for task in workers:
            if not task.cancelled() and task.exception() is not None:
                raise RuntimeError(f"controller {self.name}: worker failed") from task.exception()

    async def _tick_metrics(self) -> None:
        while True:
            self.queue.update_unfinished_work()
            await self._clock.sleep(1.0)

    async def _worker(self) -> None:
        while not self.queue.shutting_down():
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.process(key)
            finally:
                self.queue.done(key)

    async def process(self, key: ObjectKey) -> None:
        """Reconcile one key and apply the queue bookkeeping for its outcome."""
        started = self._clock.now()
        try:
            result = await self._reconcile(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._metrics.observe(self.name, "error", self._clock.now() - started)
            retries = self.queue.num_requeues(key)
            if self.max_retries is not None and retries >= self.max_retries:
                log.error("controller %s: giving up on %s after %d retries: %s", self.name, key, retries, exc)
                self.queue.forget(key)
                return
            if errors.is_conflict(exc):
                log.debug("controller %s: conflict reconciling %s, retrying", self.name, key)
            else:
                log.warning("controller %s: reconciling %s failed: %s", self.name, key, exc, exc_info=True)
            self.queue.add_rate_limited(key)
            return
        elapsed = self._clock.now() - started
        if result is not None and result.requeue_after is not None:
            self._metrics.observe(self.name, "requeue_after", elapsed)
            self.queue.forget(key)
            self.queue.add_after(key, result.requeue_after)
        elif result is not None and result.requeue:
            self._metrics.observe(self.name, "requeue", elapsed)
            self.queue.add_rate_limited(key)
        else:
            self._metrics.observe(self.name, "success", elapsed)
            self.queue.forget(key)
