"""Reflector and informers against a real kube-apiserver: initial paged list, live events,
listers and indices, watch timeouts without re-list, resume after a stop, 410 → re-list with
tombstones, bookmarks, the factory, and a controller reconciling real objects."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubebind.cache import factory as factory_mod
from kubebind.cache.index import label_index_func
from kubebind.cache.informer import DeletedFinalStateUnknown, SharedInformer, final_state
from kubebind.cache.listwatch import ListWatch
from kubebind.kube import client as kclient
from kubebind.kube import errors
from kubebind.kube.resources import (
    CONFIGMAPS,
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
    Object,
    ObjectKey,
)
from kubebind.runtime.controller import Controller
from tests.cluster.test_client_watch import fresh_crd
from tests.harness import ROOT_CA_CONFIGMAP, Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]


@pytest.fixture
async def api(provider: Cluster) -> AsyncIterator[kclient.ApiClient]:
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig) as client:
        yield client


class Recorder:
    """Records handler calls for the test's own ConfigMaps (not the controller-manager's)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []

    def _record(self, event: str, name: str, detail: Any) -> None:
        if name != ROOT_CA_CONFIGMAP:
            self.events.append((event, name, detail))

    def on_add(self, obj: Object, is_in_initial_list: bool) -> None:
        self._record("add", obj["metadata"]["name"], is_in_initial_list)

    def on_update(self, old: Object, new: Object) -> None:
        self._record("update", new["metadata"]["name"], new.get("data"))

    def on_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        self._record(
            "delete", final_state(obj)["metadata"]["name"], isinstance(obj, DeletedFinalStateUnknown)
        )


async def eventually(predicate: Callable[[], Any], within: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(*informers: SharedInformer) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(i.run(), name=f"test-informer:{i.name}") for i in informers]
    try:
        async with asyncio.timeout(20):
            for informer in informers:
                await informer.wait_for_sync()
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_paged_initial_list_then_live_events(api: kclient.ApiClient, provider_namespace: str) -> None:
    ns = provider_namespace
    for i in range(5):
        await api.create(CONFIGMAPS, {"metadata": {"name": f"pre-{i}", "labels": {"app": "x"}}}, namespace=ns)
    informer = SharedInformer(
        ListWatch(api, CONFIGMAPS, ns, label_selector="app"),
        page_size=2,
        indexers={"app": label_index_func("app")},
    )
    rec = Recorder()
    informer.add_event_handler(rec)
    async with running(informer):
        assert sorted(e[1] for e in rec.events) == [f"pre-{i}" for i in range(5)]
        assert all(e[0] == "add" and e[2] is True for e in rec.events)
        assert informer.reflector.list_count == 1
        assert informer.lister.get("pre-3", ns)["kind"] == "ConfigMap"  # type: ignore[index]
        rec.events.clear()

        await api.create(CONFIGMAPS, {"metadata": {"name": "live", "labels": {"app": "y"}}}, namespace=ns)
        await api.create(CONFIGMAPS, {"metadata": {"name": "unlabelled"}}, namespace=ns)
        await api.patch(CONFIGMAPS, "live", {"data": {"k": "v"}}, namespace=ns)
        await api.delete(CONFIGMAPS, "pre-0", namespace=ns)
        await eventually(lambda: len(rec.events) >= 3, what="live events")
        assert rec.events == [
            ("add", "live", False),
            ("update", "live", {"k": "v"}),
            ("delete", "pre-0", False),
        ]
        assert [o["metadata"]["name"] for o in informer.lister.list(ns, selector="app=y")] == ["live"]
        assert [o["metadata"]["name"] for o in informer.store.by_index("app", "y")] == ["live"]
        assert informer.lister.get("unlabelled", ns) is None, "the server-side selector must apply"
        assert int(informer.last_sync_resource_version) > 0


