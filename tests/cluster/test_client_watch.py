"""ApiClient.watch against a real kube-apiserver: event types, selectors, bookmarks, watch-list,
server timeouts, and 410 Gone for a resourceVersion older than the server keeps."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from kubebind.kube import client as kclient
from kubebind.kube import errors
from kubebind.kube.resources import CONFIGMAPS, CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES, ResourceRef
from tests.harness import ROOT_CA_CONFIGMAP, Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(90)]


@pytest.fixture(params=["http1.1", "http2"])
async def api(provider: Cluster, request: pytest.FixtureRequest) -> AsyncIterator[kclient.ApiClient]:
    """Every test runs on both transports: our HTTP/1.1 pool and httpx's HTTP/2."""
    http2 = request.param == "http2"
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig, http2=http2) as client:
        yield client


async def fresh_crd(api: kclient.ApiClient) -> ResourceRef:
    """A new CRD: its watch cache starts now, so older resourceVersions are too old for it."""
    group = f"t{uuid.uuid4().hex[:10]}.kubebind.test"
    await api.create(
        CUSTOM_RESOURCE_DEFINITIONS,
        {
            "metadata": {"name": f"widgets.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {
                    "plural": "widgets",
                    "singular": "widget",
                    "kind": "Widget",
                    "listKind": "WidgetList",
                },
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        },
    )
    ref = ResourceRef(group, "v1", "widgets", kind="Widget")
    deadline = time.monotonic() + 30
    while True:
        try:
            await api.list(ref, limit=1)
            return ref
        except errors.NotFoundError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_watch_delivers_added_modified_deleted_in_order(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    ns = provider_namespace
    _, rv = await api.list_all(CONFIGMAPS, namespace=ns)
    seen: list[tuple[str, str]] = []
    async with api.watch(
        CONFIGMAPS, namespace=ns, resource_version=rv, label_selector={"w": "yes"}
    ) as stream:
        await api.create(CONFIGMAPS, {"metadata": {"name": "ignored"}}, namespace=ns)
        await api.create(CONFIGMAPS, {"metadata": {"name": "w", "labels": {"w": "yes"}}}, namespace=ns)
        await api.patch(CONFIGMAPS, "w", {"data": {"k": "v"}}, namespace=ns)
        await api.delete(CONFIGMAPS, "w", namespace=ns)
        async with asyncio.timeout(20):
            async for type_, obj in stream:
                seen.append((type_, obj["metadata"]["name"]))
                assert obj["kind"] == "ConfigMap"
                if type_ == "DELETED":
                    break
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


async def test_bookmarks_report_progress_without_events(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    other = f"churn-{uuid.uuid4().hex[:8]}"
    await api.create(NAMESPACES, {"metadata": {"name": other}})
    try:
        _, start_rv = await api.list_all(CONFIGMAPS, namespace=provider_namespace)

        async def churn() -> None:  # changes elsewhere advance the global resourceVersion
            for i in range(40):
                await api.create(CONFIGMAPS, {"metadata": {"name": f"c{i}"}}, namespace=other)
                await asyncio.sleep(0.2)

        churner = asyncio.create_task(churn())
        events = []
        async with api.watch(
            CONFIGMAPS, namespace=provider_namespace, resource_version=start_rv, timeout_seconds=6
        ) as stream:
            async for event in stream:
                if event.object["metadata"].get("name") != ROOT_CA_CONFIGMAP:
                    events.append(event)
        churner.cancel()
        assert events, "expected at least one bookmark before the server timeout"
        assert {e.type for e in events} == {"BOOKMARK"}
        assert int(events[-1].object["metadata"]["resourceVersion"]) > int(start_rv)
    finally:
        await api.delete(NAMESPACES, other)


async def test_watch_ends_at_server_timeout(api: kclient.ApiClient, provider_namespace: str) -> None:
    started = time.monotonic()
    async with api.watch(CONFIGMAPS, namespace=provider_namespace, timeout_seconds=2) as stream:
        async for _ in stream:
            pass
    assert 1.5 < time.monotonic() - started < 15


async def test_watch_list_ends_initial_events_with_a_bookmark(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    await api.create(CONFIGMAPS, {"metadata": {"name": "present"}}, namespace=provider_namespace)
    names = []
    async with api.watch(
        CONFIGMAPS, namespace=provider_namespace, send_initial_events=True, timeout_seconds=10
    ) as stream:
        async for type_, obj in stream:
            if type_ == "BOOKMARK":
                assert obj["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
                break
            names.append(obj["metadata"]["name"])
    assert "present" in names


async def test_too_old_resource_version_raises_gone(api: kclient.ApiClient, provider_namespace: str) -> None:
    ref = await fresh_crd(api)
    try:
        with pytest.raises(errors.GoneError) as gone:
            async with api.watch(
                ref, namespace=provider_namespace, resource_version="1", timeout_seconds=5
            ) as w:
                async for _ in w:
                    pass
        assert gone.value.code == 410 and errors.is_gone(gone.value)
        assert "too old resource version" in gone.value.message
    finally:
        await api.delete(CUSTOM_RESOURCE_DEFINITIONS, f"{ref.resource}.{ref.group}")


async def test_watch_errors_on_open_are_typed(api: kclient.ApiClient) -> None:
    missing = ResourceRef("nosuch.kubebind.test", "v1", "things")
    with pytest.raises(errors.NotFoundError):
        async with api.watch(missing, timeout_seconds=1) as stream:
            async for _ in stream:
                pass


async def test_stop_ends_an_idle_watch(api: kclient.ApiClient, provider_namespace: str) -> None:
    stream = api.watch(CONFIGMAPS, namespace=provider_namespace, timeout_seconds=60)
    asyncio.get_running_loop().call_later(0.5, stream.stop)
    started = time.monotonic()
    async with stream:
        async for _ in stream:
            pass
    assert time.monotonic() - started < 10
