"""Controller: events → keys → workers; retries, requeue_after, give-up, exclusivity, shutdown.

Informers here are fed through their sink methods (no API traffic); time is a FakeClock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from kubebind.cache.informer import SharedInformer
from kubebind.cache.listwatch import ListWatch
from kubebind.kube.client import ApiClient
from kubebind.kube.errors import ApiError
from kubebind.kube.kubeconfig import RestConfig
from kubebind.kube.resources import CONFIGMAPS, Object, ObjectKey
from kubebind.runtime.clock import FakeClock
from kubebind.runtime.controller import Controller, PrometheusControllerMetrics, Result
from kubebind.workqueue.ratelimiters import ItemExponentialFailureRateLimiter

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
async def informer() -> AsyncIterator[SharedInformer]:
    async with ApiClient(RestConfig(server="https://127.0.0.1:9")) as client:
        yield SharedInformer(ListWatch(client, CONFIGMAPS, "ns"))


def cm(name: str, rv: str = "1", owner: str | None = None) -> Object:
    meta: dict[str, Any] = {"namespace": "ns", "name": name, "resourceVersion": rv}
    if owner:
        meta["labels"] = {"owner": owner}
    return {"metadata": meta}


async def until(predicate: Any, clock: FakeClock | None = None, step: float = 0.0) -> None:
    for _ in range(500):
        if predicate():
            return
        if clock is not None and step:
            await clock.advance(step)
        else:
            await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def run_controller(ctrl: Controller) -> asyncio.Task[None]:
    task = asyncio.create_task(ctrl.run(), name="ctrl")
    await asyncio.sleep(0)
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_waits_for_sync_then_reconciles_each_key_once_per_burst(informer: SharedInformer) -> None:
    seen: list[ObjectKey] = []

    async def reconcile(key: ObjectKey) -> None:
        seen.append(key)

    ctrl = Controller("c", reconcile, workers=2, clock=FakeClock())
    ctrl.watch(informer)
    task = await run_controller(ctrl)
    informer.add(cm("a"))  # before sync: queued, but workers have not started
    for _ in range(10):
        await asyncio.sleep(0)
    assert seen == []
    for rv in "234":
        informer.update(cm("a", rv))
    informer.replace([cm("a", "4"), cm("b")], "5")
    await until(lambda: len(seen) >= 2)
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(seen) == [ObjectKey("ns", "a"), ObjectKey("ns", "b")]
    await stop(task)


async def test_errors_are_retried_with_backoff_then_forgotten(informer: SharedInformer) -> None:
    clock = FakeClock()
    calls: list[float] = []

    async def reconcile(key: ObjectKey) -> None:
        calls.append(clock.now())
        if len(calls) < 3:
            raise ApiError({"code": 409, "reason": "Conflict", "message": "stale"})

    limiter = ItemExponentialFailureRateLimiter[ObjectKey](1.0, 60.0)
    ctrl = Controller("c", reconcile, rate_limiter=limiter, clock=clock)
    ctrl.watch(informer)
    informer.replace([cm("a")], "1")
    task = await run_controller(ctrl)
    await until(lambda: len(calls) == 3, clock, 0.25)
    assert calls[1] - calls[0] >= 1.0 and calls[2] - calls[1] >= 2.0
    await until(lambda: ctrl.queue.num_requeues(ObjectKey("ns", "a")) == 0)
    await stop(task)


async def test_requeue_after_and_requeue(informer: SharedInformer) -> None:
    clock = FakeClock()
    calls: list[tuple[str, float]] = []

    async def reconcile(key: ObjectKey) -> Result | None:
        calls.append((key.name, clock.now()))
        if key.name == "later" and len(calls) < 3:
            return Result(requeue_after=30)
        return None

    ctrl = Controller("c", reconcile, clock=clock)
    ctrl.watch(informer)
    informer.replace([cm("later")], "1")
    task = await run_controller(ctrl)
    await until(lambda: len(calls) == 1)
    await clock.advance(29)
    assert len(calls) == 1
    await until(lambda: len(calls) == 2, clock, 1.0)
    assert calls[1][1] - calls[0][1] == pytest.approx(30)
    await stop(task)


async def test_gives_up_after_max_retries(informer: SharedInformer) -> None:
    clock = FakeClock()
    calls = 0

    async def reconcile(key: ObjectKey) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("always")

    ctrl = Controller(
        "c", reconcile, clock=clock, max_retries=2, rate_limiter=ItemExponentialFailureRateLimiter(0.1, 1)
    )
    ctrl.enqueue(ObjectKey("ns", "x"))
    task = await run_controller(ctrl)
    await until(lambda: calls == 3, clock, 0.1)
    for _ in range(30):
        await clock.advance(1)
    assert calls == 3
    assert ctrl.queue.num_requeues(ObjectKey("ns", "x")) == 0
    await stop(task)


async def test_one_key_never_runs_concurrently(informer: SharedInformer) -> None:
    active: set[ObjectKey] = set()
    overlaps = 0
    done = 0
    gate = asyncio.Event()

    async def reconcile(key: ObjectKey) -> None:
        nonlocal overlaps, done
        if key in active:
            overlaps += 1
        active.add(key)
        await gate.wait()
        active.discard(key)
        done += 1

    ctrl = Controller("c", reconcile, workers=4, clock=FakeClock())
    ctrl.watch(informer)
    informer.replace([cm("a")], "1")
    task = await run_controller(ctrl)
    await until(lambda: active)
    for rv in range(2, 10):
        informer.update(cm("a", str(rv)))  # events while reconciling
    for _ in range(20):
        await asyncio.sleep(0)
    gate.set()
    await until(lambda: done == 2)
    assert overlaps == 0
    await stop(task)


async def test_key_func_maps_children_to_owners_and_predicate_filters(informer: SharedInformer) -> None:
    seen: list[ObjectKey] = []

    async def reconcile(key: ObjectKey) -> None:
        seen.append(key)

    ctrl = Controller("c", reconcile, clock=FakeClock())
    ctrl.watch(
        informer,
        key_func=lambda o: ObjectKey("owners", o["metadata"]["labels"]["owner"]),
        predicate=lambda o: "owner" in (o["metadata"].get("labels") or {}),
    )
    informer.replace([cm("child-1", owner="p"), cm("child-2", owner="p"), cm("orphan")], "1")
    task = await run_controller(ctrl)
    await until(lambda: seen)
    for _ in range(20):
        await asyncio.sleep(0)
    assert seen == [ObjectKey("owners", "p")]
    await stop(task)


async def test_cancel_lets_in_flight_reconcile_finish_within_grace(informer: SharedInformer) -> None:
    finished = asyncio.Event()
    started = asyncio.Event()

    async def reconcile(key: ObjectKey) -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()

    registry = CollectorRegistry()
    ctrl = Controller("graceful", reconcile, metrics=PrometheusControllerMetrics(registry), shutdown_grace=5)
    ctrl.enqueue(ObjectKey("ns", "a"))
    task = await run_controller(ctrl)
    await started.wait()
    await stop(task)
    assert finished.is_set()
    assert ctrl.queue.shutting_down()
    labels = {"controller": "graceful", "result": "success"}
    assert registry.get_sample_value("kube_bind_controller_reconcile_total", labels) == 1


async def test_cancel_interrupts_reconciles_exceeding_grace() -> None:
    async def reconcile(key: ObjectKey) -> None:
        await asyncio.sleep(3600)

    ctrl = Controller("stuck", reconcile, shutdown_grace=0.05)
    ctrl.enqueue(ObjectKey("", "a"))
    task = await run_controller(ctrl)
    await asyncio.sleep(0.01)
    async with asyncio.timeout(2):
        await stop(task)


def test_needs_a_worker() -> None:
    async def reconcile(key: ObjectKey) -> None:
        return None

    with pytest.raises(ValueError):
        Controller("c", reconcile, workers=0)


async def test_shutting_the_queue_down_ends_run() -> None:
    async def reconcile(key: ObjectKey) -> None:
        return None

    ctrl = Controller("c", reconcile, clock=FakeClock())
    task = await run_controller(ctrl)
    await asyncio.sleep(0)
    ctrl.queue.shut_down()
    async with asyncio.timeout(2):
        await task
