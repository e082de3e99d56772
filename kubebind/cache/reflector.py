"""Reflector: keeps a sink in step with the server by list + watch (client-go ``Reflector``).

Why: a watch alone loses events whenever it breaks, and a list alone is a poll. The reflector
lists once (paged, a consistent snapshot), hands the full set to its sink (``replace``), then
watches from exactly the list's ``resourceVersion`` so that no change between the two is missed,
and keeps watching from the last version it saw.

Contract / behaviour:

* **Initial list**: pages of ``page_size`` with continue tokens; if a continue token expires
  (410) the list restarts unpaged. List items get ``apiVersion``/``kind`` filled in from the list.
* **Watch**: from the last seen ``resourceVersion`` with ``allowWatchBookmarks`` (bookmarks only
  advance the version; sinks never see them), ``timeoutSeconds`` drawn uniformly from
  ``[min_watch_timeout, 2 * min_watch_timeout)`` so that many reflectors do not reconnect in step.
  A watch that ends normally (server timeout, credential swap) is reopened at once from the last
  version — no re-list.
* **410 Gone** (on opening the watch or as an ``ERROR`` event): the version is too old (etcd was
  compacted), so the reflector re-lists; the sink's ``replace`` then reconciles the difference,
  including deletions it missed.
* **Other errors** (connection refused, 5xx, 401/403, 429 …): wait with jittered exponential
  backoff, then re-watch from the last version (re-list only if there never was a list).
  The backoff resets after a successful list or any watch event.
* **Resync**: every ``resync_period`` seconds (0 = never) after the first sync, the sink's
  ``resync()`` is called (informers re-deliver every cached object as an update — the poll
  fallback for level-triggered controllers).
* :meth:`Reflector.run` runs until cancelled and never raises anything else. Run again after a
  stop (e.g. when leadership moves), it resumes watching from its last version instead of
  re-listing; if that version has expired meanwhile, the 410 path above applies.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from kubebind.cache.listwatch import ListerWatcher
from kubebind.kube import errors
from kubebind.kube.resources import Object

__all__ = ["Backoff", "Clock", "Reflector", "ReflectorSink"]

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class _Monotonic:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ReflectorSink(Protocol):
    """Where a reflector delivers what it learns (an informer, or a bare store)."""

    def replace(self, objs: list[Object], resource_version: str) -> None: ...

    def add(self, obj: Object) -> None: ...

    def update(self, obj: Object) -> None: ...

    def delete(self, obj: Object) -> None: ...

    def resync(self) -> None: ...


class Backoff:
    """Jittered exponential backoff: ``initial * factor**n``, capped at ``maximum``, plus up to
    ``jitter * delay`` of random extra (never above ``maximum``)."""

    def __init__(
        self,
        initial: float = 0.8,
        maximum: float = 30.0,
        *,
        factor: float = 2.0,
        jitter: float = 1.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rand = rand
        self.failures = 0

    def next(self) -> float:
        base = min(self.maximum, self.initial * self.factor ** min(self.failures, 64))
        self.failures += 1
        return min(self.maximum, base + base * self.jitter * self._rand())

    def reset(self) -> None:
        self.failures = 0


class Reflector:
    def __init__(
        self,
        lister_watcher: ListerWatcher,
        sink: ReflectorSink,
        *,
        name: str = "",
        clock: Clock | None = None,
        page_size: int = 500,
        resync_period: float = 0.0,
        min_watch_timeout: int = 300,
        allow_watch_bookmarks: bool = True,
        backoff: Backoff | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.lister_watcher = lister_watcher
        self.sink = sink
        self.name = name or lister_watcher.describe()
        self._clock: Clock = clock or _Monotonic()
        self.page_size = page_size
        self.resync_period = resync_period
        self.min_watch_timeout = min_watch_timeout
        self.allow_watch_bookmarks = allow_watch_bookmarks
        self.backoff = backoff or Backoff()
        self._rand = rand
        self.last_sync_resource_version = ""
        self.has_synced = False
        self.last_error: BaseException | None = None
        # Counters, for metrics and tests.
        self.list_count = 0
        self.watch_count = 0

    async def run(self) -> None:
        """List and watch until cancelled."""
        async with asyncio.TaskGroup() as tg:
            if self.resync_period > 0:
                tg.create_task(self._resync_loop(), name=f"reflector-resync:{self.name}")
            await self._list_and_watch_loop()

    async def _resync_loop(self) -> None:
        while True:
            await self._clock.sleep(self.resync_period)
            if self.has_synced:
                self.sink.resync()

    async def _list_and_watch_loop(self) -> None:
        need_list = not self.has_synced
        consecutive_gone = 0
        while True:
            try:
                if need_list:
                    await self.list()
                    need_list = False
                started = self._clock.now()
                events, stopped = await self.watch_once()
                if events == 0 and not stopped and self._clock.now() - started < 1.0:
                    # A watch that ends at once without events is broken, not timed out.
                    raise _ShortWatch(f"watch of {self.name} closed immediately")
                consecutive_gone = 0
                continue
            except asyncio.CancelledError:
                raise
            except errors.GoneError as exc:
                self.last_error = exc
                need_list = True
                consecutive_gone += 1
                log.info(
                    "reflector %s: resourceVersion %s expired, re-listing",
                    self.name,
                    self.last_sync_resource_version,
                )
                if consecutive_gone == 1:
                    continue  # re-list at once; back off only if it keeps happening
            except (errors.ApiError, httpx.HTTPError, OSError, _ShortWatch) as exc:
                self.last_error = exc
                log.warning("reflector %s: %s", self.name, _describe(exc))
            except Exception as exc:  # e.g. a malformed response: start over from a list
                self.last_error = exc
                need_list = True
                log.exception("reflector %s: unexpected error, will re-list", self.name)
            await self._clock.sleep(self.backoff.next())

    async def list(self) -> None:
        """Paged list → ``sink.replace``; sets :attr:`last_sync_resource_version`."""
        items: list[Object] = []
        token: str | None = None
        rv = ""
        while True:
            try:
                page = await self.lister_watcher.list(
                    limit=self.page_size, continue_=token, resource_version=None
                )
            except errors.GoneError:
                if token is None:
                    raise
                log.info("reflector %s: continue token expired, listing without paging", self.name)
                items, token = [], None
                page = await self.lister_watcher.list(limit=None, continue_=None, resource_version=None)
            meta = page.get("metadata") or {}
            rv = str(meta.get("resourceVersion") or "")
            items.extend(_typed_items(page))
            token = meta.get("continue") or None
            if not token:
                break
        self.sink.replace(items, rv)
        self.last_sync_resource_version = rv
        self.has_synced = True
        self.list_count += 1
        self.backoff.reset()

    async def watch_once(self) -> tuple[int, bool]:
        """Watch from the last version until the stream ends.

        Returns the number of events and whether the client stopped the stream on purpose.
        """
        low = self.min_watch_timeout
        timeout = int(low + low * self._rand())
        self.watch_count += 1
        events = 0
        stream = self.lister_watcher.watch(
            resource_version=self.last_sync_resource_version,
            timeout_seconds=max(timeout, 1),
            allow_watch_bookmarks=self.allow_watch_bookmarks,
        )
        async with stream:
            async for type_, obj in stream:
                events += 1
                if type_ == "ADDED":
                    self.sink.add(obj)
                elif type_ == "MODIFIED":
                    self.sink.update(obj)
                elif type_ == "DELETED":
                    self.sink.delete(obj)
                elif type_ != "BOOKMARK":
                    log.warning("reflector %s: unknown watch event type %r", self.name, type_)
                    continue
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.last_sync_resource_version = str(rv)
                self.backoff.reset()
        return events, stream.stopped


class _ShortWatch(Exception):
    pass


def _typed_items(page: Object) -> list[Object]:
    items: list[Any] = page.get("items") or []
    api_version = page.get("apiVersion")
    kind = str(page.get("kind") or "")
    item_kind = kind[: -len("List")] if kind.endswith("List") else ""
    for item in items:
        if api_version and "apiVersion" not in item:
            item["apiVersion"] = api_version
        if item_kind and "kind" not in item:
            item["kind"] = item_kind
    return items


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
