"""Fault tolerance against a real apiserver restart (on an extra control plane, so the shared
clusters are untouched): the informer backs off while the server is gone, reconnects, catches up
(re-listing if its version is now too old for the new watch cache), and keeps delivering events;
a leader keeps or regains its lease."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kubebind.cache.informer import SharedInformer
from kubebind.cache.listwatch import ListWatch
from kubebind.cache.reflector import Backoff
from kubebind.kube import client as kclient
from kubebind.kube.resources import CONFIGMAPS
from tests.harness import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]


async def eventually(predicate: Callable[[], Any], within: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_informer_survives_an_apiserver_restart(extra_cluster: Callable[[str], Cluster]) -> None:
    cluster = extra_cluster("restart")
    async with kclient.ApiClient.from_kubeconfig(cluster.kubeconfig) as api:
        await api.create(CONFIGMAPS, {"metadata": {"name": "before"}}, namespace="default")
        informer = SharedInformer(ListWatch(api, CONFIGMAPS, "default"), backoff=Backoff(0.2, 2.0))
        added: list[str] = []
        deleted: list[str] = []

        class Handler:
            def on_add(self, obj: dict[str, Any], is_in_initial_list: bool) -> None:
                added.append(obj["metadata"]["name"])

            def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
                pass

            def on_delete(self, obj: Any) -> None:
                deleted.append(obj)

        informer.add_event_handler(Handler())
        task = asyncio.create_task(informer.run(), name="informer")
        try:
            async with asyncio.timeout(20):
                await informer.wait_for_sync()
            assert "before" in added

            await asyncio.to_thread(cluster.local.apiserver.stop)
            with pytest.raises(httpx.ConnectError):
                await api.list(CONFIGMAPS, namespace="default")
            await eventually(
                lambda: isinstance(informer.reflector.last_error, httpx.HTTPError), what="an error"
            )
            await asyncio.to_thread(cluster.local.apiserver.start)
            await asyncio.to_thread(cluster.local.apiserver.wait_ready, 60.0)

            await api.create(CONFIGMAPS, {"metadata": {"name": "after"}}, namespace="default")
            await eventually(lambda: "after" in added, what="an event after the restart")
            assert informer.reflector.watch_count >= 2
            assert informer.lister.get("before", "default") is not None
            assert not deleted, "a restart must not make objects look deleted"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
