"""Change feed: turns the ``kb_changes`` log into live events for watches, on every replica.

Why one dispatcher per process: a hundred watches must not each poll the database. A single
task reads new change-log rows once and fans them out to in-memory subscriptions. It wakes up

* at once after a write through this process (the object store calls :meth:`ChangeFeed.poke`),
* on Postgres ``NOTIFY`` from another replica (a dedicated asyncpg ``LISTEN`` connection),
* and every ``poll_interval`` seconds regardless (SQLite replicas, lost notifications).

A subscription starts at a resourceVersion ``after``: it first replays the log from the database
up to the dispatcher's position, then switches to live delivery without a gap or a duplicate
(the switch happens without an ``await``, so the dispatcher cannot interleave). A start version
below the compaction point raises :class:`~app.storage.errors.Gone` (HTTP 410), the signal for
clients to re-list. A subscriber that falls too far behind is closed (its watch ends and the
client re-watches from its last version), so one slow client cannot grow memory without bound.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.storage import errors
from app.storage.direct import postgres_dsn
from app.storage.objects import NOTIFY_CHANNEL, ObjectStore, loads

__all__ = ["ChangeEvent", "ChangeFeed", "Subscription"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    resource_version: int
    resource: str
    namespace: str
    name: str
    type: str
    object: dict[str, Any]
    prev_labels: dict[str, str] | None
    #: Wire encodings shared by every watcher that sends this event unchanged (encode once,
    #: not once per watcher). Keyed by the encoder's name.
    encoded: dict[str, bytes] = field(default_factory=dict)


def _event(row: Any) -> ChangeEvent:
    return ChangeEvent(
        resource_version=int(row.resource_version),
        resource=row.resource,
        namespace=row.namespace,
        name=row.name,
        type=row.type,
        object=loads(row.data),
        prev_labels=loads(row.prev_labels) if row.prev_labels else None,
    )


class Subscription:
    """Events after a resourceVersion, for one resource; iterate with ``async for``."""

    def __init__(self, feed: ChangeFeed, resource: str, after: int, max_queue: int) -> None:
        self._feed = feed
        self.resource = resource
        self.position = after
        # A deque and one waiter future instead of an asyncio.Queue read through wait_for: with a
        # hundred watchers every change wakes a hundred readers, and wait_for costs a task each.
        self._items: collections.deque[ChangeEvent | None] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._max_queue = max_queue
        self._live = False
        self._pending: list[ChangeEvent] = []
        self.overflowed = False
        self.gone = False

    def _offer(self, event: ChangeEvent) -> None:
        if event.resource_version <= self.position:
            return
        if not self._live:
            self._pending.append(event)
            return
        self.position = event.resource_version
        if event.resource != self.resource:
            return
        if len(self._items) >= self._max_queue:
            self.overflowed = True
            self._close()
            return
        self._put(event)

    def _put(self, item: ChangeEvent | None) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _close(self) -> None:
        self._put(None)
        self._feed._subscribers.discard(self)

    async def _catch_up(self) -> None:
        store = self._feed.store
        while self.position < self._feed.position:
            rows = await store.changes_since(self.position, limit=1000)
            if not rows:
                break
            if rows[0].resource_version != self.position + 1:
                _, compacted = await store.current_revision()
                if self.position < compacted:
                    raise errors.Gone(f"too old resource version: {self.position} ({compacted + 1})")
            for row in rows:
                if row.resource_version > self._feed.position:
                    break
                self.position = int(row.resource_version)
                if row.resource == self.resource:
                    self._put(_event(row))
        # No await from here: the dispatcher cannot deliver in between.
        self._live = True
        pending, self._pending = self._pending, []
        for event in pending:
            self._offer(event)

    async def events(self) -> AsyncIterator[ChangeEvent]:
        while True:
            event = await self.get(3600.0)
            if event is None:
                return
            if event is not False:
                assert not isinstance(event, bool)
                yield event

    async def get(self, wait: float) -> ChangeEvent | bool | None:
        """Next event; ``False`` on timeout; ``None`` when the subscription was closed."""
        if not self._items:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(wait, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
            if not self._items:
                return False
        item = self._items[0]
        if item is not None:  # the close marker stays: every later get() reports it too
            self._items.popleft()
        return item

    def close(self) -> None:
        self._feed._subscribers.discard(self)


class ChangeFeed:
    """See the module docstring. :meth:`start` inside the app lifespan, :meth:`stop` on exit."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        poll_interval: float = 1.0,
        max_queue: int = 10000,
    ) -> None:
        self.store = store
        self._poll_interval = poll_interval
        self._max_queue = max_queue
        self._subscribers: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.position = 0
        #: The newest committed resourceVersion a write or a NOTIFY told us about.
        self._latest = 0
        self._started = asyncio.Event()

    def poke(self, rv: int = 0) -> None:
        """Wake the dispatcher for a change committed at ``rv`` (``0``: unknown, read anyway)."""
        if rv and rv <= self.position:
            return  # already dispatched: the NOTIFY echo of this replica's own write
        self._latest = max(self._latest, rv)
        self._wake.set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        self.position, _ = await self.store.current_revision()
        self.store.add_write_listener(self.poke)
        self._tasks.append(asyncio.create_task(self._dispatch_loop(), name="changefeed-dispatch"))
        if self.store.is_postgres:
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="changefeed-listen"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for sub in list(self._subscribers):
            sub._close()

    async def subscribe(self, resource: str, after: int) -> Subscription:
        """A subscription to changes of ``resource`` after ``after``; raises Gone if compacted."""
        _, compacted = await self.store.current_revision()
        if after < compacted:
            raise errors.Gone(f"too old resource version: {after} ({compacted + 1})")
        sub = Subscription(self, resource, after, self._max_queue)
        self._subscribers.add(sub)
        try:
            await sub._catch_up()
        except BaseException:
            sub.close()
            raise
        return sub

    async def _dispatch_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("changefeed: reading the change log failed")
                await asyncio.sleep(self._poll_interval)

    async def _drain(self) -> None:
        if not self._subscribers and self._latest > self.position:
            # Nobody to deliver to: skip reading the rows. Commits are ordered by resourceVersion
            # (module docstring of objects), so everything up to a committed version is in the
            # log for later subscribers' catch-up. No await between the check and the jump.
            self.position = self._latest
            return
        while True:
            rows = await self.store.changes_since(self.position, limit=1000)
            if not rows:
                return
            if rows[0].resource_version != self.position + 1:
                _, compacted = await self.store.current_revision()
                if self.position < compacted:
                    log.warning(
                        "changefeed: fell behind compaction position=%s compacted=%s",
                        self.position,
                        compacted,
                    )
                    for sub in list(self._subscribers):
                        sub.gone = True
                        sub._close()
            for row in rows:
                event = _event(row)
                self.position = event.resource_version
                for sub in list(self._subscribers):
                    sub._offer(event)
            if len(rows) < 1000:
                return

    async def _listen_loop(self) -> None:
        import asyncpg

        dsn = postgres_dsn(self.store.engine.url)
        backoff = 0.5
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(dsn)
                await conn.add_listener(NOTIFY_CHANNEL, lambda *a: self.poke(_notified_rv(a[-1])))
                backoff = 0.5
                self.poke()  # anything missed while (re)connecting
                while not conn.is_closed():
                    await asyncio.sleep(5)
                    await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                raise
            except Exception as exc:
                log.warning("changefeed: LISTEN connection failed error=%r retry_in=%s", exc, backoff)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _notified_rv(payload: object) -> int:
    """The resourceVersion a NOTIFY carries (``0`` when it carries none)."""
    try:
        return int(str(payload))
    except ValueError:
        return 0
