"""Mapping between consumer and provider object keys (reference §6.6 isolation strategies).

Why separate: the spec and status controllers, the claims syncer and the provider-event handlers
all translate keys in both directions, and the ownership rule must be the same everywhere.

* Namespaced resources ("ServiceNamespaced", regardless of ``isolation``): consumer ``ns/name`` →
  ``<APIServiceNamespace(ns).status.namespace>/name``; reverse by looking up which
  APIServiceNamespace was assigned that provider namespace.
* Cluster-scoped resources:
  ``None``: same name, ownerRef to the cluster Namespace;
  ``Prefixed``: ``<clusterNs>-<name>`` (reverse strips the prefix), ownerRef to the cluster Namespace;
  ``Namespaced``: ``<clusterNs>/<name>`` (the provider CRD is namespaced).

Unlike the reference, a provider object maps back to a consumer key **only if** it carries
``kube-bind.io/cluster-namespace: <clusterNs>``: objects created by anyone else (another consumer,
the provider itself) are never treated as ours, so they are never deleted as orphans (§10.3.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubebind.apis import constants
from kubebind.kube.resources import Object, ObjectKey

__all__ = ["NamespaceLookup", "Strategy", "is_ours"]

NONE = "None"
PREFIXED = "Prefixed"
NAMESPACED = "Namespaced"


@dataclass
class NamespaceLookup:
    """Consumer namespace ⇄ provider namespace from the APIServiceNamespaces in the cluster namespace."""

    list_service_namespaces: Callable[[], list[Object]]

    def provider_namespace(self, consumer_ns: str) -> str | None:
        for sns in self.list_service_namespaces():
            if (sns.get("metadata") or {}).get("name") == consumer_ns:
                value = (sns.get("status") or {}).get("namespace")
                return str(value) if value else None
        return None

    def consumer_namespace(self, provider_ns: str) -> str | None:
        for sns in self.list_service_namespaces():
            if (sns.get("status") or {}).get("namespace") == provider_ns:
                return str((sns.get("metadata") or {}).get("name"))
        return None

    def provider_namespaces(self) -> list[str]:
        out = []
        for sns in self.list_service_namespaces():
            value = (sns.get("status") or {}).get("namespace")
            if value:
                out.append(str(value))
        return out


def is_ours(obj: Object, cluster_namespace: str) -> bool:
    """Whether a provider object was created by the konnector of this cluster namespace."""
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    return ann.get(constants.ANNOTATION_CLUSTER_NAMESPACE) == cluster_namespace


class Strategy:
    def __init__(
        self,
        *,
        cluster_namespace: str,
        cluster_namespace_uid: str,
        consumer_namespaced: bool,
        isolation: str,
        namespaces: NamespaceLookup,
    ) -> None:
        self.cluster_namespace = cluster_namespace
        self.cluster_namespace_uid = cluster_namespace_uid
        self.consumer_namespaced = consumer_namespaced
        self.isolation = isolation or NONE
        self.namespaces = namespaces

    @property
    def provider_namespaced(self) -> bool:
        return self.consumer_namespaced or self.isolation == NAMESPACED

    def to_provider(self, key: ObjectKey) -> ObjectKey | None:
        """The provider key for a consumer key; ``None`` while the namespace is not assigned yet."""
        if self.consumer_namespaced:
            pns = self.namespaces.provider_namespace(key.namespace)
            return ObjectKey(pns, key.name) if pns else None
        if self.isolation == PREFIXED:
            return ObjectKey("", f"{self.cluster_namespace}-{key.name}")
        if self.isolation == NAMESPACED:
            return ObjectKey(self.cluster_namespace, key.name)
        return ObjectKey("", key.name)

    def to_consumer(self, obj: Object) -> ObjectKey | None:
        """The consumer key for a provider object, or ``None`` if it is not one of ours."""
        if not is_ours(obj, self.cluster_namespace):
            return None
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        ns = str(meta.get("namespace") or "")
        if self.consumer_namespaced:
            cns = self.namespaces.consumer_namespace(ns)
            return ObjectKey(cns, name) if cns else None
        if self.isolation == PREFIXED:
            prefix = f"{self.cluster_namespace}-"
            return ObjectKey("", name[len(prefix) :]) if name.startswith(prefix) else None
        if self.isolation == NAMESPACED:
            return ObjectKey("", name) if ns == self.cluster_namespace else None
        return ObjectKey("", name)

    def mutate(self, body: dict[str, Any], pkey: ObjectKey) -> None:
        """Apply name/namespace/ownerRef of the provider copy."""
        meta = body.setdefault("metadata", {})
        meta["name"] = pkey.name
        if pkey.namespace:
            meta["namespace"] = pkey.namespace
        else:
            meta.pop("namespace", None)
        if not self.provider_namespaced and self.cluster_namespace_uid:
            meta["ownerReferences"] = [
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "name": self.cluster_namespace,
                    "uid": self.cluster_namespace_uid,
                }
            ]