async def test_watch_timeouts_rewatch_without_relisting(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    informer = SharedInformer(ListWatch(api, CONFIGMAPS, provider_namespace), min_watch_timeout=1)
    rec = Recorder()
    informer.add_event_handler(rec)
    async with running(informer):
        await eventually(lambda: informer.reflector.watch_count >= 3, within=30, what="three watches")
        await api.create(CONFIGMAPS, {"metadata": {"name": "after-timeouts"}}, namespace=provider_namespace)
        await eventually(lambda: ("add", "after-timeouts", False) in rec.events, what="event after re-watch")
        assert informer.reflector.list_count == 1


async def test_resume_after_stop_watches_from_last_version(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    ns = provider_namespace
    await api.create(CONFIGMAPS, {"metadata": {"name": "a"}}, namespace=ns)
    informer = SharedInformer(ListWatch(api, CONFIGMAPS, ns))
    rec = Recorder()
    informer.add_event_handler(rec)
    async with running(informer):
        pass
    await api.delete(CONFIGMAPS, "a", namespace=ns)
    await api.create(CONFIGMAPS, {"metadata": {"name": "b"}}, namespace=ns)
    rec.events.clear()
    async with running(informer):
        await eventually(lambda: len(rec.events) >= 2, what="missed changes replayed by the watch")
    assert rec.events[:2] == [("delete", "a", False), ("add", "b", False)]
    assert informer.reflector.list_count == 1


async def test_gone_resource_version_relists_and_emits_tombstones(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    ns = provider_namespace
    ref = await fresh_crd(api)
    try:
        for name in ("keep", "vanish"):
            await api.create(ref, {"metadata": {"name": name}, "spec": {"v": 1}}, namespace=ns)
        informer = SharedInformer(ListWatch(api, ref, ns))
        rec = Recorder()
        informer.add_event_handler(rec)
        async with running(informer):
            pass
        # While the informer is down, objects change and its version falls out of the server's
        # window (simulated with a version older than this resource's watch cache).
        await api.delete(ref, "vanish", namespace=ns)
        await api.create(ref, {"metadata": {"name": "new"}}, namespace=ns)
        await api.patch(ref, "keep", {"spec": {"v": 2}}, namespace=ns)
        informer.reflector.last_sync_resource_version = "1"
        rec.events.clear()
        async with running(informer):
            await eventually(lambda: informer.reflector.list_count == 2, what="re-list after 410")
            await eventually(lambda: len(rec.events) >= 3, what="re-list notifications")
        assert isinstance(informer.reflector.last_error, errors.GoneError)
        assert sorted((e[0], e[1]) for e in rec.events) == [
            ("add", "new"),
            ("delete", "vanish"),
            ("update", "keep"),
        ]
        assert ("delete", "vanish", True) in rec.events, "a deletion seen only by re-list is a tombstone"
        assert sorted(k.name for k in informer.store.list_keys()) == ["keep", "new"]
    finally:
        await api.delete(CUSTOM_RESOURCE_DEFINITIONS, f"{ref.resource}.{ref.group}")


async def test_bookmarks_advance_the_reflector_version(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    other = f"churn-{uuid.uuid4().hex[:8]}"
    await api.create(NAMESPACES, {"metadata": {"name": other}})
    informer = SharedInformer(ListWatch(api, CONFIGMAPS, provider_namespace), min_watch_timeout=4)
    rec = Recorder()
    informer.add_event_handler(rec)
    try:
        async with running(informer):
            listed = int(informer.last_sync_resource_version)
            for i in range(40):
                await api.create(CONFIGMAPS, {"metadata": {"name": f"c{i}"}}, namespace=other)
                await asyncio.sleep(0.2)
                if int(informer.last_sync_resource_version) > listed:
                    break
            assert int(informer.last_sync_resource_version) > listed, "no bookmark advanced the version"
            assert all(e[0] == "add" and e[2] is True for e in rec.events), (
                "bookmarks must not reach handlers"
            )
    finally:
        await api.delete(NAMESPACES, other)


async def test_factory_and_controller_reconcile_real_objects(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    ns = provider_namespace
    factory = factory_mod.SharedInformerFactory(api, namespace=ns)
    informer = factory.informer_for(CONFIGMAPS, label_selector={"reconcile": "me"})
    assert factory.informer_for(CONFIGMAPS, label_selector="reconcile=me") is informer

    async def reconcile(key: ObjectKey) -> None:
        obj = informer.lister.get(key.name, key.namespace)
        if obj is None or (obj.get("data") or {}).get("seen") == "yes":
            return
        await api.patch(
            CONFIGMAPS,
            key.name,
            {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]}, "data": {"seen": "yes"}},
            namespace=key.namespace,
        )

    ctrl = Controller("stamp", reconcile, workers=2)
    ctrl.watch(informer)
    for i in range(5):
        await api.create(
            CONFIGMAPS, {"metadata": {"name": f"r{i}", "labels": {"reconcile": "me"}}}, namespace=ns
        )
    async with asyncio.TaskGroup() as tg:
        factory_task = tg.create_task(factory.run(), name="factory")
        ctrl_task = tg.create_task(ctrl.run(), name="controller")
        async with asyncio.timeout(20):
            await factory.wait_for_cache_sync()
        late = factory.informer_for(NAMESPACES)  # requested while running: starts at once
        await api.create(
            CONFIGMAPS, {"metadata": {"name": "r-late", "labels": {"reconcile": "me"}}}, namespace=ns
        )

        def stamped() -> bool:
            objs = informer.lister.list(ns)
            return len(objs) == 6 and all((o.get("data") or {}).get("seen") == "yes" for o in objs)

        await eventually(stamped, what="all objects stamped by the controller")
        async with asyncio.timeout(20):
            await late.wait_for_sync()
        assert late.lister.get(ns) is not None
        ctrl_task.cancel()
        factory_task.cancel()
