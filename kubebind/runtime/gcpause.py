"""Keep Python's cyclic garbage collector from stopping the event loop for the size of the caches.

A full (generation 2) collection walks every container object the process holds. Informer caches
are big: measured on the CI machine, 20,000 cached Kubernetes objects (a konnector syncing 10,000,
one copy per side) make each full collection an 82 ms pause — every event, request and lease
renewal of the process waits that long, which is what the konnector's p99 sync latency showed.

Cached objects are acyclic JSON (dicts, lists, strings) that reference counting frees the moment
the cache drops them, so the cyclic collector gains nothing by rescanning them. :class:`GCPauseGuard`
therefore:

* after every full collection, *freezes* the survivors (:func:`gc.freeze`), so the next full
  collections only walk objects created since — the caches' long-lived objects are skipped;
* every ``refresh_interval`` seconds unfreezes, runs one full collection (a single pause) and
  freezes again, so reference cycles among objects that were frozen while still alive (a
  finished task and its traceback, say) are still reclaimed, only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from typing import Any

__all__ = ["GCPauseGuard"]

log = logging.getLogger(__name__)


class GCPauseGuard:
    """See the module docstring. ``install()`` once per process; ``run()`` as a background task."""

    def __init__(self, refresh_interval: float = 600.0) -> None:
        self.refresh_interval = refresh_interval
        self.freezes = 0
        self.refreshes = 0
        self.last_refresh_pause = 0.0
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._on_gc)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            gc.callbacks.remove(self._on_gc)
            self._installed = False
            gc.unfreeze()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()  # the collection is over: this only moves its survivors aside
            self.freezes += 1

    def refresh(self) -> float:
        """Unfreeze, collect everything once, freeze again; returns the pause in seconds."""
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()  # its "stop" callback freezes the survivors
        pause = time.perf_counter() - started
        self.refreshes += 1
        self.last_refresh_pause = pause
        log.debug("gc refresh pause_ms=%.1f frozen=%d", pause * 1000, gc.get_freeze_count())
        return pause

    async def run(self) -> None:
        """Install, then refresh every ``refresh_interval`` until cancelled (then uninstall)."""
        self.install()
        try:
            while True:
                await asyncio.sleep(self.refresh_interval)
                self.refresh()
        finally:
            with contextlib.suppress(ValueError):
                self.uninstall()
