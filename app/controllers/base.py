"""A small level-triggered controller: watches feed keys into a rate-limited queue, workers reconcile.

Why here and not ``kubebind.runtime``: the shared informer/controller runtime (branch ``client``)
had not landed when these controllers were written; this is the minimum the backend needs and is
meant to be replaced by ``kubebind.runtime.Controller`` + ``kubebind.cache`` informers.

Contract: ``reconcile(key)`` re-reads current state from the API server and is idempotent; it
returns ``None`` (done) or a delay in seconds after which the key is reconciled again (periodic
work: heartbeats, rotation, schema sync). An exception re-queues the key with per-item backoff.
Each watched resource is listed, then watched from the list's resourceVersion; a closed or expired
watch (410) re-lists. Every key is also re-queued every ``resync`` seconds as a safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import Object, ObjectKey, ResourceRef, object_key
from kubebind.workqueue import RateLimitingQueue, ShutDown

__all__ = ["Controller", "Source"]

log = logging.getLogger(__name__)

Mapper = Callable[[Object], Iterable[ObjectKey]]


@dataclass(frozen=True)
class Source:
    """A resource to watch and how its objects map to the controller's keys."""

    ref: ResourceRef
    mapper: Mapper | None = None  # default: the object's own key
    label_selector: str | None = None


class Controller:
    def __init__(
        self,
        name: str,
        client: ApiClient,
        sources: list[Source],
        reconcile: Callable[[ObjectKey], Awaitable[float | None]],
        *,
        workers: int = 2,
        resync: float = 300.0,
    ) -> None:
        self.name = name
        self.client = client
        self.sources = sources
        self.reconcile = reconcile
        self.workers = workers
        self.resync = resync
        self.queue: RateLimitingQueue[ObjectKey] = RateLimitingQueue(name)
        self._known: set[ObjectKey] = set()
        self.synced = asyncio.Event()

    def _enqueue(self, source: Source, obj: Object) -> None:
        keys = list(source.mapper(obj)) if source.mapper else [object_key(obj)]
        for key in keys:
            if source is self.sources[0]:
                self._known.add(key)
            self.queue.add(key)

    async def _watch_source(self, source: Source, listed: asyncio.Event) -> None:
        backoff = 0.2
        while True:
            try:
                items, rv = await self.client.list_all(source.ref, label_selector=source.label_selector)
                for item in items:
                    self._enqueue(source, item)
                listed.set()
                backoff = 0.2
                while True:
                    async with self.client.watch(
                        source.ref,
                        label_selector=source.label_selector,
                        resource_version=rv,
                        timeout_seconds=300,
                    ) as watch:
                        async for event in watch:
                            meta = event.object.get("metadata") or {}
                            rv = str(meta.get("resourceVersion") or rv)
                            if event.type == "BOOKMARK":
                                continue
                            self._enqueue(source, event.object)
            except asyncio.CancelledError:
                raise
            except errors.GoneError:
                continue
            except Exception as exc:
                log.warning("controller=%s watch of %s failed error=%s", self.name, source.ref, exc)
                await asyncio.sleep(backoff + random.random() * backoff)
                backoff = min(backoff * 2, 10.0)

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                after = await self.reconcile(key)
            except asyncio.CancelledError:
                self.queue.done(key)
                raise
            except Exception as exc:
                log.warning("controller=%s key=%s reconcile failed error=%s", self.name, key, exc)
                self.queue.done(key)
                self.queue.add_rate_limited(key)
                continue
            self.queue.forget(key)
            self.queue.done(key)
            if after is not None:
                self.queue.add_after(key, max(after, 0.05))

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            for key in list(self._known):
                self.queue.add(key)

    async def run(self) -> None:
        events = [asyncio.Event() for _ in self.sources]
        async with asyncio.TaskGroup() as group:
            for source, listed in zip(self.sources, events, strict=True):
                group.create_task(self._watch_source(source, listed), name=f"{self.name}-watch-{source.ref}")
            for listed in events:
                await listed.wait()
            self.synced.set()
            for i in range(self.workers):
                group.create_task(self._worker(), name=f"{self.name}-worker-{i}")
            group.create_task(self._resync(), name=f"{self.name}-resync")

    def shut_down(self) -> None:
        with contextlib.suppress(Exception):
            self.queue.shut_down()
