"""REST addresses of every resource the service side reads or writes in the provider cluster.

Why one table: handlers and controllers reach kube-bind kinds through the provider kube-apiserver
(whether an aggregated backend or CRDs serve them), so the same ``ResourceRef`` values are shared;
the kube-bind ones are derived from the kind registry rather than spelled again.
"""

from __future__ import annotations

from kubebind.apis import resources
from kubebind.kube.resources import ResourceRef

__all__ = [
    "API_SERVICES",
    "BOUND_SCHEMAS",
    "CLUSTER_BINDINGS",
    "CLUSTER_ROLES",
    "CLUSTER_ROLE_BINDINGS",
    "COLLECTIONS",
    "CRDS",
    "EXPORTS",
    "EXPORT_REQUESTS",
    "NAMESPACES",
    "ROLES",
    "ROLE_BINDINGS",
    "SECRETS",
    "SERVICE_ACCOUNTS",
    "SERVICE_NAMESPACES",
    "SUBJECT_ACCESS_REVIEWS",
    "TEMPLATES",
    "kube_bind_ref",
]


def kube_bind_ref(kind: str) -> ResourceRef:
    info = resources.by_kind(kind)
    return ResourceRef(info.group, info.version, info.plural, namespaced=info.namespaced, kind=info.kind)


TEMPLATES = kube_bind_ref("APIServiceExportTemplate")
COLLECTIONS = kube_bind_ref("Collection")
EXPORT_REQUESTS = kube_bind_ref("APIServiceExportRequest")
EXPORTS = kube_bind_ref("APIServiceExport")
BOUND_SCHEMAS = kube_bind_ref("BoundSchema")
SERVICE_NAMESPACES = kube_bind_ref("APIServiceNamespace")
CLUSTER_BINDINGS = kube_bind_ref("ClusterBinding")

NAMESPACES = ResourceRef("", "v1", "namespaces", namespaced=False, kind="Namespace")
SECRETS = ResourceRef("", "v1", "secrets", kind="Secret")
SERVICE_ACCOUNTS = ResourceRef("", "v1", "serviceaccounts", kind="ServiceAccount")
ROLES = ResourceRef("rbac.authorization.k8s.io", "v1", "roles", kind="Role")
ROLE_BINDINGS = ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", kind="RoleBinding")
CLUSTER_ROLES = ResourceRef(
    "rbac.authorization.k8s.io", "v1", "clusterroles", namespaced=False, kind="ClusterRole"
)
CLUSTER_ROLE_BINDINGS = ResourceRef(
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", namespaced=False, kind="ClusterRoleBinding"
)
SUBJECT_ACCESS_REVIEWS = ResourceRef(
    "authorization.k8s.io", "v1", "subjectaccessreviews", namespaced=False, kind="SubjectAccessReview"
)
CRDS = ResourceRef(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    namespaced=False,
    kind="CustomResourceDefinition",
)
API_SERVICES = ResourceRef("apiregistration.k8s.io", "v1", "apiservices", namespaced=False, kind="APIService")
