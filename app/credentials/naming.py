"""Names and backend-private annotations of the objects minted per consumer.

The consumer namespace name itself comes from :mod:`kubebind.apis.naming` (shared with konnector
and CLI). What lives here is only known to the backend: the ServiceAccount/Role names (kept as the
Go backend's ``kube-binder`` so operators recognise them) and the annotations the rotation and
cleanup controllers read. They are not part of any wire contract (reference §12.C).
"""

from __future__ import annotations

from typing import Final

from kubebind.apis import naming

__all__ = [
    "ANNOTATION_TOKEN_EXPIRES",
    "ANNOTATION_TOKEN_ISSUED",
    "BINDER_NAME",
    "EXPORTS_ROLE_NAME",
    "LABEL_CLUSTER_NAMESPACE",
    "LABEL_MANAGED_BY",
    "MANAGED_BY_VALUE",
    "cluster_namespace",
    "cluster_rbac_name",
]

#: ServiceAccount, Role and RoleBinding in the consumer's cluster namespace.
BINDER_NAME: Final = "kube-binder"
#: Role/RoleBinding granting exported and claimed resources in one provider namespace.
EXPORTS_ROLE_NAME: Final = "kube-binder-exports"
#: On the kubeconfig Secret: when the current token was issued / expires (RFC 3339).
ANNOTATION_TOKEN_ISSUED: Final = "backend.kube-bind.io/token-issued-at"
ANNOTATION_TOKEN_EXPIRES: Final = "backend.kube-bind.io/token-expires-at"
#: On every object the backend creates for a consumer outside its cluster namespace (provider
#: namespaces, cluster-wide RBAC): the cluster namespace it belongs to, so unbind finds them.
LABEL_CLUSTER_NAMESPACE: Final = "backend.kube-bind.io/cluster-namespace"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE: Final = "kube-bind-backend"


def cluster_namespace(identity: str, prefix: str) -> str:
    """The consumer's cluster namespace on the provider (reference §4.1)."""
    return naming.cluster_namespace_name(identity, prefix)


def cluster_rbac_name(cluster_namespace: str, export: str) -> str:
    """ClusterRole/ClusterRoleBinding name for one consumer's cluster-scoped export grants."""
    return f"kube-binder-{cluster_namespace}-{export}"
