"""Clocks: the one seam through which the runtime machinery reads and waits on time.

Why: rate limiters, delaying queues, reflector backoff, resync timers and leader election are all
about time. Tests that used real sleeps would be slow and flaky, so every component that waits takes
a ``Clock`` and tests pass a :class:`FakeClock` that only moves when the test steps it.

Contract:

* ``now()`` is monotonic seconds (never goes backwards; unrelated to the wall clock).
* ``utcnow()`` is the wall clock as an aware UTC ``datetime``; used only for timestamps written to
  the API (e.g. ``Lease.spec.renewTime``), never for measuring durations.
* ``sleep(seconds)`` suspends the caller until ``now()`` has advanced by at least ``seconds``; it is
  cancellable like :func:`asyncio.sleep`.

Lower layers (``kubebind.workqueue``, ``kubebind.cache``, ``kubebind.kube``) must not import this
package, so each declares the subset it needs (``now`` + ``sleep``) as its own structural
``Protocol``; both clocks here satisfy all of them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "RealClock"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time, wall time and cancellable sleeping."""

    def now(self) -> float: ...

    def utcnow(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The process clock: :func:`time.monotonic` and :func:`asyncio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to.

    ``sleep`` registers a waiter that :meth:`step` (or :meth:`set_time`) releases once the fake time
    reaches its deadline. Woken coroutines run at the event loop's next turn, so tests usually
    ``await clock.advance(d)``, which steps and then yields to the loop a few times.
    """

    def __init__(self, start: float = 1000.0, wall_start: datetime | None = None) -> None:
        self._start = start
        self._now = start
        self._wall_start = wall_start or datetime(2026, 1, 1, tzinfo=UTC)
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    def utcnow(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._start)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    def waiters(self) -> int:
        """Number of coroutines currently sleeping on this clock."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    def next_deadline(self) -> float | None:
        """Earliest pending sleep deadline, or ``None`` when nobody sleeps."""
        live = [deadline for deadline, _, fut in self._sleepers if not fut.done()]
        return min(live) if live else None

    def step(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and release the sleepers that are due."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self.set_time(self._now + seconds)

    def set_time(self, t: float) -> None:
        if t < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = t
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def advance(self, seconds: float, *, turns: int = 10) -> None:
        """Step by ``seconds``, then let woken coroutines run for ``turns`` loop iterations."""
        self.step(seconds)
        for _ in range(turns):
            await asyncio.sleep(0)
