"""APIServiceExport: the contract the konnector follows (reference §2.6).

Created by the backend in the consumer's cluster namespace, named like the request (and therefore
like the consumer's APIServiceBinding). Spec is immutable; status carries the Connected /
ProviderInSync / ConsumerInSync conditions that both sides patch.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, k8s
from kubebind.apis.v1alpha2.common import (
    APIServiceExportResource,
    Condition,
    InformerScope,
    Isolation,
    PermissionClaim,
)

__all__ = ["APIServiceExport", "APIServiceExportSpec", "APIServiceExportStatus"]


class APIServiceExportSpec(KubeModel):
    resources: list[APIServiceExportResource] = Field(json_schema_extra=k8s(min_items=1, immutable=True))
    permission_claims: list[PermissionClaim] | None = Field(
        default=None, json_schema_extra=k8s(immutable=True)
    )
    informer_scope: InformerScope = Field(json_schema_extra=k8s(immutable=True))
    #: Deprecated in favour of ``isolation``; kept for wire compatibility.
    cluster_scoped_isolation: Isolation | None = Field(default=None, json_schema_extra=k8s(immutable=True))
    isolation: Isolation = Field(json_schema_extra=k8s(immutable=True))


class APIServiceExportStatus(KubeModel):
    conditions: list[Condition] | None = None


class APIServiceExport(KubeObject):
    KIND: ClassVar[str] = "APIServiceExport"

    spec: APIServiceExportSpec
    status: APIServiceExportStatus | None = None
