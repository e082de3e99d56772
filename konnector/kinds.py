"""ResourceRefs of the kube-bind kinds the konnector reads and writes, from the shared kind registry.

Why a module: every controller addresses the same handful of resources on the consumer
(APIServiceBinding, APIServiceBindingBundle) and the provider (ClusterBinding, APIServiceExport,
BoundSchema, APIServiceNamespace, APIServiceExportRequest); building them once from
``kubebind.apis.resources`` keeps plural names and scopes in one place.
"""

from __future__ import annotations

from kubebind.kube.resources import kube_bind_ref as ref_for

__all__ = [
    "API_SERVICE_BINDINGS",
    "API_SERVICE_BINDING_BUNDLES",
    "API_SERVICE_EXPORTS",
    "API_SERVICE_EXPORT_REQUESTS",
    "API_SERVICE_NAMESPACES",
    "BOUND_SCHEMAS",
    "CLUSTER_BINDINGS",
    "ref_for",
]


API_SERVICE_BINDINGS = ref_for("APIServiceBinding")
API_SERVICE_BINDING_BUNDLES = ref_for("APIServiceBindingBundle")
CLUSTER_BINDINGS = ref_for("ClusterBinding")
API_SERVICE_EXPORTS = ref_for("APIServiceExport")
API_SERVICE_EXPORT_REQUESTS = ref_for("APIServiceExportRequest")
API_SERVICE_NAMESPACES = ref_for("APIServiceNamespace")
BOUND_SCHEMAS = ref_for("BoundSchema")
