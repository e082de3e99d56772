"""ApiClient against a real kube-apiserver: CRUD, patch flavours, server-side apply, dry run,
selectors, pagination, delete options, discovery, typed errors and the Status they carry."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from kubebind.kube import client as kclient
from kubebind.kube import errors, resources
from kubebind.kube.metrics import PrometheusRequestMetrics
from kubebind.kube.resources import CONFIGMAPS, NAMESPACES
from kubebind.kube.selectors import LabelSelector
from tests.harness import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]


@pytest.fixture(params=["http1.1", "http2"])
async def api(provider: Cluster, request: pytest.FixtureRequest) -> AsyncIterator[kclient.ApiClient]:
    """Every test runs on both transports: our HTTP/1.1 pool and httpx's HTTP/2."""
    http2 = request.param == "http2"
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig, http2=http2) as client:
        yield client


def cm(
    name: str, data: dict[str, str] | None = None, labels: dict[str, str] | None = None
) -> dict[str, object]:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {}}


async def test_server_speaks_http2_and_reports_version(api: kclient.ApiClient) -> None:
    version = await api.server_version()
    assert version["major"] == "1"
    response = await api._session.http.get("/version", headers=api._headers())
    assert response.http_version == "HTTP/2"
    # the HTTP/1.1 pool, when the client uses it, has kept its one connection alive
    if not api._session.http2:
        assert api._session.pool._idle and api._session.pool._idle[0].requests == 1


async def test_create_get_update_delete(api: kclient.ApiClient, provider_namespace: str) -> None:
    created = await api.create(CONFIGMAPS, cm("one", {"a": "1"}), namespace=provider_namespace)
    assert created["kind"] == "ConfigMap"
    assert created["metadata"]["namespace"] == provider_namespace
    got = await api.get(CONFIGMAPS, "one", namespace=provider_namespace)
    assert got["data"] == {"a": "1"}

    got["data"]["b"] = "2"
    updated = await api.update(CONFIGMAPS, got)
    assert updated["data"] == {"a": "1", "b": "2"}
    assert updated["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"]

    with pytest.raises(errors.ConflictError) as stale:
        await api.update(CONFIGMAPS, got)  # carries the old resourceVersion
    assert errors.is_conflict(stale.value)
    assert stale.value.status["kind"] == "Status"
    assert stale.value.reason == "Conflict"

    with pytest.raises(errors.AlreadyExistsError) as dup:
        await api.create(CONFIGMAPS, cm("one"), namespace=provider_namespace)
    assert errors.is_already_exists(dup.value) and not errors.is_conflict(dup.value)
    assert dup.value.details["name"] == "one"

    await api.delete(CONFIGMAPS, "one", namespace=provider_namespace)
    with pytest.raises(errors.NotFoundError) as missing:
        await api.get(CONFIGMAPS, "one", namespace=provider_namespace)
    assert errors.is_not_found(missing.value)
    assert missing.value.code == 404 and missing.value.reason == "NotFound"


async def test_patches_and_server_side_apply(api: kclient.ApiClient, provider_namespace: str) -> None:
    ns = provider_namespace
    await api.create(CONFIGMAPS, cm("p", {"a": "1", "b": "2"}), namespace=ns)

    merged = await api.patch(CONFIGMAPS, "p", {"data": {"a": None, "c": "3"}}, namespace=ns)
    assert merged["data"] == {"b": "2", "c": "3"}

    ops = [{"op": "replace", "path": "/data/b", "value": "20"}, {"op": "remove", "path": "/data/c"}]
    jsonpatched = await api.patch(CONFIGMAPS, "p", ops, namespace=ns, patch_type=kclient.PatchType.JSON)
    assert jsonpatched["data"] == {"b": "20"}

    applied = await api.apply(
        CONFIGMAPS,
        {"metadata": {"name": "p", "namespace": ns}, "data": {"owned": "x"}},
        field_manager="kube-bind.io",
    )
    assert applied["data"] == {"b": "20", "owned": "x"}
    managers = {entry["manager"] for entry in applied["metadata"]["managedFields"]}
    assert "kube-bind.io" in managers

    # Another manager takes the field only with force.
    with pytest.raises(errors.ConflictError):
        await api.apply(
            CONFIGMAPS,
            {"metadata": {"name": "p", "namespace": ns}, "data": {"owned": "y"}},
            field_manager="other",
            force=False,
        )
    forced = await api.apply(
        CONFIGMAPS,
        {"metadata": {"name": "p", "namespace": ns}, "data": {"owned": "y"}},
        field_manager="other",
    )
    assert forced["data"]["owned"] == "y"


async def test_dry_run_changes_nothing(api: kclient.ApiClient, provider_namespace: str) -> None:
    ns = provider_namespace
    await api.create(CONFIGMAPS, cm("dry"), namespace=ns, dry_run=True)
    with pytest.raises(errors.NotFoundError):
        await api.get(CONFIGMAPS, "dry", namespace=ns)
    await api.create(CONFIGMAPS, cm("dry", {"k": "v"}), namespace=ns)
    await api.patch(CONFIGMAPS, "dry", {"data": {"k": "changed"}}, namespace=ns, dry_run=True)
    await api.delete(CONFIGMAPS, "dry", namespace=ns, dry_run=True)
    assert (await api.get(CONFIGMAPS, "dry", namespace=ns))["data"] == {"k": "v"}


