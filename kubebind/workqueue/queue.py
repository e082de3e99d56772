"""A fair, de-duplicating, multi-consumer work queue (client-go ``workqueue.Type`` in asyncio).

Why not :class:`asyncio.Queue`: controllers enqueue *keys* from event handlers, and a burst of
events for one object must collapse into one reconcile of its latest state, and one key must never
be processed by two workers at once. This queue guarantees:

* **Stingy**: an item is queued at most once, however often it is added before a worker takes it
  (the *dirty* set).
* **Exclusive**: while a worker holds an item (between :meth:`Queue.get` and :meth:`Queue.done`),
  re-adding it only marks it dirty; ``done`` puts it back at the tail, so it is processed again
  exactly once more, by whoever takes it next.
* **Fair**: items are handed out in the order they were (first) added; waiting consumers are
  served in the order they asked.
* **Shutdown**: after :meth:`Queue.shut_down` adds are ignored and :meth:`Queue.get` raises
  :class:`ShutDown` once the queue is empty (already queued items are still handed out, so
  :meth:`Queue.shut_down_with_drain` can wait for them to be finished).

All mutating methods except ``get`` are synchronous, so they can be called from synchronous
informer handlers. Everything runs on one event loop; there are no threads and so no locks.

Items must be hashable; controllers use ``ObjectKey(namespace, name)`` tuples. This package imports
nothing else from ``kubebind``.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from kubebind.workqueue import metrics as _metrics

__all__ = ["Clock", "MonotonicClock", "Queue", "ShutDown"]

T = TypeVar("T", bound=Hashable)


class Clock(Protocol):
    """What the queues need from a clock (``kubebind.runtime.clock`` implements it)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """Default clock: :func:`time.monotonic` and :func:`asyncio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ShutDown(Exception):
    """Raised by :meth:`Queue.get` when the queue is shut down and has nothing left to hand out."""


class _QueueMetrics(Generic[T]):
    """Book-keeping of per-item timestamps behind the metrics of one queue."""

    def __init__(self, name: str, provider: _metrics.MetricsProvider, clock: Clock) -> None:
        self._clock = clock
        self.depth = provider.new_depth_metric(name)
        self.adds = provider.new_adds_metric(name)
        self.latency = provider.new_latency_metric(name)
        self.work_duration = provider.new_work_duration_metric(name)
        self.unfinished = provider.new_unfinished_work_seconds_metric(name)
        self.longest = provider.new_longest_running_processor_seconds_metric(name)
        self.retries = provider.new_retries_metric(name)
        self._added_at: dict[T, float] = {}
        self._processing_since: dict[T, float] = {}

    def add(self, item: T) -> None:
        self.adds.inc()
        self.depth.inc()
        self._added_at.setdefault(item, self._clock.now())

    def get(self, item: T) -> None:
        self.depth.dec()
        now = self._clock.now()
        self._processing_since[item] = now
        added = self._added_at.pop(item, None)
        if added is not None:
            self.latency.observe(now - added)

    def done(self, item: T) -> None:
        started = self._processing_since.pop(item, None)
        if started is not None:
            self.work_duration.observe(self._clock.now() - started)

    def update_unfinished_work(self) -> None:
        now = self._clock.now()
        ages = [now - t for t in self._processing_since.values()]
        self.unfinished.set(sum(ages))
        self.longest.set(max(ages, default=0.0))


class Queue(Generic[T]):
    """The de-duplicating FIFO. See the module docstring for the guarantees."""

    def __init__(
        self,
        name: str = "",
        *,
        metrics: _metrics.MetricsProvider | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._clock: Clock = clock or MonotonicClock()
        self._queue: collections.deque[T] = collections.deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._shutting_down = False
        self._drained: asyncio.Event | None = None
        self._metrics: _QueueMetrics[T] = _QueueMetrics(name, metrics or _metrics.NOOP_METRICS, self._clock)

    # -- producer side -------------------------------------------------------------------------

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing. Ignored after shutdown."""
        if self._shutting_down or item in self._dirty:
            return
        self._metrics.add(item)
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._wake_one()

    # -- consumer side -------------------------------------------------------------------------

    async def get(self) -> T:
        """Wait for an item and mark it as being processed. The caller must call :meth:`done`.

        Raises :class:`ShutDown` when the queue is shut down and empty.
        """
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    # We were woken but will not take the item: pass the wake-up on.
                    self._wake_one()
                else:
                    self._remove_waiter(fut)
                raise
        item = self._queue.popleft()
        self._metrics.get(item)
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T) -> None:
        """Finish processing ``item``; if it was re-added meanwhile it is queued again.

        Calling ``done`` for an item that is not being processed does nothing.
        """
        if item not in self._processing:
            return
        self._metrics.done(item)
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._wake_one()
        elif not self._processing and not self._queue and self._drained is not None:
            self._drained.set()

    # -- lifecycle -----------------------------------------------------------------------------

    def shut_down(self) -> None:
        """Stop accepting adds and wake every waiting consumer (they get :class:`ShutDown`)."""
        self._shutting_down = True
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    async def shut_down_with_drain(self) -> None:
        """Shut down, then wait until every queued and in-flight item has been ``done``."""
        self.shut_down()
        while self._queue or self._processing:
            self._drained = asyncio.Event()
            await self._drained.wait()

    def shutting_down(self) -> bool:
        return self._shutting_down

    def __len__(self) -> int:
        """Number of items waiting to be handed out (not those being processed)."""
        return len(self._queue)

    def processing(self) -> frozenset[T]:
        return frozenset(self._processing)

    def update_unfinished_work(self) -> None:
        """Refresh the unfinished-work gauges; controllers call this periodically."""
        self._metrics.update_unfinished_work()

    # -- internals -----------------------------------------------------------------------------

    def _wake_one(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def _remove_waiter(self, fut: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(fut)
        except ValueError:
            pass
