"""Registering the backend in the provider cluster: APIService, Service and the RBAC it needs.

``manifests(settings, ca_pem)`` renders what a chart would ship; ``register`` applies them with
server-side apply through the provider client. The backend's own identity needs:

* ``system:auth-delegator`` (ClusterRoleBinding): create TokenReviews and SubjectAccessReviews;
* ``extension-apiserver-authentication-reader`` in ``kube-system`` (RoleBinding): read the
  requestheader configuration.
"""

from __future__ import annotations

import base64
from typing import Any

from app.settings import Settings
from kubebind.apis import constants
from kubebind.kube.client import ApiClient

FIELD_MANAGER = "kube-bind-backend"


def apiservice_name() -> str:
    return f"{constants.VERSION}.{constants.GROUP}"


def manifests(
    settings: Settings, ca_pem: bytes, *, service_account: str = "kube-bind-backend"
) -> list[dict[str, Any]]:
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": settings.service_name, "namespace": settings.service_namespace},
    }
    if settings.service_external_name:
        service["spec"] = {"type": "ExternalName", "externalName": settings.service_external_name}
    else:
        service["spec"] = {
            "selector": {"app.kubernetes.io/name": "kube-bind-backend"},
            "ports": [{"name": "https", "port": settings.service_port, "targetPort": settings.port}],
        }
    return [
        service,
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": apiservice_name()},
            "spec": {
                "group": constants.GROUP,
                "version": constants.VERSION,
                "groupPriorityMinimum": 1000,
                "versionPriority": 15,
                "service": {
                    "name": settings.service_name,
                    "namespace": settings.service_namespace,
                    "port": settings.service_port,
                },
                "caBundle": base64.b64encode(ca_pem).decode(),
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kube-bind-backend:auth-delegator"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:auth-delegator",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": service_account, "namespace": settings.service_namespace}
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "kube-bind-backend:authentication-reader", "namespace": "kube-system"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "extension-apiserver-authentication-reader",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": service_account, "namespace": settings.service_namespace}
            ],
        },
    ]


_PATHS = {
    "Service": "/api/v1/namespaces/{ns}/services/{name}",
    "APIService": "/apis/apiregistration.k8s.io/v1/apiservices/{name}",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/{name}",
}


async def register(
    client: ApiClient, settings: Settings, ca_pem: bytes, *, with_rbac: bool = False, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Server-side apply the Service and APIService (and the RBAC when ``with_rbac``).

    Returns the objects as the apiserver answered (with ``dry_run`` nothing is persisted).
    """
    applied: list[dict[str, Any]] = []
    for obj in manifests(settings, ca_pem):
        if obj["kind"] in ("ClusterRoleBinding", "RoleBinding") and not with_rbac:
            continue
        meta = obj["metadata"]
        path = _PATHS[obj["kind"]].format(ns=meta.get("namespace", ""), name=meta["name"])
        params: dict[str, str | int | bool | None] = {"fieldManager": FIELD_MANAGER, "force": True}
        if dry_run:
            params["dryRun"] = "All"
        applied.append(
            await client.request(
                "PATCH", path, params=params, body=obj, content_type="application/apply-patch+yaml"
            )
        )
    return applied
