"""Two consumers bind the same template: each credential reaches only its own objects.

Everything goes through the real provider kube-apiserver with the minted kubeconfigs: control
objects (kube-bind kinds, the kubeconfig Secret), exported resources and claimed Secrets, with
list/get/watch/create/delete. After unbind the old token is rejected at once.
"""

from __future__ import annotations

import pytest

from app.credentials import refs
from kubebind.apis import constants, naming
from kubebind.kube import ApiClient, errors
from tests.service.conftest import Backend, cli_login
from tests.service.helpers import (
    COWBOYS,
    Bound,
    bind,
    eventually,
    forbidden,
    request_export,
    service_namespace,
    watch_forbidden,
)

pytestmark = pytest.mark.cluster


def cowboy(name: str, namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "wildwest.dev/v1alpha1",
        "kind": "Cowboy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"intent": "ride"},
    }


def secret(name: str, namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "cowboy"}},
        "stringData": {"k": "v"},
    }


async def _setup(backend: Backend, token: str) -> tuple[Bound, str]:
    bound = await bind(backend, token)
    req = await request_export(bound.client, bound.namespace, bound.response)
    assert req["status"]["phase"] == "Succeeded", req["status"]
    provider_ns = await service_namespace(bound.client, bound.namespace, "wild-west")
    return bound, provider_ns


