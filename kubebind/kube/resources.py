"""Naming things on the wire: which resource (:class:`ResourceRef`) and which object (:class:`ObjectKey`).

Why plain tuples and dicts: the client, the caches and the controllers work on raw JSON objects
(``dict[str, Any]``) so that they serve CRDs only known at runtime (bound schemas) as well as core
kinds, and stay independent of the pydantic API models. A :class:`ResourceRef` carries exactly what
is needed to build a URL: group, version, plural resource name and scope. ``kind`` is informative
(used to fill ``apiVersion``/``kind`` on create and for error messages); discovery in
``kubebind.kube.client`` resolves kinds to refs.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import quote

__all__ = [
    "CONFIGMAPS",
    "CUSTOM_RESOURCE_DEFINITIONS",
    "EVENTS",
    "GVR",
    "LEASES",
    "NAMESPACES",
    "SECRETS",
    "SERVICE_ACCOUNTS",
    "Object",
    "ObjectKey",
    "ResourceRef",
    "object_key",
]

Object = dict[str, Any]
"""A Kubernetes object as decoded JSON."""


class ObjectKey(NamedTuple):
    """Identity of an object within one resource: namespace ("" if cluster-scoped) and name.

    The queue item of every controller and the key of every cache store. ``str(key)`` is the
    familiar ``namespace/name`` (or ``name``) form.
    """

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def parse(cls, text: str) -> ObjectKey:
        namespace, sep, name = text.partition("/")
        return cls(namespace, name) if sep else cls("", namespace)


def object_key(obj: Object) -> ObjectKey:
    """The :class:`ObjectKey` of a decoded object (``metadata.namespace``/``metadata.name``)."""
    meta = obj.get("metadata") or {}
    return ObjectKey(meta.get("namespace") or "", meta.get("name") or "")


class ResourceRef(NamedTuple):
    """A group/version/resource plus scope: everything needed to address a resource's REST path."""

    group: str
    version: str
    resource: str
    namespaced: bool = True
    kind: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def __str__(self) -> str:
        return (
            f"{self.resource}.{self.version}.{self.group}"
            if self.group
            else f"{self.resource}.{self.version}"
        )

    def base_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(
        self, *, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """REST path. ``namespace`` is ignored for cluster-scoped resources; ``None`` = all namespaces."""
        parts = [self.base_path()]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.resource)
        if name is not None:
            if not name:
                raise ValueError(f"empty name for {self}")
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        elif subresource:
            raise ValueError("a subresource needs a name")
        return "/".join(parts)


GVR = ResourceRef
"""Alias: client-go calls this a GroupVersionResource."""

NAMESPACES = ResourceRef("", "v1", "namespaces", namespaced=False, kind="Namespace")
CONFIGMAPS = ResourceRef("", "v1", "configmaps", kind="ConfigMap")
SECRETS = ResourceRef("", "v1", "secrets", kind="Secret")
SERVICE_ACCOUNTS = ResourceRef("", "v1", "serviceaccounts", kind="ServiceAccount")
EVENTS = ResourceRef("events.k8s.io", "v1", "events", kind="Event")
LEASES = ResourceRef("coordination.k8s.io", "v1", "leases", kind="Lease")
CUSTOM_RESOURCE_DEFINITIONS = ResourceRef(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    namespaced=False,
    kind="CustomResourceDefinition",
)
_RBAC = "rbac.authorization.k8s.io"
ROLES = ResourceRef(_RBAC, "v1", "roles", kind="Role")
ROLE_BINDINGS = ResourceRef(_RBAC, "v1", "rolebindings", kind="RoleBinding")
CLUSTER_ROLES = ResourceRef(_RBAC, "v1", "clusterroles", namespaced=False, kind="ClusterRole")
CLUSTER_ROLE_BINDINGS = ResourceRef(
    _RBAC, "v1", "clusterrolebindings", namespaced=False, kind="ClusterRoleBinding"
)
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", kind="Deployment")
SUBJECT_ACCESS_REVIEWS = ResourceRef(
    "authorization.k8s.io", "v1", "subjectaccessreviews", namespaced=False, kind="SubjectAccessReview"
)
API_SERVICES = ResourceRef("apiregistration.k8s.io", "v1", "apiservices", namespaced=False, kind="APIService")


def kube_bind_ref(kind: str) -> ResourceRef:
    """The REST address of a kube-bind.io kind, from the shared kind registry."""
    from kubebind.apis import resources

    info = resources.by_kind(kind)
    return ResourceRef(info.group, info.version, info.plural, namespaced=info.namespaced, kind=info.kind)
