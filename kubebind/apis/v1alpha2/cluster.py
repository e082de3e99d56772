"""Cluster: the provider-side anchor object (reference §2.12).

Cluster-scoped, normally one named ``default``; owner of the OIDC RBAC objects the backend keeps.
"""

from __future__ import annotations

from typing import ClassVar

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject
from kubebind.apis.v1alpha2.common import Condition

__all__ = ["Cluster", "ClusterSpec", "ClusterStatus"]


class ClusterSpec(KubeModel):
    """Empty by design."""


class ClusterStatus(KubeModel):
    conditions: list[Condition] | None = None


class Cluster(KubeObject):
    KIND: ClassVar[str] = "Cluster"

    spec: ClusterSpec | None = None
    status: ClusterStatus | None = None
