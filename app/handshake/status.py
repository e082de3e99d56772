"""Small routes: ``/api/healthz``, ``/api/ping``, ``/api/consumer-status``, ``/api/konnector-manifests``.

``consumer-status`` reports, for the caller's consumer identity (``consumer_id`` or the UI identity
``iss/sub``), whether a konnector heartbeats and which exports exist (reference §3.1).
``konnector-manifests`` renders our konnector's install manifests with a per-binding-friendly
least-privilege ClusterRole instead of the reference's ``*/*/*``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.credentials import refs
from app.handshake.context import CallerDep, ContextDep
from app.handshake.errors import NO_CACHE
from kubebind.apis import constants
from kubebind.apis.duration import parse_duration
from kubebind.apis.v1alpha2 import parse_time
from kubebind.kube import errors as kube_errors

__all__ = ["konnector_manifests", "router"]

router = APIRouter(tags=["status"])


@router.get("/api/healthz", response_class=PlainTextResponse, summary="Liveness")
async def healthz() -> Response:
    return PlainTextResponse("", headers=NO_CACHE)


@router.get("/api/ping", response_class=PlainTextResponse, summary="Login probe")
async def ping(_caller: CallerDep) -> Response:
    return PlainTextResponse("pong", headers=NO_CACHE)


@router.get("/api/consumer-status", summary="Connection status of the caller's consumer")
async def consumer_status(
    ctx: ContextDep, caller: CallerDep, consumer_id: Annotated[str, Query(max_length=256)] = ""
) -> JSONResponse:
    ns = ctx.minter.namespace_for(consumer_id or caller.identity)
    out: dict[str, Any] = {"connected": False}
    try:
        cb = await ctx.provider.get(refs.CLUSTER_BINDINGS, constants.CLUSTER_BINDING_NAME, namespace=ns)
    except kube_errors.NotFoundError:
        return JSONResponse(out, headers=NO_CACHE)
    out["namespace"] = ns
    status = cb.get("status") or {}
    last = status.get("lastHeartbeatTime")
    interval = status.get("heartbeatInterval")
    if last:
        try:
            limit = 2 * parse_duration(interval) if interval else timedelta(minutes=10)
            out["connected"] = ctx.clock() - parse_time(last) <= limit
        except ValueError:
            out["connected"] = False
    exports, _ = await ctx.provider.list_all(refs.EXPORTS, namespace=ns)
    out["exports"] = sorted(e["metadata"]["name"] for e in exports)
    return JSONResponse(out, headers=NO_CACHE)


def konnector_manifests(image: str) -> list[dict[str, Any]]:
    ns = constants.KONNECTOR_NAMESPACE
    labels = {constants.LABEL_APP: constants.LABEL_APP_KONNECTOR}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "konnector", "namespace": ns}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "kube-bind-konnector"},
            "rules": [
                {"apiGroups": [constants.GROUP], "resources": ["*"], "verbs": ["*"]},
                {
                    "apiGroups": ["apiextensions.k8s.io"],
                    "resources": ["customresourcedefinitions"],
                    "verbs": ["*"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"],
                    "verbs": ["*"],
                },
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]},
                {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kube-bind-konnector"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "kube-bind-konnector",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "konnector", "namespace": ns}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "konnector", "namespace": ns, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "konnector",
                        "containers": [
                            {
                                "name": "konnector",
                                "image": image,
                                "env": [
                                    {
                                        "name": "POD_NAME",
                                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                    },
                                    {
                                        "name": "POD_NAMESPACE",
                                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                                    },
                                ],
                                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8090}},
                            }
                        ],
                    },
                },
            },
        },
    ]


@router.get("/api/konnector-manifests", summary="Konnector install manifests (multi-document YAML)")
async def konnector(ctx: ContextDep) -> Response:
    body = yaml.safe_dump_all(konnector_manifests(ctx.settings.konnector_image), sort_keys=False)
    return Response(
        body,
        media_type="text/yaml",
        headers={"Content-Disposition": "attachment; filename=konnector.yaml"},
    )