async def test_binding_response_shape(backend: Backend) -> None:
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)
    r = bound.response
    assert r["kind"] == "BindingResponse" and r["apiVersion"] == "kube-bind.io/v1alpha2"
    grant = r["authentication"]["oauth2CodeGrant"]
    assert grant["sid"] and grant["id"].endswith("/kube-bind")
    assert bound.namespace == naming.cluster_namespace_name(bound.identity, backend.settings.namespace_prefix)
    assert r["providerNamespace"] == bound.namespace
    req = r["requests"][0]
    assert req["apiVersion"] == "kube-bind.io/v1alpha2" and req["kind"] == "APIServiceExportRequest"
    assert req["metadata"] == {"name": "cowboys"}
    assert req["spec"]["resources"] == [
        {"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}
    ]
    assert req["status"] == {}
    cfg = bound.kubeconfig
    assert cfg["current-context"] == "default"
    assert (
        cfg["clusters"][0]["cluster"]["server"]
        and cfg["clusters"][0]["cluster"]["certificate-authority-data"]
    )
    # the provider Secret named by the ClusterBinding holds the same kubeconfig
    async with ApiClient.from_kubeconfig(bound.kubeconfig) as c:
        cb = await c.get(refs.CLUSTER_BINDINGS, "cluster", namespace=bound.namespace)
        assert cb["spec"]["kubeconfigSecretRef"] == {"name": "kubeconfig", "key": "kubeconfig"}
        assert cb["metadata"]["annotations"][constants.ANNOTATION_IDENTITY] == bound.identity
        s = await c.get(refs.SECRETS, "kubeconfig", namespace=bound.namespace)
        assert s["data"]["kubeconfig"] == r["kubeconfig"]
    # rebinding the same identity reuses its namespace
    again = await bind(backend, token, identity=bound.identity)
    assert again.namespace == bound.namespace
    async with backend.client() as http:
        metrics = (await http.get("/metrics")).text
    assert 'kube_bind_binds_total{outcome="ok"} 2.0' in metrics
    assert 'kube_bind_logins_total{client_type="cli",outcome="ok"} 1.0' in metrics
    await bound.client.aclose()
    await again.client.aclose()


async def test_two_consumers_are_isolated_and_unbind_revokes(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    a, pa = await _setup(backend, token)
    b, pb = await _setup(backend, token)
    assert a.namespace != b.namespace and pa != pb
    assert pa == f"{a.namespace}-wild-west"

    # own objects: full access
    await a.client.create(COWBOYS, cowboy("billy", pa))
    assert [o["metadata"]["name"] for o in (await a.client.list(COWBOYS, namespace=pa))["items"]] == ["billy"]
    await a.client.get(COWBOYS, "billy", namespace=pa)
    await a.client.create(refs.SECRETS, secret("colt", pa))
    await a.client.get(refs.SECRETS, "colt", namespace=pa)
    await a.client.list(refs.EXPORT_REQUESTS, namespace=a.namespace)
    await a.client.get(refs.SECRETS, "kubeconfig", namespace=a.namespace)
    await a.client.get(refs.NAMESPACES, a.namespace)
    await b.client.create(COWBOYS, cowboy("wyatt", pb))
    await b.client.delete(COWBOYS, "wyatt", namespace=pb)

    # the other consumer's control objects
    for ref in (
        refs.EXPORT_REQUESTS,
        refs.CLUSTER_BINDINGS,
        refs.EXPORTS,
        refs.BOUND_SCHEMAS,
        refs.SERVICE_NAMESPACES,
    ):
        await forbidden(a.client.list(ref, namespace=b.namespace))
        await watch_forbidden(a.client, ref, b.namespace)
    await forbidden(a.client.get(refs.CLUSTER_BINDINGS, "cluster", namespace=b.namespace))
    await forbidden(a.client.get(refs.SECRETS, "kubeconfig", namespace=b.namespace))
    await forbidden(a.client.get(refs.NAMESPACES, b.namespace))
    await forbidden(
        a.client.create(
            refs.EXPORT_REQUESTS,
            {"metadata": {"name": "x", "namespace": b.namespace}, "spec": b.response["requests"][0]["spec"]},
        )
    )
    await forbidden(a.client.delete(refs.EXPORT_REQUESTS, "cowboys", namespace=b.namespace))
    await forbidden(a.client.delete(refs.SERVICE_NAMESPACES, "wild-west", namespace=b.namespace))
    # the other consumer's exported resources and claimed secrets
    await forbidden(b.client.list(COWBOYS, namespace=pa))
    await forbidden(b.client.get(COWBOYS, "billy", namespace=pa))
    await watch_forbidden(b.client, COWBOYS, pa)
    await forbidden(b.client.create(COWBOYS, cowboy("intruder", pa)))
    await forbidden(b.client.delete(COWBOYS, "billy", namespace=pa))
    await forbidden(b.client.list(refs.SECRETS, namespace=pa))
    await forbidden(b.client.get(refs.SECRETS, "colt", namespace=pa))
    await forbidden(b.client.create(refs.SECRETS, secret("x", pa)))
    await forbidden(b.client.delete(refs.SECRETS, "colt", namespace=pa))
    # nothing cluster-wide, and not even other Secrets in one's own cluster namespace
    await forbidden(a.client.list(COWBOYS))
    await forbidden(a.client.list(refs.SECRETS))
    await forbidden(a.client.list(refs.NAMESPACES))
    await forbidden(a.client.list(refs.SECRETS, namespace=a.namespace))

    # unbind A: deleting its ClusterBinding revokes the token at once and removes its objects
    await admin.delete(refs.CLUSTER_BINDINGS, "cluster", namespace=a.namespace)

    async def rejected() -> bool:
        try:
            await a.client.get(refs.SECRETS, "kubeconfig", namespace=a.namespace)
        except errors.ApiError as exc:
            return exc.code == 401
        return False

    await eventually(rejected, within=20, what="old token rejected")

    async def gone(name: str) -> bool:
        try:
            ns = await admin.get(refs.NAMESPACES, name)
        except errors.NotFoundError:
            return True
        return bool(ns["metadata"].get("deletionTimestamp"))

    await eventually(lambda: gone(pa), what="provider namespace removed")
    await eventually(lambda: gone(a.namespace), what="cluster namespace removed")
    # B is untouched
    assert (await b.client.list(COWBOYS, namespace=pb))["items"] == []
    await a.client.aclose()
    await b.client.aclose()


async def test_unbind_endpoint_revokes_at_once(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)
    await bound.client.get(refs.SECRETS, "kubeconfig", namespace=bound.namespace)
    other = (await cli_login(backend.url, username="kube-bind"))["access_token"]
    async with backend.client(other) as http:
        r = await http.post("/api/unbind", params={"consumer_id": "never-bound"})
        assert r.status_code == 404
    async with backend.client(token) as http:
        r = await http.post("/api/unbind", params={"consumer_id": bound.identity})
        assert r.status_code == 200, r.text
        assert r.json() == {"unbound": True, "namespace": bound.namespace}
    # access ends at once: the bindings are gone before the answer (RBAC is not cached) ...
    await forbidden(bound.client.get(refs.SECRETS, "kubeconfig", namespace=bound.namespace))
    await forbidden(bound.client.list(refs.EXPORT_REQUESTS, namespace=bound.namespace))

    # ... and the token itself stops authenticating once the apiserver's token cache (10 s) expires
    async def rejected() -> bool:
        try:
            await bound.client.get(refs.SECRETS, "kubeconfig", namespace=bound.namespace)
        except errors.ApiError as exc:
            return exc.code == 401
        return False

    await eventually(rejected, within=20, what="token rejected after unbind")
    await bound.client.aclose()
