"""Consumer-side kinds: APIServiceBinding, APIServiceBindingBundle (reference §2.10, §2.11).

Both are cluster-scoped on the consumer and point at a Secret with the provider kubeconfig. A
binding's name equals the APIServiceExport it follows; a bundle makes one binding per export.
The konnector installs their CRDs (``kubebind.apis.openapi.crd_manifest``).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, k8s
from kubebind.apis.v1alpha2.common import ClusterSecretKeyRef, Condition, GroupResource, PermissionClaim

__all__ = [
    "APIServiceBinding",
    "APIServiceBindingBundle",
    "APIServiceBindingBundleSpec",
    "APIServiceBindingBundleStatus",
    "APIServiceBindingSpec",
    "APIServiceBindingStatus",
]


class APIServiceBindingSpec(KubeModel):
    kubeconfig_secret_ref: ClusterSecretKeyRef = Field(json_schema_extra=k8s(immutable=True))


class APIServiceBindingStatus(KubeModel):
    provider_pretty_name: str | None = None
    conditions: list[Condition] | None = None
    bound_schemas: list[GroupResource] | None = None
    permission_claims: list[PermissionClaim] | None = None


class APIServiceBinding(KubeObject):
    KIND: ClassVar[str] = "APIServiceBinding"

    spec: APIServiceBindingSpec
    status: APIServiceBindingStatus | None = None


class APIServiceBindingBundleSpec(KubeModel):
    kubeconfig_secret_ref: ClusterSecretKeyRef = Field(json_schema_extra=k8s(immutable=True))


class APIServiceBindingBundleStatus(KubeModel):
    conditions: list[Condition] | None = None


class APIServiceBindingBundle(KubeObject):
    KIND: ClassVar[str] = "APIServiceBindingBundle"

    spec: APIServiceBindingBundleSpec
    status: APIServiceBindingBundleStatus | None = None
