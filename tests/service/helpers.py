"""Test helpers: bind a consumer, wait for objects, assert Forbidden."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import yaml

from app.credentials import refs
from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import ResourceRef
from tests.service.conftest import Backend

COWBOYS = ResourceRef("wildwest.dev", "v1alpha1", "cowboys", kind="Cowboy")
SHERIFFS = ResourceRef("wildwest.dev", "v1alpha1", "sheriffs", namespaced=False, kind="Sheriff")


@dataclass
class Bound:
    identity: str
    namespace: str
    kubeconfig: dict[str, Any]
    response: dict[str, Any]
    client: ApiClient


def bind_body(name: str, template: str, identity: str) -> dict[str, Any]:
    # exactly what the Go CLI sends, including its zero-value noise
    return {
        "metadata": {"name": name, "creationTimestamp": None},
        "spec": {"templateRef": {"name": template}, "clusterIdentity": {"identity": identity}, "author": ""},
        "status": {},
    }


async def bind(backend: Backend, token: str, template: str = "cowboys", identity: str | None = None) -> Bound:
    identity = identity or f"consumer-{uuid.uuid4()}"
    async with backend.client(token) as http:
        r = await http.post("/api/bind", json=bind_body(template, template, identity))
    assert r.status_code == 200, r.text
    response = r.json()
    raw = base64.b64decode(response["kubeconfig"])
    kubeconfig = yaml.safe_load(raw)
    namespace = kubeconfig["contexts"][0]["context"]["namespace"]
    return Bound(identity, namespace, kubeconfig, response, ApiClient.from_kubeconfig(raw, http2=False))


async def eventually(
    check: Callable[[], Awaitable[Any]], within: float = 30.0, what: str = "condition"
) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            last = await check()
        except errors.ApiError as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within}s waiting for {what} (last: {last!r})")


async def forbidden(call: Awaitable[Any]) -> None:
    try:
        await call
    except errors.ApiError as exc:
        assert exc.code == 403, f"expected 403, got {exc.code}: {exc.message}"
        return
    raise AssertionError("expected Forbidden, the call succeeded")


async def watch_forbidden(client: ApiClient, ref: ResourceRef, namespace: str | None) -> None:
    async def first() -> None:
        async with client.watch(ref, namespace=namespace, timeout_seconds=1) as w:
            async for _ in w:
                return

    await forbidden(first())


async def request_export(client: ApiClient, namespace: str, response: dict[str, Any]) -> dict[str, Any]:
    """Create the APIServiceExportRequest from a BindingResponse as the CLI does, wait for a phase."""
    req = dict(response["requests"][0])
    body = {
        "apiVersion": req["apiVersion"],
        "kind": req["kind"],
        "metadata": {"name": req["metadata"]["name"], "namespace": namespace},
        "spec": req["spec"],
    }
    await client.create(refs.EXPORT_REQUESTS, body)

    async def done() -> dict[str, Any] | None:
        obj = await client.get(refs.EXPORT_REQUESTS, req["metadata"]["name"], namespace=namespace)
        return obj if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed") else None

    result: dict[str, Any] = await eventually(done, what="export request phase")
    return result


async def service_namespace(client: ApiClient, namespace: str, name: str) -> str:
    """Create an APIServiceNamespace as the konnector does; return the provider namespace."""
    await client.create(
        refs.SERVICE_NAMESPACES,
        {
            "apiVersion": "kube-bind.io/v1alpha2",
            "kind": "APIServiceNamespace",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {},
        },
    )

    async def assigned() -> str | None:
        obj = await client.get(refs.SERVICE_NAMESPACES, name, namespace=namespace)
        return (obj.get("status") or {}).get("namespace")

    result: str = await eventually(assigned, what="APIServiceNamespace status.namespace")
    return result
