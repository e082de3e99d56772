"""APIServiceExportRequest → BoundSchemas + APIServiceExport, and every validation failure."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest

from app.controllers.exportrequest import REASON_DUPLICATE_RESOURCE, ValidationFailure, validate
from app.credentials import refs
from kubebind.apis import constants
from kubebind.apis.v1alpha2 import format_time
from kubebind.kube import ApiClient, errors
from tests.service.conftest import Backend, _ensure_crd, _wildwest_crd, cli_login
from tests.service.helpers import bind, eventually, service_namespace

pytestmark = pytest.mark.cluster

WW = "wildwest.dev"


async def _request(admin: ApiClient, ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    await admin.create(
        refs.EXPORT_REQUESTS,
        {
            "apiVersion": constants.API_VERSION,
            "kind": "APIServiceExportRequest",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        },
    )

    async def phase() -> dict[str, Any] | None:
        obj = await admin.get(refs.EXPORT_REQUESTS, name, namespace=ns)
        return obj if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed") else None

    result: dict[str, Any] = await eventually(phase, what=f"phase of {name}")
    return result


def _res(resource: str, versions: list[str] | None = None) -> dict[str, Any]:
    return {"group": WW, "resource": resource, "versions": versions or ["v1alpha1"]}


async def test_valid_request_succeeds_with_schemas_and_export(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)
    ns = bound.namespace
    spec = {
        "resources": [_res("cowboys")],
        "permissionClaims": [
            {
                "group": "",
                "resource": "secrets",
                "selector": {"labelSelector": {"matchLabels": {"app": "cowboy"}}},
            }
        ],
        "namespaces": [{"name": "pre-seeded"}],
    }
    req = await _request(admin, ns, "cowboys", spec)
    assert req["status"]["phase"] == "Succeeded"
    ready = {c["type"]: c["status"] for c in req["status"]["conditions"]}
    assert ready == {"Ready": "True", "ExportsReady": "True"}
    export = await admin.get(refs.EXPORTS, "cowboys", namespace=ns)
    assert export["spec"]["informerScope"] == "Namespaced" and export["spec"]["isolation"] == "Prefixed"
    assert export["spec"]["resources"] == [_res("cowboys")]
    assert export["spec"]["permissionClaims"][0]["resource"] == "secrets"
    assert export["metadata"]["annotations"][constants.ANNOTATION_SOURCE_SPEC_HASH]
    bs = await admin.get(refs.BOUND_SCHEMAS, "cowboys.wildwest.dev", namespace=ns)
    assert (
        bs["spec"]["group"] == WW
        and bs["spec"]["names"]["kind"] == "Cowboy"
        and bs["spec"]["scope"] == "Namespaced"
    )
    assert "openAPIV3Schema" in bs["spec"]["versions"][0]["schema"]
    owner = bs["metadata"]["ownerReferences"][0]
    assert (
        owner["kind"] == "APIServiceExport"
        and owner["uid"] == export["metadata"]["uid"]
        and owner["controller"]
    )
    sns = await admin.get(refs.SERVICE_NAMESPACES, "pre-seeded", namespace=ns)
    assert sns["metadata"]["labels"][constants.LABEL_OWNER] == "provider"
    await eventually(
        lambda: admin.get(refs.SERVICE_NAMESPACES, "pre-seeded", namespace=ns),
        what="pre-seeded namespace assigned",
    )
    await bound.client.aclose()


@pytest.mark.parametrize(
    "spec,reason,fragment",
    [
        ({"resources": [_res("horses")]}, "SchemaNotFound", "horses.wildwest.dev is not exported"),
        ({"resources": [_res("cowboys", ["v9"])]}, "SchemaNotFound", "no served version"),
        ({"resources": [_res("cowboys"), _res("sheriffs")]}, "DifferentScopes", "same scope"),
        (
            {
                "resources": [_res("cowboys")],
                "permissionClaims": [{"group": "", "resource": "pods", "selector": {}}],
            },
            "InvalidPermissionClaim",
            "pods.core is not claimable",
        ),
        (
            {
                "resources": [_res("cowboys")],
                "permissionClaims": [
                    {"group": "", "resource": "secrets", "selector": {}},
                    {"group": "", "resource": "secrets", "selector": {}},
                ],
            },
            "DuplicatePermissionClaim",
            "duplicated",
        ),
    ],
)
async def test_invalid_request_fails_with_reason(
    backend: Backend, admin: ApiClient, spec: dict[str, Any], reason: str, fragment: str
) -> None:
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)
    req = await _request(admin, bound.namespace, "bad", spec)
    status = req["status"]
    assert status["phase"] == "Failed"
    assert fragment in status["terminalMessage"]
    cond = next(c for c in status["conditions"] if c["type"] == "ExportsReady")
    assert cond["status"] == "False" and cond["reason"] == reason
    with pytest.raises(errors.NotFoundError):
        await admin.get(refs.EXPORTS, "bad", namespace=bound.namespace)
    bss, _ = await admin.list_all(refs.BOUND_SCHEMAS, namespace=bound.namespace)
    assert bss == []
    await bound.client.aclose()


async def test_schema_update_policy_always_follows_the_crd(backend: Backend, admin: ApiClient) -> None:
    crd = _wildwest_crd("horses", "Horse", "Namespaced")
    await _ensure_crd(admin, crd)
    try:
        token = (await cli_login(backend.url))["access_token"]
        bound = await bind(backend, token)
        spec = {"resources": [_res("horses")], "schemaUpdatePolicy": "Always"}
        assert (await _request(admin, bound.namespace, "horses", spec))["status"]["phase"] == "Succeeded"
        live = await admin.get(refs.CRDS, "horses.wildwest.dev")
        props = live["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        props["color"] = {"type": "string"}
        await admin.update(refs.CRDS, live)

        async def updated() -> bool:
            bs = await admin.get(refs.BOUND_SCHEMAS, "horses.wildwest.dev", namespace=bound.namespace)
            schema = bs["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            return "color" in schema["properties"]["spec"]["properties"]

        await eventually(updated, what="BoundSchema re-derived from the changed CRD")
        await bound.client.aclose()
    finally:
        with contextlib.suppress(errors.NotFoundError):
            await admin.delete(refs.CRDS, "horses.wildwest.dev")


def test_duplicate_resources_are_refused_even_without_list_map_admission() -> None:
    """The kube-bind CRD's list-map keys reject duplicates at admission; an API server that does not
    (e.g. an older schema) still gets a terminal reason from the controller's own check."""
    crd = _wildwest_crd("cowboys", "Cowboy", "Namespaced")
    index = {(WW, "cowboys"): crd}
    with pytest.raises(ValidationFailure) as exc:
        validate({"resources": [_res("cowboys"), _res("cowboys")]}, index)
    assert exc.value.reason == REASON_DUPLICATE_RESOURCE
    assert validate({"resources": [_res("cowboys")]}, index) == [crd]


