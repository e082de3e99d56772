"""APIServiceExportTemplate and Collection: the provider's catalog (reference §2.3, §2.4).

Cluster-scoped, written by the provider admin, read by the backend to answer ``/api/templates``
and to build export requests. A Collection only groups template names for the UI.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, k8s
from kubebind.apis.v1alpha2.common import (
    APIServiceExportResource,
    Condition,
    InformerScope,
    Namespace,
    PermissionClaim,
    SchemaUpdatePolicy,
)

__all__ = [
    "APIServiceExportTemplate",
    "APIServiceExportTemplateSpec",
    "APIServiceExportTemplateStatus",
    "Collection",
    "CollectionSpec",
    "CollectionStatus",
    "TemplateReference",
]


class APIServiceExportTemplateSpec(KubeModel):
    description: str | None = None
    scope: InformerScope
    resources: list[APIServiceExportResource] = Field(json_schema_extra=k8s(min_items=1))
    permission_claims: list[PermissionClaim] | None = None
    namespaces: list[Namespace] | None = None
    schema_update_policy: SchemaUpdatePolicy = Field(
        default=SchemaUpdatePolicy.NEVER,
        json_schema_extra=k8s(default=SchemaUpdatePolicy.NEVER.value, has_default=True),
    )


class APIServiceExportTemplateStatus(KubeModel):
    conditions: list[Condition] | None = None


class APIServiceExportTemplate(KubeObject):
    """A catalog entry ("service") shown by the UI and CLI."""

    KIND: ClassVar[str] = "APIServiceExportTemplate"

    spec: APIServiceExportTemplateSpec
    status: APIServiceExportTemplateStatus | None = None


class TemplateReference(KubeModel):
    name: str = Field(json_schema_extra=k8s(min_length=1))


class CollectionSpec(KubeModel):
    description: str | None = None
    templates: list[TemplateReference] = Field(json_schema_extra=k8s(min_items=1))


class CollectionStatus(KubeModel):
    conditions: list[Condition] | None = None


class Collection(KubeObject):
    """A named group of templates, pure UI grouping."""

    KIND: ClassVar[str] = "Collection"

    spec: CollectionSpec
    status: CollectionStatus | None = None
