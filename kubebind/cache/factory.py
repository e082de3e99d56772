"""SharedInformerFactory: at most one informer per (resource, namespace, selectors), started together.

Why: controllers are written independently but often watch the same things (every konnector
sub-controller reads the same ClusterBinding). Asking the factory instead of building informers
means one list and one watch per distinct query, one cache, and one place that starts and stops
them all.

Contract:

* :meth:`SharedInformerFactory.informer_for` returns the same :class:`SharedInformer` for the same
  ``(group, version, resource, namespace, label selector, field selector)``. Passing ``indexers``
  for an existing informer adds them (only possible before it has data).
* :meth:`SharedInformerFactory.run` runs every informer — also those requested later, which start
  immediately — until cancelled, each as a named task.
* :meth:`SharedInformerFactory.stop_informer` cancels one informer and forgets it (for dynamic
  resources whose binding went away); a later ``informer_for`` builds a fresh one.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from typing import NamedTuple

from kubebind.cache.index import IndexFunc
from kubebind.cache.informer import SharedInformer
from kubebind.cache.listwatch import ListWatch, selector_key
from kubebind.cache.reflector import Clock
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ResourceRef
from kubebind.kube.selectors import LabelSelector

__all__ = ["InformerKey", "SharedInformerFactory"]

_UNSET = object()


class InformerKey(NamedTuple):
    group: str
    version: str
    resource: str
    namespace: str | None
    label_selector: str | None
    field_selector: str | None


class SharedInformerFactory:
    def __init__(
        self,
        client: ApiClient,
        *,
        resync_period: float = 0.0,
        namespace: str | None = None,
        clock: Clock | None = None,
        page_size: int = 500,
        min_watch_timeout: int = 300,
    ) -> None:
        """``namespace`` is the default scope of namespaced informers (``None`` = all namespaces)."""
        self.client = client
        self.resync_period = resync_period
        self.namespace = namespace
        self._clock = clock
        self._page_size = page_size
        self._min_watch_timeout = min_watch_timeout
        self._informers: dict[InformerKey, SharedInformer] = {}
        self._tasks: dict[InformerKey, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None

    def informer_for(
        self,
        ref: ResourceRef,
        *,
        namespace: str | object | None = _UNSET,
        label_selector: str | LabelSelector | Mapping[str, str] | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        transform: Callable[[Object], Object] | None = None,
        resync_period: float | None = None,
    ) -> SharedInformer:
        ns = self.namespace if namespace is _UNSET else namespace
        assert ns is None or isinstance(ns, str)
        if not ref.namespaced:
            ns = None
        labels = str(label_selector) if isinstance(label_selector, LabelSelector) else label_selector
        key = InformerKey(
            ref.group,
            ref.version,
            ref.resource,
            ns or None,
            selector_key(labels),
            selector_key(field_selector),
        )
        informer = self._informers.get(key)
        if informer is not None:
            if indexers:
                missing = {n: f for n, f in indexers.items() if not informer.store.has_index(n)}
                if missing:
                    informer.add_indexers(missing)
            return informer
        informer = SharedInformer(
            ListWatch(self.client, ref, key.namespace, key.label_selector, key.field_selector),
            indexers=indexers,
            resync_period=self.resync_period if resync_period is None else resync_period,
            transform=transform,
            clock=self._clock,
            page_size=self._page_size,
            min_watch_timeout=self._min_watch_timeout,
        )
        self._informers[key] = informer
        if self._group is not None:
            self._start(key, informer)
        return informer

    def informers(self) -> dict[InformerKey, SharedInformer]:
        return dict(self._informers)

    def _start(self, key: InformerKey, informer: SharedInformer) -> None:
        assert self._group is not None
        task = self._group.create_task(informer.run(), name=f"informer:{informer.name}")
        self._tasks[key] = task
        task.add_done_callback(functools.partial(self._forget_task, key))

    def _forget_task(self, key: InformerKey, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]

    async def run(self) -> None:
        """Run all informers (and any requested later) until cancelled."""
        if self._group is not None:
            raise RuntimeError("factory is already running")
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for key, informer in self._informers.items():
                    self._start(key, informer)
                await asyncio.Future()  # until cancelled
        finally:
            self._group = None
            self._tasks.clear()

    def stop_informer(self, informer: SharedInformer) -> None:
        for key, candidate in list(self._informers.items()):
            if candidate is informer:
                del self._informers[key]
                task = self._tasks.pop(key, None)
                if task is not None:
                    task.cancel()

    async def wait_for_cache_sync(self) -> None:
        """Wait until every informer requested so far has synced (bound it with ``asyncio.timeout``)."""
        for informer in list(self._informers.values()):
            await informer.wait_for_sync()