async def test_service_namespace_lifecycle_and_status(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)
    target = await service_namespace(bound.client, bound.namespace, "shop")
    ns = await admin.get(refs.NAMESPACES, target)
    assert (
        ns["metadata"]["annotations"][constants.ANNOTATION_API_SERVICE_NAMESPACE] == f"{bound.namespace}/shop"
    )
    binding = await admin.get(refs.ROLE_BINDINGS, "kube-binder-exports", namespace=target)
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kube-binder", "namespace": bound.namespace}
    ]
    # consumer-status: connected once the konnector heartbeats
    await bound.client.patch(
        refs.CLUSTER_BINDINGS,
        "cluster",
        {"status": {"lastHeartbeatTime": format_time(datetime.now(UTC)), "heartbeatInterval": "5m0s"}},
        namespace=bound.namespace,
        subresource="status",
    )
    async with backend.client(token) as http:
        status = (await http.get("/api/consumer-status", params={"consumer_id": bound.identity})).json()
    assert status == {"connected": True, "namespace": bound.namespace, "exports": []}
    # deleting the APIServiceNamespace removes the provider namespace
    await bound.client.delete(refs.SERVICE_NAMESPACES, "shop", namespace=bound.namespace)

    async def gone() -> bool:
        try:
            obj = await admin.get(refs.NAMESPACES, target)
        except errors.NotFoundError:
            return True
        return bool(obj["metadata"].get("deletionTimestamp"))

    await eventually(gone, what="provider namespace deleted")
    await bound.client.aclose()


async def test_ui_only_bind_creates_the_request_and_waits(backend: Backend, admin: ApiClient) -> None:
    """identity ``ui-identity``: the backend binds ``iss/sub`` and creates the request itself."""
    token = (await cli_login(backend.url))["access_token"]
    async with backend.client(token) as http:
        body = {
            "metadata": {"name": "cowboys"},
            "spec": {
                "templateRef": {"name": "cowboys"},
                "clusterIdentity": {"identity": "ui-identity"},
                "author": "web-ui",
            },
        }
        r = await http.post("/api/bind", json=body)
    assert r.status_code == 200, r.text
    response = r.json()
    ns = response["providerNamespace"]
    name = response["bindingName"]
    assert name.startswith("cowboys")
    req = await admin.get(refs.EXPORT_REQUESTS, name, namespace=ns)
    assert req["status"]["phase"] == "Succeeded"
    cb = await admin.get(refs.CLUSTER_BINDINGS, "cluster", namespace=ns)
    assert cb["metadata"]["annotations"][constants.ANNOTATION_IDENTITY] == f"{backend.url}/oidc/kube-bind"
