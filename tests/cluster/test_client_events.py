"""EventRecorder against a real apiserver: events.k8s.io/v1 Events on the object concerned, and
repeats folded into one Event's series instead of new objects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubebind.kube import client as kclient
from kubebind.kube.resources import CONFIGMAPS, EVENTS, NAMESPACES
from kubebind.runtime.events import EventRecorder
from tests.harness import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]


@pytest.fixture
async def api(provider: Cluster) -> AsyncIterator[kclient.ApiClient]:
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig) as client:
        yield client


async def test_events_are_recorded_and_repeats_become_a_series(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    cm = await api.create(CONFIGMAPS, {"metadata": {"name": "target"}}, namespace=provider_namespace)
    recorder = EventRecorder(api, controller="kube-bind.io/test", instance="test-0")
    writer = asyncio.create_task(recorder.run(), name="events")
    try:
        for _ in range(3):
            recorder.event(cm, "Warning", "SyncFailed", "provider unreachable")
        recorder.event(cm, "Normal", "Synced", "all good", action="Sync")

        async def events() -> list[dict[str, Any]]:
            listed = await api.list(EVENTS, namespace=provider_namespace)
            return [e for e in listed["items"] if e["regarding"]["name"] == "target"]

        async with asyncio.timeout(20):
            while True:
                found = await events()
                warnings = [e for e in found if e["reason"] == "SyncFailed"]
                if len(found) == 2 and warnings and (warnings[0].get("series") or {}).get("count") == 3:
                    break
                await asyncio.sleep(0.1)
        warning = warnings[0]
        assert warning["type"] == "Warning" and warning["note"] == "provider unreachable"
        assert warning["regarding"]["uid"] == cm["metadata"]["uid"]
        assert warning["reportingController"] == "kube-bind.io/test"
        assert warning["reportingInstance"] == "test-0"
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)


async def test_cluster_scoped_objects_get_events_in_default(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    ns = await api.get(NAMESPACES, provider_namespace)
    recorder = EventRecorder(api, controller="kube-bind.io/test", instance="test-0")
    recorder.event(ns, "Normal", "Seen", f"namespace {provider_namespace} seen")
    await recorder.flush()
    listed = await api.list(EVENTS, namespace="default")
    assert any(
        e["regarding"]["name"] == provider_namespace and e["reason"] == "Seen" for e in listed["items"]
    )
    with pytest.raises(ValueError):
        recorder.event(ns, "Error", "Bad", "not a valid type")
