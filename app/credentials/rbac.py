"""RBAC rules of a consumer's credential, computed from the kube-bind kinds, never shared.

Two layers (reference §4.2, §4.3, with the cross-tenant defect of §4.4 fixed):

* :func:`binder_rules` — the control-plane rules in the consumer's *own* cluster namespace (a
  namespaced Role, not a ClusterRole bound everywhere). Secrets are limited by ``resourceNames`` to
  the kubeconfig Secret, and the ``namespaces`` get to the cluster namespace itself.
* :func:`export_rules` — the exported resources and claimed resources for a provider namespace
  assigned to this consumer. One Role + RoleBinding per namespace, whose only subject is this
  consumer's ServiceAccount. No binding ever lists two consumers, so no reconcile can move one
  consumer's access onto another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubebind.apis import constants

__all__ = ["ALL_VERBS", "binder_rules", "claim_rules", "export_rules", "resource_rules"]

ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
_READ = ["get", "list", "watch"]
_RW = ["create", "delete", "patch", "update", "get", "list", "watch"]
_STATUS = ["get", "patch", "update"]


def _rule(
    group: str, resources: list[str], verbs: list[str], names: list[str] | None = None
) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": [group], "resources": resources, "verbs": list(verbs)}
    if names:
        rule["resourceNames"] = names
    return rule


def binder_rules(cluster_namespace: str, kubeconfig_secret: str) -> list[dict[str, Any]]:
    """The ``kube-binder`` rules of reference §4.2, confined to the cluster namespace."""
    g = constants.GROUP
    return [
        _rule(g, ["apiserviceexportrequests"], _RW),
        _rule("", ["namespaces"], ["get"], [cluster_namespace]),
        _rule("", ["secrets"], _READ, [kubeconfig_secret]),
        _rule(g, ["clusterbindings"], _READ),
        _rule(g, ["clusterbindings/status"], _STATUS),
        _rule(g, ["apiserviceexports"], _READ),
        _rule(g, ["apiserviceexports/status"], _STATUS),
        _rule(g, ["apiservicenamespaces"], _RW),
        _rule(g, ["boundschemas"], _READ),
        _rule(g, ["boundschemas/status"], ["get", "list", "patch", "update"]),
    ]


def resource_rules(group_resources: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """One rule per (group, resource), sorted by ``resource.group``; all verbs, no subresources."""
    unique = sorted(set(group_resources), key=lambda gr: f"{gr[1]}.{gr[0]}")
    return [_rule(group, [resource], ALL_VERBS) for group, resource in unique]


def claim_rules(claims: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules for claimable permission claims; anything not claimable is ignored (reference §5.4)."""
    pairs = []
    for claim in claims:
        pair = (str(claim.get("group") or ""), str(claim.get("resource") or ""))
        if pair in constants.CLAIMABLE_APIS:
            pairs.append(pair)
    return resource_rules(pairs)


def export_rules(exports: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules for every exported resource and claim of ``exports`` (APIServiceExport objects)."""
    resources: list[tuple[str, str]] = []
    claims: list[Mapping[str, Any]] = []
    for export in exports:
        spec = export.get("spec") or {}
        for res in spec.get("resources") or []:
            resources.append((str(res.get("group") or ""), str(res.get("resource") or "")))
        claims.extend(spec.get("permissionClaims") or [])
    rules = resource_rules(resources)
    seen = {(r["apiGroups"][0], r["resources"][0]) for r in rules}
    rules += [r for r in claim_rules(claims) if (r["apiGroups"][0], r["resources"][0]) not in seen]
    return rules
