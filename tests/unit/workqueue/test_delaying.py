"""add_after with a fake clock: items appear exactly when due; the earlier of two adds wins."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.runtime.clock import FakeClock
from kubebind.workqueue import DelayingQueue

pytestmark = pytest.mark.timeout(10)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_item_appears_only_after_its_delay() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue("t", clock=clock)
    q.add_after("a", 10)
    await settle()
    assert len(q) == 0 and q.waiting() == 1
    await clock.advance(9.9)
    await settle()
    assert len(q) == 0
    await clock.advance(0.1)
    await settle()
    assert len(q) == 1 and q.waiting() == 0
    assert await q.get() == "a"
    q.shut_down()


async def test_items_come_out_in_ready_order() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue("t", clock=clock)
    q.add_after("late", 5)
    q.add_after("early", 1)
    q.add_after("middle", 3)
    await settle()
    out = []
    for _ in range(5):
        await clock.advance(1)
        await settle()
        while len(q):
            out.append(await q.get())
    assert out == ["early", "middle", "late"]
    q.shut_down()


async def test_earlier_add_wins_and_later_one_does_not_postpone() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue("t", clock=clock)
    q.add_after("a", 10)
    q.add_after("a", 2)
    q.add_after("a", 50)
    await settle()
    await clock.advance(2)
    await settle()
    assert len(q) == 1
    q.done(await q.get())
    await clock.advance(100)
    await settle()
    assert len(q) == 0, "superseded heap entries must not re-add the item"
    q.shut_down()


async def test_non_positive_delay_adds_at_once() -> None:
    q: DelayingQueue[str] = DelayingQueue("t", clock=FakeClock())
    q.add_after("a", 0)
    q.add_after("b", -1)
    assert len(q) == 2


async def test_shutdown_stops_the_waiting_task_and_drops_waiting_items() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue("t", clock=clock)
    q.add_after("a", 1)
    await settle()
    task = q._waiting_task
    assert task is not None and task.get_name() == "workqueue-waiting:t"
    q.shut_down()
    await settle()
    assert task.done()
    await clock.advance(5)
    assert len(q) == 0
    q.add_after("b", 1)
    assert q.waiting() == 0
