"""Bad input on the handshake routes: clear 4xx ``Error`` bodies and nothing half-created."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import pytest

from app.credentials import naming as cred_naming
from app.credentials import refs
from kubebind.apis import naming
from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import ResourceRef
from tests.service.conftest import Backend, cli_login
from tests.service.helpers import bind_body, eventually

pytestmark = pytest.mark.cluster

VAP = ResourceRef(
    "admissionregistration.k8s.io",
    "v1",
    "validatingadmissionpolicies",
    namespaced=False,
    kind="ValidatingAdmissionPolicy",
)
VAPB = ResourceRef(
    "admissionregistration.k8s.io",
    "v1",
    "validatingadmissionpolicybindings",
    namespaced=False,
    kind="ValidatingAdmissionPolicyBinding",
)


async def _absent(admin: ApiClient, ns: str) -> bool:
    try:
        obj = await admin.get(refs.NAMESPACES, ns)
    except errors.NotFoundError:
        return True
    return bool(obj["metadata"].get("deletionTimestamp"))


def _body(name: str = "x", template: str = "cowboys", identity: object = None) -> bytes:
    ident = {"identity": "i"} if identity is None else identity
    spec = {"templateRef": {"name": template}, "clusterIdentity": ident}
    return json.dumps({"metadata": {"name": name}, "spec": spec}).encode()


@pytest.mark.parametrize(
    "body,status,fragment",
    [
        (b"{not json", 400, "malformed JSON"),
        (b"[1, 2]", 400, "must be a BindableResourcesRequest"),
        (b'{"metadata": {"name": "x"}}', 400, "spec"),
        (_body(name="Bad_Name"), 400, "DNS-1123"),
        (_body(identity={"identity": ""}), 400, "identity"),
        (_body(template=""), 400, "templateRef"),
        (_body(identity="nope"), 400, "clusterIdentity"),
    ],
)
async def test_malformed_bind_bodies(backend: Backend, body: bytes, status: int, fragment: str) -> None:
    token = (await cli_login(backend.url))["access_token"]
    async with backend.client(token) as http:
        r = await http.post("/api/bind", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()
    assert err["kind"] == "Error" and err["apiVersion"] == "kube-bind.io/v1alpha2"
    assert err["code"] == "BAD_REQUEST" and fragment in err["message"], err


async def test_unknown_template_creates_nothing(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    identity = f"id-{uuid.uuid4()}"
    async with backend.client(token) as http:
        r = await http.post("/api/bind", json=bind_body("x", "no-such-template", identity))
    assert r.status_code == 404 and r.json()["code"] == "RESOURCE_NOT_FOUND"
    ns = naming.cluster_namespace_name(identity, backend.settings.namespace_prefix)
    with pytest.raises(errors.NotFoundError):
        await admin.get(refs.NAMESPACES, ns)


async def test_oversized_and_unauthenticated(backend: Backend) -> None:
    token = (await cli_login(backend.url))["access_token"]
    async with backend.client(token) as http:
        big = b'{"metadata": {"name": "x", "pad": "' + b"a" * (2 << 20) + b'"}}'
        r = await http.post("/api/bind", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["code"] == "BAD_REQUEST"
        r = await http.post(
            "/api/bind", params={"consumer_id": "c" * 300}, json=bind_body("x", "cowboys", "i")
        )
        assert r.status_code == 400
    async with backend.client() as http:
        r = await http.post("/api/bind", json=bind_body("x", "cowboys", "i"))
        assert r.status_code == 401 and r.json()["code"] == "AUTHENTICATION_FAILED"
        for path in ("/api/templates", "/api/collections", "/api/ping", "/api/consumer-status"):
            assert (await http.get(path)).status_code == 401, path
        assert (await http.get("/api/healthz")).status_code == 200
        manifests = await http.get("/api/konnector-manifests")
        assert manifests.status_code == 200 and manifests.headers["content-type"].startswith("text/yaml")
        assert "kind: Deployment" in manifests.text


async def test_foreign_namespace_is_never_reused(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    identity = f"id-{uuid.uuid4()}"
    ns = naming.cluster_namespace_name(identity, backend.settings.namespace_prefix)
    await admin.create(
        refs.NAMESPACES,
        {"metadata": {"name": ns, "annotations": {"backend.kube-bind.io/identity": "someone-else"}}},
    )
    try:
        async with backend.client(token) as http:
            r = await http.post("/api/bind", json=bind_body("x", "cowboys", identity))
        assert r.status_code == 409, r.text
        with pytest.raises(errors.NotFoundError):
            await admin.get(refs.SERVICE_ACCOUNTS, cred_naming.BINDER_NAME, namespace=ns)
    finally:
        await admin.delete(refs.NAMESPACES, ns)


async def test_failed_bind_rolls_back(backend: Backend, admin: ApiClient) -> None:
    """A bind failing at its last step (the kubeconfig Secret, denied by an admission policy)
    leaves no namespace, ServiceAccount or ClusterBinding behind."""
    prefix = backend.settings.namespace_prefix
    name = f"deny-kubeconfig-{uuid.uuid4().hex[:6]}"
    policy: dict[str, Any] = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["secrets"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": f"!object.metadata.namespace.startsWith('{prefix}')",
                    "message": "denied by test",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }
    await admin.create(VAP, policy)
    await admin.create(VAPB, binding)
    try:
        token = (await cli_login(backend.url))["access_token"]
        identity = f"id-{uuid.uuid4()}"
        ns = naming.cluster_namespace_name(identity, prefix)

        async def denied() -> bool:
            async with backend.client(token) as http:
                r = await http.post("/api/bind", json=bind_body("x", "cowboys", identity))
            assert r.status_code != 200 or r.status_code == 200
            if r.status_code == 200:  # policy not active yet: undo and retry
                await admin.delete(refs.NAMESPACES, ns)
                await eventually(lambda: _gone(admin, ns), what="namespace gone before retry")
                return False
            return True

        await eventually(denied, what="admission policy active")
        await eventually(lambda: _absent(admin, ns), what="rolled-back namespace")
        with contextlib.suppress(errors.NotFoundError):
            sa = await admin.get(refs.SERVICE_ACCOUNTS, cred_naming.BINDER_NAME, namespace=ns)
            assert sa["metadata"].get("deletionTimestamp"), "ServiceAccount left behind"
    finally:
        await admin.delete(VAPB, name)
        await admin.delete(VAP, name)


async def _gone(admin: ApiClient, ns: str) -> bool:
    try:
        await admin.get(refs.NAMESPACES, ns)
    except errors.NotFoundError:
        return True
    return False
