"""APIServiceExportRequest and its wire form inside a BindingResponse (reference §2.5, §3.5).

The consumer's ask for a set of resources. The Go CLI creates it itself in the consumer's cluster
namespace with the minted kubeconfig and polls ``status.phase`` until ``Succeeded``/``Failed``; the
backend reconciles it into BoundSchemas and an APIServiceExport. The spec is immutable after create
(enforced in ``kubebind.apis.validation``).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, k8s, to_dict
from kubebind.apis.v1alpha2.common import (
    APIServiceExportResource,
    Condition,
    NameObjectMeta,
    Namespace,
    PermissionClaim,
    Phase,
    RawExtension,
    SchemaUpdatePolicy,
)

__all__ = [
    "APIServiceExportRequest",
    "APIServiceExportRequestResponse",
    "APIServiceExportRequestSpec",
    "APIServiceExportRequestStatus",
]


class APIServiceExportRequestSpec(KubeModel):
    parameters: RawExtension | None = Field(
        default=None, json_schema_extra=k8s(preserve_unknown=True, immutable=True)
    )
    resources: list[APIServiceExportResource] = Field(
        json_schema_extra=k8s(
            min_items=1, list_type="map", list_map_keys=["resource", "group"], immutable=True
        )
    )
    permission_claims: list[PermissionClaim] | None = Field(
        default=None, json_schema_extra=k8s(immutable=True)
    )
    namespaces: list[Namespace] | None = Field(default=None, json_schema_extra=k8s(immutable=True))
    schema_update_policy: SchemaUpdatePolicy = Field(
        default=SchemaUpdatePolicy.NEVER,
        json_schema_extra=k8s(default=SchemaUpdatePolicy.NEVER.value, has_default=True, immutable=True),
    )


class APIServiceExportRequestStatus(KubeModel):
    phase: Phase = Field(
        default=Phase.PENDING, json_schema_extra=k8s(default=Phase.PENDING.value, has_default=True)
    )
    terminal_message: str | None = None
    conditions: list[Condition] | None = None


class APIServiceExportRequest(KubeObject):
    """A request session of ``kubectl bind apiservice``."""

    KIND: ClassVar[str] = "APIServiceExportRequest"

    spec: APIServiceExportRequestSpec
    status: APIServiceExportRequestStatus = Field(
        default_factory=APIServiceExportRequestStatus, json_schema_extra=k8s(default={}, has_default=True)
    )


class APIServiceExportRequestResponse(KubeModel):
    """Wire form of a request inside ``BindingResponse.requests`` (metadata is just a name)."""

    api_version: str = "kube-bind.io/v1alpha2"
    kind: str = "APIServiceExportRequest"
    metadata: NameObjectMeta = Field(default_factory=NameObjectMeta)
    spec: APIServiceExportRequestSpec
    status: APIServiceExportRequestStatus = Field(default_factory=APIServiceExportRequestStatus)

    def to_raw(self) -> RawExtension:
        """JSON object for ``BindingResponse.requests[]`` (``status`` stays ``{}`` as in Go)."""
        raw = to_dict(self)
        raw["status"] = {}
        return raw
