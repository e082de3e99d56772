"""Structured task supervision: every long-running task is named, owned, and stopped by its owner.

Why: the konnector starts and stops work as bindings come and go (a sync loop per bound resource,
an informer per provider namespace). Bare ``create_task`` calls leak tasks, swallow their
exceptions and make shutdown racy. A :class:`Supervisor` owns a set of named tasks:

* ``start(name, factory)`` runs ``factory()`` as a task named ``<supervisor>/<name>``; a name can
  be running only once.
* A task that fails is logged; with ``restart=True`` it is started again after a jittered
  exponential backoff (reset once a run lasted ``healthy_after`` seconds), otherwise its exception
  is kept in :attr:`Supervisor.failures`. A task that returns is simply done.
* ``stop(name)`` / ``stop_all()`` cancel and wait (a ``grace`` bound gives up on tasks that ignore
  cancellation); ``async with Supervisor(...)`` stops everything on exit.

For a fixed set of tasks that live and die together, use :class:`asyncio.TaskGroup` directly;
:func:`cancel_and_wait` is the one-shot helper for tasks made elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Self

from kubebind.runtime.clock import Clock, RealClock

__all__ = ["Supervisor", "cancel_and_wait"]

log = logging.getLogger(__name__)

TaskFactory = Callable[[], Coroutine[Any, Any, None]]


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], *, grace: float | None = None) -> None:
    """Cancel ``tasks`` and wait until they finished (at most ``grace`` seconds, if given).

    Exceptions of the tasks are retrieved (so asyncio does not warn) but not raised.
    """
    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=grace)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()


class Supervisor:
    def __init__(
        self,
        name: str,
        *,
        clock: Clock | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.name = name
        self._clock = clock or RealClock()
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._healthy_after = healthy_after
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failures: dict[str, BaseException] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop_all()

    def start(self, name: str, factory: TaskFactory, *, restart: bool = False) -> asyncio.Task[None]:
        """Run ``factory()`` as the task ``name``; ``ValueError`` if ``name`` is already running."""
        if self.running(name):
            raise ValueError(f"{self.name}: task {name!r} is already running")
        self.failures.pop(name, None)
        body = self._restarting(name, factory) if restart else self._once(name, factory)
        task = asyncio.get_running_loop().create_task(body, name=f"{self.name}/{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._tasks.pop(name, None) if self._tasks.get(name) is t else None)
        return task

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def names(self) -> list[str]:
        return sorted(n for n, t in self._tasks.items() if not t.done())

    async def stop(self, name: str, *, grace: float | None = None) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            await cancel_and_wait([task], grace=grace)

    async def stop_all(self, *, grace: float | None = None) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        await cancel_and_wait(tasks, grace=grace)

    async def _once(self, name: str, factory: TaskFactory) -> None:
        try:
            await factory()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failures[name] = exc
            log.exception("%s: task %s failed", self.name, name)

    async def _restarting(self, name: str, factory: TaskFactory) -> None:
        failures = 0
        while True:
            started = self._clock.now()
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures[name] = exc
                if self._clock.now() - started >= self._healthy_after:
                    failures = 0
                delay = min(self._backoff_max, self._backoff_initial * 2 ** min(failures, 32))
                delay = min(self._backoff_max, delay * (1 + random.random()))
                failures += 1
                log.exception("%s: task %s failed, restarting in %.1fs", self.name, name, delay)
            await self._clock.sleep(delay)
