"""ClusterRole/ClusterRoleBinding ``kube-bind-oidc-user``: who may bind (reference §5.1).

The handshake authorizes with a SubjectAccessReview ``bind`` on group ``kube-bind.io``; this grants
that verb to the configured allowed users and groups (plus ``system:authenticated`` with the
embedded dev issuer). Applied with server-side apply, so every replica converges on the same
object.
"""

from __future__ import annotations

from typing import Any

from app.credentials import refs
from app.handshake.settings import ServiceSettings
from kubebind.apis import constants
from kubebind.kube import ApiClient

__all__ = ["OIDC_USER_ROLE", "ensure_oidc_user_rbac"]

OIDC_USER_ROLE = "kube-bind-oidc-user"
_MANAGER = "kube-bind-backend"


async def ensure_oidc_user_rbac(client: ApiClient, settings: ServiceSettings) -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": OIDC_USER_ROLE},
        "rules": [{"apiGroups": [constants.GROUP], "resources": ["*"], "verbs": ["bind"]}],
    }
    await client.apply(refs.CLUSTER_ROLES, role, field_manager=_MANAGER)
    subjects: list[dict[str, Any]] = [
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}
        for g in settings.oidc_allowed_groups
    ]
    subjects += [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u}
        for u in settings.oidc_allowed_users
    ]
    if settings.embedded_issuer:
        subjects.append(
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}
        )
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": OIDC_USER_ROLE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": OIDC_USER_ROLE},
        "subjects": subjects,
    }
    await client.apply(refs.CLUSTER_ROLE_BINDINGS, binding, field_manager=_MANAGER)
