"""List-then-watch informers with an in-memory store, as the konnector needs them.

Why here and not in ``kubebind.cache``: the shared cache package (branch ``client``) did not yet
ship a reflector/informer when the konnector was built; this is the small subset the konnector
uses, kept behind one class so it can be swapped for ``kubebind.cache.SharedInformer`` later.

Behaviour (client-go reflector semantics):

* list (paged) → replace the store, emitting add/update/delete for the difference, then watch
  from the list's resourceVersion with bookmarks;
* a watch that ends normally (server timeout, credential swap) resumes from the last seen
  resourceVersion without re-listing; ``410 Gone`` re-lists;
* any other failure backs off with jitter (0.2 s doubling to ``max_backoff``) and retries;
* every ``resync`` seconds all cached objects are re-delivered as updates (the poll fallback that
  heals missed events and lets controllers re-check the other cluster).

Handlers are plain callables ``(event, obj)`` run on the event loop; they must be quick (enqueue a
key). Event is ``"ADDED"``, ``"MODIFIED"`` or ``"DELETED"``.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import random
from collections.abc import Callable, Iterable
from typing import Any

from kubebind.kube import errors
from kubebind.kube.client import ApiClient, Selector
from kubebind.kube.resources import Object, ObjectKey, ResourceRef, object_key

__all__ = ["Handler", "Informer", "MultiNamespaceInformer"]

log = logging.getLogger(__name__)

Handler = Callable[[str, Object], None]
WatchRestartHook = Callable[[str], None]


class Informer:
    """One reflector + store for a resource (optionally one namespace / label selector)."""

    def __init__(
        self,
        client: ApiClient,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: Selector | None = None,
        field_selector: str | None = None,
        resync: float = 1800.0,
        max_backoff: float = 30.0,
        watch_timeout: int = 300,
        name: str = "",
        on_watch_restart: WatchRestartHook | None = None,
    ) -> None:
        self.client = client
        self.ref = ref
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync = resync
        self.max_backoff = max_backoff
        self.watch_timeout = watch_timeout
        self.name = name or f"{ref}{'@' + namespace if namespace else ''}"
        self._store: dict[ObjectKey, Object] = {}
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._rv = ""
        self._on_watch_restart = on_watch_restart
        self.last_error: BaseException | None = None

    # -- read side -----------------------------------------------------------------------------

    def get(self, key: ObjectKey) -> Object | None:
        return self._store.get(key)

    def list(self, namespace: str | None = None) -> list[Object]:
        if namespace is None:
            return list(self._store.values())
        return [o for k, o in self._store.items() if k.namespace == namespace]

    def keys(self) -> builtins.list[ObjectKey]:
        return list(self._store)

    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # -- handlers ------------------------------------------------------------------------------

    def add_handler(self, handler: Handler, *, replay: bool = True) -> None:
        self._handlers.append(handler)
        if replay:
            for obj in list(self._store.values()):
                handler("ADDED", obj)

    def _emit(self, event: str, obj: Object) -> None:
        for handler in list(self._handlers):
            try:
                handler(event, obj)
            except Exception:  # a broken handler must not kill the reflector
                log.exception("informer handler failed informer=%s", self.name)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"informer:{self.name}")
            if self.resync > 0:
                self._resync_task = asyncio.get_running_loop().create_task(
                    self._resync_loop(), name=f"resync:{self.name}"
                )

    async def stop(self) -> None:
        tasks = [t for t in (self._task, self._resync_task) if t is not None]
        self._task = self._resync_task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync * random.uniform(0.9, 1.1))
            for obj in list(self._store.values()):
                self._emit("MODIFIED", obj)

    async def _list(self) -> None:
        items, rv = await self.client.list_all(
            self.ref,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
        )
        fresh: dict[ObjectKey, Object] = {}
        for item in items:
            if self.ref.kind:
                item.setdefault("apiVersion", self.ref.api_version)
                item.setdefault("kind", self.ref.kind)
            fresh[object_key(item)] = item
        old = self._store
        self._store = fresh
        self._rv = rv
        for key, obj in old.items():
            if key not in fresh:
                self._emit("DELETED", obj)
        for key, obj in fresh.items():
            prev = old.get(key)
            if prev is None:
                self._emit("ADDED", obj)
            elif _rv(prev) != _rv(obj):
                self._emit("MODIFIED", obj)
        self._synced.set()

    async def _watch(self) -> None:
        watch = self.client.watch(
            self.ref,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            resource_version=self._rv,
            allow_watch_bookmarks=True,
            timeout_seconds=int(self.watch_timeout * random.uniform(1.0, 2.0)),
        )
        async with watch:
            async for event_type, obj in watch:
                rv = _rv(obj)
                if event_type == "BOOKMARK":
                    if rv:
                        self._rv = rv
                    continue
                if self.ref.kind:
                    obj.setdefault("apiVersion", self.ref.api_version)
                    obj.setdefault("kind", self.ref.kind)
                key = object_key(obj)
                if event_type == "DELETED":
                    self._store.pop(key, None)
                    self._emit("DELETED", obj)
                elif event_type in ("ADDED", "MODIFIED"):
                    existed = key in self._store
                    self._store[key] = obj
                    self._emit("MODIFIED" if existed else "ADDED", obj)
                if rv:
                    self._rv = rv

    async def _run(self) -> None:
        backoff = 0.2
        need_list = True
        while True:
            try:
                if need_list:
                    await self._list()
                    need_list = False
                await self._watch()
                backoff = 0.2
                self.last_error = None
                if self._on_watch_restart:
                    self._on_watch_restart("timeout")
            except asyncio.CancelledError:
                raise
            except errors.GoneError:
                log.info("watch expired, relisting informer=%s", self.name)
                need_list = True
                if self._on_watch_restart:
                    self._on_watch_restart("gone")
            except Exception as exc:  # network, 5xx, 403 while RBAC settles, …
                self.last_error = exc
                if isinstance(exc, errors.ApiError) and exc.code == 410:
                    need_list = True
                delay = backoff * random.uniform(0.5, 1.5)
                log.info("informer error informer=%s error=%r retry_in=%.2fs", self.name, exc, delay)
                if self._on_watch_restart:
                    self._on_watch_restart("error")
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, self.max_backoff)
                # After an error the watch position may be unusable (e.g. server restarted with a
                # compacted history): re-list to be safe once the backoff is significant.
                if backoff >= 1.6:
                    need_list = True


def _rv(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


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

    async def wait_synced(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        results: list[Any] = await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))
        return all(results)

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        infs = list(self._informers.values())
        self._informers.clear()
        await asyncio.gather(*(i.stop() for i in infs), return_exceptions=True)
