"""The de-duplicating FIFO: stingy, exclusive, fair, and shutdown semantics."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.workqueue import Queue, ShutDown

pytestmark = pytest.mark.timeout(10)


async def test_fifo_and_deduplicates_queued_items() -> None:
    q: Queue[str] = Queue("t")
    for item in ["a", "b", "a", "c", "b"]:
        q.add(item)
    assert len(q) == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_readd_while_processing_is_deferred_until_done() -> None:
    q: Queue[str] = Queue("t")
    q.add("a")
    item = await q.get()
    q.add("a")
    q.add("a")
    assert len(q) == 0, "an item being processed must not be handed to a second worker"
    q.done(item)
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    assert len(q) == 0 and q.processing() == frozenset()


async def test_done_without_readd_does_not_requeue() -> None:
    q: Queue[str] = Queue("t")
    q.add("a")
    q.done(await q.get())
    assert len(q) == 0


async def test_waiting_consumers_are_woken_in_order() -> None:
    q: Queue[int] = Queue("t")
    got: list[tuple[str, int]] = []

    async def consumer(name: str) -> None:
        got.append((name, await q.get()))

    first = asyncio.create_task(consumer("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(consumer("second"))
    await asyncio.sleep(0)
    q.add(1)
    q.add(2)
    await asyncio.gather(first, second)
    assert got == [("first", 1), ("second", 2)]


async def test_cancelled_waiter_does_not_swallow_a_wakeup() -> None:
    q: Queue[int] = Queue("t")
    doomed = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    survivor = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add(1)  # wakes `doomed` ...
    doomed.cancel()  # ... which is cancelled before it runs
    assert await asyncio.wait_for(survivor, 1) == 1


async def test_shutdown_wakes_waiters_and_ignores_adds() -> None:
    q: Queue[int] = Queue("t")
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shut_down()
    with pytest.raises(ShutDown):
        await waiter
    q.add(5)
    assert len(q) == 0
    with pytest.raises(ShutDown):
        await q.get()


async def test_shutdown_still_hands_out_queued_items() -> None:
    q: Queue[int] = Queue("t")
    q.add(1)
    q.shut_down()
    assert q.shutting_down()
    assert await q.get() == 1
    with pytest.raises(ShutDown):
        await q.get()


async def test_shutdown_with_drain_waits_for_in_flight_items() -> None:
    q: Queue[int] = Queue("t")
    q.add(1)
    item = await q.get()
    drain = asyncio.create_task(q.shut_down_with_drain())
    await asyncio.sleep(0.01)
    assert not drain.done()
    q.done(item)
    await asyncio.wait_for(drain, 1)


async def test_many_workers_process_each_key_exclusively() -> None:
    q: Queue[int] = Queue("t")
    active: set[int] = set()
    seen: list[int] = []
    enough = asyncio.Event()

    async def worker() -> None:
        while True:
            try:
                item = await q.get()
            except ShutDown:
                return
            assert item not in active
            active.add(item)
            await asyncio.sleep(0)
            if len(seen) < 50:
                q.add(item)  # re-added while being processed
            seen.append(item)
            if len(seen) >= 50:
                enough.set()
            active.discard(item)
            q.done(item)

    for i in range(5):
        q.add(i)
    workers = [asyncio.create_task(worker()) for _ in range(4)]
    await asyncio.wait_for(enough.wait(), 5)
    await asyncio.wait_for(q.shut_down_with_drain(), 5)
    await asyncio.gather(*workers)
    assert set(seen) == set(range(5))
    assert len(q) == 0 and not q.processing()


async def test_done_for_an_item_not_in_processing_is_ignored() -> None:
    q: Queue[str] = Queue("t")
    q.add("a")
    q.done("a")  # misuse: "a" was never handed out
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    assert len(q) == 0
