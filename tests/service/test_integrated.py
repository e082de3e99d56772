"""The service side inside the real ``kube-bind-backend`` process, kube-bind kinds served by its
aggregated API (issue 3) instead of CRDs: login over TLS, bind, export request → Succeeded."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import uuid

import httpx
import pytest
import yaml

from app.credentials import refs
from kubebind.apis import openapi
from kubebind.kube import ApiClient, errors
from tests.aggregated.backend import KubeBindBackend
from tests.service.conftest import (
    COWBOY_CLAIMS,
    PROVIDER_KINDS,
    _ensure_crd,
    _wildwest_crd,
    cli_login,
    template,
)
from tests.service.helpers import bind_body, eventually, forbidden, request_export

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="session")
async def kube_bind_group_free(admin: ApiClient) -> None:
    """Remove kube-bind.io CRDs that earlier tests of this session installed (when no aggregated
    backend was registered yet): while they exist, kube-apiserver auto-registers and owns a local
    ``v1alpha2.kube-bind.io`` APIService, and the aggregated fixture's registration conflicts with it.
    From here on the session serves the kinds through the aggregated backend."""
    try:
        svc = await admin.get(refs.API_SERVICES, "v1alpha2.kube-bind.io")
    except errors.NotFoundError:
        return
    if svc["spec"].get("service"):
        return  # already the aggregated backend
    for kind in PROVIDER_KINDS:
        with contextlib.suppress(errors.NotFoundError):
            await admin.delete(refs.CRDS, openapi.crd_manifest(kind)["metadata"]["name"])

    async def gone() -> bool:
        try:
            await admin.get(refs.API_SERVICES, "v1alpha2.kube-bind.io")
        except errors.NotFoundError:
            return True
        return False

    await eventually(gone, within=60, what="auto-registered kube-bind.io APIService removed")


async def test_bind_through_the_aggregated_backend(
    kube_bind_group_free: None, kube_bind_backend: KubeBindBackend, admin: ApiClient
) -> None:
    backend = kube_bind_backend
    svc = await admin.get(refs.API_SERVICES, "v1alpha2.kube-bind.io")
    assert svc["spec"].get("service"), "kube-bind kinds must come from the aggregated backend here"
    await _ensure_crd(admin, _wildwest_crd("cowboys", "Cowboy", "Namespaced"))
    with contextlib.suppress(errors.AlreadyExistsError):
        await admin.create(refs.TEMPLATES, template("cowboys", "cowboys", "Namespaced", COWBOY_CLAIMS))
    prefix = f"agg-{uuid.uuid4().hex[:4]}-"
    port = backend.add_replica(
        {"KUBE_BIND_OIDC_CA_FILE": str(backend.ca_file), "KUBE_BIND_NAMESPACE_PREFIX": prefix}
    )
    base = f"https://127.0.0.1:{port}"
    verify = ssl.create_default_context(cafile=str(backend.ca_file))
    token = (await cli_login(base, verify=verify))["access_token"]
    consumers = []
    async with httpx.AsyncClient(
        base_url=base, verify=verify, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        doc = (await http.get("/api/exports")).json()
        assert doc["authenticationMethods"][0]["oauth2CodeGrant"]["authenticatedURL"].startswith("https://")
        for _ in range(2):
            r = await http.post("/api/bind", json=bind_body("cowboys", "cowboys", f"agg-{uuid.uuid4()}"))
            assert r.status_code == 200, r.text
            consumers.append(r.json())

    clients = [
        ApiClient.from_kubeconfig(yaml.safe_load(base64.b64decode(c["kubeconfig"])), http2=False)
        for c in consumers
    ]
    try:
        a, b = clients
        ns_a, ns_b = (c["providerNamespace"] for c in consumers)
        assert ns_a.startswith(prefix)
        cb = await a.get(refs.CLUSTER_BINDINGS, "cluster", namespace=ns_a)
        assert cb["spec"]["kubeconfigSecretRef"]["name"] == "kubeconfig"
        req = await request_export(a, ns_a, consumers[0])
        assert req["status"]["phase"] == "Succeeded", req["status"]
        await eventually(
            lambda: a.get(refs.BOUND_SCHEMAS, "cowboys.wildwest.dev", namespace=ns_a), what="BoundSchema"
        )
        await forbidden(a.list(refs.EXPORT_REQUESTS, namespace=ns_b))
        await forbidden(b.get(refs.CLUSTER_BINDINGS, "cluster", namespace=ns_a))
    finally:
        for client in clients:
            await client.aclose()
        await asyncio.to_thread(backend.stop_replicas)
