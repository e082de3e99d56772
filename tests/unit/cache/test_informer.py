"""SharedInformer notification semantics, driven through its reflector-sink interface."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubebind.cache import factory as factory_mod
from kubebind.cache.informer import DeletedFinalStateUnknown, EventHandlerFuncs, SharedInformer, final_state
from kubebind.cache.reflector import Backoff, _typed_items
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CONFIGMAPS, NAMESPACES, Object, ObjectKey

pytestmark = pytest.mark.timeout(10)


def cm(name: str, rv: str, **data: str) -> Object:
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": rv}, "data": data}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_add(self, obj: Object, is_in_initial_list: bool) -> None:
        self.events.append(("add", obj["metadata"]["name"], is_in_initial_list))

    def on_update(self, old: Object, new: Object) -> None:
        self.events.append(
            (
                "update",
                new["metadata"]["name"],
                old["metadata"]["resourceVersion"],
                new["metadata"]["resourceVersion"],
            )
        )

    def on_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        tomb = isinstance(obj, DeletedFinalStateUnknown)
        self.events.append(("delete", final_state(obj)["metadata"]["name"], tomb))


async def test_initial_list_then_watch_events(informer: SharedInformer) -> None:
    rec = Recorder()
    informer.add_event_handler(rec)
    assert not informer.has_synced()
    informer.replace([cm("a", "1"), cm("b", "2")], "2")
    assert informer.has_synced()
    informer.add(cm("c", "3"))
    informer.update(cm("a", "4"))
    informer.delete(cm("b", "5"))
    assert rec.events == [
        ("add", "a", True),
        ("add", "b", True),
        ("add", "c", False),
        ("update", "a", "1", "4"),
        ("delete", "b", False),
    ]
    assert sorted(k.name for k in informer.store.list_keys()) == ["a", "c"]


async def test_relist_emits_tombstones_updates_and_adds(informer: SharedInformer) -> None:
    informer.replace([cm("keep", "1"), cm("change", "1"), cm("vanish", "1")], "1")
    rec = Recorder()
    informer.add_event_handler(rec)
    rec.events.clear()  # drop the replay of the late registration
    informer.replace([cm("keep", "1"), cm("change", "7"), cm("new", "8")], "8")
    assert sorted(rec.events) == [
        ("add", "new", False),
        ("delete", "vanish", True),
        ("update", "change", "1", "7"),
    ]
    tomb_args: list[Object | DeletedFinalStateUnknown] = []
    informer.add_event_handler(EventHandlerFuncs(delete=tomb_args.append))
    informer.replace([], "9")
    tombs = [t for t in tomb_args if isinstance(t, DeletedFinalStateUnknown)]
    assert {t.key for t in tombs} == {
        ObjectKey("ns", "keep"),
        ObjectKey("ns", "change"),
        ObjectKey("ns", "new"),
    }
    assert next(t for t in tombs if t.key.name == "change").obj["metadata"]["resourceVersion"] == "7"


async def test_late_handler_gets_replay_and_removed_handler_gets_nothing(informer: SharedInformer) -> None:
    informer.replace([cm("a", "1")], "1")
    rec = Recorder()
    reg = informer.add_event_handler(rec)
    assert rec.events == [("add", "a", True)] and reg.has_synced()
    informer.remove_event_handler(reg)
    informer.add(cm("b", "2"))
    assert rec.events == [("add", "a", True)]


async def test_failing_handler_does_not_starve_others(informer: SharedInformer) -> None:
    def boom(obj: Object) -> None:
        raise RuntimeError("handler bug")

    rec = Recorder()
    informer.add_event_handler(EventHandlerFuncs(add=boom))
    informer.add_event_handler(rec)
    informer.add(cm("a", "1"))
    assert rec.events == [("add", "a", False)]
    assert informer.store.get_by_key(ObjectKey("ns", "a")) is not None


async def test_resync_redelivers_cached_objects_as_updates(informer: SharedInformer) -> None:
    informer.replace([cm("a", "1")], "1")
    rec = Recorder()
    informer.add_event_handler(rec)
    rec.events.clear()
    informer.resync()
    assert rec.events == [("update", "a", "1", "1")]


async def test_transform_applies_before_storing(idle_client: ApiClient) -> None:
    from kubebind.cache.listwatch import ListWatch

    def strip(obj: Object) -> Object:
        obj["metadata"].pop("managedFields", None)
        return obj

    inf = SharedInformer(ListWatch(idle_client, CONFIGMAPS), transform=strip)
    inf.replace([{"metadata": {"name": "a", "namespace": "n", "managedFields": [{}]}}], "1")
    inf.add({"metadata": {"name": "b", "namespace": "n", "managedFields": [{}]}})
    assert all("managedFields" not in o["metadata"] for o in inf.store.list())


async def test_wait_for_sync(informer: SharedInformer) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await informer.wait_for_sync()
    asyncio.get_running_loop().call_soon(informer.replace, [], "1")
    async with asyncio.timeout(1):
        await informer.wait_for_sync()


async def test_factory_shares_one_informer_per_query(idle_client: ApiClient) -> None:
    factory = factory_mod.SharedInformerFactory(idle_client, namespace="ns")
    a = factory.informer_for(CONFIGMAPS, label_selector={"app": "x"})
    assert factory.informer_for(CONFIGMAPS, label_selector="app=x") is a
    assert factory.informer_for(CONFIGMAPS) is not a
    assert factory.informer_for(CONFIGMAPS, namespace=None) is not factory.informer_for(CONFIGMAPS)
    assert factory.informer_for(NAMESPACES, namespace="ignored") is factory.informer_for(NAMESPACES)
    factory.informer_for(CONFIGMAPS, label_selector="app=x", indexers={"extra": lambda o: []})
    assert a.store.has_index("extra")
    factory.stop_informer(a)
    assert factory.informer_for(CONFIGMAPS, label_selector="app=x") is not a


def test_backoff_grows_with_jitter_caps_and_resets() -> None:
    b = Backoff(1.0, 10.0, jitter=1.0, rand=lambda: 0.5)
    assert [b.next() for _ in range(5)] == [1.5, 3.0, 6.0, 10.0, 10.0]
    b.reset()
    assert b.next() == 1.5
    exact = Backoff(1.0, 10.0, jitter=0.0)
    assert [exact.next() for _ in range(3)] == [1.0, 2.0, 4.0]
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_list_items_get_api_version_and_kind() -> None:
    page = {"apiVersion": "v1", "kind": "ConfigMapList", "items": [{"metadata": {"name": "a"}}]}
    assert _typed_items(page) == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}]


async def test_reflector_resync_timer_redelivers_after_sync(informer: SharedInformer) -> None:
    from kubebind.runtime.clock import FakeClock

    clock = FakeClock()
    reflector = informer.reflector
    reflector._clock = clock
    reflector.resync_period = 30
    rec = Recorder()
    informer.add_event_handler(rec)
    timer = asyncio.create_task(reflector._resync_loop())
    await clock.advance(30)
    assert rec.events == [], "no resync before the first list"
    informer.replace([cm("a", "1")], "1")
    reflector.has_synced = True
    rec.events.clear()
    await clock.advance(29)
    assert rec.events == []
    await clock.advance(1)
    assert rec.events == [("update", "a", "1", "1")]
    await clock.advance(30)
    assert len(rec.events) == 2
    timer.cancel()
