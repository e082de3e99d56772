"""GCPauseGuard with the real collector: survivors of a full collection are frozen (later full
collections skip them), a refresh still reclaims cycles among once-frozen objects, and
uninstalling leaves the collector as it was."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from kubebind.runtime.gcpause import GCPauseGuard


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def guard() -> Iterator[GCPauseGuard]:
    g = GCPauseGuard(refresh_interval=0.05)
    yield g
    g.uninstall()
    gc.unfreeze()
    assert g._on_gc not in gc.callbacks


def test_full_collection_freezes_survivors_and_gen2_skips_them(guard: GCPauseGuard) -> None:
    guard.install()
    cache = [{"metadata": {"name": f"o{i}"}, "spec": {"n": [i]}} for i in range(20_000)]
    gc.collect()
    assert guard.freezes >= 1
    assert gc.get_freeze_count() >= 3 * len(cache)  # each object holds three containers
    # a further full collection walks only what is not frozen
    assert len(gc.get_objects(generation=2)) < len(cache)
    del cache


def test_refresh_reclaims_a_cycle_that_was_frozen_while_alive(guard: GCPauseGuard) -> None:
    guard.install()
    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    gc.collect()  # a and b survive (still referenced) and are frozen
    del a, b
    gc.collect()
    assert ref() is not None, "a frozen cycle is not collected by a normal full collection"
    pause = guard.refresh()
    assert ref() is None
    assert guard.refreshes == 1 and pause >= 0 and guard.freezes >= 3


async def test_run_refreshes_periodically_and_uninstalls_when_cancelled(guard: GCPauseGuard) -> None:
    task = asyncio.create_task(guard.run())
    # a full collection of a big test process can itself take a good part of a second
    for _ in range(200):
        if guard.refreshes >= 2:
            break
        await asyncio.sleep(0.05)
    assert guard.refreshes >= 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert guard._on_gc not in gc.callbacks