async def test_selectors_and_pagination(api: kclient.ApiClient, provider_namespace: str) -> None:
    ns = provider_namespace
    for i in range(7):
        await api.create(
            CONFIGMAPS, cm(f"cm-{i}", labels={"parity": "even" if i % 2 == 0 else "odd"}), namespace=ns
        )

    page = await api.list(CONFIGMAPS, namespace=ns, label_selector={"parity": "odd"})
    assert sorted(o["metadata"]["name"] for o in page["items"]) == ["cm-1", "cm-3", "cm-5"]
    page = await api.list(
        CONFIGMAPS, namespace=ns, label_selector=LabelSelector.parse("parity in (even),parity")
    )
    assert len(page["items"]) == 4
    page = await api.list(CONFIGMAPS, namespace=ns, field_selector={"metadata.name": "cm-2"})
    assert [o["metadata"]["name"] for o in page["items"]] == ["cm-2"]

    first = await api.list(CONFIGMAPS, namespace=ns, label_selector="parity", limit=3)
    assert len(first["items"]) == 3 and first["metadata"]["continue"]
    pages = [p async for p in api.list_pages(CONFIGMAPS, namespace=ns, label_selector="parity", page_size=3)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    items, rv = await api.list_all(CONFIGMAPS, namespace=ns, label_selector="parity", page_size=2)
    assert len(items) == 7 and int(rv) > 0


async def test_delete_options(api: kclient.ApiClient, provider_namespace: str) -> None:
    ns = provider_namespace
    obj = await api.create(CONFIGMAPS, cm("guarded"), namespace=ns)
    with pytest.raises(errors.ConflictError):
        await api.delete(
            CONFIGMAPS, "guarded", namespace=ns, preconditions=kclient.Preconditions(uid=str(uuid.uuid4()))
        )
    await api.delete(
        CONFIGMAPS,
        "guarded",
        namespace=ns,
        propagation_policy="Foreground",
        preconditions=kclient.Preconditions(
            uid=obj["metadata"]["uid"], resource_version=obj["metadata"]["resourceVersion"]
        ),
    )

    for i in range(3):
        await api.create(CONFIGMAPS, cm(f"gone-{i}", labels={"sweep": "yes"}), namespace=ns)
    await api.create(CONFIGMAPS, cm("kept"), namespace=ns)
    await api.delete_collection(CONFIGMAPS, namespace=ns, label_selector={"sweep": "yes"})
    names = {o["metadata"]["name"] for o in (await api.list(CONFIGMAPS, namespace=ns))["items"]}
    assert "kept" in names and not any(n.startswith("gone-") for n in names)


async def test_status_subresource_and_cluster_scope(api: kclient.ApiClient) -> None:
    name = f"ns-{uuid.uuid4().hex[:8]}"
    created = await api.create(NAMESPACES, {"metadata": {"name": name}})
    try:
        assert created["status"]["phase"] == "Active"
        created["status"]["conditions"] = [
            {"type": "Probe", "status": "True", "reason": "Test", "message": "x"}
        ]
        updated = await api.update_status(NAMESPACES, created)
        assert updated["status"]["conditions"][0]["type"] == "Probe"
        patched = await api.patch(NAMESPACES, name, {"metadata": {"labels": {"a": "b"}}})
        assert patched["metadata"]["labels"]["a"] == "b"
    finally:
        await api.delete(NAMESPACES, name)


async def test_discovery_resolves_kinds(api: kclient.ApiClient) -> None:
    ref = await api.discovery.resolve("coordination.k8s.io/v1", "Lease")
    assert ref == resources.LEASES
    assert await api.discovery.resolve("v1", "ConfigMap") == CONFIGMAPS
    ns_ref = await api.discovery.resolve_resource("v1", "ns")
    assert ns_ref == NAMESPACES
    with pytest.raises(errors.NotFoundError):
        await api.discovery.resolve("v1", "NoSuchKind")
    with pytest.raises(errors.NotFoundError):
        await api.discovery.resources("nosuch.example.com/v1")


async def test_forbidden_for_an_unprivileged_token(
    api: kclient.ApiClient, provider: Cluster, provider_namespace: str
) -> None:
    await api.create(
        resources.SERVICE_ACCOUNTS, {"metadata": {"name": "nobody"}}, namespace=provider_namespace
    )
    token = provider.create_token(provider_namespace, "nobody", seconds=600)
    async with kclient.ApiClient(api.config.with_token(token)) as weak:
        with pytest.raises(errors.ForbiddenError) as denied:
            await weak.list(CONFIGMAPS, namespace=provider_namespace)
    assert errors.is_forbidden(denied.value)
    assert "forbidden" in denied.value.message


async def test_request_metrics_reach_the_callers_registry(provider: Cluster, provider_namespace: str) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusRequestMetrics(registry)
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig, metrics=metrics) as api:
        await api.create(CONFIGMAPS, cm("m"), namespace=provider_namespace)
        with pytest.raises(errors.NotFoundError):
            await api.get(CONFIGMAPS, "absent", namespace=provider_namespace)
        async with api.watch(CONFIGMAPS, namespace=provider_namespace, timeout_seconds=1) as stream:
            async for _ in stream:
                pass

    def total(verb: str, code: str) -> float | None:
        return registry.get_sample_value("kube_bind_rest_client_requests_total", {"verb": verb, "code": code})

    assert total("POST", "201") == 1
    assert total("GET", "404") == 1
    assert total("WATCH", "200") == 1
    count = registry.get_sample_value("kube_bind_rest_client_request_duration_seconds_count", {"verb": "GET"})
    assert count == 1
