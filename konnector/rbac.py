"""The konnector's own least-privilege RBAC on the consumer, as manifests.

Why generated: the reference installs the konnector with ``*/*/*`` (reference §4.6). What it really
needs is small and known in advance:

* always (:func:`base_manifests`): its two CRDs and the CRDs it installs (``customresourcedefinitions``
  create/get/list/watch/update/delete), APIServiceBindings/Bundles (+status), Namespaces
  (get/list/watch/create: namespace lifecycle), Events (create), Secrets (get/list/watch, update
  for the credential-rotation copy), and its Lease in its own namespace;
* per binding (:func:`binding_manifests`): full access to each bound group/resource (+``/status``)
  and to each claimed kind, in a ClusterRole named after the binding so that it can be removed
  with it.

The CLI / Helm chart apply these (``kubectl bind`` knows the export's resources and claims at
bind time); the konnector never grants itself anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubebind.apis import constants

__all__ = ["base_manifests", "binding_manifests", "binding_rules"]

_RBAC = "rbac.authorization.k8s.io/v1"
_ALL = ["get", "list", "watch", "create", "update", "patch", "delete"]


def _role_binding(
    kind: str, name: str, role_kind: str, sa_ns: str, sa: str, namespace: str | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": _RBAC,
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": sa_ns}],
    }


def base_manifests(
    *, namespace: str = constants.KONNECTOR_NAMESPACE, service_account: str = "konnector"
) -> list[dict[str, Any]]:
    name = "kube-bind-konnector"
    cluster_rules = [
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": _ALL},
        {
            "apiGroups": [constants.GROUP],
            "resources": ["apiservicebindings", "apiservicebindingbundles"],
            "verbs": _ALL,
        },
        {
            "apiGroups": [constants.GROUP],
            "resources": ["apiservicebindings/status", "apiservicebindingbundles/status"],
            "verbs": ["get", "update", "patch"],
        },
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch", "create"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "update"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ]
    lease_rules = [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]}
    ]
    return [
        {"apiVersion": _RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": cluster_rules},
        _role_binding("ClusterRoleBinding", name, "ClusterRole", namespace, service_account),
        {
            "apiVersion": _RBAC,
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": lease_rules,
        },
        _role_binding("RoleBinding", name, "Role", namespace, service_account, namespace),
    ]


def binding_rules(
    resources: Iterable[Mapping[str, Any]], claims: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Rules for one binding: its bound resources (+status) and its claimed kinds."""
    rules: list[dict[str, Any]] = []
    for res in resources:
        group, plural = str(res.get("group") or ""), str(res["resource"])
        rules.append({"apiGroups": [group], "resources": [plural, f"{plural}/status"], "verbs": _ALL})
    for claim in claims:
        group, plural = str(claim.get("group") or ""), str(claim["resource"])
        if (group, plural) in constants.CLAIMABLE_APIS:
            rules.append({"apiGroups": [group], "resources": [plural], "verbs": _ALL})
    return rules


def binding_manifests(
    binding: str,
    resources: Iterable[Mapping[str, Any]],
    claims: Iterable[Mapping[str, Any]] = (),
    *,
    namespace: str = constants.KONNECTOR_NAMESPACE,
    service_account: str = "konnector",
) -> list[dict[str, Any]]:
    name = f"kube-bind-konnector-{binding}"
    return [
        {
            "apiVersion": _RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {constants.LABEL_APP: constants.LABEL_APP_KONNECTOR}},
            "rules": binding_rules(resources, claims),
        },
        _role_binding("ClusterRoleBinding", name, "ClusterRole", namespace, service_account),
    ]
