"""REST addresses of every resource the service side reads or writes in the provider cluster.

Why one table: handlers and controllers reach kube-bind kinds through the provider kube-apiserver
(whether an aggregated backend or CRDs serve them), so the same ``ResourceRef`` values are shared;
the kube-bind ones are derived from the kind registry rather than spelled again.
"""

from __future__ import annotations

from kubebind.kube.resources import (
    API_SERVICES,
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    NAMESPACES,
    ROLE_BINDINGS,
    ROLES,
    SECRETS,
    SERVICE_ACCOUNTS,
    SUBJECT_ACCESS_REVIEWS,
    kube_bind_ref,
)
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS as CRDS

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

TEMPLATES = kube_bind_ref("APIServiceExportTemplate")
COLLECTIONS = kube_bind_ref("Collection")
EXPORT_REQUESTS = kube_bind_ref("APIServiceExportRequest")
EXPORTS = kube_bind_ref("APIServiceExport")
BOUND_SCHEMAS = kube_bind_ref("BoundSchema")
SERVICE_NAMESPACES = kube_bind_ref("APIServiceNamespace")
CLUSTER_BINDINGS = kube_bind_ref("ClusterBinding")
