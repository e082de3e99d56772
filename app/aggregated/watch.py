"""Streaming watch responses: newline-delimited ``{"type", "object"}`` events, bookmarks, timeouts.

Events come from a change-feed subscription (``app.registry.rest.RestStore.watch``). The stream
sends a BOOKMARK with the subscription's position every ``bookmark_interval`` seconds when the
client asked for bookmarks (``allowWatchBookmarks=true``), ends cleanly after ``timeoutSeconds``,
and reports a compacted start version as an ``ERROR`` event carrying a 410 ``Status`` (what
kube-apiserver sends, and what makes client-go re-list).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from app.metrics import Metrics
from app.registry.rest import WatchStream
from app.storage import errors


def encode(event_type: str, obj: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


async def stream(
    watch: WatchStream,
    *,
    duration: float,
    bookmarks: bool,
    bookmark_interval: float,
    render: Callable[[dict[str, Any]], dict[str, Any]],
    metrics: Metrics,
    resource: str,
    render_key: str | None = None,
) -> AsyncIterator[bytes]:
    """The response body of one watch. ``render_key`` names ``render`` when its output depends
    only on the object (so one encoding per change can be shared by all watchers), else None."""
    deadline = time.monotonic() + duration
    metrics.watchers.labels(resource).inc()
    try:
        for ev in watch.initial_events():
            metrics.watch_events.labels(ev.type).inc()
            yield encode(ev.type, render(ev.object) if ev.type != "BOOKMARK" else ev.object)
        next_bookmark = time.monotonic() + bookmark_interval
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            wait = deadline - now
            if bookmarks:
                wait = min(wait, max(next_bookmark - now, 0.0))
            got = await watch.next(wait)
            if got is False:
                if bookmarks and time.monotonic() >= next_bookmark:
                    yield encode("BOOKMARK", watch.bookmark())
                    metrics.watch_events.labels("BOOKMARK").inc()
                    next_bookmark = time.monotonic() + bookmark_interval
                continue
            if got is None:
                if watch.gone:
                    yield encode("ERROR", errors.Gone("the watch fell behind compaction; re-list").status())
                return
            assert not isinstance(got, bool)
            metrics.watch_events.labels(got.type).inc()
            source = got.source
            if source is not None and source.type == got.type and render_key is not None:
                data = source.encoded.get(render_key)
                if data is None:
                    data = source.encoded[render_key] = encode(got.type, render(got.object))
                yield data
            else:
                yield encode(got.type, render(got.object))
    except errors.StatusError as exc:
        yield encode("ERROR", exc.status())
    except asyncio.CancelledError:
        raise
    finally:
        watch.close()
        metrics.watchers.labels(resource).dec()
