"""SharedInformer: one cache of a resource, kept current by a reflector, fanned out to handlers.

Why shared: every controller interested in, say, ConfigMaps of a namespace should not open its
own list and watch. One informer per (resource, namespace, selectors) feeds one store that all
readers share, and calls every registered handler for each change.

Guarantees (after client-go's ``SharedInformer`` contract):

* **Eventually consistent.** The store converges to the server's state; a handler may see an
  object some time after it changed, and a list may be older than a write you just made. Readers
  re-read the cache when they reconcile; they never infer state from the event sequence.
* **Per-object order.** For one key, handlers see add → update* → delete in the order the changes
  happened. Across keys there is no ordering.
* **Notifications.** ``on_add(obj, is_in_initial_list)`` for a key that was not cached;
  ``on_update(old, new)`` for a change (and, on resync, with ``old is new``); ``on_delete(obj)``
  with the last state — or a :class:`DeletedFinalStateUnknown` tombstone (the last *cached* state)
  when the deletion was only noticed by a re-list after a broken watch. A re-list reports only
  differences: objects whose ``resourceVersion`` did not change are not re-delivered (resync is
  the mechanism for that), and ``old`` in an update may be several versions behind ``new``.
* A handler added after the informer has synced first receives ``on_add(obj, True)`` for every
  cached object. Handlers are synchronous and must be quick: they run inline on the event loop,
  typically just enqueueing a key. A raising handler is logged and does not affect the others.
* **Keys** are ``ObjectKey(namespace, name)``.
* :meth:`SharedInformer.has_synced` is true once the first list has been applied (and stays true).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from kubebind.cache import listers
from kubebind.cache.index import NAMESPACE_INDEX, IndexFunc, namespace_index_func
from kubebind.cache.listwatch import ListerWatcher
from kubebind.cache.reflector import Backoff, Clock, Reflector
from kubebind.cache.store import IndexedStore
from kubebind.kube.resources import Object, ObjectKey, object_key

__all__ = [
    "DeletedFinalStateUnknown",
    "EventHandlerFuncs",
    "HandlerRegistration",
    "ResourceEventHandler",
    "SharedInformer",
    "final_state",
]

log = logging.getLogger(__name__)


class DeletedFinalStateUnknown(NamedTuple):
    """An object deleted while the watch was down; ``obj`` is the last state the cache had."""

    key: ObjectKey
    obj: Object


def final_state(obj: Object | DeletedFinalStateUnknown) -> Object:
    """The object of an ``on_delete`` argument, unwrapping a tombstone."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


class ResourceEventHandler(Protocol):
    def on_add(self, obj: Object, is_in_initial_list: bool) -> None: ...

    def on_update(self, old: Object, new: Object) -> None: ...

    def on_delete(self, obj: Object | DeletedFinalStateUnknown) -> None: ...


@dataclass
class EventHandlerFuncs:
    """A :class:`ResourceEventHandler` from optional callables (unset ones do nothing)."""

    add: Callable[[Object], None] | None = None
    update: Callable[[Object, Object], None] | None = None
    delete: Callable[[Object | DeletedFinalStateUnknown], None] | None = None

    def on_add(self, obj: Object, is_in_initial_list: bool) -> None:
        if self.add is not None:
            self.add(obj)

    def on_update(self, old: Object, new: Object) -> None:
        if self.update is not None:
            self.update(old, new)

    def on_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        if self.delete is not None:
            self.delete(obj)


class HandlerRegistration:
    """Returned by :meth:`SharedInformer.add_event_handler`; pass it to ``remove_event_handler``."""

    def __init__(self, informer: SharedInformer, handler: ResourceEventHandler) -> None:
        self._informer = informer
        self.handler = handler

    def has_synced(self) -> bool:
        return self._informer.has_synced()


class SharedInformer:
    def __init__(
        self,
        lister_watcher: ListerWatcher,
        *,
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float = 0.0,
        transform: Callable[[Object], Object] | None = None,
        clock: Clock | None = None,
        name: str = "",
        page_size: int = 500,
        min_watch_timeout: int = 300,
        backoff: Backoff | None = None,
    ) -> None:
        all_indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: namespace_index_func}
        all_indexers.update(indexers or {})
        self.store = IndexedStore(all_indexers)
        self.lister = listers.Lister(self.store)
        self._transform = transform
        self._handlers: list[HandlerRegistration] = []
        self._synced = asyncio.Event()
        self._running = False
        self.name = name or lister_watcher.describe()
        self.reflector = Reflector(
            lister_watcher,
            self,
            name=self.name,
            clock=clock,
            page_size=page_size,
            resync_period=resync_period,
            min_watch_timeout=min_watch_timeout,
            backoff=backoff,
        )

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Fill and maintain the cache until cancelled. An informer runs at most once at a time."""
        if self._running:
            raise RuntimeError(f"informer {self.name} is already running")
        self._running = True
        try:
            await self.reflector.run()
        finally:
            self._running = False

    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        """Wait until the first list has been applied (bound it with ``asyncio.timeout``)."""
        await self._synced.wait()

    @property
    def last_sync_resource_version(self) -> str:
        return self.reflector.last_sync_resource_version

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self.store.add_indexers(indexers)

    # -- handlers ------------------------------------------------------------------------------

    def add_event_handler(self, handler: ResourceEventHandler) -> HandlerRegistration:
        registration = HandlerRegistration(self, handler)
        self._handlers.append(registration)
        if self.has_synced():
            for obj in self.store.list():
                self._call(registration, "on_add", obj, True)
        return registration

    def remove_event_handler(self, registration: HandlerRegistration) -> None:
        try:
            self._handlers.remove(registration)
        except ValueError:
            pass

    def _call(self, registration: HandlerRegistration, method: str, *args: object) -> None:
        try:
            getattr(registration.handler, method)(*args)
        except Exception:
            log.exception("informer %s: handler %s.%s failed", self.name, registration.handler, method)

    def _notify(self, method: str, *args: object) -> None:
        for registration in list(self._handlers):
            self._call(registration, method, *args)

    # -- ReflectorSink -------------------------------------------------------------------------

    def _prepare(self, obj: Object) -> Object:
        return self._transform(obj) if self._transform is not None else obj

    def replace(self, objs: list[Object], resource_version: str) -> None:
        initial = not self.has_synced()
        fresh = {object_key(o): o for o in (self._prepare(o) for o in objs)}
        previous = {key: self.store.get_by_key(key) for key in self.store.list_keys()}
        self.store.replace(fresh.values())
        for key, old in previous.items():
            if key not in fresh and old is not None:
                self._notify("on_delete", DeletedFinalStateUnknown(key, old))
        for key, obj in fresh.items():
            old = previous.get(key)
            if old is None:
                self._notify("on_add", obj, initial)
            elif _rv(old) != _rv(obj):
                self._notify("on_update", old, obj)
        self._synced.set()

    def add(self, obj: Object) -> None:
        obj = self._prepare(obj)
        old = self.store.get(obj)
        self.store.add(obj)
        if old is None:
            self._notify("on_add", obj, False)
        else:
            self._notify("on_update", old, obj)

    update = add

    def delete(self, obj: Object) -> None:
        obj = self._prepare(obj)
        self.store.delete(obj)
        self._notify("on_delete", obj)

    def resync(self) -> None:
        for obj in self.store.list():
            self._notify("on_update", obj, obj)


def _rv(obj: Object) -> object:
    return (obj.get("metadata") or {}).get("resourceVersion")
