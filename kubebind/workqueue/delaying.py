"""A work queue that can also add an item *later* (client-go ``DelayingInterface``).

Why: retries with backoff and ``requeue_after`` must not block a worker while they wait. The item
is parked in a heap and a single waiting task moves it into the underlying :class:`Queue` when its
time has come.

Contract:

* ``add_after(item, delay)`` with ``delay <= 0`` is a plain :meth:`Queue.add`.
* If the item is already waiting, the *earlier* of the two ready times wins (adding it sooner never
  gets postponed by a later add).
* Time is read from the injected clock, so a ``FakeClock`` drives it deterministically in tests.
* The waiting task is created lazily on the first delayed add (it needs a running loop), is named
  ``workqueue-waiting:<name>``, and is cancelled by :meth:`DelayingQueue.shut_down`; items still
  waiting then are dropped.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Hashable
from typing import TypeVar

from kubebind.workqueue import metrics as _metrics
from kubebind.workqueue.queue import Clock, Queue

__all__ = ["DelayingQueue"]

T = TypeVar("T", bound=Hashable)


class DelayingQueue(Queue[T]):
    def __init__(
        self,
        name: str = "",
        *,
        metrics: _metrics.MetricsProvider | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, metrics=metrics, clock=clock)
        self._heap: list[tuple[float, int, T]] = []
        self._ready_at: dict[T, float] = {}
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self._waiting_task: asyncio.Task[None] | None = None

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed on the queue's clock."""
        if self.shutting_down():
            return
        if delay <= 0:
            self.add(item)
            return
        ready = self._clock.now() + delay
        current = self._ready_at.get(item)
        if current is not None and current <= ready:
            return
        self._ready_at[item] = ready
        heapq.heappush(self._heap, (ready, next(self._seq), item))
        self._changed.set()
        self._ensure_waiting_task()

    def waiting(self) -> int:
        """Number of items parked for a later add."""
        return len(self._ready_at)

    def shut_down(self) -> None:
        super().shut_down()
        if self._waiting_task is not None:
            self._waiting_task.cancel()
            self._waiting_task = None
        self._heap.clear()
        self._ready_at.clear()

    def _ensure_waiting_task(self) -> None:
        if self._waiting_task is None or self._waiting_task.done():
            self._waiting_task = asyncio.get_running_loop().create_task(
                self._waiting_loop(), name=f"workqueue-waiting:{self.name}"
            )

    def _pop_ready(self) -> float | None:
        """Move every due item into the queue; return the next ready time, if any."""
        now = self._clock.now()
        while self._heap:
            ready, _, item = self._heap[0]
            if self._ready_at.get(item) != ready:
                heapq.heappop(self._heap)  # superseded by an earlier add_after
                continue
            if ready > now:
                return ready
            heapq.heappop(self._heap)
            del self._ready_at[item]
            self.add(item)
        return None

    async def _waiting_loop(self) -> None:
        while not self.shutting_down():
            self._changed.clear()
            next_ready = self._pop_ready()
            if next_ready is None:
                await self._changed.wait()
                continue
            sleeper = asyncio.ensure_future(self._clock.sleep(next_ready - self._clock.now()))
            changed = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                changed.cancel()
