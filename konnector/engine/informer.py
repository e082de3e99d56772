"""Konnector-facing informers: a thin adapter over ``kubebind.cache.SharedInformer``.

Why an adapter: the shared reflector/informer (``kubebind.cache``: list then watch from the list's
resourceVersion with bookmarks, re-list on ``410 Gone``, jittered backoff, periodic resync, an
indexed store) is the engine; the konnector's controllers want a smaller surface — ``get(key)``,
``list(namespace)``, ``keys()``, one-function handlers ``(event, obj)`` with ``"ADDED"``,
``"MODIFIED"`` or ``"DELETED"`` — plus start/stop as a task and a bounded ``wait_synced``.
:class:`MultiNamespaceInformer` runs one informer per namespace where least-privilege credentials
only allow namespaced list/watch (the provider namespaces assigned through APIServiceNamespaces).

Handlers must be quick (enqueue a key); they run on the event loop.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from kubebind.cache import DeletedFinalStateUnknown, ListWatch, SharedInformer, final_state
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ObjectKey, ResourceRef, object_key

__all__ = ["Handler", "Informer", "MultiNamespaceInformer"]

log = logging.getLogger(__name__)

Handler = Callable[[str, Object], None]


class _Adapter:
    """ResourceEventHandler → ``handler(event, obj)``; can swallow the registration-time replay."""

    def __init__(self, handler: Handler, replay: bool) -> None:
        self.handler = handler
        self.replaying = not replay

    def on_add(self, obj: Object, is_in_initial_list: bool) -> None:
        if self.replaying:
            return
        self.handler("ADDED", obj)

    def on_update(self, old: Object, new: Object) -> None:
        self.handler("MODIFIED", new)

    def on_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        self.handler("DELETED", final_state(obj))


class Informer:
    """One resource (optionally one namespace / selector) cached and watched."""

    def __init__(
        self,
        client: ApiClient,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resync: float = 1800.0,
        name: str = "",
        metric_name: str = "",
        on_created: Callable[[Informer], None] | None = None,
    ) -> None:
        self.ref = ref
        self.namespace = namespace
        self.name = name or f"{ref}{'@' + namespace if namespace else ''}"
        #: Label for metrics (without per-namespace cardinality).
        self.metric_name = metric_name or str(ref)

        def typed(obj: Object) -> Object:
            if ref.kind:
                obj.setdefault("apiVersion", ref.api_version)
                obj.setdefault("kind", ref.kind)
            return obj

        self.shared = SharedInformer(
            ListWatch(client, ref, namespace, label_selector, field_selector),
            resync_period=resync,
            transform=typed,
            name=self.name,
        )
        self._task: asyncio.Task[None] | None = None
        if on_created is not None:
            on_created(self)

    # -- read side -----------------------------------------------------------------------------

    def get(self, key: ObjectKey) -> Object | None:
        return self.shared.store.get_by_key(key)

    def list(self, namespace: str | None = None) -> builtins.list[Object]:
        objs = self.shared.store.list()
        if namespace is None:
            return objs
        return [o for o in objs if object_key(o).namespace == namespace]

    def keys(self) -> builtins.list[ObjectKey]:
        return self.shared.store.list_keys()

    def has_synced(self) -> bool:
        return self.shared.has_synced()

    async def wait_synced(self, within: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self.shared.wait_for_sync(), within)
        except TimeoutError:
            return False
        return True

    @property
    def last_error(self) -> BaseException | None:
        return self.shared.reflector.last_error

    # -- handlers ------------------------------------------------------------------------------

    def add_handler(self, handler: Handler, *, replay: bool = True) -> None:
        adapter = _Adapter(handler, replay)
        self.shared.add_event_handler(adapter)
        adapter.replaying = False

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.shared.run(), name=f"informer:{self.name}"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class MultiNamespaceInformer:
    """One :class:`Informer` per namespace, with a shared handler list and a merged read side.

    Used where least-privilege credentials only allow list/watch in specific namespaces (the
    provider namespaces assigned through APIServiceNamespaces).
    """

    def __init__(self, factory: Callable[[str], Informer]) -> None:
        self._factory = factory
        self._informers: dict[str, Informer] = {}
        self._handlers: list[Handler] = []

    def set_namespaces(self, namespaces: Iterable[str]) -> None:
        wanted = set(namespaces)
        for ns in wanted - set(self._informers):
            inf = self._factory(ns)
            for handler in self._handlers:
                inf.add_handler(handler, replay=False)
            self._informers[ns] = inf
            inf.start()
        for ns in set(self._informers) - wanted:
            inf = self._informers.pop(ns)
            asyncio.get_running_loop().create_task(inf.stop())

    def namespaces(self) -> list[str]:
        return list(self._informers)

    def add_handler(self, handler: Handler, *, replay: bool = True) -> None:
        self._handlers.append(handler)
        for inf in self._informers.values():
            inf.add_handler(handler, replay=replay)

    def get(self, key: ObjectKey) -> Object | None:
        inf = self._informers.get(key.namespace)
        return inf.get(key) if inf else None

    def list(self, namespace: str | None = None) -> list[Object]:
        if namespace is not None:
            inf = self._informers.get(namespace)
            return inf.list() if inf else []
        out: list[Object] = []
        for inf in self._informers.values():
            out.extend(inf.list())
        return out

    def has_synced(self) -> bool:
        return all(i.has_synced() for i in self._informers.values())

    async def wait_synced(self, within: float | None = None) -> bool:
        results: builtins.list[Any] = await asyncio.gather(
            *(i.wait_synced(within) for i in self._informers.values())
        )
        return all(results)

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        infs = list(self._informers.values())
        self._informers.clear()
        await asyncio.gather(*(i.stop() for i in infs), return_exceptions=True)
